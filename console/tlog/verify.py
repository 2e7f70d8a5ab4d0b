"""The standalone verifier: proofs handed out by the console, checked with the log's public key alone.

No database, no console: what law enforcement, an auditor or a court's expert runs on a package. An
inclusion proof (`flask audit prove EVENT_ID`) is a JSON object:

    {"format": "audit-log-inclusion/1", "event": "<the event's bytes: canonical JSON, ASCII>",
     "leaf_index": 41, "tree_size": 1000, "inclusion_path": ["<base64>", …], "checkpoint": "<signed note>"}

and proves: the log's key signed a checkpoint of `tree_size` leaves, and the leaf at `leaf_index` of that tree
is H(0x00 ‖ event). A consistency proof (`flask audit prove --consistency A B`) proves that the later
checkpoint's tree extends the earlier one's (nothing before it was changed, dropped or reordered):

    {"format": "audit-log-consistency/1", "first": "<signed note>", "second": "<signed note>",
     "consistency_path": ["<base64>", …]}
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

from .checkpoint import Checkpoint, load_public_key, open_note
from .merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion

INCLUSION = "audit-log-inclusion/1"
CONSISTENCY = "audit-log-consistency/1"


@dataclass(frozen=True)
class Included:
    event: dict  # the event, parsed from the bytes that were proven
    leaf_index: int
    checkpoint: Checkpoint


@dataclass(frozen=True)
class Consistent:
    first: Checkpoint
    second: Checkpoint


def _hashes(values, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise ProofError(f"{what} is not a list")
    try:
        return [base64.b64decode(value, validate=True) for value in values]
    except (binascii.Error, TypeError) as e:
        raise ProofError(f"{what} holds something that is not base64") from e


def _key(public_key):
    return load_public_key(public_key) if isinstance(public_key, str) else public_key


def check_inclusion(proof: Mapping, public_key) -> Included:
    """Raise ProofError unless the proof holds; return what it proved. `public_key`: a key or its text."""
    if proof.get("format") != INCLUSION:
        raise ProofError(f"not an inclusion proof ({INCLUSION})")
    event = proof.get("event")
    index, size = proof.get("leaf_index"), proof.get("tree_size")
    if not isinstance(event, str) or not isinstance(index, int) or not isinstance(size, int):
        raise ProofError("an inclusion proof needs event (text), leaf_index and tree_size (integers)")
    checkpoint = open_note(str(proof.get("checkpoint", "")), _key(public_key))
    if checkpoint.size != size:
        raise ProofError(f"the proof is for a tree of {size} leaves, the checkpoint signs {checkpoint.size}")
    verify_inclusion(
        leaf_hash(event.encode()),
        index,
        size,
        _hashes(proof.get("inclusion_path"), "inclusion_path"),
        checkpoint.root,
    )
    try:
        parsed = json.loads(event)
    except ValueError as e:  # proven bytes, but not the console's kind of event
        raise ProofError("the proven event is not JSON") from e
    return Included(parsed, index, checkpoint)


def check_consistency(proof: Mapping, public_key) -> Consistent:
    if proof.get("format") != CONSISTENCY:
        raise ProofError(f"not a consistency proof ({CONSISTENCY})")
    key = _key(public_key)
    first = open_note(str(proof.get("first", "")), key)
    second = open_note(str(proof.get("second", "")), key)
    if first.origin != second.origin:
        raise ProofError(f"two different logs: {first.origin!r} and {second.origin!r}")
    verify_consistency(
        first.size,
        second.size,
        _hashes(proof.get("consistency_path"), "consistency_path"),
        first.root,
        second.root,
    )
    return Consistent(first, second)


def check(proof: Mapping, public_key) -> Included | Consistent:
    """Either kind of proof, by its format."""
    if proof.get("format") == CONSISTENCY:
        return check_consistency(proof, public_key)
    return check_inclusion(proof, public_key)
