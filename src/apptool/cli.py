"""The command line: parse, call the use case, print. Exit codes are decided here, in one place.

Heavy modules (pydantic, holidays, icalendar...) are imported inside the commands so that
``apptool --help`` stays instant.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from .errors import EXIT_INTERNAL, EXIT_INVALID, AppToolError

if TYPE_CHECKING:
    from rich.console import Console

    from .app import PlanOutcome

F = TypeVar("F", bound=Callable[..., Any])


def _report(lines: list[str], code: int) -> None:
    console = _console(stderr=True)
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


class _App(typer.Typer):
    """A Typer app whose commands turn an :class:`AppToolError` into its exit code."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorate(func: F) -> F:
            @functools.wraps(func)
            def run(*a: Any, **kw: Any) -> Any:
                try:
                    return func(*a, **kw)
                except AppToolError as exc:
                    _report([f"error: {line}" for line in exc.lines()], exc.exit_code)
                except OSError as exc:  # disk full, permission denied...: nothing half-written
                    _report([f"error: {exc}"], EXIT_INTERNAL)
                except KeyboardInterrupt:
                    _report(["interrupted"], 130)
                except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit):
                    raise
                except Exception as exc:  # a bug: say so briefly, full trace on demand
                    if os.environ.get("APPTOOL_DEBUG"):
                        raise
                    _report(
                        [
                            f"internal error: {type(exc).__name__}: {exc}",
                            "set APPTOOL_DEBUG=1 to see the traceback, and please report it",
                        ],
                        EXIT_INTERNAL,
                    )

            register(run)
            return func

        return decorate


app = _App(
    name="apptool",
    help="Plan and bill analyse de pratiques professionnelles (APP) sessions under French "
    "public conventions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _State:
    workspace: Path = Path(".")


def _console(stderr: bool = False) -> Console:
    """A console; when output goes to a file or a pipe, lines are not cut at 80 columns."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console = Console(stderr=stderr, highlight=False, width=max(console.width, 160))
    return console


@app.callback()
def _main(
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace",
            "-w",
            envvar="APPTOOL_WORKSPACE",
            file_okay=False,
            help="Workspace folder (default: the current folder).",
        ),
    ] = Path("."),
) -> None:
    """Plan and bill APP sessions under French public conventions."""
    _State.workspace = workspace


def _parse_today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today",
        metavar="YYYY-MM-DD",
        help="Take this date as today (for reproducible runs and tests).",
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    buyer: Annotated[
        bool,
        typer.Option("--buyer", help="A buyer workspace: a framework agreement's lots and orders."),
    ] = False,
) -> None:
    """Create a new workspace from the shipped examples (never overwrites a file)."""
    from .workspace import init_workspace

    created = init_workspace(directory, buyer=buyer)
    console = _console()
    for path in created:
        console.print(f"created {path}", markup=False)
    if buyer:
        console.print(
            f"buyer workspace ready: edit {directory}/buyer.yaml, then run "
            f"`apptool -w {directory} allocate --dry-run`",
            markup=False,
        )
        return
    console.print(
        f"workspace ready: edit {directory}/conventions/*.yaml and "
        f"{directory}/practitioner.yaml, then run `apptool -w {directory} plan YEAR`",
        markup=False,
    )


@app.command()
def plan(
    year: Annotated[int, typer.Argument(help="Calendar year to plan, e.g. 2026.")],
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="table (terminal), json (public format) or ics (RFC 5545).",
        ),
    ] = OutputFormat.table,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Re-plan the planned sessions that are still in the future."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan without writing the calendar file.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Plan every convention of the workspace for YEAR into calendars/YEAR.yaml.

    Sessions already in the calendar file stay where they are; only missing ones are placed.
    """
    from . import app as use_cases

    day = _parse_today(today)
    outcome = use_cases.plan(_State.workspace, year, day, fresh=fresh, dry_run=dry_run)
    if output is OutputFormat.json:
        from .export import sessions_json

        sys.stdout.write(
            sessions_json(year, outcome.plan.sessions, outcome.workspace.conventions, day)
        )
    elif output is OutputFormat.ics:
        from .export import sessions_ics

        sys.stdout.write(sessions_ics(outcome.plan.sessions, outcome.workspace.conventions, day))
    else:
        _print_plan(outcome, day)
    err = _console(stderr=True)
    for warning in outcome.warnings:
        err.print(f"warning: {warning}", markup=False)


def _print_plan(outcome: PlanOutcome, today: date) -> None:
    from rich.table import Table

    from .calendar_fr import MONTHS_EN

    console = _console()
    plan_ = outcome.plan
    conventions = outcome.workspace.conventions
    several = len({s.convention for s in plan_.sessions}) > 1
    by_month: dict[tuple[int, int], list[Any]] = {}
    for session in plan_.sessions:
        by_month.setdefault((session.date.year, session.date.month), []).append(session)
    new = set(plan_.placed)
    for (year, month), sessions in sorted(by_month.items()):
        table = Table(title=f"{MONTHS_EN[month - 1]} {year}", title_justify="left")
        for column in (
            "date",
            "day",
            "slot",
            "group",
            "location",
            *(["convention"] if several else []),
            "status",
            "id",
        ):
            table.add_column(column, no_wrap=column in ("date", "slot", "id"))
        for s in sessions:
            convention = conventions[s.convention]
            status = s.display_status(today) + (" (new)" if s.id in new else "")
            table.add_row(
                s.date.isoformat(),
                f"{s.date:%a}",
                f"{s.start:%H:%M}-{s.end:%H:%M}",
                convention.group(s.group).name,
                convention.location(s.location).name,
                *([s.convention] if several else []),
                status,
                s.id,
            )
        console.print(table)
    console.print(_summary(outcome), markup=False, soft_wrap=True)


def _summary(outcome: PlanOutcome) -> str:
    report = outcome.plan.report
    plan_ = outcome.plan
    trips = report.trips_per_month
    parts = [
        f"{report.sessions} sessions",
        f"{report.days} days",
        f"{report.trips} trips" + (f" (at most {max(trips.values())} a month)" if trips else ""),
    ]
    for cadence, (shortest, longest) in report.intervals.items():
        parts.append(f"{cadence} interval {shortest}-{longest} days")
    parts.append(f"{report.off_rhythm} off the usual weekday/week")
    if report.short_intervals:
        parts.append(f"{len(report.short_intervals)} under the minimum interval")
    if report.preference_misses:
        parts.append(f"{len(report.preference_misses)} preference(s) missed")
    if report.in_school_holidays:
        parts.append(f"{len(report.in_school_holidays)} in school holidays")
    line = ", ".join(parts)
    action = "written to" if outcome.written else "not written (dry run):"
    line += f"\n{len(plan_.placed)} placed, {len(plan_.kept)} kept; {action} {outcome.path}"
    if plan_.skipped_past:
        line += (
            f"\n{len(plan_.skipped_past)} period(s) already past were not planned: "
            + ", ".join(plan_.skipped_past[:5])
            + (", ..." if len(plan_.skipped_past) > 5 else "")
        )
    return line


@app.command()
def check() -> None:
    """Validate the whole workspace, and every calendar file against the hard rules."""
    from . import app as use_cases

    outcome = use_cases.check(_State.workspace)
    console = _console()
    for note in outcome.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    if outcome.problems:
        _report(
            [str(p) for p in outcome.problems] + [f"{len(outcome.problems)} problem(s) found"],
            EXIT_INVALID,
        )
    console.print(f"ok: {len(outcome.checked)} file(s) checked, no problem found", markup=False)


class ByParty(StrEnum):
    establishment = "establishment"
    practitioner = "practitioner"


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def _parse_month(value: str | None) -> str | None:
    if value is not None:
        try:
            date.fromisoformat(f"{value}-01")
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not a month (YYYY-MM)", param_hint="--month"
            ) from None
    return value


def _print_alternatives(session_id: str, alternatives: list[Any], by: str) -> None:
    from rich.table import Table

    console = _console()
    if not alternatives:
        console.print(
            "no valid alternative found (every nearby slot breaks a hard rule)", markup=False
        )
        return
    table = Table(title=f"Alternatives for {session_id}", title_justify="left")
    for column in ("#", "date", "day", "slot", "why"):
        table.add_column(column, no_wrap=column != "why")
    for rank, alt in enumerate(alternatives, 1):
        table.add_row(
            str(rank),
            alt.date.isoformat(),
            f"{alt.date:%a}",
            f"{alt.start:%H:%M}-{alt.end:%H:%M}",
            alt.reason,
        )
    console.print(table)
    best = alternatives[0]
    flag = "" if best.in_period else " --allow-move-out"
    console.print(
        f"to move it: apptool reschedule {session_id} --to {best.date} "
        f"--slot {best.start:%H:%M} --by {by}{flag}",
        markup=False,
    )


def _written(console: Console, paths: list[Path], dry_run: bool) -> None:
    if dry_run:
        console.print("dry run: nothing written", markup=False)
    for path in paths:
        console.print(f"written to {path}", markup=False)


@app.command()
def reschedule(
    session_id: Annotated[
        str, typer.Argument(help="Session id, e.g. ccas-dreux/seniors-1/2025-05.")
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="YYYY-MM-DD", help="New date; without it, list the best alternatives."
        ),
    ] = None,
    slot: Annotated[
        str | None,
        typer.Option(
            "--slot", metavar="HH:MM", help="Start of the new slot (default: the current one)."
        ),
    ] = None,
    requested_on: Annotated[
        str | None,
        typer.Option(
            "--requested-on",
            metavar="YYYY-MM-DD",
            help="When the change was asked (default: today).",
        ),
    ] = None,
    by: Annotated[
        ByParty | None, typer.Option("--by", help="Who asked for the change (required with --to).")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, recorded in the history.")
    ] = None,
    allow_move_out: Annotated[
        bool,
        typer.Option(
            "--allow-move-out", help="Allow a date outside the session's period (flagged)."
        ),
    ] = False,
    count: Annotated[
        int, typer.Option("--count", min=1, help="How many alternatives to list.")
    ] = 5,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the change without writing.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Move a session with the convention's notice, or list the best alternatives.

    Art. 2.1 of the convention: a date moves only with the notice and mutual agreement.

    A move needs the notice (15 days for the example) before the session's current date, a new
    date after the request, and every hard rule of the planner; otherwise it is refused (exit 4)
    with the exact reason, and nothing changes. The history of every move is kept.
    """
    from . import app as use_cases
    from .models import parse_time

    day = _parse_today(today)
    new_date = _parse_date(to, "--to")
    if new_date is not None and by is None:
        raise typer.BadParameter("say who asked for the move", param_hint="--by")
    try:
        start = parse_time(slot) if slot is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--slot") from None
    outcome = use_cases.reschedule(
        _State.workspace,
        session_id,
        day,
        new_date,
        start,
        _parse_date(requested_on, "--requested-on"),
        by.value if by else "establishment",
        reason,
        allow_move_out,
        count,
        dry_run,
    )
    console = _console()
    before = outcome.before
    if outcome.after is None:
        console.print(
            f"{before.id}: {before.date} {before.start:%H:%M}-{before.end:%H:%M}, "
            f"{before.display_status(day)}; requested on {outcome.requested_on}",
            markup=False,
        )
        _print_alternatives(before.id, outcome.alternatives, by.value if by else "establishment")
        return
    after = outcome.after
    change = after.history[-1]
    console.print(
        f"moved {after.id}: {before.date} {before.start:%H:%M} -> {after.date} "
        f"{after.start:%H:%M}-{after.end:%H:%M} (requested {change.requested_on} by "
        f"{change.by}, {change.notice_days} days' notice)"
        + (" [outside its period]" if after.moved_out_of_period else ""),
        markup=False,
    )
    _written(console, outcome.written, dry_run)
    cli_documents.notice_hint(console, after.id, dry_run)


@app.command()
def cancel(
    session_id: Annotated[
        str, typer.Argument(help="Session id, e.g. ccas-dreux/seniors-1/2025-05.")
    ],
    by: Annotated[ByParty, typer.Option("--by", help="Who cancels.")],
    requested_on: Annotated[
        str | None,
        typer.Option(
            "--requested-on", metavar="YYYY-MM-DD", help="When it was cancelled (default: today)."
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, recorded in the history.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the change without writing.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Cancel a session; by the establishment without the notice, it stays due.

    Art. 4 of the convention: a cancellation without possible rescheduling is due.

    With enough notice, or by the practitioner, it is not due, and the alternatives to
    reschedule it are shown.
    """
    from . import app as use_cases

    day = _parse_today(today)
    outcome = use_cases.cancel(
        _State.workspace,
        session_id,
        by.value,
        day,
        _parse_date(requested_on, "--requested-on"),
        reason,
        dry_run,
    )
    result = outcome.cancellation
    session = result.session
    change = session.history[-1]
    console = _console()
    verdict = (
        "DUE: billable, cancelled by the establishment without the notice and not "
        "rescheduled (art. 4)"
        if result.due
        else "not due"
    )
    console.print(
        f"cancelled {session.id} of {change.previous_date} "
        f"{change.previous_start:%H:%M} by the {change.by} on {change.requested_on} "
        f"({result.notice_days} days' notice): {verdict}",
        markup=False,
    )
    _written(console, outcome.written, dry_run)
    cli_documents.notice_hint(console, session.id, dry_run)
    if not result.due:
        _print_alternatives(session.id, outcome.alternatives, by.value)


@app.command()
def sessions(
    month: Annotated[
        str | None, typer.Option("--month", metavar="YYYY-MM", help="Only this month.")
    ] = None,
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this convention.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="planned, held, moved, cancelled or due.")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="Only this year.")] = None,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json or ics.")
    ] = ListFormat.table,
    today: TodayOption = None,
) -> None:
    """List the sessions of the record with their status and history.

    A past session that was neither moved nor cancelled counts as held.
    """
    from . import app as use_cases
    from .schedule import DISPLAY_STATUSES

    if status is not None and status not in DISPLAY_STATUSES:
        raise typer.BadParameter(
            f"{status!r}: choose one of {', '.join(DISPLAY_STATUSES)}", param_hint="--status"
        )
    day = _parse_today(today)
    workspace, found = use_cases.list_sessions(
        _State.workspace, day, _parse_month(month), convention, status, year
    )
    if output is ListFormat.json:
        from .export import sessions_history_json

        sys.stdout.write(sessions_history_json(found, workspace.conventions, day))
        return
    if output is ListFormat.ics:
        from .export import sessions_ics

        sys.stdout.write(sessions_ics(found, workspace.conventions, day))
        return
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("date", "day", "slot", "group", "status", "id", "history"):
        table.add_column(column, no_wrap=column in ("date", "slot", "id"))
    for s in found:
        group = workspace.conventions[s.convention].group(s.group)
        history = "; ".join(
            f"{c.action} on {c.requested_on}"
            + (f" by {c.by}" if c.by else "")
            + f" (was {c.previous_date} {c.previous_start:%H:%M})"
            + (f": {c.reason}" if c.reason else "")
            for c in s.history
        )
        table.add_row(
            s.date.isoformat(),
            f"{s.date:%a}",
            f"{s.start:%H:%M}-{s.end:%H:%M}",
            group.name,
            s.display_status(day),
            s.id,
            history,
        )
    console = _console()
    console.print(table)
    console.print(f"{len(found)} session(s)", markup=False)


individual_app = _App(
    help="Individual consultations: anonymous, date, duration and amount only (art. 1.2, 2.2).",
    no_args_is_help=True,
)
app.add_typer(individual_app, name="individual")


@individual_app.command("add")
def individual_add(
    convention: Annotated[str, typer.Option("--convention", help="Convention id.")],
    on: Annotated[
        str, typer.Option("--date", metavar="YYYY-MM-DD", help="Date of the consultation.")
    ],
    duration: Annotated[str, typer.Option("--duration", help="Duration, e.g. 1h30 or 45min.")],
    ref: Annotated[
        str | None,
        typer.Option("--ref", help="Opaque code of your own (e.g. A-017), never a name."),
    ] = None,
    requested_by: Annotated[
        str | None,
        typer.Option("--requested-by", help="agent, manager or practitioner (art. 2.2)."),
    ] = None,
) -> None:
    """Record an individual consultation (no name is ever recorded, art. 2.2)."""
    from . import app as use_cases
    from .models import format_duration, parse_duration

    try:
        minutes_ = parse_duration(duration)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--duration") from None
    if requested_by is not None and requested_by not in ("agent", "manager", "practitioner"):
        raise typer.BadParameter(
            f"{requested_by!r}: choose agent, manager or practitioner", param_hint="--requested-by"
        )
    day = _parse_date(on, "--date")
    assert day is not None
    consultation = use_cases.add_individual(
        _State.workspace, convention, day, minutes_, ref, requested_by
    )
    _console().print(
        f"recorded {consultation.id}: {consultation.date}, "
        f"{format_duration(consultation.duration)}",
        markup=False,
    )


@individual_app.command("list")
def individual_list(
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this convention.")
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", metavar="YYYY-MM", help="Only this month.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List the recorded individual consultations."""
    import json

    from rich.table import Table

    from . import app as use_cases
    from .models import format_duration

    found = use_cases.list_individual(_State.workspace, convention, _parse_month(month))
    if output is not OutputFormat.table:
        payload = {"consultations": [c.model_dump(mode="json") for c in found]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    table = Table()
    for column in ("date", "duration", "convention", "ref", "requested by", "id"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c.date.isoformat(),
            format_duration(c.duration),
            c.convention,
            c.ref or "",
            c.requested_by or "",
            c.id,
        )
    console = _console()
    console.print(table)
    console.print(f"{len(found)} consultation(s)", markup=False)


@app.command()
def terminate(
    convention: Annotated[str, typer.Argument(help="Convention id, e.g. ccas-dreux.")],
    notice_on: Annotated[
        str,
        typer.Option(
            "--notice-on", metavar="YYYY-MM-DD", help="Day the notice of termination was given."
        ),
    ],
    force_majeure: Annotated[
        bool,
        typer.Option(
            "--force-majeure", help="Force majeure: 15 days' notice instead of a month (art. 9.3)."
        ),
    ] = False,
    by: Annotated[ByParty | None, typer.Option("--by", help="Who terminates.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the effect without writing.")
    ] = False,
) -> None:
    """Terminate a convention: end of the month after one month's notice.

    Art. 9.3 of the convention; 15 days' notice in case of force majeure.

    Records the effective end in records/terminations.yaml (your convention file is not
    rewritten) and cancels, not due, every later session. Without termination, tacit renewal
    keeps the convention active year after year.
    """
    from . import app as use_cases

    notice = _parse_date(notice_on, "--notice-on")
    assert notice is not None
    outcome = use_cases.terminate(
        _State.workspace, convention, notice, force_majeure, by.value if by else None, dry_run
    )
    console = _console()
    t = outcome.termination
    console.print(
        f"{convention}: notice on {t.notice_on}"
        + (" (force majeure, 15 days)" if t.force_majeure else " (one month)")
        + f", effective end {t.effective_end}",
        markup=False,
    )
    for s in outcome.cancelled:
        console.print(f"cancelled (not due) {s.id}: {s.date} {s.start:%H:%M}", markup=False)
    console.print(f"{len(outcome.cancelled)} later session(s) cancelled", markup=False)
    _written(console, outcome.written, dry_run)


class DocFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


def _print_document(outcome: Any, output: DocFormat, out_dir: Path | None) -> None:
    """Markdown to the terminal; HTML or PDF copied to --output."""
    console = _console()
    rendered = outcome.rendered
    if rendered is None:
        return
    if output is DocFormat.md and out_dir is None:
        sys.stdout.write(rendered.markdown)
        return
    if out_dir is None:
        if output is DocFormat.html:
            sys.stdout.write(rendered.html)
            return
        raise typer.BadParameter("a PDF needs a folder to go to", param_hint="--output")
    from .workspace import write_atomic

    name = outcome.document.number or f"BROUILLON-{outcome.convention}-{outcome.month}"
    content = {
        DocFormat.md: rendered.markdown,
        DocFormat.html: rendered.html,
        DocFormat.pdf: rendered.pdf,
    }[output]
    if content is None:
        from .render import pdf_from_html

        content = pdf_from_html(rendered.html, outcome.document.issue_date)
    path = out_dir / f"{name}.{output.value}"
    write_atomic(path, content)
    console.print(f"written to {path}", markup=False)


@app.command()
def invoice(
    month: Annotated[str, typer.Option("--month", metavar="YYYY-MM", help="Month to invoice.")],
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this convention.")
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Render without a number; write nothing.")
    ] = False,
    output: Annotated[
        DocFormat, typer.Option("--format", "-f", help="md (terminal), html or pdf.")
    ] = DocFormat.md,
    no_facturx: Annotated[
        bool, typer.Option("--no-facturx", help="A plain PDF/A without the embedded XML.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--output", file_okay=False, help="Also copy the rendering to this folder."),
    ] = None,
    today: TodayOption = None,
) -> None:
    """Issue the month's invoice for each convention, numbered without gaps.

    An issued invoice is an immutable record in invoices/ (YAML, Markdown, HTML, XML and a
    Factur-X PDF/A-3). Running the same month again shows the existing invoice and what
    changed since; a month with nothing billable issues nothing.
    """
    from . import invoicing
    from .billing import Month

    try:
        period = Month.parse(month)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from None
    day = _parse_today(today)
    outcomes = invoicing.invoice_month(
        _State.workspace,
        period,
        day,
        convention,
        draft,
        pdf=output is DocFormat.pdf or not draft,
        facturx=not no_facturx,
    )
    err = _console(stderr=True)
    for outcome in outcomes:
        who = outcome.convention + (f" (order {outcome.order})" if outcome.order else "")
        if outcome.status == "nothing":
            err.print(f"{who}: nothing billable in {period}; no invoice issued", markup=False)
            continue
        if outcome.status == "existing":
            err.print(
                f"{who}: {period} is already invoiced: {outcome.number} of "
                f"{outcome.issued_on} (no second invoice is issued)",
                markup=False,
            )
            for change in outcome.changes:
                err.print(f"  changed since: {change}", markup=False)
            if outcome.changes:
                err.print(
                    f"  to correct it: apptool credit-note {outcome.number} --reason "
                    f'"...", then apptool invoice --month {period}',
                    markup=False,
                )
        elif outcome.status == "draft":
            err.print(f"{who}: DRAFT for {period} (no number, nothing written)", markup=False)
        else:
            err.print(f"{who}: issued {outcome.number} for {period}", markup=False)
            for path in outcome.written:
                err.print(f"  written to {path}", markup=False)
        for warning in outcome.warnings:
            err.print(f"  warning: {warning}", markup=False)
        _print_document(outcome, output, out_dir)


@app.command("credit-note")
def credit_note(
    number: Annotated[str, typer.Argument(help="Number of the invoice to cancel.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the record).")
    ] = None,
    no_facturx: Annotated[
        bool, typer.Option("--no-facturx", help="A plain PDF/A without the embedded XML.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Issue a credit note (facture d'avoir) cancelling an invoice; the month can be invoiced again.

    It cites the original number and date, carries positive amounts (type 381 in the
    e-invoice) and takes the next number of the credit-note series.
    """
    from . import invoicing

    outcome = invoicing.credit_note(
        _State.workspace, number, _parse_today(today), reason, facturx=not no_facturx
    )
    console = _console()
    console.print(f"issued credit note {outcome.number} cancelling {number}", markup=False)
    for path in outcome.written:
        console.print(f"  written to {path}", markup=False)


@app.command()
def invoices(
    year: Annotated[int | None, typer.Option("--year", help="Only this year.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    today: TodayOption = None,
) -> None:
    """The invoice register: number, date, buyer, amount, status (issued, paid, overdue, credited).

    Overdue invoices show the days late, the moratorium interest (ECB rate + 8 points) and
    the 40 EUR recovery indemnity owed, and that interventions may be suspended (art. 9.2).
    """
    import json

    from . import invoicing

    day = _parse_today(today)
    standings = invoicing.list_invoices(_State.workspace, day, year)
    if output is not OutputFormat.table:
        payload = {
            "invoices": [
                {
                    "number": s.record.number,
                    "kind": s.record.kind,
                    "date": str(s.record.issue_date),
                    "convention": s.record.convention,
                    "month": s.record.month,
                    "buyer": s.record.document["buyer"]["name"],
                    "amount": str(s.record.amount),
                    "status": s.status,
                    "days_late": s.days_late,
                    "interest": str(s.interest),
                    "indemnity": str(s.indemnity),
                }
                for s in standings
            ]
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    from rich.table import Table

    table = Table()
    for column in ("number", "date", "buyer", "month", "amount", "status"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for s in standings:
        status: str = s.status
        if s.status == "overdue":
            status = (
                f"OVERDUE {s.days_late} days: interest {s.interest} EUR + indemnity "
                f"{s.indemnity} EUR"
            )
        table.add_row(
            s.record.number,
            str(s.record.issue_date),
            s.record.document["buyer"]["name"],
            s.record.month,
            f"{s.record.amount} EUR",
            status,
        )
    console = _console()
    console.print(table)
    if any(s.status == "overdue" for s in standings):
        console.print(
            "overdue invoices: per art. 9.2 of the convention, unpaid invoices may "
            "lead to the suspension of the interventions",
            markup=False,
        )


@app.command()
def paid(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    on: Annotated[str, typer.Option("--on", metavar="YYYY-MM-DD", help="Day the payment arrived.")],
) -> None:
    """Record the payment of an invoice (the issued record itself is never rewritten)."""
    from . import invoicing

    day = _parse_date(on, "--on")
    assert day is not None
    record = invoicing.mark_paid(_State.workspace, number, day)
    _console().print(f"{record.number}: paid on {day}", markup=False)


order_app = _App(
    help="Purchase orders of a framework agreement (bons de commande).", no_args_is_help=True
)
app.add_typer(order_app, name="order")


@order_app.command("add")
def order_add(
    convention: Annotated[str, typer.Argument(help="The framework agreement's id.")],
    number: Annotated[str, typer.Option("--number", help="The order's number.")],
    on: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="The order's date.")],
    unit_price: Annotated[str, typer.Option("--unit-price", help="Price of a session, HT.")],
    maximum: Annotated[str, typer.Option("--maximum", help="Maximum amount of the order, HT.")],
    group_id: Annotated[str, typer.Option("--group", help="Id of the ordered group.")],
    name: Annotated[str, typer.Option("--name", help="Name of the group.")],
    location: Annotated[str, typer.Option("--location", help="Location id.")],
    cadence: Annotated[str | None, typer.Option("--cadence", help="monthly or quarterly.")] = None,
    sessions: Annotated[
        int | None, typer.Option("--sessions", min=1, help="Or a number of sessions.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First day.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last day.")] = None,
) -> None:
    """Record a purchase order with one group (more groups: write the order in the YAML)."""
    from pydantic import ValidationError

    from .models import Group, Order
    from .purchase_orders import add_order

    if (cadence is None) == (sessions is None):
        raise typer.BadParameter("give either --cadence or --sessions", param_hint="--cadence")
    group_data: dict[str, Any] = {
        "id": group_id,
        "name": name,
        "location": location,
        "from": start,
        "to": end,
    }
    if cadence is not None:
        group_data["cadence"] = cadence
    else:
        group_data["sessions"] = sessions
    try:
        order = Order.model_validate(
            {
                "number": number,
                "date": on,
                "unit_price": unit_price,
                "maximum": maximum,
                "groups": [Group.model_validate(group_data).model_dump(by_alias=True)],
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(
            str(first["msg"]).removeprefix("Value error, "),
            param_hint="--" + str(first["loc"][-1]).replace("_", "-"),
        ) from None
    add_order(_State.workspace, convention, order)
    _console().print(
        f"recorded order {order.number} for {convention}: group {group_id}", markup=False
    )


@app.command()
def orders(
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this agreement.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    today: TodayOption = None,
) -> None:
    """Purchase orders: sessions ordered, planned, held, invoiced; amount used vs maximum."""
    import json

    from .purchase_orders import order_statuses

    statuses = order_statuses(_State.workspace, _parse_today(today), convention)
    if not statuses and output is OutputFormat.table:
        _console().print("no purchase order: orders belong to framework agreements "
                         "(kind: framework-agreement)", markup=False)
        return
    if output is not OutputFormat.table:
        payload = {
            "orders": [
                {
                    "convention": s.convention,
                    "number": s.order.number,
                    "date": str(s.order.date),
                    "ordered": s.ordered,
                    "planned": s.planned,
                    "held": s.held,
                    "invoiced": s.invoiced,
                    "consumed": str(s.consumed),
                    "maximum": str(s.order.maximum),
                    "share": str(s.share),
                }
                for s in statuses
            ]
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    from rich.table import Table

    table = Table()
    for column in (
        "agreement",
        "order",
        "date",
        "ordered",
        "planned",
        "held",
        "invoiced",
        "consumed HT",
        "maximum HT",
        "%",
    ):
        table.add_column(column)
    for s in statuses:
        table.add_row(
            s.convention,
            s.order.number,
            str(s.order.date),
            str(s.ordered),
            str(s.planned),
            str(s.held),
            str(s.invoiced),
            str(s.consumed),
            str(s.order.maximum),
            str(s.share),
        )
    console = _console()
    console.print(table)
    for s in statuses:
        if s.warning:
            console.print(f"warning: order {s.order.number}: {s.warning}", markup=False)


def main() -> None:
    """Console-script entry point."""
    app()


from . import cli_buyer  # noqa: E402,F401,I001  (registers the buyer commands)
from . import cli_documents  # noqa: E402  (registers the document commands)
