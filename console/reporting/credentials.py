"""Agency passwords at rest: encrypted, write-only, through console/crypto.py (MultiFernet).

A password is only ever decrypted to call the agency; it is never rendered or logged.
"""

from __future__ import annotations

from console import crypto
from console.crypto import encrypt, rotate

__all__ = ["CredentialsError", "decrypt", "encrypt", "rotate"]


class CredentialsError(RuntimeError):
    """The stored password cannot be decrypted with the configured keys (a key was removed too early)."""


def decrypt(token: bytes | None) -> str:
    try:
        return crypto.decrypt(token)
    except crypto.DecryptError as e:
        raise CredentialsError("the stored agency password cannot be decrypted with CREDENTIALS_KEYS") from e
