"""Run the simulator: ``python -m simulator --port 8765 --username U [--password-file PATH] [--db PATH]``.

The password comes from ``CYBERTIPLINE_SIM_PASSWORD`` or a file, never from the command line: arguments
are visible to every user of the machine (``ps``) and end up in shell history and logs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

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


def _password(parser: argparse.ArgumentParser, password_file: Path | None) -> str:
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            parser.error(f"cannot read --password-file: {error.strerror}")
    else:
        password = os.environ.get(PASSWORD_VARIABLE, "")
    if not password:
        parser.error(f"no password: set {PASSWORD_VARIABLE} or pass --password-file")
    return password


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    # Refused before argparse sees it: its "unrecognized arguments" message would echo the password.
    if any(arg == "--password" or arg.startswith("--password=") for arg in argv):
        parser.error(f"--password is not accepted; set {PASSWORD_VARIABLE} or pass --password-file")
    args = parser.parse_args(argv)
    app = create_simulator(
        args.username,
        _password(parser, args.password_file),
        args.db,
        args.xsd,
        expire_unfinished=args.expire_unfinished,
    )
    server = SimulatorServer(app, args.host, args.port, quiet=False)
    print(f"CyberTipline simulator on {server.base_url} (inspect at {server.root_url}/)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
