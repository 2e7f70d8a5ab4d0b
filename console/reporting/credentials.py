"""Agency passwords at rest: MultiFernet with keys from CREDENTIALS_KEYS (newest first).

Rotation: put a new key first in CREDENTIALS_KEYS (keep the old ones after it), run `flask ncmec rotate-key`,
then drop the old keys. A password is only ever decrypted to call the agency; it is never rendered or logged.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class CredentialsError(RuntimeError):
    """The stored password cannot be decrypted with the configured keys (a key was removed too early)."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in current_app.config["CREDENTIALS_KEYS"].split(",") if k.strip()]
    if not keys:
        raise CredentialsError("CREDENTIALS_KEYS is empty")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(password: str) -> bytes:
    return _fernet().encrypt(password.encode())


def decrypt(token: bytes | None) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(bytes(token)).decode()
    except (InvalidToken, ValueError, TypeError) as e:  # binascii.Error is a ValueError
        raise CredentialsError("the stored agency password cannot be decrypted with CREDENTIALS_KEYS") from e


def rotate(token: bytes) -> bytes:
    """Re-encrypt under the newest key."""
    return _fernet().rotate(bytes(token))
