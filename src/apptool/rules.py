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
from .models import Convention, Group, Practitioner, minutes
from .schedule import Period, Session, session_id

FAR_FUTURE = date(9999, 12, 31)


def active_until(convention: Convention) -> date:
    """Last day the convention is active: its termination, else its end unless renewed.

    Art. 9.1: renewed every year by tacit renewal; art. 9.3: terminated at the end of a month.
    A framework agreement renewable once runs to ``renewal_end`` once the renewal is recorded.
    """
    term = convention.period
    if term.termination is not None:
        return term.termination
    if term.renewal == "tacit-yearly":
        return FAR_FUTURE
    if term.renewal == "once" and term.renewed and term.renewal_end is not None:
        return term.renewal_end
    return term.end


def term_text(convention: Convention) -> str:
    """The convention's active term in words: ``from 2025-04-01 to 2025-12-31``."""
    until = active_until(convention)
    if until == FAR_FUTURE:
        return f"from {convention.period.start}, renewed tacitly every year"
    return f"from {convention.period.start} to {until}"


def is_active(convention: Convention, day: date) -> bool:
    return convention.period.start <= day <= active_until(convention)


def _month_open(convention: Convention, group: Group | None, year: int, month: int) -> bool:
    """The convention (and the group's window) covers part of the month, not excluded."""
    if month in convention.excluded_months:
        return False
    first = date(year, month, 1)
    last = days_of_month(year, month)[-1]
    start = max(convention.period.start, group.start if group and group.start else first)
    end = min(active_until(convention), group.end if group and group.end else last)
    return start <= last and first <= end and start <= end


def window_months(convention: Convention, group: Group) -> list[tuple[int, int]]:
    """Eligible months within a group's window (from..to), in order."""
    assert group.start is not None and group.end is not None
    months = []
    year, month = group.start.year, group.start.month
    while (year, month) <= (group.end.year, group.end.month):
        if _month_open(convention, group, year, month):
            months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def counted_months(convention: Convention, group: Group) -> set[tuple[int, int]]:
    """The months a group with a number of sessions meets in: spread evenly over its window."""
    months = window_months(convention, group)
    count = min(group.sessions or 0, len(months))
    return {months[(2 * i + 1) * len(months) // (2 * count)] for i in range(count)}


def eligible_months(convention: Convention, period: Period,
                    group: Group | None = None) -> list[int]:
    """Months of a period in which the convention (and the group) is active, not excluded.

    Art. 2.1: no session in the excluded months. A group ordered for a number of sessions
    meets only in its chosen months (:func:`counted_months`).
    """
    months = [m for m in period.months if _month_open(convention, group, period.year, m)]
    if group is not None and group.sessions is not None and group.end is not None:
        chosen = counted_months(convention, group)
        months = [m for m in months if (period.year, m) in chosen]
    return months


def periods_due(convention: Convention, group: Group, year: int) -> list[Period]:
    """The cadence periods of ``year`` in which the group must meet once."""
    return [p for p in Period.all_in_year(year, group.cadence)
            if eligible_months(convention, p, group)]


def eligible_days(convention: Convention, practitioner: Practitioner, period: Period,
                  group: Group | None = None) -> list[date]:
    """Days of a period on which a session of the group may take place (every day rule)."""
    return [
        day
        for month in eligible_months(convention, period, group)
        for day in days_of_month(period.year, month)
        if is_active(convention, day) and (group is None or group.active_on(day))
        and hard_blocker(day, convention, practitioner) is None
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
    months = eligible_months(convention, period, convention.group(session.group))
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
        for period in periods_due(convention, group, year)
        if session_id(conv_id, group.id, period) not in present
    ]
