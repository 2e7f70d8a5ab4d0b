"""Signed tree heads: C2SP checkpoints in signed notes, signed with Ed25519.

A checkpoint's body (c2sp.org/tlog-checkpoint) is, one per line: the log's origin, the tree size in decimal,
the root hash in base64, then extension lines. This log adds two: `prev <base64>`, the SHA-256 of the previous
checkpoint's body (absent on the first: the checkpoints form a chain, so dropping or replacing one shows), and
`time <UTC, ISO 8601>`, when it was sealed. The note (c2sp.org/signed-note) is the body, a blank line and a
signature line `— <name> <base64(key hash ‖ Ed25519 signature)>`, the key hash being the first 4 bytes of
SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key): the format Go's golang.org/x/mod/sumdb/note reads, so tools written
for Certificate Transparency-style logs can check these too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .merkle import HASH_SIZE, ProofError

ED25519 = b"\x01"  # the signed-note algorithm byte
DASH = "\u2014"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    prev: bytes | None  # SHA-256 of the previous checkpoint's body; None on the first
    time: datetime

    def body(self) -> bytes:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        if self.prev is not None:
            lines.append("prev " + base64.b64encode(self.prev).decode())
        lines.append(
            "time " + self.time.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        )
        return ("\n".join(lines) + "\n").encode()

    def digest(self) -> bytes:
        """What the next checkpoint names as `prev`."""
        return hashlib.sha256(self.body()).digest()

    @classmethod
    def parse(cls, body: bytes) -> Checkpoint:
        try:
            text = body.decode()
            if not text.endswith("\n"):
                raise ValueError("no final newline")
            lines = text[:-1].split("\n")
            origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
            extensions = dict(line.split(" ", 1) for line in lines[3:])
            prev = base64.b64decode(extensions["prev"], validate=True) if "prev" in extensions else None
            time = datetime.fromisoformat(extensions["time"].replace("Z", "+00:00"))
        except (ValueError, KeyError, IndexError, binascii.Error) as e:
            raise ProofError(f"not a checkpoint: {e}") from e
        if len(root) != HASH_SIZE or (prev is not None and len(prev) != HASH_SIZE) or size < 0:
            raise ProofError("not a checkpoint: a hash of the wrong size, or a negative size")
        checkpoint = cls(origin, size, root, prev, time)
        if checkpoint.body() != body:
            raise ProofError("not a checkpoint in its canonical form")
        return checkpoint


# --- keys ---------------------------------------------------------------------------------------------------


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + _raw(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The signed-note verifier key: `name+hash+base64(0x01 ‖ key)`."""
    return (
        f"{name}+{key_hash(name, public_key).hex()}+{base64.b64encode(ED25519 + _raw(public_key)).decode()}"
    )


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key as PEM, as a signed-note verifier key, or as the base64 of its 32 bytes."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            return key
        if text.count("+") >= 2 and not text.endswith("="):  # base64 of 32 bytes ends "=", of 33 not
            name, _hash, encoded = text.split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            if raw[:1] != ED25519:
                raise ValueError("not an Ed25519 verifier key")
            key = Ed25519PublicKey.from_public_bytes(raw[1:])
            if key_hash(name, key).hex() != _hash:
                raise ValueError("the verifier key's hash does not match its key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as e:
        raise ProofError(f"not an Ed25519 public key: {e}") from e


# --- signed notes -------------------------------------------------------------------------------------------


def sign(body: bytes, name: str, private_key: Ed25519PrivateKey) -> str:
    signature = key_hash(name, private_key.public_key()) + private_key.sign(body)
    return body.decode() + "\n" + f"{DASH} {name} {base64.b64encode(signature).decode()}\n"


def body_of(note: str) -> bytes:
    """The signed body of a note (what `prev` hashes), without checking any signature."""
    return (note.partition("\n\n")[0] + "\n").encode()


def open_note(note: str, public_key: Ed25519PublicKey, name: str | None = None) -> Checkpoint:
    """The checkpoint in a signed note, once a signature by this key over it has been checked.

    Raises ProofError when no signature line is by this key or the signature does not verify (a forged or
    altered checkpoint). `name`: the key's name, when known (else the checkpoint's origin).
    """
    _body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise ProofError("not a signed note: no blank line before the signatures")
    body_bytes = body_of(note)
    checkpoint = Checkpoint.parse(body_bytes)
    name = name or checkpoint.origin
    wanted = key_hash(name, public_key)
    seen = False
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            continue
        if raw[:4] != wanted:
            continue
        seen = True
        try:
            public_key.verify(raw[4:], body_bytes)
        except InvalidSignature:
            continue
        return checkpoint
    if seen:
        raise ProofError("the checkpoint's signature does not verify: it was altered or forged")
    raise ProofError(f"the checkpoint is not signed by this key (name {name!r}, key hash {wanted.hex()})")
