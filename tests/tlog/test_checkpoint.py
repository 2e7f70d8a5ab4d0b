"""Checkpoints are signed notes only the log's key makes; the verifier checks proofs with the key alone."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.tlog import checkpoint, merkle, verify
from tests.conftest import ROOT

ORIGIN = "example.org/audit-log"
KEY = Ed25519PrivateKey.generate()
EVENTS = [json.dumps({"action": "case_opened", "n": i}, sort_keys=True) for i in range(11)]
LEAVES = [merkle.leaf_hash(e.encode()) for e in EVENTS]


def note(size: int, prev: bytes | None = None, key=KEY) -> str:
    body = checkpoint.Checkpoint(
        ORIGIN, size, merkle.root_of(LEAVES[:size]), prev, datetime(2026, 12, 7, 12, 0, 1, 5, tzinfo=UTC)
    ).body()
    return checkpoint.sign(body, ORIGIN, key)


def stored() -> dict:
    edge, out = merkle.Edge(), {}
    for leaf in LEAVES:
        for level, position, value in edge.append(leaf):
            out[(level, position)] = value
    return out


def inclusion(index: int, size: int) -> dict:
    tree = stored()
    path = [merkle.range_hash(a, b, tree) for a, b in merkle.inclusion_ranges(index, size)]
    return {
        "format": verify.INCLUSION,
        "event": EVENTS[index],
        "leaf_index": index,
        "tree_size": size,
        "inclusion_path": [base64.b64encode(p).decode() for p in path],
        "checkpoint": note(size),
    }


def test_a_checkpoint_reads_back_as_signed_in_the_c2sp_format():
    first = note(4)
    second = note(9, prev=checkpoint.Checkpoint.parse(checkpoint.body_of(first)).digest())
    lines = second.splitlines()
    assert lines[:3] == [ORIGIN, "9", base64.b64encode(merkle.root_of(LEAVES[:9])).decode()]
    assert lines[3].startswith("prev ") and lines[4] == "time 2026-12-07T12:00:01.000005Z"
    assert lines[5] == "" and lines[6].startswith(f"\u2014 {ORIGIN} ")
    opened = checkpoint.open_note(second, KEY.public_key())
    assert opened.size == 9 and opened.prev == hashlib.sha256(checkpoint.body_of(first)).digest()


def test_an_altered_or_forged_checkpoint_is_refused():
    good = note(5)
    altered = good.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(merkle.ProofError, match="does not verify"):
        checkpoint.open_note(altered, KEY.public_key())
    forged = note(5, key=Ed25519PrivateKey.generate())
    with pytest.raises(merkle.ProofError, match="not signed by this key"):
        checkpoint.open_note(forged, KEY.public_key())


@pytest.mark.parametrize("form", ["pem", "verifier", "raw"])
def test_the_public_key_is_read_in_each_form_the_console_prints(form):
    public = KEY.public_key()
    text = {
        "pem": checkpoint.public_pem(public),
        "verifier": checkpoint.verifier_key(ORIGIN, public),
        "raw": base64.b64encode(public.public_bytes_raw()).decode(),
    }[form]
    assert checkpoint.load_public_key(text).public_bytes_raw() == public.public_bytes_raw()
    verify.check_inclusion(inclusion(3, 11), text)


def test_an_inclusion_proof_proves_the_event_and_nothing_else():
    proof = inclusion(6, 11)
    assert verify.check_inclusion(proof, KEY.public_key()).event == json.loads(EVENTS[6])
    edited = {**proof, "event": EVENTS[6].replace('"n": 6', '"n": 7')}
    with pytest.raises(merkle.ProofError, match="not in this tree"):
        verify.check_inclusion(edited, KEY.public_key())
    moved = {**proof, "leaf_index": 7}
    with pytest.raises(merkle.ProofError):
        verify.check_inclusion(moved, KEY.public_key())
    other_key = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(merkle.ProofError, match="not signed by this key"):
        verify.check_inclusion(proof, other_key)
    with pytest.raises(merkle.ProofError, match="signs 11"):
        verify.check_inclusion({**proof, "tree_size": 10}, KEY.public_key())


def test_a_consistency_proof_shows_the_newer_checkpoint_extends_the_older():
    tree = stored()
    path = [merkle.range_hash(a, b, tree) for a, b in merkle.consistency_ranges(5, 11)]
    proof = {
        "format": verify.CONSISTENCY,
        "first": note(5),
        "second": note(11),
        "consistency_path": [base64.b64encode(p).decode() for p in path],
    }
    result = verify.check_consistency(proof, KEY.public_key())
    assert (result.first.size, result.second.size) == (5, 11)
    # A log that rewrote its fourth event and signed the new tree is caught against the old checkpoint.
    rewritten = [*LEAVES[:3], merkle.leaf_hash(b"rewritten"), *LEAVES[4:]]
    body = checkpoint.Checkpoint(ORIGIN, 11, merkle.root_of(rewritten), None, datetime.now(UTC)).body()
    with pytest.raises(merkle.ProofError):
        verify.check_consistency({**proof, "second": checkpoint.sign(body, ORIGIN, KEY)}, KEY.public_key())


def test_the_command_line_verifier_needs_only_the_proof_and_the_key(tmp_path):
    (tmp_path / "proof.json").write_text(json.dumps(inclusion(2, 9)))
    (tmp_path / "key.pem").write_text(checkpoint.public_pem(KEY.public_key()))
    command = [sys.executable, "-m", "console.tlog", str(tmp_path / "proof.json"), "--public-key"]
    ok = subprocess.run([*command, str(tmp_path / "key.pem")], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "verified: leaf 2 of 9" in ok.stdout and '"case_opened"' in ok.stdout
    bad = inclusion(2, 9)
    bad["event"] = EVENTS[3]
    (tmp_path / "proof.json").write_text(json.dumps(bad))
    refused = subprocess.run([*command, str(tmp_path / "key.pem")], capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 1 and "NOT VERIFIED" in refused.stderr
