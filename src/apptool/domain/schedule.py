"""The calendar of record: sessions, their periods and statuses, and the YAML plan file.

A session is identified by ``<convention>/<group>/<period>``: the period (``2025-05`` or
``2025-Q2``) is the cadence period the session fulfils, and keeps its identity even if the
session later moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal

from pydantic import Field

from apptool.domain.models import (
    CADENCE_MONTHS,
    Day,
    Identifier,
    Strict,
    TimeOfDay,
    format_time,
    minutes,
)

#: ``report-pending``: cancelled by the establishment, a report still possible (art. 4).
SessionStatus = Literal["planned", "moved", "cancelled", "report-pending", "due"]
#: Statuses shown to users; ``held`` is derived (a past session neither moved nor cancelled),
#: ``unconfirmed`` too (a past session written into the record after its date, not confirmed).
DISPLAY_STATUSES = ("planned", "held", "unconfirmed", "moved", "cancelled", "report-pending", "due")


@dataclass(frozen=True, order=True)
class Period:
    """A cadence period: a month (``index`` 1-12) or a calendar quarter (``index`` 1-4)."""

    year: int
    cadence: str
    index: int

    @property
    def months(self) -> tuple[int, ...]:
        """Months of the year (1-12) the period covers."""
        span = CADENCE_MONTHS[self.cadence]
        first = (self.index - 1) * span + 1
        return tuple(range(first, first + span))

    def __str__(self) -> str:
        if self.cadence == "monthly":
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}-Q{self.index}"

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"2025-05"`` -> monthly period, ``"2025-Q2"`` -> quarterly period."""
        year_text, _, rest = text.partition("-")
        if not year_text.isdigit() or len(year_text) != 4:
            raise ValueError(f"{text!r} is not a period (YYYY-MM or YYYY-Qn)")
        if rest.startswith("Q") and rest[1:].isdigit() and 1 <= int(rest[1:]) <= 4:
            return cls(int(year_text), "quarterly", int(rest[1:]))
        if rest.isdigit() and len(rest) == 2 and 1 <= int(rest) <= 12:
            return cls(int(year_text), "monthly", int(rest))
        raise ValueError(f"{text!r} is not a period (YYYY-MM or YYYY-Qn)")

    @classmethod
    def all_in_year(cls, year: int, cadence: str) -> list[Period]:
        count = 12 // CADENCE_MONTHS[cadence]
        return [cls(year, cadence, index) for index in range(1, count + 1)]


def session_id(convention: str, group: str, period: Period | str) -> str:
    return f"{convention}/{group}/{period}"


Party = Literal["establishment", "practitioner"]


class Change(Strict):
    """One entry of a session's history: a move, a cancellation (art. 2.1, art. 4, art. 9.3),
    or a restoration (a termination withdrawn before its effective end gives back the sessions
    it cancelled: the cancellation stays in the history, the restoration follows it).

    ``status`` is the session's status after the change; ``notice_days`` the notice given.
    """

    action: Literal["moved", "cancelled", "restored"]
    requested_on: Day
    by: Party | None = None
    reason: str | None = None
    notice_days: int
    status: SessionStatus
    previous_date: Day
    previous_start: TimeOfDay
    previous_end: TimeOfDay


class Session(Strict):
    """One session of the calendar of record."""

    id: str
    convention: Identifier
    group: Identifier
    period: str
    date: Day
    start: TimeOfDay
    end: TimeOfDay
    location: Identifier
    status: SessionStatus = "planned"
    moved_out_of_period: bool = False
    #: Written into the calendar of record on or after its date (a plan made after the
    #: fact): whether it took place is for the practitioner to confirm (``apptool held``).
    unconfirmed: bool = False
    confirmed_on: Day | None = None
    history: list[Change] = []

    @property
    def start_minutes(self) -> int:
        return minutes(self.start)

    @property
    def end_minutes(self) -> int:
        return minutes(self.end)

    @property
    def occupies_time(self) -> bool:
        """Cancelled and due sessions no longer occupy the practitioner's time."""
        return self.status in ("planned", "moved")

    def display_status(self, today: dt.date) -> str:
        """``held`` for a past session that was neither moved nor cancelled; ``unconfirmed``
        for a past one written after its date and not confirmed yet."""
        if self.occupies_time and self.date < today and self.unconfirmed:
            return "unconfirmed"
        if self.status == "planned" and self.date < today:
            return "held"
        return self.status


def with_change(
    before: Session,
    after: Session,
    action: Literal["moved", "cancelled", "restored"],
    status: SessionStatus,
    requested_on: date,
    by: Party | None,
    reason: str | None,
    given: int,
) -> Session:
    """``after`` (``before`` itself for a cancellation) with ``status`` and, appended to the
    history ``before`` keeps, the change: what, who asked, when, why, the notice given, and
    where the session was (art. 2.1, 4, 9.3: every move and cancellation is kept)."""
    change = Change(
        action=action,
        requested_on=requested_on,
        by=by,
        reason=reason,
        notice_days=given,
        status=status,
        previous_date=before.date,
        previous_start=before.start,
        previous_end=before.end,
    )
    return after.model_copy(update={"status": status, "history": [*before.history, change]})


def took_place(session: Session, today: date) -> bool:
    """A past session, planned or moved, not cancelled, that was in the calendar of record
    before its date or that the practitioner confirmed: it was held."""
    return session.occupies_time and session.date < today and not session.unconfirmed


def awaits_confirmation(session: Session, today: date) -> bool:
    """A past session written into the record after its date and not confirmed yet: never
    billed, never counted as held, until ``apptool held`` confirms it."""
    return session.occupies_time and session.date < today and session.unconfirmed


def recorded_on(session: Session, today: date) -> Session:
    """The session as written into the calendar of record on ``today``: unconfirmed when its
    date is not after the day it is recorded (the record cannot vouch that it took place)."""
    unconfirmed = session.occupies_time and session.date <= today
    if unconfirmed == session.unconfirmed and (unconfirmed or session.confirmed_on is None):
        return session
    return session.model_copy(update={"unconfirmed": unconfirmed, "confirmed_on": None})


def confirmed(session: Session, today: date) -> Session:
    """The session confirmed as held by the practitioner on ``today``."""
    return session.model_copy(update={"unconfirmed": False, "confirmed_on": today})


#: The years a calendar file may hold.
CALENDAR_YEARS = range(1900, 3000)


class CalendarFile(Strict):
    """The plan file ``calendars/YEAR.yaml``: the sessions whose period falls in YEAR."""

    year: int = Field(ge=CALENDAR_YEARS[0], le=CALENDAR_YEARS[-1])
    sessions: list[Session] = []


def calendar_of(year: int, sessions: Iterable[Session] = ()) -> CalendarFile:
    """The calendar of ``year`` holding ``sessions``, models already checked: not validated
    again (a year's calendar is made whenever one is planned or changed)."""
    if year not in CALENDAR_YEARS:
        raise ValueError(f"year {year} out of range")
    return CalendarFile.model_construct(year=year, sessions=list(sessions))


def sort_key(session: Session) -> tuple[date, time, str]:
    return (session.date, session.start, session.id)


def calendar_to_data(calendar: CalendarFile) -> dict[str, Any]:
    """The plan file's content: sessions sorted by date, keys sorted, no derived data."""
    sessions = []
    for session in sorted(calendar.sessions, key=sort_key):
        data = session.model_dump(mode="json", by_alias=True)
        if not data["history"]:
            del data["history"]
        for flag in ("moved_out_of_period", "unconfirmed", "confirmed_on"):
            if not data[flag]:
                del data[flag]
        sessions.append(data)
    return {"year": calendar.year, "sessions": sessions}


def interval_text(start: time, end: time) -> str:
    return f"{format_time(start)}-{format_time(end)}"
