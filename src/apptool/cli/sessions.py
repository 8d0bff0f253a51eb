"""Commands after publication: reschedule, cancel, sessions, individual, terminate."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated, Any

import typer

from apptool.cli.common import (
    MAX_YEAR,
    MIN_YEAR,
    App,
    ByParty,
    ListFormat,
    State,
    TableFormat,
    TodayOption,
    YesOption,
    app,
    confirmed,
    console,
    notice_hint,
    parse_date,
    parse_month,
    parse_today,
    print_table,
    print_written,
)


def _print_alternatives(session_id: str, alternatives: list[Any], by: str) -> None:
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant

    out = console()
    if not alternatives:
        out.print("no valid alternative found (every nearby slot breaks a hard rule)", markup=False)
        return
    table = Table(
        [
            Column("#", right=True),
            Column("date"),
            Column("day"),
            Column("slot"),
            Column("why", wrap=True),
        ],
        title=f"Alternatives for {session_id}",
    )
    for rank, alt in enumerate(alternatives, 1):
        table.add(
            str(rank),
            alt.date.isoformat(),
            f"{alt.date:%a}",
            f"{alt.start:%H:%M}-{alt.end:%H:%M}",
            alt.reason,
        )
    print_table(table)
    best = alternatives[0]
    flag = "" if best.in_period else " --allow-move-out"
    out.print(
        f"to move it: apptool reschedule {session_id} --to {best.date} "
        f"--slot {best.start:%H:%M} --by {by}{flag}",
        markup=False,
    )


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
    from apptool.domain.models import parse_time  # lazy: keeps `apptool --help` instant
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    day = parse_today(today)
    new_date = parse_date(to, "--to")
    if new_date is not None and by is None:
        raise typer.BadParameter("say who asked for the move", param_hint="--by")
    try:
        start = parse_time(slot) if slot is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--slot") from None
    outcome = use_cases.reschedule(
        State.workspace,
        session_id,
        day,
        new_date,
        start,
        parse_date(requested_on, "--requested-on"),
        by.value if by else "establishment",
        reason,
        allow_move_out,
        count,
        dry_run,
    )
    out = console()
    before = outcome.before
    if outcome.after is None:
        out.print(
            f"{before.id}: {before.date} {before.start:%H:%M}-{before.end:%H:%M}, "
            f"{before.display_status(day)}; requested on {outcome.requested_on}",
            markup=False,
        )
        _print_alternatives(before.id, outcome.alternatives, by.value if by else "establishment")
        return
    after = outcome.after
    if outcome.already:
        out.print(
            f"already there: {after.id} is on {after.date} {after.start:%H:%M}-{after.end:%H:%M}; "
            "nothing changed",
            markup=False,
        )
        return
    change = after.history[-1]
    out.print(
        f"moved {after.id}: {before.date} {before.start:%H:%M} -> {after.date} "
        f"{after.start:%H:%M}-{after.end:%H:%M} (requested {change.requested_on} by "
        f"{change.by}, {change.notice_days} days' notice)"
        + (" [outside its period]" if after.moved_out_of_period else ""),
        markup=False,
    )
    print_written(out, outcome.written, dry_run)
    notice_hint(out, after.id, dry_run)


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
    no_report: Annotated[
        bool,
        typer.Option(
            "--no-report",
            help="No report is possible: the session cancelled by the "
            "establishment is due (art. 4).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the change without writing.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Cancel a session; by the establishment and with no report possible, it stays due.

    Art. 4 of the CCAS convention: "en cas d'annulation d'une séance de la part de
    l'Etablissement et sans report possible de la part du praticien, la prestation sera due".

    By the establishment: the valid dates for a report in the session's period are listed and
    the session is "report pending"; then either move it (apptool reschedule, the notice
    counted from the cancellation) or record that no report is possible (--no-report): it is
    due and billed. With no valid date left (or less than the notice), it is due at once. By
    the practitioner, or under a contract without the clause, it is never due.
    """
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    day = parse_today(today)
    outcome = use_cases.cancel(
        State.workspace,
        session_id,
        by.value,
        day,
        parse_date(requested_on, "--requested-on"),
        reason,
        dry_run,
        no_report,
    )
    result = outcome.cancellation
    session = result.session
    change = session.history[-1]
    out = console()
    if outcome.already:
        out.print(
            f"already cancelled: {session.id} of {change.previous_date} by the {change.by} on "
            f"{change.requested_on} ({session.status}); nothing changed",
            markup=False,
        )
        return
    verdict = {
        "due": "DUE: billable, cancelled by the establishment with no report possible (art. 4)",
        "report-pending": "REPORT PENDING: move it to one of the dates below, or record "
        f"`apptool cancel {session.id} --by establishment --no-report` (then it is due)",
        "cancelled": "not due",
    }[result.status]
    out.print(
        f"cancelled {session.id} of {change.previous_date} "
        f"{change.previous_start:%H:%M} by the {change.by} on {change.requested_on} "
        f"({result.notice_days} days' notice): {verdict}",
        markup=False,
    )
    print_written(out, outcome.written, dry_run)
    notice_hint(out, session.id, dry_run)
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
        str | None,
        typer.Option("--status", help="planned, held, unconfirmed, moved, cancelled or due."),
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Only this year.", min=MIN_YEAR, max=MAX_YEAR)
    ] = None,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json or ics.")
    ] = ListFormat.table,
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="Confirm that the unconfirmed sessions listed took place."),
    ] = False,
    today: TodayOption = None,
) -> None:
    """List the sessions of the record with their status and history.

    A past session that was neither moved nor cancelled counts as held, unless it was
    written into the calendar after its date (a plan made after the fact): it is then
    unconfirmed, and not billed until confirmed (--confirm, or `apptool held`).
    """
    from apptool.domain.schedule import DISPLAY_STATUSES  # lazy: keeps `apptool --help` instant
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    if status is not None and status not in DISPLAY_STATUSES:
        raise typer.BadParameter(
            f"{status!r}: choose one of {', '.join(DISPLAY_STATUSES)}", param_hint="--status"
        )
    day = parse_today(today)
    workspace, found = use_cases.list_sessions(
        State.workspace, day, parse_month(month), convention, status, year
    )
    if confirm:
        waiting = [s.id for s in found if s.display_status(day) == "unconfirmed"]
        held = use_cases.confirm_held(State.workspace, waiting, day) if waiting else None
        console(stderr=True).print(
            f"{len(held.confirmed) if held else 0} session(s) confirmed as held", markup=False
        )
        workspace, found = use_cases.list_sessions(
            State.workspace, day, parse_month(month), convention, status, year
        )
    if output is ListFormat.json:
        # lazy: keeps `apptool --help` instant
        from apptool.output.export import sessions_history_json

        sys.stdout.write(sessions_history_json(found, workspace.conventions, day))
        return
    if output is ListFormat.ics:
        from apptool.output.export import sessions_ics  # lazy: keeps `apptool --help` instant

        sys.stdout.write(sessions_ics(found, workspace.conventions, day))
        return
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant

    table = Table(
        [
            Column("date"),
            Column("day", drop=3),
            Column("slot"),
            Column("group", wrap=True, drop=2),
            Column("status", wrap=True),
            Column("id"),
        ]
    )
    for s in found:
        group = workspace.conventions[s.convention].group(s.group)
        table.add(
            s.date.isoformat(),
            f"{s.date:%a}",
            f"{s.start:%H:%M}-{s.end:%H:%M}",
            group.name,
            s.display_status(day),
            s.id,
            notes=[
                f"{c.action} on {c.requested_on}"
                + (f" by {c.by}" if c.by else "")
                + (
                    ""
                    if c.action == "restored"
                    else f" (was {c.previous_date} {c.previous_start:%H:%M})"
                )
                + (f": {c.reason}" if c.reason else "")
                for c in s.history
            ],
        )
    print_table(table)
    out = console()
    out.print(f"{len(found)} session(s)", markup=False)


individual_app = App(
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
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="HH:MM", help="Its start (to check overlaps with sessions)."),
    ] = None,
    place: Annotated[
        str,
        typer.Option("--place", help="office (default) or a location id of the convention."),
    ] = "office",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Record it even on a non-working day, an absence, a closure or over a session.",
        ),
    ] = False,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Record it even if an identical consultation is already recorded that day.",
        ),
    ] = False,
) -> None:
    """Record an individual consultation (no name is ever recorded, art. 2.2).

    Refused (exit 4) on a non-working day, a public holiday, an absence, a closure of the
    establishment, or, with --at, over a group session (travel between the two places
    included); --force records it anyway, with the warnings.

    Run again with the same options (e.g. after an interruption), it records nothing twice:
    give --again for a second identical consultation on the same day.
    """
    from apptool.domain.models import (  # lazy: keeps `apptool --help` instant
        format_duration,
        parse_duration,
        parse_time,
    )
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    try:
        minutes_ = parse_duration(duration)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--duration") from None
    if requested_by is not None and requested_by not in ("agent", "manager", "practitioner"):
        raise typer.BadParameter(
            f"{requested_by!r}: choose agent, manager or practitioner", param_hint="--requested-by"
        )
    try:
        start = parse_time(at) if at is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--at") from None
    day = parse_date(on, "--date")
    assert day is not None
    outcome = use_cases.add_individual(
        State.workspace, convention, day, minutes_, ref, requested_by, start, place, force, again
    )
    consultation, recorded = outcome.consultation, outcome.recorded
    console().print(
        ("recorded" if recorded else "already recorded (nothing written; --again for another)")
        + f" {consultation.id}: {consultation.date}, {format_duration(consultation.duration)}",
        markup=False,
    )
    for warning in outcome.warnings:
        console(stderr=True).print(f"warning: {warning}", markup=False, soft_wrap=True)


@individual_app.command("list")
def individual_list(
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this convention.")
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", metavar="YYYY-MM", help="Only this month.")
    ] = None,
    output: Annotated[
        TableFormat, typer.Option("--format", "-f", help="table or json.")
    ] = TableFormat.table,
) -> None:
    """List the recorded individual consultations."""
    import json  # lazy: keeps `apptool --help` instant

    from apptool.domain.models import format_duration  # lazy: keeps `apptool --help` instant
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    found = use_cases.list_individual(State.workspace, convention, parse_month(month))
    if output is not TableFormat.table:
        payload = {"consultations": [c.model_dump(mode="json") for c in found]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    table = Table(
        [
            Column("date"),
            Column("duration"),
            Column("convention", drop=2),
            Column("ref", drop=1),
            Column("requested by", wrap=True, drop=3),
            Column("id"),
        ]
    )
    for c in found:
        table.add(
            c.date.isoformat(),
            format_duration(c.duration),
            c.convention,
            c.ref or "",
            c.requested_by or "",
            c.id,
        )
    print_table(table)
    console().print(f"{len(found)} consultation(s)", markup=False)


def _consultation_text(c: Any) -> str:
    """``ccas-dreux/individual/2025-05-14/1: 2025-05-14 14:00, 1 h 30, ref A-017, ...``."""
    from apptool.domain.models import format_duration  # lazy: keeps `apptool --help` instant

    return (
        f"{c.id}: {c.date}"
        + (f" {c.start:%H:%M}" if c.start is not None else "")
        + f", {format_duration(c.duration)}"
        + (f", ref {c.ref}" if c.ref else "")
        + (f", requested by {c.requested_by}" if c.requested_by else "")
        + (f", at {c.place}" if c.place != "office" else "")
    )


@individual_app.command("remove")
def individual_remove(
    consultation_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="Consultation id, e.g. ccas-dreux/individual/2025-05-14/1 "
            "(see `apptool individual list`).",
        ),
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, kept with the removed entry.")
    ] = None,
    yes: YesOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be removed without writing.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Remove an individual consultation entered by mistake: no longer listed, billed or counted.

    It stays in records/individual.yaml under `removed:`, with the day (--today) and
    --reason, and its id is never given again. Refused (exit 4) while an issued invoice that
    no credit note cancels bills it. Asks for confirmation, showing what will be removed;
    --yes skips the question (and is needed when standard input is not a terminal).
    """
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    day = parse_today(today)
    out = console()

    def ask(consultation: Any) -> bool:
        out.print(f"to remove: {_consultation_text(consultation)}", markup=False)
        return confirmed("Remove this consultation?", yes, f"{consultation.id}: nothing removed")

    outcome = use_cases.remove_individual(
        State.workspace, consultation_id, day, reason, dry_run, confirm=ask
    )
    c = outcome.consultation
    if outcome.already:
        out.print(
            f"already removed on {getattr(c, 'removed_on', '?')}: {c.id}; nothing changed",
            markup=False,
        )
    elif dry_run:
        out.print(f"would remove {_consultation_text(c)}", markup=False)
    elif outcome.declined:
        out.print(f"not confirmed: nothing removed ({c.id} stays recorded)", markup=False)
    else:
        out.print(
            f"removed {c.id} (kept under `removed:`, never listed, billed or counted again; "
            "its id is not given again)",
            markup=False,
        )
    print_written(out, outcome.written, dry_run)


@app.command()
def terminate(
    convention: Annotated[str, typer.Argument(help="Convention id, e.g. ccas-dreux.")],
    notice_on: Annotated[
        str | None,
        typer.Option(
            "--notice-on",
            metavar="YYYY-MM-DD",
            help="Day the notice of termination was given (required unless --undo).",
        ),
    ] = None,
    force_majeure: Annotated[
        bool,
        typer.Option(
            "--force-majeure", help="Force majeure: 15 days' notice instead of a month (art. 9.3)."
        ),
    ] = False,
    by: Annotated[
        ByParty | None, typer.Option("--by", help="Who terminates (with --undo: who withdraws).")
    ] = None,
    undo: Annotated[
        bool,
        typer.Option(
            "--undo",
            help="Withdraw the recorded termination before its effective end and give back "
            "the sessions it cancelled.",
        ),
    ] = False,
    yes: YesOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the effect without writing.")
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            metavar="YYYY-MM-DD",
            help="With --undo: take this date as today (the day of the withdrawal).",
        ),
    ] = None,
) -> None:
    """Terminate a convention: end of the month after one month's notice; --undo withdraws it.

    Art. 9.3 of the convention; 15 days' notice in case of force majeure.

    Records the effective end in records/terminations.yaml (your convention file is not
    rewritten) and cancels, not due, every later session: they are listed and the command
    asks for confirmation (--yes skips it, and is needed when standard input is not a
    terminal). Without termination, tacit renewal keeps the convention active year after
    year.

    With --undo, before its effective end: the termination is marked withdrawn (kept), the
    convention's end is again what its file declares, and the sessions it cancelled that are
    untouched since and still to come are given back; the others are listed with why.
    """
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    if undo:
        if notice_on is not None or force_majeure:
            raise typer.BadParameter(
                "--undo withdraws the recorded termination: give no --notice-on or --force-majeure",
                param_hint="--undo",
            )
        _undo_termination(convention, by, yes, dry_run, parse_today(today))
        return
    if today is not None:
        raise typer.BadParameter("only with --undo", param_hint="--today")
    notice = parse_date(notice_on, "--notice-on")
    if notice is None:
        raise typer.BadParameter(
            "give the day the notice was given (or --undo to withdraw a termination)",
            param_hint="--notice-on",
        )
    out = console()
    shown = False

    def show(outcome: Any) -> None:
        t = outcome.termination
        out.print(
            f"{convention}: notice on {t.notice_on}"
            + (" (force majeure, 15 days)" if t.force_majeure else " (one month)")
            + f", effective end {t.effective_end}",
            markup=False,
        )
        for s in outcome.cancelled:
            out.print(f"cancels (not due) {s.id}: {s.date} {s.start:%H:%M}", markup=False)

    def ask(outcome: Any) -> bool:
        nonlocal shown
        show(outcome)
        shown = True
        count = len(outcome.cancelled)
        return confirmed(
            f"Terminate {convention} and cancel {count} later session(s)?",
            yes,
            f"{convention}: nothing terminated",
        )

    outcome = use_cases.terminate(
        State.workspace,
        convention,
        notice,
        force_majeure,
        by.value if by else None,
        dry_run,
        confirm=ask,
    )
    if outcome.already:
        out.print(f"{convention}: already terminated with this notice", markup=False)
    if not shown:
        show(outcome)
    if outcome.declined:
        out.print(f"not confirmed: nothing terminated, {convention} runs on", markup=False)
        return
    verb = "would be cancelled" if dry_run else "cancelled"
    out.print(f"{len(outcome.cancelled)} later session(s) {verb}", markup=False)
    print_written(out, outcome.written, dry_run)


def _undo_termination(
    convention: str, by: ByParty | None, yes: bool, dry_run: bool, today: date
) -> None:
    """``apptool terminate CONVENTION --undo``: what is given back, what is left and why."""
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    out = console()
    shown = False

    def show(outcome: Any) -> None:
        t = outcome.termination
        out.print(
            f"{convention}: termination of {t.notice_on} (effective end {t.effective_end}) "
            f"withdrawn on {t.withdrawn_on}; the convention runs {outcome.term}",
            markup=False,
        )
        for s in outcome.restoration.restored:
            out.print(f"restores {s.id}: {s.date} {s.start:%H:%M} ({s.status})", markup=False)
        for s, why in outcome.restoration.left:
            out.print(f"leaves {s.id}: {s.date} {s.start:%H:%M}: {why}", markup=False)

    def ask(outcome: Any) -> bool:
        nonlocal shown
        show(outcome)
        shown = True
        return confirmed(
            f"Withdraw the termination of {convention} and give back "
            f"{len(outcome.restoration.restored)} session(s)?",
            yes,
            f"{convention}: termination not withdrawn",
        )

    outcome = use_cases.withdraw_termination(
        State.workspace, convention, today, by.value if by else None, dry_run, confirm=ask
    )
    if outcome.already:
        t = outcome.termination
        out.print(
            f"{convention}: the termination of {t.notice_on} was already withdrawn on "
            f"{t.withdrawn_on}; nothing changed",
            markup=False,
        )
        return
    if not shown:
        show(outcome)
    if outcome.declined:
        out.print("not confirmed: the termination stands, nothing written", markup=False)
        return
    restored, left = outcome.restoration.restored, outcome.restoration.left
    verb = "would be" if dry_run else ""
    out.print(
        f"{len(restored)} session(s) {verb + ' ' if verb else ''}restored, "
        f"{len(left)} left as they are",
        markup=False,
    )
    print_written(out, outcome.written, dry_run)


@app.command()
def held(
    session_ids: Annotated[
        list[str], typer.Argument(help="Session ids, e.g. ccas-dreux/seniors-1/2025-05.")
    ],
    on: Annotated[
        str | None,
        typer.Option(
            "--on", metavar="YYYY-MM-DD", help="The day it took place, if not as recorded."
        ),
    ] = None,
    slot: Annotated[
        str | None, typer.Option("--slot", metavar="HH:MM", help="Its start, if not as recorded.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the change without writing.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Confirm that sessions took place, so that they can be billed.

    Only what took place is billed: a session written into the calendar after its date (a
    plan made after the fact) stays unconfirmed, and is not invoiced, until confirmed here.
    With --on (one session), it took place that day: the record is corrected (a move in its
    history) and every hard rule still holds.
    """
    from apptool.domain.models import parse_time  # lazy: keeps `apptool --help` instant
    from apptool.services import sessions as use_cases  # lazy: keeps `apptool --help` instant

    try:
        start = parse_time(slot) if slot is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--slot") from None
    outcome = use_cases.confirm_held(
        State.workspace, session_ids, parse_today(today), parse_date(on, "--on"), start, dry_run
    )
    out = console()
    for s in outcome.confirmed:
        out.print(f"held: {s.id} on {s.date} {s.start:%H:%M}-{s.end:%H:%M}", markup=False)
    for s in outcome.already:
        out.print(f"already held: {s.id} (in the calendar before its date)", markup=False)
    print_written(out, outcome.written, dry_run)
