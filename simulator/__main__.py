"""Run the simulator: ``python -m simulator --port 8765 --username U [--password-file PATH] [--db PATH]``.

The password comes from ``CYBERTIPLINE_SIM_PASSWORD`` or a file, never from the command line: arguments
are visible to every user of the machine (``ps``) and end up in shell history and logs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from standins.secrets import read_secret, refuse_on_command_line

from .app import create_simulator
from .server import SimulatorServer

PASSWORD_VARIABLE = "CYBERTIPLINE_SIM_PASSWORD"  # noqa: S105 - the name, not a password


def _parser() -> argparse.ArgumentParser:
    # allow_abbrev=False: otherwise "--password X" would be taken as "--password-file X".
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="A local CyberTipline simulator (development only). "
        f"The password is read from ${PASSWORD_VARIABLE} or --password-file.",
        allow_abbrev=False,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--username", default="esp-demo")
    parser.add_argument("--password-file", type=Path, help="a file holding the password (one line)")
    parser.add_argument("--db", help="SQLite file to keep received reports in (default: in memory)")
    parser.add_argument("--xsd", help="validate against this copy of NCMEC's XSD instead of the vendored one")
    parser.add_argument(
        "--expire-unfinished",
        action="store_true",
        help="forget unfinished reports after NCMEC's deadline"
        " (24 h after opening, 1 h after the last change)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    refuse_on_command_line(parser, argv, "password", PASSWORD_VARIABLE)
    args = parser.parse_args(argv)
    app = create_simulator(
        args.username,
        read_secret(parser, "password", PASSWORD_VARIABLE, args.password_file),
        args.db,
        args.xsd,
        expire_unfinished=args.expire_unfinished,
    )
    server = SimulatorServer(app, args.host, args.port, quiet=False)
    server.serve_until_interrupted(
        f"CyberTipline simulator on {server.base_url} (inspect at {server.root_url}/)"
    )


if __name__ == "__main__":
    main()
