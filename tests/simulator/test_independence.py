"""The simulator shares no code with the console's NCMEC client, and the console never imports it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_simulator_imports_nothing_from_the_console():
    probe = (
        "import sys, simulator, simulator.__main__; "
        "print(sorted(m for m in sys.modules if m == 'console' or m.startswith('console.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_console_never_imports_the_simulator():
    importers = []
    for path in (ROOT / "console").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(name == "simulator" or name.startswith("simulator.") for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []
