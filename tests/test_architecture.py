"""The import graph has one direction of flow (docs/architecture.md): read from the source with `ast`.

- `console/ncmec`, `console/dsa` and `console/tlog` are protocol libraries: they import nothing from the
  rest of the console (tlog: only itself, the standard library and `cryptography`, so an outside verifier can
  run it alone).
- Nothing in console/ or jobs/ imports the simulator or the DSA stand-in (development tools, run beside it),
  nor the demo platform, which imports nothing of theirs either.
- Domain packages are ranked; a module may import another package's non-model modules only from a lower
  rank (a view, form or CLI also from its own rank; models are the one schema: any package may name
  another's). Cases never imports reporting.
- Domain modules know nothing of the web: no views, forms or CLI, no sections/webutil/security, none of
  Flask's request-bound helpers (abort, url_for, request, …), no `current_app.view_functions`.
- A module over 400 lines says at its top why it is long.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Lower ranks are imported by higher ones, never the other way round. A new package gets its rank here and
# in docs/architecture.md (test_every_package_has_a_rank).
RANKS = {
    "ncmec": 0,
    "dsa": 0,  # the DSA Transparency Database's protocol library, like ncmec
    "tlog": 0,  # the transparency log's protocol (RFC 9162, checkpoints, the offline verifier)
    "policies": 0,  # the policy tree: every area reads it, it reads no area (child safety marks its nodes)
    "media": 1,
    "accounts": 1,
    "childsafety": 1,  # what is child-safety material and who may see it: cases and reporting ask it
    "queues": 2,
    "cases": 2,
    "evidence": 3,
    "reporting": 4,
    "hashbank": 5,
    "api": 6,
    "transparency": 6,
    # Webhooks to the platform: it subscribes to what cases and reporting announce, and checks the platform's
    # answers with the API's field rules.
    "webhooks": 7,
    # Statements of reasons to the DSA Transparency Database: a decision's statement says what its platform
    # actions (webhooks) restricted.
    "sor": 8,
    "settings": 8,  # the admin's area: it manages reporting's rules and the API's tokens
    "ops": 9,  # health, readiness, metrics: it reads every area's state
}
# The web face of a package: what a domain module never imports.
WEB_MODULES = {"views", "forms", "cli", "api_tokens"}
WEB_INFRASTRUCTURE = {"console.sections", "console.webutil", "console.security"}
REQUEST_BOUND = {"abort", "url_for", "request", "redirect", "render_template", "flash", "session", "g"}
MAX_LINES = 400
LONG_REASON = "Why this module is long"
# Vendored protocol code, restructured by nobody here; its size is data (XSD tables, the documents' order).
SIZE_EXEMPT = ("console/ncmec/",)
# The protocol libraries: each imports nothing from the console but itself.
PROTOCOLS = ("console.ncmec", "console.dsa", "console.tlog")
# Stand-ins for outside services, run beside the console: never imported by it.
STAND_INS = ("simulator", "dsa_standin", "standins")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module (or module.name for `from package import name`), dotted
    names: tuple[str, ...]
    line: int


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> list[Path]:
    return sorted([*(ROOT / "console").rglob("*.py"), *(ROOT / "jobs").rglob("*.py")])


def _imports(path: Path) -> list[Import]:
    module = _dotted(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [Import(module, a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = tuple(a.name for a in node.names)
            out.append(Import(module, base, names, node.lineno))
            # `from console.reporting import service` imports the module console.reporting.service.
            out += [Import(module, f"{base}.{n}", (), node.lineno) for n in names]
    return out


ALL = {path: _imports(path) for path in _sources()}
STANDARD_LIBRARY = set(sys.stdlib_module_names)


def _package(dotted: str) -> str | None:
    """The ranked domain package a module belongs to (console.reporting.lease → reporting), if any."""
    parts = dotted.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "console" and parts[1] in RANKS else None


def _leaf(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def _is_web(dotted: str) -> bool:
    return _package(dotted) is not None and _leaf(dotted) in WEB_MODULES


def _is_domain(dotted: str) -> bool:
    """A package's own modules; not its web face, nor its __init__ (init_app wires the package in)."""
    return _package(dotted) is not None and not _is_web(dotted) and dotted.count(".") >= 2


def _real_modules() -> set[str]:
    return {_dotted(path) for path in _sources()}


MODULES = _real_modules()


def test_every_package_has_a_rank():
    packages = {p.parent.name for p in (ROOT / "console").glob("*/__init__.py")}
    assert packages - set(RANKS) == set()


def _within(dotted: str, package: str) -> bool:
    return dotted == package or dotted.startswith(f"{package}.")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_protocol_library_imports_nothing_from_the_console(protocol):
    found = [
        (i.module, i.target, i.line)
        for imports in ALL.values()
        for i in imports
        if _within(i.module, protocol) and _within(i.target, "console") and not _within(i.target, protocol)
    ]
    assert any(_within(module, protocol) for module in MODULES)
    assert found == []


def test_the_transparency_log_protocol_stands_alone():
    """Law enforcement checks proofs with console/tlog alone: nothing of the console, Flask or a database."""
    allowed_outside = {"cryptography", "__future__"}
    found = [
        (i.module, i.target, i.line)
        for imports in ALL.values()
        for i in imports
        if i.module.startswith("console.tlog")
        and not i.target.startswith("console.tlog")
        and i.target.split(".")[0] not in allowed_outside | STANDARD_LIBRARY
    ]
    assert found == []


def test_nothing_in_the_console_or_the_jobs_imports_a_stand_in():
    found = [
        (i.module, i.target, i.line)
        for imports in ALL.values()
        for i in imports
        if any(_within(i.target, stand_in) for stand_in in STAND_INS)
    ]
    assert found == []


def test_the_demo_platform_and_the_console_share_no_code():
    """demo_platform/ stands in for the platform: a receiver written from the spec, not from our sender."""
    theirs = [
        (_dotted(path), i.target, i.line)
        for path in sorted((ROOT / "demo_platform").rglob("*.py"))
        for i in _imports(path)
        if i.target.split(".")[0] in ("console", "jobs", *STAND_INS)
    ]
    ours = [
        (i.module, i.target, i.line)
        for imports in ALL.values()
        for i in imports
        if i.target.split(".")[0] == "demo_platform"
    ]
    assert theirs == [] and ours == []


def test_cases_never_imports_reporting():
    found = [
        (i.module, i.target, i.line)
        for imports in ALL.values()
        for i in imports
        if i.module.startswith("console.cases") and i.target.startswith("console.reporting")
    ]
    assert found == []


def test_no_arrow_from_a_lower_package_to_a_higher_one():
    found = []
    for imports in ALL.values():
        for i in imports:
            mine, theirs = _package(i.module), _package(i.target)
            if mine is None or theirs is None or mine == theirs or i.target not in MODULES:
                continue
            if _leaf(i.target) == "models":
                continue  # the schema is one: console/models.py imports every package's models
            # A page may show a same-rank neighbour's data; a domain module only builds on lower ranks.
            too_high = RANKS[theirs] > RANKS[mine] if _is_web(i.module) else RANKS[theirs] >= RANKS[mine]
            if too_high:
                found.append((i.module, i.target, i.line))
    assert found == []


def test_domain_modules_know_nothing_of_the_web():
    found = []
    for imports in ALL.values():
        for i in imports:
            if not _is_domain(i.module):
                continue
            if _is_web(i.target) and i.target in MODULES or i.target in WEB_INFRASTRUCTURE:
                found.append((i.module, i.target, i.line))
            if i.target == "flask" and REQUEST_BOUND & set(i.names):
                found.append((i.module, f"flask: {sorted(REQUEST_BOUND & set(i.names))}", i.line))
    assert found == []


def test_no_domain_module_asks_which_views_exist():
    found = []
    for path in _sources():
        module = _dotted(path)
        if not _is_domain(module):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "view_functions":
                found.append((module, node.lineno))
    assert found == []


def test_a_long_module_says_why_at_its_top():
    found = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(SIZE_EXEMPT):
            continue
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_LINES and LONG_REASON not in (ast.get_docstring(ast.parse(text)) or ""):
            found.append((relative, lines))
    assert found == []


def test_the_checks_see_the_layers_they_are_about():
    """Guards the guard: the parser finds the imports the rules above are written against."""
    targets = {(i.module, i.target) for imports in ALL.values() for i in imports}
    assert ("console.reporting.service", "console.cases.signals") in targets
    assert ("console.settings.service", "console.reporting.service") in targets
    assert _is_domain("console.reporting.pipeline") and _is_web("console.reporting.views")
    assert not _is_domain("console.cases.views")


def test_ncmecs_incident_types_are_spelled_only_in_the_protocol_library():
    """NCMEC's enumeration values live in console/ncmec/constants.py (checked against the XSD); the demo data,
    the jobs and the benchmarks name `IncidentType` members, so a value NCMEC changes is changed once."""
    from console.ncmec import IncidentType

    values = {t.value for t in IncidentType}
    found = []
    for path in sorted([*_sources(), *(ROOT / "bench").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("console/ncmec/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in values:
                found.append((relative, node.lineno, node.value))
    assert found == []
