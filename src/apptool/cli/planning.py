"""Commands of planning: init, plan, check."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from apptool.cli.common import (
    MAX_YEAR,
    MIN_YEAR,
    OutputFormat,
    State,
    TodayOption,
    app,
    console,
    parse_today,
    print_table,
    progress,
    report,
)
from apptool.errors import EXIT_INVALID

if TYPE_CHECKING:
    from apptool.services.planning import PlanOutcome


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    buyer: Annotated[
        bool,
        typer.Option("--buyer", help="A buyer workspace: a framework agreement's lots and orders."),
    ] = False,
) -> None:
    """Create a new workspace from the shipped examples (never overwrites a file)."""
    from apptool.store.workspace import init_workspace  # lazy: keeps `apptool --help` instant

    created = init_workspace(directory, buyer=buyer)
    out = console()
    for path in created:
        out.print(f"created {path}", markup=False)
    if buyer:
        out.print(
            f"buyer workspace ready: edit {directory}/buyer.yaml, then run "
            f"`apptool -w {directory} allocate --dry-run`",
            markup=False,
        )
        return
    out.print(
        f"workspace ready: edit {directory}/conventions/*.yaml and "
        f"{directory}/practitioner.yaml, then run `apptool -w {directory} plan YEAR`",
        markup=False,
    )


@app.command()
def plan(
    year: Annotated[
        int, typer.Argument(help="Calendar year to plan, e.g. 2026.", min=MIN_YEAR, max=MAX_YEAR)
    ],
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
        typer.Option(
            "--fresh",
            help="Re-plan the planned sessions that are still in the future, but those "
            "inside the notice; each one placed elsewhere is a move, in its history.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan without writing the calendar file.")
    ] = False,
    explain: Annotated[
        str | None,
        typer.Option(
            "--explain",
            metavar="GROUP",
            help="Say why each session of GROUP (CONVENTION/GROUP) misses its preferences.",
        ),
    ] = None,
    today: TodayOption = None,
) -> None:
    """Plan every convention of the workspace for YEAR into calendars/YEAR.yaml.

    Sessions already in the calendar file stay where they are; only missing ones are placed.
    A group's preferred weekdays and slots outweigh every other soft goal: the summary names
    each session that misses them, and --explain GROUP says why (the rule or the session that
    holds each preferred day).
    """
    from apptool.services import planning as use_cases  # lazy: keeps `apptool --help` instant

    day = parse_today(today)
    with progress(f"Planning {year}…"):
        outcome = use_cases.plan(State.workspace, year, day, fresh=fresh, dry_run=dry_run)
    wanted = use_cases.group_key(outcome.workspace, explain) if explain else None
    if output is OutputFormat.json:
        from apptool.output.export import sessions_json  # lazy: keeps `apptool --help` instant

        sys.stdout.write(
            sessions_json(year, outcome.plan.sessions, outcome.workspace.conventions, day)
        )
    elif output is OutputFormat.ics:
        from apptool.output.export import sessions_ics  # lazy: keeps `apptool --help` instant

        sys.stdout.write(sessions_ics(outcome.plan.sessions, outcome.workspace.conventions, day))
    else:
        _print_plan(outcome, day)
    err = console(stderr=True)
    for warning in outcome.warnings:
        err.print(f"warning: {warning}", markup=False)
    if wanted is not None:
        misses = [m for m in outcome.misses if m.session.startswith(f"{wanted}/")]
        err.print(
            f"{wanted}: "
            + (
                f"{len(misses)} session(s) miss its preferences"
                if misses
                else "every session meets its preferences"
            ),
            markup=False,
            soft_wrap=True,
        )
        for miss in misses:
            err.print(f"  {miss}", markup=False, soft_wrap=True)
            for reason in miss.reasons:
                err.print(f"    {reason}", markup=False, soft_wrap=True)


def _print_plan(outcome: PlanOutcome, today: date) -> None:
    from apptool.domain.calendar_fr import MONTHS_EN  # lazy: keeps `apptool --help` instant
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant

    out = console()
    plan_ = outcome.plan
    conventions = outcome.workspace.conventions
    several = len({s.convention for s in plan_.sessions}) > 1
    by_month: dict[tuple[int, int], list[Any]] = {}
    for session in plan_.sessions:
        by_month.setdefault((session.date.year, session.date.month), []).append(session)
    new = set(plan_.placed)
    for (year, month), sessions in sorted(by_month.items()):
        table = Table(
            [
                Column("date"),
                Column("day", drop=4),
                Column("slot"),
                Column("group", wrap=True, drop=2),
                Column("location", wrap=True, drop=3),
                *([Column("convention", drop=1)] if several else []),
                Column("status", wrap=True),
                Column("id"),
            ],
            title=f"{MONTHS_EN[month - 1]} {year}",
        )
        for s in sessions:
            convention = conventions[s.convention]
            status = s.display_status(today) + (" (new)" if s.id in new else "")
            table.add(
                s.date.isoformat(),
                f"{s.date:%a}",
                f"{s.start:%H:%M}-{s.end:%H:%M}",
                convention.group(s.group).name,
                convention.location(s.location).name,
                *([s.convention] if several else []),
                status,
                s.id,
            )
        print_table(table)
    out.print(_summary(outcome), markup=False, soft_wrap=True)


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
    for miss in outcome.misses:
        line += f"\npreference missed: {miss} (see `apptool plan {plan_.year} --explain GROUP`)"
    return line


@app.command()
def check(today: TodayOption = None) -> None:
    """Validate the whole workspace, and every calendar file against the hard rules.

    On a buyer workspace (buyer.yaml): the agreement, its lots and groups, and every order
    recorded in records/orders.yaml; warnings for what is allowed but worth saying (fewer
    holders than the agreement provides, a ceiling already passed, a decline after the end).
    """
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant
    from apptool.services import planning as use_cases  # lazy: keeps `apptool --help` instant

    if buyer.is_buyer_workspace(State.workspace):
        found = buyer.check(State.workspace)
        for warning in found.warnings:
            console(stderr=True).print(f"warning: {warning}", markup=False, soft_wrap=True)
        if found.problems:
            report(
                [str(p) for p in found.problems] + [f"{len(found.problems)} problem(s) found"],
                EXIT_INVALID,
            )
        console().print(f"ok: {len(found.checked)} file(s) checked, no problem found", markup=False)
        return
    outcome = use_cases.check(State.workspace, parse_today(today))
    out = console()
    for note in outcome.notes:
        out.print(f"note: {note}", markup=False, soft_wrap=True)
    if outcome.problems:
        report(
            [str(p) for p in outcome.problems] + [f"{len(outcome.problems)} problem(s) found"],
            EXIT_INVALID,
        )
    out.print(f"ok: {len(outcome.checked)} file(s) checked, no problem found", markup=False)
