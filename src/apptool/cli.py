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
                except KeyboardInterrupt:
                    _report(["interrupted"], 130)
                except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit):
                    raise
                except Exception as exc:  # a bug: say so briefly, full trace on demand
                    if os.environ.get("APPTOOL_DEBUG"):
                        raise
                    _report([f"internal error: {type(exc).__name__}: {exc}",
                             "set APPTOOL_DEBUG=1 to see the traceback, and please report it"],
                            EXIT_INTERNAL)

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
    workspace: Annotated[Path, typer.Option(
        "--workspace", "-w", envvar="APPTOOL_WORKSPACE", file_okay=False,
        help="Workspace folder (default: the current folder).")] = Path("."),
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


TodayOption = Annotated[str | None, typer.Option(
    "--today", metavar="YYYY-MM-DD",
    help="Take this date as today (for reproducible runs and tests).")]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
) -> None:
    """Create a new workspace from the shipped examples (never overwrites a file)."""
    from .workspace import init_workspace

    created = init_workspace(directory)
    console = _console()
    for path in created:
        console.print(f"created {path}", markup=False)
    console.print(f"workspace ready: edit {directory}/conventions/*.yaml and "
                  f"{directory}/practitioner.yaml, then run `apptool -w {directory} plan YEAR`",
                  markup=False)


@app.command()
def plan(
    year: Annotated[int, typer.Argument(help="Calendar year to plan, e.g. 2026.")],
    output: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="table (terminal), json (public format) or ics (RFC 5545).",
    )] = OutputFormat.table,
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Re-plan the planned sessions that are still in the future.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show the plan without writing the calendar file.")] = False,
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

        sys.stdout.write(sessions_json(year, outcome.plan.sessions,
                                       outcome.workspace.conventions, day))
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
        for column in ("date", "day", "slot", "group", "location",
                       *(["convention"] if several else []), "status", "id"):
            table.add_column(column, no_wrap=column in ("date", "slot", "id"))
        for s in sessions:
            convention = conventions[s.convention]
            status = s.display_status(today) + (" (new)" if s.id in new else "")
            table.add_row(s.date.isoformat(), f"{s.date:%a}", f"{s.start:%H:%M}-{s.end:%H:%M}",
                          convention.group(s.group).name, convention.location(s.location).name,
                          *([s.convention] if several else []), status, s.id)
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
        line += (f"\n{len(plan_.skipped_past)} period(s) already past were not planned: "
                 + ", ".join(plan_.skipped_past[:5]) + (", ..." if len(plan_.skipped_past) > 5
                                                       else ""))
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
        _report([str(p) for p in outcome.problems]
                + [f"{len(outcome.problems)} problem(s) found"], EXIT_INVALID)
    console.print(f"ok: {len(outcome.checked)} file(s) checked, no problem found", markup=False)


def main() -> None:
    """Console-script entry point."""
    app()
