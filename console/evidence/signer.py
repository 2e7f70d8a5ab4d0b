"""The audit log's signer: the console's Ed25519 key, and the checkpoints it signs (Trillian's "signer").

The key comes from configuration (`AUDIT_SIGNING_KEY`, else a file generated once in the instance folder,
0600: console/config.py). Its public half is what anyone outside needs to check a checkpoint or a proof
(`flask audit public-key`, shown on the audit log page). Whoever holds the private key can sign any tree: keep
it off the database's machine in production, and keep copies of checkpoints elsewhere (an outside copy of a
checkpoint is what catches a rewrite by someone who has both).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from console.tlog import checkpoint

_CACHE = "audit_log_signer"


class SigningKeyError(ValueError):
    """The configured key cannot be read."""


@dataclass(frozen=True)
class Signer:
    origin: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_hash(self) -> str:
        return checkpoint.key_hash(self.origin, self.public_key).hex()

    def sign(self, body: bytes) -> str:
        return checkpoint.sign(body, self.origin, self.private_key)

    def public_pem(self) -> str:
        return checkpoint.public_pem(self.public_key)

    def verifier_key(self) -> str:
        return checkpoint.verifier_key(self.origin, self.public_key)


def load_private_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as e:
        raise SigningKeyError(
            f"AUDIT_SIGNING_KEY is not an Ed25519 private key (PEM, or base64 of 32 bytes): {e}"
        ) from e
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("AUDIT_SIGNING_KEY is not an Ed25519 key")
    return key


def current() -> Signer:
    """The app's signer, read once per app."""
    app = current_app._get_current_object()
    signer = app.extensions.get(_CACHE)
    if signer is None:
        signer = Signer(app.config["AUDIT_LOG_ORIGIN"], load_private_key(app.config["AUDIT_SIGNING_KEY"]))
        app.extensions[_CACHE] = signer
    return signer
