"""Checking a law-enforcement package offline: `flask evidence verify-package FILE`.

Needs nothing but the zip and the console's public key (`flask audit public-key`, shown in Settings): no
database, no network; only the standard library and console/tlog, so an investigator's copy of the console's
code checks a package anywhere. What is checked, each failure named:
1. `manifest.sig` is a signature by the key over `manifest.json`'s SHA-256: the manifest is the console's and
   unchanged;
2. every file the manifest lists (the evidence items and the package's own files: summary, custody, proofs)
   is in the zip with that SHA-256 and size, and the zip holds nothing it does not list;
3. the checkpoint in `proofs.json` is signed by the key, and every inclusion proof holds against it: each
   custody step is an event of the console's tamper-evident audit log, exactly as `custody.json` says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from typing import IO

from cryptography.exceptions import InvalidSignature

from console.tlog.checkpoint import DASH, key_hash, load_public_key, open_note
from console.tlog.merkle import ProofError
from console.tlog.verify import check_inclusion

FORMAT = "evidence-package/1"
CHUNK = 1024 * 1024
OWN_FILES = ("manifest.json", "manifest.sig")


def manifest_note_body(manifest_sha256: str) -> bytes:
    return f"moderation-console evidence package\nmanifest sha256:{manifest_sha256}\n".encode()


@dataclass
class Result:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _signed_body(note: str, public_key) -> bytes:
    """The body of a signed note, once a signature by this key over it is checked (ProofError if not)."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise ProofError("not a signed note")
    body_bytes = (body + "\n").encode()
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            continue
        if raw[:4] != key_hash(parts[1], public_key):
            continue
        try:
            public_key.verify(raw[4:], body_bytes)
        except InvalidSignature as e:
            raise ProofError("the signature does not verify") from e
        return body_bytes
    raise ProofError("not signed by this key")


def _sha256(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as entry:
        while chunk := entry.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify(file: str | IO[bytes], public_key) -> Result:
    """Check a package; `public_key` is a key or its text (PEM, verifier key or base64)."""
    result = Result()
    try:
        key = load_public_key(public_key) if isinstance(public_key, str) else public_key
    except ProofError as e:
        result.problems.append(f"the public key: {e}")
        return result
    try:
        zf = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as e:
        result.problems.append(f"not a readable zip: {e}")
        return result
    with zf:
        names = set(zf.namelist())
        if "manifest.json" not in names:
            result.problems.append("manifest.json: missing")
            return result
        raw_manifest = zf.read("manifest.json")
        manifest_sha256 = hashlib.sha256(raw_manifest).hexdigest()
        _check_signature(zf, names, manifest_sha256, key, result)
        try:
            manifest = json.loads(raw_manifest)
        except ValueError:
            result.problems.append("manifest.json: not JSON")
            return result
        listed = _check_files(zf, names, manifest, result)
        proofs = _check_proofs(zf, listed, key, result)
        _check_custody(zf, listed, proofs, result)
    return result


def _check_signature(zf, names, manifest_sha256: str, key, result: Result) -> None:
    if "manifest.sig" not in names:
        result.problems.append("manifest.sig: missing (the manifest is not signed)")
        return
    try:
        body = _signed_body(zf.read("manifest.sig").decode("utf-8", "replace"), key)
    except ProofError as e:
        result.problems.append(f"manifest.sig: {e}")
        return
    if body != manifest_note_body(manifest_sha256):
        result.problems.append(
            "manifest.json: changed since it was signed (its SHA-256 is not the signed one)"
        )
        return
    result.checked.append(f"manifest.json: signed by the key (sha256 {manifest_sha256})")


def _check_files(zf, names, manifest: dict, result: Result) -> set[str]:
    entries = [*manifest.get("items", []), *manifest.get("package_files", [])]
    listed: set[str] = set()
    for entry in entries:
        name = str(entry.get("name", ""))
        listed.add(name)
        if name not in names:
            if entry.get("in_package", True):
                result.problems.append(f"{name}: listed in the manifest, missing from the zip")
            else:
                result.problems.append(f"{name}: the console could not read it when packing (not in the zip)")
            continue
        digest, size = _sha256(zf, name)
        if digest != entry.get("sha256") or size != entry.get("size"):
            result.problems.append(
                f"{name}: does not match the manifest (sha256 {digest}, {size} bytes; "
                f"the manifest says {entry.get('sha256')}, {entry.get('size')} bytes)"
            )
        elif entry.get("bytes_match_sha256") is False:
            result.problems.append(f"{name}: the console found it changed when packing")
        else:
            result.checked.append(f"{name}: sha256 {digest}")
    for extra in sorted(names - listed - set(OWN_FILES)):
        if not extra.endswith("/"):
            result.problems.append(f"{extra}: in the zip but not in the manifest")
    return listed


def _check_proofs(zf, listed: set[str], key, result: Result) -> list[dict] | None:
    if "proofs.json" not in listed or "proofs.json" not in zf.namelist():
        result.problems.append("proofs.json: missing")
        return None
    try:
        bundle = json.loads(zf.read("proofs.json"))
    except ValueError:
        result.problems.append("proofs.json: not JSON")
        return None
    note = bundle.get("checkpoint") or ""
    if not note:
        result.problems.append(
            "proofs.json: no checkpoint (the audit log had none when the package was made)"
        )
        return None
    try:
        head = open_note(note, key)
    except (ProofError, ValueError) as e:
        result.problems.append(f"proofs.json: the checkpoint: {e}")
        return None
    result.checked.append(
        f"checkpoint: {head.size} events in {head.origin!r}, signed {head.time:%Y-%m-%d %H:%M:%S} UTC"
    )
    proofs = list(bundle.get("proofs") or [])
    good = 0
    for n, proof in enumerate(proofs):
        if proof.get("checkpoint") != note:
            result.problems.append(
                f"proofs.json: proof {n} (event {proof.get('event_id')}) is against another checkpoint"
            )
            continue
        try:
            check_inclusion(proof, key)
        except (ProofError, ValueError) as e:
            result.problems.append(f"proofs.json: proof {n} (event {proof.get('event_id')}): {e}")
            continue
        good += 1
    result.checked.append(f"inclusion proofs: {good} of {len(proofs)} hold against the checkpoint")
    return proofs


def _check_custody(zf, listed: set[str], proofs: list[dict] | None, result: Result) -> None:
    if "custody.json" not in listed or "custody.json" not in zf.namelist():
        result.problems.append("custody.json: missing")
        return
    try:
        steps = json.loads(zf.read("custody.json")).get("steps", [])
    except (ValueError, AttributeError):
        result.problems.append("custody.json: not JSON")
        return
    proven = 0
    for step in steps:
        index = step.get("proof")
        if index is None:
            continue
        if proofs is None or not isinstance(index, int) or not 0 <= index < len(proofs):
            result.problems.append(f"custody.json: step of event {step.get('event_id')} names no proof")
            continue
        if proofs[index].get("event") != step.get("event"):
            result.problems.append(
                f"custody.json: the step of event {step.get('event_id')} is not the event its proof proves"
            )
            continue
        proven += 1
    result.checked.append(f"custody: {proven} of {len(steps)} steps proven in the audit log")
