"""Rendering: jinja2 templates -> Markdown and HTML, with French dates and amounts.

Templates ship in the package (``apptool/output/templates``); a workspace overrides any of them by
putting a file of the same name in its ``templates/`` folder. HTML is escaped automatically.
The same inputs always give byte-identical Markdown and HTML.

Templates are shared between practitioners, so rendering one never runs code: every template,
shipped or the workspace's, renders in jinja2's immutable sandbox (no attribute starting with
``_``, no method that changes a value, no access to Python's internals), with bounded
operations (:class:`Sandbox`) and at most :data:`RENDER_SECONDS` seconds. Any error while
rendering is the template's: an :class:`InvalidInput` naming its file and line.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import jinja2
import jinja2.filters
import markupsafe
from jinja2.sandbox import ImmutableSandboxedEnvironment

import apptool.output
from apptool.domain.billing import Line
from apptool.errors import InvalidInput, Problem
from apptool.output import french

#: A template that renders longer than this is stopped (a loop without end, a huge output).
RENDER_SECONDS = 10
#: The longest text or list a template may build by repetition (``"x" * n``).
MAX_REPEAT = 100_000
#: The largest exponent a template may raise a number to (``2 ** n``).
MAX_EXPONENT = 100


def quantity_text(line: Line) -> str:
    """``1`` for a session; for hours, the exact duration (``1 h 30``, ``20 min``) when the
    line was priced on it, else ``1,50 h``."""
    if line.unit == "hour" and line.minutes is not None:
        return french.duration(line.minutes)
    if line.unit == "hour":
        return f"{french.number(line.quantity)} h"
    return (
        str(int(line.quantity))
        if line.quantity == int(line.quantity)
        else french.number(line.quantity)
    )


class Sandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, with repetition and powers bounded: an expression of a
    template cannot make the tool run out of memory or time."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            _bounded_format(left)
        if operator == "**" and _number(right) and abs(right) > MAX_EXPONENT:
            raise jinja2.exceptions.SecurityError(
                f"a power above {MAX_EXPONENT} is not allowed in a template"
            )
        if operator == "*":
            for text, times in ((left, right), (right, left)):
                if (
                    isinstance(text, str | list | tuple)
                    and isinstance(times, int)
                    and len(text) * times > MAX_REPEAT
                ):
                    raise jinja2.exceptions.SecurityError(
                        f"a repetition longer than {MAX_REPEAT} is not allowed in a template"
                    )
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _bounded_format(value.__self__)
        return wrapped


#: A width or precision of five digits or more in a format (``%099999d``, ``{:99999}``).
_HUGE_FORMAT = re.compile(r"%[^a-zA-Z%]*\d{5}|\{[^{}]*:[^{}]*\d{5}")


def _bounded_format(text: str) -> None:
    if _HUGE_FORMAT.search(text):
        raise jinja2.exceptions.SecurityError(
            "a width or precision of 10000 or more is not allowed in a template"
        )


def _bounded_width(width: Any) -> None:
    if isinstance(width, int) and abs(width) > MAX_REPEAT:
        raise jinja2.exceptions.SecurityError(
            f"a width above {MAX_REPEAT} is not allowed in a template"
        )


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    """jinja2's ``format`` filter, bounded."""
    _bounded_format(str(value))
    return str(jinja2.filters.do_format(value, *args, **kwargs))


def _center(value: Any, width: int = 80) -> str:
    """jinja2's ``center`` filter, bounded."""
    _bounded_width(width)
    return str(jinja2.filters.do_center(value, width))


def _indent(value: Any, width: int | str = 4, *args: Any, **kwargs: Any) -> str:
    """jinja2's ``indent`` filter, bounded."""
    _bounded_width(width if isinstance(width, int) else len(width))
    return str(jinja2.filters.do_indent(value, width, *args, **kwargs))


#: What a line never splits in a printed document: a slot (``9h00–10h30``), a duration
#: (``1 h 30``, ``2 h``, ``45 min``) and an article cited (``(art. 2.1)``).
_UNBROKEN = re.compile(
    r"\d{1,2}h\d{2}–\d{1,2}h\d{2}"  # slot
    r"|\d+ h(?: \d{2})?(?!\w)|\d+ min(?!\w)"  # duration
    r"|\(art\. [^()]*\)"  # article
)


def nobreak(value: Any) -> markupsafe.Markup:
    """The text, escaped for HTML, with its slots, durations and cited articles each kept on
    one line (``<span class="nobr">``, which the HTML templates set ``white-space: nowrap``):
    a printed slot never reads ``9h00–`` at the end of a line and ``10h30`` on the next; a
    short last word is tied to the one before it."""
    kept = _UNBROKEN.sub(r'<span class="nobr">\g<0></span>', str(markupsafe.escape(value)))
    return markupsafe.Markup(_LAST_SHORT_WORD.sub("&#160;\\1", kept))  # no lone "1"


#: A last word of one to three characters (a group's number, "A") stays with the word
#: before it: a heading never ends with it alone on its line.
_LAST_SHORT_WORD = re.compile(r" ([^\s<>]{1,3})$")


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


class TemplateTimeout(Exception):
    """A template took longer than :data:`RENDER_SECONDS` to render."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Stop the rendering after ``seconds`` (main thread of a POSIX process only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TemplateTimeout(f"the template took longer than {seconds:g} s to render")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def environment(workspace: Path | None = None) -> jinja2.Environment:
    """The template environment: the workspace's templates first, then the shipped ones."""
    loaders: list[jinja2.BaseLoader] = []
    if workspace is not None and (workspace / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(workspace / "templates")))
    loaders.append(jinja2.PackageLoader("apptool.output", "templates"))
    env = Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        bytecode_cache=apptool.output.template_cache() if apptool.output.template_cache else None,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.globals.pop("lipsum", None)  # no use in a document, and unbounded
    env.filters.update(
        {
            "format": _format,
            "center": _center,
            "indent": _indent,
            "euros": french.euros,
            "long_date": french.long_date,
            "short_date": french.short_date,
            "number": french.number,
            "quantity": quantity_text,
            "nobreak": nobreak,
        }
    )
    return env


def _shown(filename: str | None, name: str, workspace: Path | None) -> str:
    """A template's file as messages show it: ``templates/invoice.md.j2`` for a workspace's."""
    if not filename:
        return name
    if workspace is not None:
        with contextlib.suppress(ValueError):
            return str(Path(filename).resolve().relative_to(workspace.resolve()))
    return filename


def _template_line(traceback: TracebackType | None, filenames: set[str]) -> tuple[str, int] | None:
    """The innermost frame of a template in a traceback: its file and line (jinja2 maps the
    frames of a template's code to the template's lines)."""
    found = None
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename in filenames or filename.endswith(".j2"):
            found = (filename, traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def not_utf8(
    env: jinja2.Environment, name: str, shown: str, workspace: Path | None = None
) -> InvalidInput:
    """A template that is not UTF-8 text, with the line of its first bad byte."""
    line = None
    for folder in getattr(env.loader, "loaders", [env.loader]):
        for search in getattr(folder, "searchpath", []):
            path = Path(search) / name
            if path.is_file():
                data = path.read_bytes()
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = data.count(b"\n", 0, exc.start) + 1
                    shown = _shown(str(path), name, workspace)
                    break
        if line is not None:
            break
    message = "template error: not UTF-8 text; save the template as UTF-8"
    return InvalidInput(f"{shown}: {message}", [Problem(shown, line, "", message)])


def render(name: str, context: dict[str, Any], workspace: Path | None = None) -> str:
    """Render a template by name (``invoice.md.j2``) with ``context``.

    A mistake in a template (most likely a workspace's override): a syntax error, an unknown
    variable or filter, a forbidden attribute, a division by zero, a render that does not
    end, is an :class:`InvalidInput` naming the template file and line, not a crash.
    """
    try:
        template = environment(workspace).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = _shown(exc.filename, exc.name or name, workspace)
        raise InvalidInput(
            f"{where}: {exc.message}",
            [Problem(where, exc.lineno, "", f"template error: {exc.message}")],
        ) from None
    except UnicodeDecodeError:
        raise not_utf8(environment(workspace), name, name, workspace) from None
    except jinja2.TemplateNotFound as exc:
        raise InvalidInput(
            f"{name}: template not found ({exc.message})",
            [Problem(name, None, "", f"template error: template not found: {exc.message}")],
        ) from None
    try:
        with _time_limit(RENDER_SECONDS):
            return template.render(**context)
    except Exception as exc:  # any error while rendering is the template's
        found = _template_line(exc.__traceback__, {template.filename or ""})
        if found is not None:
            where, line = _shown(found[0], name, workspace), found[1]
        else:
            where, line = _shown(template.filename, name, workspace), None
        if isinstance(exc, jinja2.TemplateSyntaxError):  # in an included template
            where, line = _shown(exc.filename, exc.name or name, workspace), exc.lineno
        if isinstance(exc, jinja2.TemplateError | TemplateTimeout):
            message = (exc.message if isinstance(exc, jinja2.TemplateError) else None) or str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        raise InvalidInput(
            f"{where}: {message}", [Problem(where, line, "", f"template error: {message}")]
        ) from None
