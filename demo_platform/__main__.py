"""Run the demo platform: ``python -m demo_platform --port 8766 [--db PATH]``, its signing secret from
DEMO_PLATFORM_SECRET (never on the command line: arguments are visible to `ps`)."""

from __future__ import annotations

import argparse
import os
import sys

from .server import PlatformServer

SECRET_VARIABLE = "DEMO_PLATFORM_SECRET"  # noqa: S105 - the name, not a secret


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m demo_platform", description="A stand-in for your platform."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--db", help="SQLite file to keep what it received (default: in memory)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret.startswith("whsec_"):
        parser.error(f"set {SECRET_VARIABLE} to the endpoint's whsec_… signing secret")
    server = PlatformServer(secret, args.host, args.port, args.db, quiet=False)
    print(f"demo platform on {server.root_url}/ (webhooks: {server.webhook_url})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
