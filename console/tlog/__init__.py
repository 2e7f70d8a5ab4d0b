"""A transparency log's protocol, as RFC 9162 (Certificate Transparency 2.0) and C2SP's checkpoints define it.

Nothing here knows of the console, its database or Flask: an outside verifier (law enforcement given a
package, an auditor given a checkpoint) needs only these modules, the `cryptography` package and the log's
public key. The modules import each other relatively, so the folder can be copied out and used alone.

- merkle.py — the tree's hashing (leaf = H(0x00‖bytes), node = H(0x01‖left‖right)), the perfect subtrees a
  range is made of, appending to the right edge, and the inclusion and consistency proofs: which subtrees they
  are made of (a store fetches those) and how to verify them.
- checkpoint.py — the signed tree head: a C2SP checkpoint (origin, size, root, and the console's extension
  lines: the previous checkpoint's hash and the time) in a signed note, Ed25519; the key formats.
- verify.py — the standalone verifier: an event's inclusion proof, a consistency proof between checkpoints,
  from the JSON the console hands out (`flask audit prove`), with the public key only.
  `python -m console.tlog PROOF.json --public-key KEY` runs it from a shell.
"""
