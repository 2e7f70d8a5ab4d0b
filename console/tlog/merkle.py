"""RFC 9162's Merkle tree (section 2.1): hashing, the right edge, and proofs made of stored subtrees.

Vocabulary. A tree of size n has leaves 0…n-1. A *perfect subtree* (level, index) covers the 2**level leaves
from index * 2**level; level 0 is a leaf. Every hash a proof needs is the hash of a range of leaves that the
RFC's recursion splits off, and every such range is a run of perfect subtrees of decreasing size (the binary
digits of its length), left to right: its hash is those subtrees' hashes folded from the right. A store that
keeps every perfect subtree's hash (written once, when the subtree fills) can therefore answer any root or
proof by reading O(log n) rows, and appending k leaves writes about 2k rows: no node is ever rewritten.

Proofs are built in two steps so that a store reads all the rows it needs at once: `inclusion_ranges` /
`consistency_ranges` say which ranges the proof is made of, `subtrees` which stored hashes make each range,
`range_hash` folds them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()


class ProofError(ValueError):
    """A proof does not verify, or is malformed; the message says how."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- ranges and the perfect subtrees they are made of -------------------------------------------------------


def subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) that make the leaves start…end-1, left to right, largest first.

    Valid for the ranges the RFC's recursion produces (and [0, n)): each piece is aligned to its size.
    """
    pieces, at, width = [], start, end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            if at % (1 << level):
                raise ValueError(f"range {start}–{end} is not made of aligned subtrees")
            pieces.append((level, at >> level))
            at += 1 << level
    return pieces


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its perfect subtrees' hashes (left to right): folded from the right."""
    if not hashes:
        return EMPTY_ROOT
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


def range_hash(start: int, end: int, stored: Mapping[tuple[int, int], bytes]) -> bytes:
    return fold([stored[key] for key in subtrees(start, end)])


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PATH(index, D[size]) (RFC 9162 2.1.3.1), from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    return out[::-1]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PROOF(first, D[second]) (RFC 9162 2.1.4.1), in the proof's order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        out.append((lo, hi))
    return out[::-1]


def needed(ranges: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Every stored subtree the ranges are made of: what a store reads to build a proof."""
    return {key for start, end in ranges for key in subtrees(start, end)}


# --- the right edge: appending leaves -----------------------------------------------------------------------


class Edge:
    """The perfect subtrees of a tree's right edge (its size's binary digits): enough to append and to root.

    `append` returns the subtrees that each new leaf fills — the leaf itself and every parent it completes —
    which is everything a store writes.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        keys = subtrees(0, size)
        if len(keys) != len(hashes):
            raise ValueError(f"a tree of size {size} has {len(keys)} edge subtrees, not {len(hashes)}")
        self.size = size
        self._stack = [(level, value) for (level, _index), value in zip(keys, hashes, strict=True)]

    @staticmethod
    def keys(size: int) -> list[tuple[int, int]]:
        return subtrees(0, size)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the (level, index, hash) of every subtree it fills."""
        index = self.size
        filled = [(0, index, leaf)]
        level, value = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _level, left = self._stack.pop()
            value = node_hash(left, value)
            level += 1
            filled.append((level, index >> level, value))
        self._stack.append((level, value))
        self.size += 1
        return filled

    def root(self) -> bytes:
        return fold([value for _level, value in self._stack])


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (the RFC's definition, for tests and small trees)."""
    edge = Edge()
    for leaf in leaves:
        edge.append(leaf)
    return edge.root()


# --- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `path` proves `leaf` (a leaf hash) is leaf `index` of the tree (size, root)."""
    _check_hash(leaf, "the leaf")
    _check_hash(root, "the root")
    for i, element in enumerate(path):
        _check_hash(element, f"proof element {i}")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for element in path:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(element, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    if r != root:
        raise ProofError("the proof does not lead to the root: the leaf is not in this tree")


def verify_consistency(first: int, second: int, path: Sequence[bytes], first_root: bytes, second_root: bytes):
    """Raise ProofError unless `path` proves the tree (second, second_root) extends (first, first_root)."""
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    for i, element in enumerate(path):
        _check_hash(element, f"proof element {i}")
    if not 0 < first <= second:
        raise ProofError(f"no consistency between sizes {first} and {second}")
    if first == second:
        if path:
            raise ProofError("a proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError("two different roots for the same size: the log forked")
        return
    path = list(path)
    if first & (first - 1) == 0:  # a power of two: the first tree is itself a subtree of the second
        path.insert(0, first_root)
    if not path:
        raise ProofError("empty consistency proof")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(element, fr)
            sr = node_hash(element, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    if fr != first_root:
        raise ProofError("the proof does not lead to the first root: the older tree is not a prefix")
    if sr != second_root:
        raise ProofError(
            "the proof does not lead to the second root: the newer tree does not extend the older"
        )
