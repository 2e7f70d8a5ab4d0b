"""`python -m console.tlog PROOF.json --public-key KEY`: check a proof offline; exit 1 if it does not hold."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .merkle import ProofError
from .verify import Consistent, check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.tlog", description=__doc__)
    parser.add_argument("proof", type=Path, help="a proof from `flask audit prove` (JSON)")
    parser.add_argument(
        "--public-key", required=True, help="the log's public key: a file (PEM) or the key's text"
    )
    args = parser.parse_args(argv)
    key = args.public_key
    if Path(key).is_file():
        key = Path(key).read_text()
    try:
        result = check(json.loads(args.proof.read_text()), key)
    except (ProofError, ValueError, OSError) as e:
        print(f"NOT VERIFIED: {e}", file=sys.stderr)
        return 1
    if isinstance(result, Consistent):
        print(
            f"verified: the log {result.first.origin!r} at {result.second.size} leaves extends itself at "
            f"{result.first.size} (checkpoints of {result.first.time:%Y-%m-%d %H:%M:%S} and "
            f"{result.second.time:%Y-%m-%d %H:%M:%S} UTC)"
        )
    else:
        print(
            f"verified: leaf {result.leaf_index} of {result.checkpoint.size} in "
            f"{result.checkpoint.origin!r}, checkpoint signed {result.checkpoint.time:%Y-%m-%d %H:%M:%S} UTC"
        )
        print(json.dumps(result.event, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
