"""The command of the coming days: agenda."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from apptool.cli.common import ListFormat, State, TodayOption, app, parse_today, terminal_width

#: The longest agenda (the same as ``apptool.domain.agenda.MAX_DAYS``, repeated here so that
#: ``apptool --help`` does not import the domain).
MAX_DAYS = 366


@app.command()
def agenda(
    days: Annotated[
        int,
        typer.Option(
            "--days", min=1, max=MAX_DAYS, help=f"How many days, from today (1-{MAX_DAYS})."
        ),
    ] = 7,
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this convention.")
    ] = None,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json or ics.")
    ] = ListFormat.table,
    today: TodayOption = None,
) -> None:
    """Where you are expected in the coming days: sessions and consultations, day by day.

    From today, for --days days (7 by default): the live sessions (planned, or moved to that
    day) and the individual consultations, in the order of the day, with the site and its
    address, the slot, and between two sites the travel time and the time left. A working
    day with nothing on it is shown when it is a public holiday, an absence or a closure.
    Consultations show only their id, code, duration and place (art. 2.2).
    """
    from apptool.services import agenda as use_cases  # lazy: keeps `apptool --help` instant

    day = parse_today(today)
    outcome = use_cases.agenda(State.workspace, day, days, convention)
    found = outcome.agenda
    if output is ListFormat.json:
        from apptool.output.agenda import agenda_json  # lazy: keeps `apptool --help` instant

        sys.stdout.write(agenda_json(found))
        return
    if output is ListFormat.ics:
        from apptool.output.export import agenda_ics  # lazy: keeps `apptool --help` instant

        sys.stdout.write(agenda_ics(found.sessions, found.consultations, outcome.conventions, day))
        return
    from apptool.output.agenda import agenda_text  # lazy: keeps `apptool --help` instant

    sys.stdout.write(agenda_text(found, terminal_width()))
