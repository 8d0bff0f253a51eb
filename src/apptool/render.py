"""Rendering: jinja2 templates -> Markdown, HTML and PDF, with French dates and amounts.

Templates ship in the package (``apptool/templates``); a workspace overrides any of them by
putting a file of the same name in its ``templates/`` folder. HTML is escaped automatically.
The same inputs always give byte-identical Markdown and HTML.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import french
from .errors import InvalidInput, Problem

if TYPE_CHECKING:
    import jinja2

    from .billing import Line


def quantity_text(line: Line) -> str:
    """``1`` for a session, ``1,50 h`` for hours."""
    if line.unit == "hour":
        return f"{french.number(line.quantity)} h"
    return str(int(line.quantity)) if line.quantity == int(line.quantity) else french.number(
        line.quantity)


def environment(workspace: Path | None = None) -> jinja2.Environment:
    """The template environment: the workspace's templates first, then the shipped ones."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if workspace is not None and (workspace / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(workspace / "templates")))
    loaders.append(jinja2.PackageLoader("apptool", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                            default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters.update({
        "euros": french.euros,
        "long_date": french.long_date,
        "short_date": french.short_date,
        "number": french.number,
        "quantity": quantity_text,
    })
    return env


def render(name: str, context: dict[str, Any], workspace: Path | None = None) -> str:
    """Render a template by name (``invoice.md.j2``) with ``context``.

    A mistake in a template (most likely a workspace's override) is an :class:`InvalidInput`
    naming the template file and line, not a crash.
    """
    import jinja2

    try:
        template = environment(workspace).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or name
        raise InvalidInput(f"{where}: {exc.message}",
                           [Problem(where, exc.lineno, "", f"template error: {exc.message}")],
                           ) from None
    try:
        return template.render(**context)
    except jinja2.TemplateError as exc:  # an unknown variable or filter in the template
        where = template.filename or name
        line = None
        traceback = exc.__traceback__
        while traceback is not None:  # jinja2 maps the failing frame to the template's line
            if traceback.tb_frame.f_code.co_filename == template.filename:
                line = traceback.tb_lineno
            traceback = traceback.tb_next
        raise InvalidInput(f"{where}: {exc}",
                           [Problem(where, line, "", f"template error: {exc}")]) from None


#: PDF making patches process-wide state (environment, facturx's clock): one at a time.
PDF_LOCK = threading.Lock()


def pdf_instant(day: date) -> datetime:
    """The instant a document's PDF carries: its date at noon UTC (never "now")."""
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


@contextmanager
def _source_date(instant: datetime) -> Iterator[None]:
    """SOURCE_DATE_EPOCH for the duration: fontTools stamps the fonts it subsets with it."""
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(instant.timestamp()))
    try:
        yield
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


def pdf_from_html(html: str, created: date, base_url: str | None = None) -> bytes:
    """A PDF/A-3b of ``html`` by WeasyPrint, dated ``created``: the same bytes every time.

    PDF/A-3 so that an e-invoice XML can be embedded. The document dates are ``created`` at
    noon UTC, and so is the time fontTools writes into each embedded font subset.
    """
    import weasyprint

    instant = pdf_instant(created)
    with PDF_LOCK, _source_date(instant):
        document = weasyprint.HTML(string=html, base_url=base_url).render()
        document.metadata.created = instant.isoformat()
        document.metadata.modified = instant.isoformat()
        return bytes(document.write_pdf(pdf_variant="pdf/a-3b"))
