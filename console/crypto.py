"""Secrets at rest: MultiFernet with keys from CREDENTIALS_KEYS (newest first).

What the console must be able to use but never show — the NCMEC password (console/reporting/credentials.py)
and the platform webhooks' signing secrets (console/webhooks) — is stored encrypted here and is write-only:
no page renders it, no log line carries it, and it is decrypted only to make the call it exists for.

Rotation: put a new key first in CREDENTIALS_KEYS (keep the old ones after it), run `flask ncmec rotate-key`
and `flask webhooks rotate-key` (each re-encrypts its stored secrets), then drop the old keys.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class DecryptError(RuntimeError):
    """A stored secret cannot be decrypted with the configured keys (a key was removed too early)."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in current_app.config["CREDENTIALS_KEYS"].split(",") if k.strip()]
    if not keys:
        raise DecryptError("CREDENTIALS_KEYS is empty")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(secret: str) -> bytes:
    return _fernet().encrypt(secret.encode())


def decrypt(token: bytes | None) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(bytes(token)).decode()
    except (InvalidToken, ValueError, TypeError) as e:  # binascii.Error is a ValueError
        raise DecryptError("a stored secret cannot be decrypted with CREDENTIALS_KEYS") from e


def rotate(token: bytes) -> bytes:
    """Re-encrypt under the newest key."""
    return _fernet().rotate(bytes(token))
