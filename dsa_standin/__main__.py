"""Run the stand-in: ``python -m dsa_standin --port 8766 --platform NAME [--token-file PATH] [--db PATH]``.

The token comes from ``DSA_STANDIN_TOKEN`` or a file, never from the command line: arguments are visible to
every user of the machine (``ps``) and end up in shell history and logs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from standins.secrets import read_secret, refuse_on_command_line

from .app import StandinServer, create_standin

TOKEN_VARIABLE = "DSA_STANDIN_TOKEN"  # noqa: S105 - the variable's name


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dsa_standin",
        description="A local DSA Transparency Database stand-in (development only). "
        f"The token is read from ${TOKEN_VARIABLE} or --token-file.",
        allow_abbrev=False,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--platform", default="Demo platform", help="the platform the token belongs to")
    parser.add_argument("--token-file", type=Path, help="a file holding the token (one line)")
    parser.add_argument("--db", help="SQLite file to keep received statements in (default: in memory)")
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    refuse_on_command_line(parser, argv, "token", TOKEN_VARIABLE)
    args = parser.parse_args(argv)
    app = create_standin(
        {read_secret(parser, "token", TOKEN_VARIABLE, args.token_file): args.platform}, args.db
    )
    server = StandinServer(app, args.host, args.port, quiet=False)
    server.serve_until_interrupted(
        f"DSA Transparency Database stand-in on {server.base_url} (received statements at /)"
    )


if __name__ == "__main__":
    main()
