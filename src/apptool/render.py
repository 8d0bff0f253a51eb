"""Rendering: jinja2 templates -> Markdown, HTML and PDF, with French dates and amounts.

Templates ship in the package (``apptool/templates``); a workspace overrides any of them by
putting a file of the same name in its ``templates/`` folder. HTML is escaped automatically.
The same inputs always give byte-identical Markdown and HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import french

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
    """Render a template by name (``invoice.md.j2``) with ``context``."""
    return environment(workspace).get_template(name).render(**context)


def pdf_from_html(html: str, pdf_a: bool = True) -> bytes:
    """A PDF (PDF/A-3b by default, so an e-invoice XML can be embedded) via WeasyPrint."""
    import weasyprint

    document = weasyprint.HTML(string=html)
    pdf: bytes = document.write_pdf(pdf_variant="pdf/a-3b" if pdf_a else None)
    return pdf
