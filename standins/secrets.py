"""A stand-in's secret (a password, a token) comes from the environment or a file, never the command line:
arguments are visible to every user of the machine (``ps``) and end up in shell history and logs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def refuse_on_command_line(
    parser: argparse.ArgumentParser, argv: list[str], name: str, variable: str
) -> None:
    """Refuse ``--<name>`` before argparse sees it: its "unrecognized arguments" message would echo it."""
    if any(arg == f"--{name}" or arg.startswith(f"--{name}=") for arg in argv):
        parser.error(f"--{name} is not accepted; set {variable} or pass --{name}-file")


def read_secret(parser: argparse.ArgumentParser, name: str, variable: str, secret_file: Path | None) -> str:
    """The secret from ``secret_file`` (its first line) or else from the environment variable."""
    if secret_file is not None:
        try:
            secret = secret_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            parser.error(f"cannot read --{name}-file: {error.strerror}")
    else:
        secret = os.environ.get(variable, "")
    if not secret:
        parser.error(f"no {name}: set {variable} or pass --{name}-file")
    return secret
