"""Password hashing with argon2id (Werkzeug's default scrypt settings are below OWASP's minimum)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy(hasher: PasswordHasher) -> str:
    """Verified against when the account does not exist, so that the timing is that of a wrong password.
    Made at the first such sign-in, not at import: every process (a worker, each `flask` command) imports
    this module, and a hash at this cost takes a third of a second."""
    return hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy(_hasher), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
