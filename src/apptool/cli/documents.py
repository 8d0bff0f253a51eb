"""Commands of the documents for the establishment: calendar, notice, bilan, note.

Like every command, they import the services inside their body so that ``apptool --help``
stays instant.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apptool.cli.common import (
    MAX_YEAR,
    MIN_YEAR,
    State,
    TodayOption,
    app,
    console,
    parse_today,
    pdf_ahead,
    progress,
)

if TYPE_CHECKING:
    from apptool.services.documents import RenderedDocument


class CalendarFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"
    ics = "ics"
    eml = "eml"


class LetterFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


class NoticeFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"
    eml = "eml"


OutputDir = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        file_okay=False,
        help="Folder to write the document to (pdf and eml: the current folder by default).",
    ),
]


def _check_output(fmt: str, out_dir: Path | None) -> None:
    """An --output that is not a folder this user can write to is refused before anything
    is done or recorded."""
    folder = out_dir if out_dir is not None else (Path(".") if fmt in ("pdf", "eml") else None)
    if folder is None:
        return
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise typer.BadParameter(
            f"{folder}: not a folder this user can write to", param_hint="--output"
        )


def _emit(rendered: RenderedDocument, fmt: str, out_dir: Path | None) -> Path | None:
    """Markdown, HTML or iCalendar to standard output, or the chosen format to --output; a
    PDF or an e-mail (a file, never text) goes to the current folder without --output."""
    texts = {"md": rendered.markdown, "html": rendered.html, "ics": rendered.ics}
    if out_dir is None and fmt not in ("pdf", "eml"):
        sys.stdout.write(texts[fmt] or "")
        return None
    from apptool.services.common import write_output  # lazy: keeps `apptool --help` instant

    content: str | bytes = (
        rendered.pdf()
        if fmt == "pdf"
        else rendered.eml or b""
        if fmt == "eml"
        else texts[fmt] or ""
    )
    return write_output(out_dir or Path("."), f"{rendered.stem}.{fmt}", content)


@app.command()
def calendar(
    year: Annotated[
        int, typer.Argument(help="Year of the calendar, e.g. 2025.", min=MIN_YEAR, max=MAX_YEAR)
    ],
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this convention.")
    ] = None,
    output: Annotated[
        CalendarFormat,
        typer.Option(
            "--format",
            "-f",
            help="md (default), html, pdf, ics, or eml: an e-mail to the establishment's "
            "contacts with the PDF and an invitation for their calendar.",
        ),
    ] = CalendarFormat.md,
    out_dir: OutputDir = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Render without recording a distribution.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """The calendar to distribute: one document per convention, in French.

    Each establishment sees only its own sessions: by month and by group, with their slot and
    site, moved and cancelled sessions marked, and the rules of art. 2.1 and 3.

    A distribution (without --draft) is recorded in records/distributions.yaml with a version
    number; the next version starts with the changes since the previous one. Unchanged
    sessions: the last version is rendered again and nothing is recorded.
    """
    from apptool.services import documents  # lazy: keeps `apptool --help` instant

    _check_output(output.value, out_dir)
    pdf_ahead(output.value in ("pdf", "eml"))
    with progress(f"Rendering the {year} calendars…"):
        outcomes = documents.calendars(
            State.workspace,
            year,
            parse_today(today),
            convention,
            draft,
            ics=output is CalendarFormat.ics,
            eml=output is CalendarFormat.eml,
        )
    err = console(stderr=True)
    for outcome in outcomes:
        path = _emit(outcome.rendered, output.value, out_dir)  # written, then said
        rel = outcome.release
        if rel.version is None:
            state = "draft, nothing recorded"
        elif outcome.recorded is not None:
            state = f"version {rel.version} of {rel.date}, recorded in {outcome.recorded}"
        else:
            state = f"unchanged since version {rel.version} of {rel.date}, nothing recorded"
        err.print(f"{outcome.convention} {year}: {state}", markup=False)
        if outcome.differs:
            err.print(
                f"  warning: version {rel.version} renders differently from the one "
                "distributed (templates changed since?)",
                markup=False,
            )
        if path is not None:
            err.print(f"  written to {path}", markup=False)


@app.command()
def notice(
    session_id: Annotated[
        str, typer.Argument(help="Session id, e.g. ccas-dreux/seniors-1/2025-05.")
    ],
    output: Annotated[
        NoticeFormat,
        typer.Option(
            "--format",
            "-f",
            help="md (default), html, pdf, or eml: an e-mail to the establishment's contacts "
            "with the PDF and the invitation that updates the event in their calendar.",
        ),
    ] = NoticeFormat.md,
    out_dir: OutputDir = None,
) -> None:
    """A letter or e-mail for the session's last change (move or cancellation).

    It gives the group, the site, the previous and new date and slot, who asked and when, the
    notice given against the notice required (art. 2.1) and, for a cancellation, whether it
    is billable (art. 4).
    """
    from apptool.services import documents  # lazy: keeps `apptool --help` instant

    _check_output(output.value, out_dir)
    pdf_ahead(output.value in ("pdf", "eml"))
    with progress(f"Rendering the notice of {session_id}…"):
        outcome = documents.notice(State.workspace, session_id, eml=output is NoticeFormat.eml)
    path = _emit(outcome.rendered, output.value, out_dir)
    if path is not None:
        console(stderr=True).print(f"written to {path}", markup=False)


@app.command()
def bilan(
    year: Annotated[
        int, typer.Argument(help="Year of the report, e.g. 2025.", min=MIN_YEAR, max=MAX_YEAR)
    ],
    convention: Annotated[str, typer.Option("--convention", help="The convention's id.")],
    output: Annotated[
        LetterFormat, typer.Option("--format", "-f", help="md (default), html or pdf.")
    ] = LetterFormat.md,
    out_dir: OutputDir = None,
    today: TodayOption = None,
) -> None:
    """The annual report (bilan): figures per group, themes, places for your analysis.

    Art. 2.3 of the convention. Sessions planned, held, moved, cancelled (due or not),
    attendance, the recurring themes of your notes, and individual consultations as a count
    and total hours only ("moins de 3" below three, art. 2.2). The text of your notes is
    never shown.
    """
    from apptool.services import documents  # lazy: keeps `apptool --help` instant

    _check_output(output.value, out_dir)
    pdf_ahead(output.value == "pdf")
    with progress(f"Rendering the {year} report of {convention}…"):
        outcome = documents.bilan(State.workspace, year, convention, parse_today(today))
    path = _emit(outcome.rendered, output.value, out_dir)
    if path is not None:
        console(stderr=True).print(f"written to {path}", markup=False)


@app.command()
def note(
    session_id: Annotated[
        str, typer.Argument(help="Session id, e.g. ccas-dreux/seniors-1/2025-05.")
    ],
    themes: Annotated[
        str | None,
        typer.Option("--themes", help="Theme ids from themes.yaml, comma-separated."),
    ] = None,
    attendance: Annotated[
        int | None, typer.Option("--attendance", min=0, help="Number of participants.")
    ] = None,
    text: Annotated[
        str | None,
        typer.Option("--text", help="Anonymous, group-level observation (never shown)."),
    ] = None,
    today: TodayOption = None,
) -> None:
    """Record your notes on a session that took place, for the annual report (art. 2.3).

    Themes, attendance and an anonymous, group-level observation in records/notes.yaml;
    given options replace the recorded ones. Never write a name (art. 2.2, art. 6).
    """
    from apptool.domain.records import MAX_ATTENDANCE  # lazy: keeps `apptool --help` instant
    from apptool.services import documents  # lazy: keeps `apptool --help` instant

    if attendance is not None and attendance > MAX_ATTENDANCE:
        raise typer.BadParameter(
            f"{attendance} participants: a group session's note gives at most {MAX_ATTENDANCE}",
            param_hint="--attendance",
        )
    if themes is None and attendance is None and text is None:
        raise typer.BadParameter(
            "give at least one of --themes, --attendance, --text", param_hint="--themes"
        )
    theme_ids = [t.strip() for t in themes.split(",") if t.strip()] if themes is not None else None
    recorded = documents.record_note(
        State.workspace, session_id, parse_today(today), theme_ids, attendance, text
    )
    parts = [f"themes {', '.join(recorded.themes) or '-'}"]
    parts.append(
        f"attendance {recorded.attendance}" if recorded.attendance is not None else "attendance -"
    )
    parts.append(
        f"text of {len(recorded.text)} characters (kept private)" if recorded.text else "no text"
    )
    console().print(f"noted {recorded.session}: {'; '.join(parts)}", markup=False)
