"""The use case of ``apptool agenda``: the sessions and consultations of the coming days,
day by day, with the travel between sites. It reads and decides; it never writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from apptool.domain.agenda import MAX_DAYS, Agenda, build_agenda, span_end
from apptool.domain.models import Convention, date_range_problem
from apptool.domain.records import IndividualConsultations
from apptool.errors import InvalidInput
from apptool.services.common import known_convention
from apptool.store.calendars import load_calendars
from apptool.store.records import INDIVIDUAL, load_records


@dataclass
class AgendaOutcome:
    agenda: Agenda
    conventions: dict[str, Convention]


def agenda(root: Path, today: date, days: int = 7, convention: str | None = None) -> AgendaOutcome:
    """``apptool agenda``: from ``today``, ``days`` days (1 to :data:`MAX_DAYS`).

    Every calendar of record is read (a session moved out of its period may sit in another
    year's file, and a span across the new year takes both years), with the consultations
    of ``records/individual.yaml``.
    """
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"--days {days}: give 1 to {MAX_DAYS} days")
    last = span_end(today, days)
    if (problem := date_range_problem(last)) is not None:
        raise InvalidInput(f"--days {days} from {today}: the last day, {problem}")
    record = load_calendars(root)
    workspace = record.workspace
    if convention is not None:
        known_convention(workspace, convention)
    consultations = load_records(root, INDIVIDUAL, IndividualConsultations).consultations
    found = build_agenda(
        today,
        last,
        record.sessions,
        consultations,
        workspace.conventions,
        workspace.practitioner,
        today,
        convention,
    )
    return AgendaOutcome(found, workspace.conventions)
