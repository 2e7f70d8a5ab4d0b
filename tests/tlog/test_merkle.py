"""The tree agrees with the RFC's published vectors, and every proof verifies — and fails when it should."""

from __future__ import annotations

import random

import pytest

from console.tlog import merkle

# The reference leaves and tree heads every Certificate Transparency implementation checks itself against.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, path)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (first size, second size, path)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def stored_tree(leaves: list[bytes]) -> dict:
    """Every perfect subtree, as a store keeps them: what Edge.append hands out."""
    edge, stored = merkle.Edge(), {}
    for leaf in leaves:
        for level, position, value in edge.append(leaf):
            stored[(level, position)] = value
    return stored


def proof(ranges, stored) -> list[bytes]:
    return [merkle.range_hash(start, end, stored) for start, end in ranges]


HASHED = [merkle.leaf_hash(leaf) for leaf in LEAVES]
STORED = stored_tree(HASHED)


def test_roots_match_the_published_tree_heads():
    assert merkle.root_of([]).hex() == ROOTS[0]
    edge = merkle.Edge()
    for size, leaf in enumerate(HASHED, start=1):
        edge.append(leaf)
        assert edge.root().hex() == ROOTS[size], size
        # The right edge read back from storage appends to the same tree.
        keys = merkle.Edge.keys(size)
        assert merkle.Edge(size, [STORED[k] for k in keys]).root().hex() == ROOTS[size]


@pytest.mark.parametrize("index, size, expected", INCLUSION)
def test_inclusion_proofs_match_the_published_ones(index, size, expected):
    path = proof(merkle.inclusion_ranges(index, size), STORED)
    assert [p.hex() for p in path] == expected
    merkle.verify_inclusion(HASHED[index], index, size, path, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize("first, second, expected", CONSISTENCY)
def test_consistency_proofs_match_the_published_ones(first, second, expected):
    path = proof(merkle.consistency_ranges(first, second), STORED)
    assert [p.hex() for p in path] == expected
    merkle.verify_consistency(first, second, path, bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second]))


def test_every_proof_of_every_tree_shape_verifies_and_a_wrong_one_does_not():
    rng = random.Random(9162)
    for size in range(1, 67):
        leaves = [merkle.leaf_hash(bytes([i]) + rng.randbytes(rng.randint(0, 12))) for i in range(size)]
        stored = stored_tree(leaves)
        roots = {n: merkle.root_of(leaves[:n]) for n in range(1, size + 1)}
        for index in range(size):
            path = proof(merkle.inclusion_ranges(index, size), stored)
            merkle.verify_inclusion(leaves[index], index, size, path, roots[size])
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(merkle.leaf_hash(b"another event"), index, size, path, roots[size])
            if size > 1:
                with pytest.raises(merkle.ProofError):  # the right leaf claimed at another place
                    merkle.verify_inclusion(leaves[index], (index + 1) % size, size, path, roots[size])
        for first in range(1, size + 1):
            path = proof(merkle.consistency_ranges(first, size), stored)
            merkle.verify_consistency(first, size, path, roots[first], roots[size])
            if first < size:
                forked = merkle.root_of([*leaves[: first - 1], merkle.leaf_hash(b"rewritten")])
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(first, size, path, forked, roots[size])


def test_malformed_proofs_are_refused_with_a_reason():
    path = proof(merkle.inclusion_ranges(3, 8), STORED)
    root = bytes.fromhex(ROOTS[8])
    with pytest.raises(merkle.ProofError, match="shorter"):
        merkle.verify_inclusion(HASHED[3], 3, 8, path[:-1], root)
    with pytest.raises(merkle.ProofError, match="longer"):
        merkle.verify_inclusion(HASHED[3], 3, 8, [*path, path[0]], root)
    with pytest.raises(merkle.ProofError, match="not in a tree"):
        merkle.verify_inclusion(HASHED[3], 8, 8, path, root)
    with pytest.raises(merkle.ProofError, match="32-byte"):
        merkle.verify_inclusion(HASHED[3], 3, 8, [b"short", *path[1:]], root)
    with pytest.raises(merkle.ProofError, match="forked"):
        merkle.verify_consistency(4, 4, [], bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[5]))
