"""Small helpers shared by views and templates: htmx detection, template filters, and the request class."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, render_template, request
from flask.wrappers import Request
from markupsafe import Markup, escape
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter

from console.text_rules import bidi_parts, visible_controls
from console.timeutil import age, parse_moment, utc_text

# Every id in the schema is a 32-bit INTEGER on PostgreSQL; a larger number names nothing.
ID_MAX = 2**31 - 1


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def page_or_fragment(
    page: str, fragment: str, context: dict, status: int = 200, hx_headers: dict | None = None
):
    """One URL serves both: the full page, or the fragment an htmx request swaps in (with `hx_headers`).

    The one place that chooses. The page keeps its honest status (a refused form is 422, a refused change
    409); the fragment goes out as 200, because htmx swaps only 2xx responses and a refusal must still show
    in place (the form with its errors). A view checks `is_htmx()` itself only where the other answer is not
    a page but a redirect (an action without JavaScript goes back to its page, POST-redirect-GET).
    """
    if is_htmx():
        return render_template(fragment, **context), 200, hx_headers or {}
    return render_template(page, **context), status


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a number no row can have is a 404, not a database overflow (a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=ID_MAX, signed=False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BoundedArgs(ImmutableMultiDict):
    """Query and form values: `get(name, type=int)` treats a number no column can hold as absent.

    Views read cursors and filters with `request.args.get("after", type=int)`; a 23-digit value would reach
    the database and overflow there.
    """

    def get(self, key, default=None, type=None):  # noqa: A002 - Werkzeug's signature
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not -ID_MAX - 1 <= value <= ID_MAX:
            return default
        return value


class _BoundaryCounter:
    """Counts multipart boundaries as the parser reads them, to tell "too many parts" from other 413s."""

    def __init__(self, stream, delimiter: bytes) -> None:
        self.stream, self.delimiter, self.count, self._tail = stream, delimiter, 0, b""

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        window = self._tail + data
        self.count += window.count(self.delimiter)
        # Keep less than one delimiter's worth: a delimiter split across two reads is counted once.
        self._tail = window[-(len(self.delimiter) - 1) :] if len(self.delimiter) > 1 else b""
        return data


class ConsoleFormDataParser(FormDataParser):
    def _parse_multipart(self, stream, mimetype, content_length, options):
        boundary = options.get("boundary", "").encode("ascii", "replace")
        counter = _BoundaryCounter(stream, b"--" + boundary)
        try:
            _, form, files = super()._parse_multipart(counter, mimetype, content_length, options)
        except RequestEntityTooLarge as e:
            if self.max_form_parts is not None and counter.count > self.max_form_parts:
                raise RequestEntityTooLarge("parts: more form parts than allowed") from e
            if content_length is not None and (
                self.max_content_length is None or content_length <= self.max_content_length
            ):
                raise RequestEntityTooLarge("field: a form field is larger than allowed") from e
            raise
        return stream, form, files


class ConsoleRequest(Request):
    parameter_storage_class = BoundedArgs
    form_data_parser_class = ConsoleFormDataParser

    @property
    def max_content_length(self) -> int | None:
        """Only the API takes files; a page's form is small, so its body is limited far below the uploads'.

        (A URL-encoded body is read whole before it is parsed: 64 MiB at the sign-in page is a cheap way to
        make the console read and split 64 MiB.)
        """
        if self._max_content_length is not None:
            return self._max_content_length
        from flask import current_app

        limit = current_app.config["MAX_CONTENT_LENGTH"]
        if self.path.startswith("/api/"):
            return limit
        page_limit = current_app.config["MAX_PAGE_FORM_BYTES"]
        return page_limit if limit is None else min(limit, page_limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


# A number no id reaches: the slot where url_maker's URLs take their id.
_ID_SLOT = 9_081_726_354_453_627


def url_maker(endpoint: str, id_arg: str, **values):
    """`url_for(endpoint, id_arg=<id>, **values)` as a function of the id, built once: a page of 50 rows
    built each row's link through Werkzeug's URL builder (a quarter of the queue page's template time)."""
    from flask import url_for

    prefix, _, suffix = url_for(endpoint, **{id_arg: _ID_SLOT}, **values).partition(str(_ID_SLOT))
    return lambda id_: f"{prefix}{int(id_)}{suffix}"


_MARK = Markup('<span class="bidi-mark" title="an invisible direction control, shown here">{}</span>')


def isolate(value) -> Markup:
    """A name the platform sent (a file name, a user name), as a page shows it: in its own <bdi>, so that it
    cannot reorder the text around it, with each bidirectional control written out (⟨U+202E⟩) so that
    "\u202egpj.exe" reads as what it is."""
    text = "" if value is None else str(value)
    pieces = (_MARK.format(piece) if is_mark else escape(piece) for piece, is_mark in bidi_parts(text))
    return Markup("<bdi>") + Markup("").join(pieces) + Markup("</bdi>")


def when(value) -> Markup:
    """Every time a person reads, one way: <time> in UTC, which static/js/console.js shows in the reader's
    own time zone, keeping the UTC time in its tooltip. A value that is not a time is shown as it is."""
    moment = parse_moment(value)
    if moment is None:
        return Markup("—") if value in (None, "") else escape(value)
    utc = utc_text(moment)
    iso = moment.isoformat().replace("+00:00", "Z")
    return Markup('<time datetime="{}" title="{}" data-local>{}</time>').format(iso, utc, utc)


def plural(count, one: str, many: str | None = None) -> str:
    """'1 hash', '2 hashes', '0 reports': a count with its noun agreeing."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def hash_groups(value, size: int = 8) -> Markup:
    """A hash shown whole, in groups of `size` characters a line may break between (<wbr>), so that a narrow
    column wraps it at a group, never leaving a lone character on a line."""
    text = "" if value is None else str(value)
    groups = [escape(text[i : i + size]) for i in range(0, len(text), size)]
    return Markup("<wbr>").join(groups)


def init_app(app: Flask) -> None:
    app.request_class = ConsoleRequest
    app.jinja_env.globals["url_maker"] = url_maker
    app.url_map.converters["int"] = IdConverter
    app.jinja_env.filters["age"] = age
    app.jinja_env.filters["isolate"] = isolate
    app.jinja_env.filters["hash_groups"] = hash_groups
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["plural"] = plural
    # In an attribute (alt, aria-label, a confirm prompt) there is no <bdi>: the controls are written out.
    app.jinja_env.filters["visible_controls"] = lambda v: visible_controls("" if v is None else str(v))
    app.jinja_env.filters["dt"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "—"
    app.jinja_env.filters["iso"] = lambda d: d.isoformat() if d else ""
    app.jinja_env.filters["epoch"] = lambda s: when(datetime.fromtimestamp(s, UTC))
