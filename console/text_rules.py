"""What text the console accepts from outside: no NUL, no other C0 control characters, no lone surrogates;
and, in the names the console gives things, no bidirectional controls.

PostgreSQL refuses NUL in text ("cannot contain NUL") and a lone surrogate cannot be encoded as UTF-8 at all,
so either one reaching the database is a 500; other control characters are invisible in the console and make
NCMEC's service refuse a report long after the sender has gone. Every entry point refuses them, naming the
field. Tab and line breaks are allowed only where a field is multi-line.

Bidirectional controls (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, and the marks U+200E,
U+200F, U+061C) are invisible and reorder what follows them: "\u202egpj.exe" displays as "exe.jpg". A name
the console gives something (an API token, a reporting rule, a team, a hash list, and whatever else an admin
names later: `name_problem`, `PlainName`) refuses them. Names that come from the platform (file names, user
names) are kept as sent — they are evidence — and shown isolated with each control made visible
(`visible_controls`; the `isolate` template filter in console/webutil.py).
"""

from __future__ import annotations

import re

from wtforms.validators import ValidationError

# One search in C instead of a Python loop over a megabyte of evidence text.
_UNUSABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_UNUSABLE_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
ECHO_MAX = 80  # characters of a refused value that an error message repeats
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored, or None when it can."""
    found = (_UNUSABLE_MULTILINE if multiline else _UNUSABLE).search(value)
    if found is None:
        return None
    ch = found.group()
    code = ord(ch)
    if code == 0:
        return "contains a NUL character"
    if 0xD800 <= code <= 0xDFFF:
        return "contains a lone surrogate (not valid Unicode text)"
    if ch in "\t\n\r":
        return "must be a single line (no tab or line break)"
    return f"contains the control character U+{code:04X}"


def bidi_problem(value: str) -> str | None:
    found = _BIDI.search(value)
    if found is None:
        return None
    return (
        f"contains the invisible direction control U+{ord(found.group()):04X} "
        "(it makes text display in another order than it is written)"
    )


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot name something in the console (one line, no controls of any kind), or None."""
    return text_problem(value) or bidi_problem(value)


def visible_controls(value: str) -> str:
    """The text with each bidirectional control written out as ⟨U+202E⟩: seen, and no longer reordering."""
    return _BIDI.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", value)


def bidi_parts(value: str) -> list[tuple[str, bool]]:
    """The text cut at its bidirectional controls: (text, False) pieces and (⟨U+202E⟩, True) markers."""
    parts: list[tuple[str, bool]] = []
    start = 0
    for m in _BIDI.finditer(value):
        if m.start() > start:
            parts.append((value[start : m.start()], False))
        parts.append((f"⟨U+{ord(m.group()):04X}⟩", True))
        start = m.end()
    if start < len(value):
        parts.append((value[start:], False))
    return parts


def echo(value: object, limit: int = ECHO_MAX) -> str:
    """A refused value as an error message may repeat it: quoted, escaped and cut to ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    cut = text[:limit]
    shown = cut.encode("unicode_escape", "backslashreplace").decode("ascii").replace('"', '\\"')
    return f'"{shown}…"' if len(text) > limit else f'"{shown}"'


def shown(value: str, limit: int = ECHO_MAX) -> str:
    """A value as a message names it: as is when short and plain (a file name), else as ``echo`` shows it."""
    if len(value) <= limit and text_problem(value) is None and '"' not in value:
        return value
    return echo(value, limit)


class PlainText:
    """WTForms validator: refuses NUL, control characters (tab and line breaks too unless ``multiline``) and
    lone surrogates, with a message the form shows on the field."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, _form, field) -> None:
        if isinstance(field.data, str):
            problem = text_problem(field.data, multiline=self.multiline)
            if problem:
                raise ValidationError(_sentence(problem))


class PlainName(PlainText):
    """WTForms validator for a name the console gives something: PlainText, and no bidirectional controls."""

    def __call__(self, form, field) -> None:
        super().__call__(form, field)
        if isinstance(field.data, str):
            problem = bidi_problem(field.data)
            if problem:
                raise ValidationError(_sentence(problem))


def _sentence(problem: str) -> str:
    # Read under any field's label: "This field contains a NUL character; remove it."
    if problem.startswith("must"):
        return f"This field {problem}."
    return f"This field {problem}; remove it."
