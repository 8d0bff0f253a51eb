"""Rendering: jinja2 templates -> Markdown and HTML, with French dates and amounts.

Templates ship in the package (``apptool/output/templates``); a workspace overrides any of them by
putting a file of the same name in its ``templates/`` folder. HTML is escaped automatically.
The same inputs always give byte-identical Markdown and HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from apptool.domain.billing import Line
from apptool.errors import InvalidInput, Problem
from apptool.output import french


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


def environment(workspace: Path | None = None) -> jinja2.Environment:
    """The template environment: the workspace's templates first, then the shipped ones."""
    loaders: list[jinja2.BaseLoader] = []
    if workspace is not None and (workspace / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(workspace / "templates")))
    loaders.append(jinja2.PackageLoader("apptool.output", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters.update(
        {
            "euros": french.euros,
            "long_date": french.long_date,
            "short_date": french.short_date,
            "number": french.number,
            "quantity": quantity_text,
        }
    )
    return env


def render(name: str, context: dict[str, Any], workspace: Path | None = None) -> str:
    """Render a template by name (``invoice.md.j2``) with ``context``.

    A mistake in a template (most likely a workspace's override) is an :class:`InvalidInput`
    naming the template file and line, not a crash.
    """
    try:
        template = environment(workspace).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or name
        raise InvalidInput(
            f"{where}: {exc.message}",
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
        raise InvalidInput(
            f"{where}: {exc}", [Problem(where, line, "", f"template error: {exc}")]
        ) from None
