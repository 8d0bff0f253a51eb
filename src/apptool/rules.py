"""The planner's hard rules, one function each, shared by the planner and by ``apptool check``.

The planner asks them incrementally (may this session go there?); ``plan_violations`` asks
them of a whole calendar, e.g. one edited by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .calendar_fr import days_of_month, hard_blocker
from .models import Convention, Practitioner, minutes
from .schedule import Period, Session, session_id

FAR_FUTURE = date(9999, 12, 31)


def active_until(convention: Convention) -> date:
    """Last day the convention is active: its termination, else its end unless tacitly renewed.

    Art. 9.1: renewed every year by tacit renewal; art. 9.3: terminated at the end of a month.
    """
    term = convention.period
    if term.termination is not None:
        return term.termination
    return FAR_FUTURE if term.renewal == "tacit-yearly" else term.end


def term_text(convention: Convention) -> str:
    """The convention's active term in words: ``from 2025-04-01 to 2025-12-31``."""
    until = active_until(convention)
    if until == FAR_FUTURE:
        return f"from {convention.period.start}, renewed tacitly every year"
    return f"from {convention.period.start} to {until}"


def is_active(convention: Convention, day: date) -> bool:
    return convention.period.start <= day <= active_until(convention)


def eligible_months(convention: Convention, period: Period) -> list[int]:
    """Months of a period in which the convention is active and not excluded (art. 2.1)."""
    months = []
    for month in period.months:
        if month in convention.excluded_months:
            continue
        first = date(period.year, month, 1)
        last = days_of_month(period.year, month)[-1]
        if convention.period.start <= last and first <= active_until(convention):
            months.append(month)
    return months


def periods_due(convention: Convention, cadence: str, year: int) -> list[Period]:
    """The cadence periods of ``year`` in which a group of this cadence must meet once."""
    return [p for p in Period.all_in_year(year, cadence) if eligible_months(convention, p)]


def eligible_days(convention: Convention, practitioner: Practitioner, period: Period) -> list[date]:
    """Days of a period on which a session of the convention may take place (every day rule)."""
    return [
        day
        for month in eligible_months(convention, period)
        for day in days_of_month(period.year, month)
        if is_active(convention, day) and hard_blocker(day, convention, practitioner) is None
    ]


@dataclass(frozen=True)
class Booking:
    """A span of the practitioner's time on one day, at one site."""

    start: int
    end: int
    site: str
    session_id: str


def site_key(convention_id: str, location_id: str) -> str:
    return f"{convention_id}:{location_id}"


def clash(a: Booking, b: Booking, travel_minutes: int) -> str | None:
    """One practitioner: sessions never overlap, and a change of site leaves the travel time."""
    if a.start < b.end and b.start < a.end:
        return "overlaps"
    if a.site != b.site and travel_minutes > 0:
        gap = b.start - a.end if b.start >= a.end else a.start - b.end
        if gap < travel_minutes:
            return f"leaves {gap} min to change site, travel needs {travel_minutes} min"
    return None


def session_booking(session: Session) -> Booking:
    return Booking(session.start_minutes, session.end_minutes,
                   site_key(session.convention, session.location), session.id)


def slot_problem(session: Session, convention: Convention) -> str | None:
    """A session starts at one of its convention's slots and lasts the session duration."""
    starts = {minutes(slot.start) for slot in convention.slots}
    if session.start_minutes not in starts:
        labels = ", ".join(slot.label for slot in convention.slots)
        return f"starts at {session.start:%H:%M}, not at a slot of the convention ({labels})"
    if session.end_minutes - session.start_minutes != convention.session_duration:
        return (f"lasts {session.end_minutes - session.start_minutes} min, the convention's "
                f"sessions last {convention.session_duration} min")
    return None


def day_problem(session: Session, convention: Convention,
                practitioner: Practitioner) -> str | None:
    """The session's day is a working day, not blocked, and within the convention's term."""
    if not is_active(convention, session.date):
        return f"{session.date} is outside the convention's term"
    reason = hard_blocker(session.date, convention, practitioner)
    return f"{session.date}: {reason}" if reason else None


def period_problem(session: Session, convention: Convention) -> str | None:
    """A session takes place in its period, in an eligible month (art. 2.1).

    A session moved out of its period (flagged) may leave it, but never into an excluded month.
    """
    if session.date.month in convention.excluded_months:
        return f"{session.date}: no session in an excluded month (art. 2.1)"
    if session.moved_out_of_period:
        return None
    period = Period.parse(session.period)
    months = eligible_months(convention, period)
    if session.date.year != period.year or session.date.month not in months:
        return f"{session.date} is not in an eligible month of period {period}"
    return None


def plan_violations(sessions: Iterable[Session], conventions: dict[str, Convention],
                    practitioner: Practitioner) -> list[tuple[str, str]]:
    """Every hard rule a calendar breaks, as ``(session id, message)`` pairs."""
    found: list[tuple[str, str]] = []
    by_day: dict[date, list[Session]] = defaultdict(list)
    seen: set[str] = set()
    for session in sessions:
        if session.id in seen:
            found.append((session.id, "period met twice (duplicate session)"))
        seen.add(session.id)
        convention = conventions[session.convention]
        if session.occupies_time:
            for check in (slot_problem(session, convention),
                          day_problem(session, convention, practitioner),
                          period_problem(session, convention)):
                if check:
                    found.append((session.id, check))
            by_day[session.date].append(session)
    for day, day_sessions in sorted(by_day.items()):
        found += _day_clashes(day, day_sessions, practitioner)
    return found


def _day_clashes(day: date, sessions: list[Session],
                 practitioner: Practitioner) -> list[tuple[str, str]]:
    found = []
    ordered = sorted(sessions, key=lambda s: (s.start, s.id))
    limit = practitioner.max_sessions_per_day
    if limit is not None and len(ordered) > limit:
        found.append((ordered[-1].id, f"{day}: {len(ordered)} sessions, the profile allows "
                                      f"{limit} a day"))
    for index, first in enumerate(ordered):
        for second in ordered[index + 1:]:
            reason = clash(session_booking(first), session_booking(second),
                           practitioner.travel_minutes)
            if reason:
                found.append((second.id, f"{day} {second.start:%H:%M}: {reason} with {first.id}"))
    return found


def missing_periods(sessions: Iterable[Session], conventions: dict[str, Convention],
                    year: int) -> list[str]:
    """Ids of sessions the conventions require in ``year`` that the calendar lacks."""
    present = {s.id for s in sessions}
    return [
        session_id(conv_id, group.id, period)
        for conv_id, convention in conventions.items()
        for group in convention.groups
        for period in periods_due(convention, group.cadence, year)
        if session_id(conv_id, group.id, period) not in present
    ]
