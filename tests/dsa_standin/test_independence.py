"""The stand-in shares no code with the console's DSA client, and the console never imports it."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT


def test_the_stand_in_imports_nothing_from_the_console():
    probe = (
        "import sys, dsa_standin, dsa_standin.__main__; "
        "print(sorted(m for m in sys.modules if m == 'console' or m.startswith('console.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_no_module_of_the_stand_in_names_the_console():
    for path in (ROOT / "dsa_standin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            # The stand-ins share plumbing (standins), never each other's or the console's code.
            assert not any(n == "console" or n.startswith(("console.", "simulator")) for n in names), path
