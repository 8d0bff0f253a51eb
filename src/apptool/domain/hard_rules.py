"""The hard rules of a calendar, shared by the planner, ``reschedule`` and ``apptool check``.

A calendar never breaks them: each session on a workable day of its convention's term, at one
of its slots, in its period (:mod:`apptool.domain.contract`); one practitioner, so sessions
never overlap and a change of site leaves the travel time; at most the profile's sessions a
day. The planner asks them incrementally (may this session go there?); :func:`plan_violations`
asks them of a whole calendar, e.g. one edited by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from apptool.domain.calendar_fr import days_of_month, hard_blocker
from apptool.domain.contract import (
    eligible_months,
    is_active,
    period_problem,
    periods_due,
    slot_problem,
)
from apptool.domain.models import Convention, Group, Practitioner
from apptool.domain.schedule import Period, Session, session_id


def eligible_days(
    convention: Convention, practitioner: Practitioner, period: Period, group: Group | None = None
) -> list[date]:
    """Days of a period on which a session of the group may take place (every day rule)."""
    return [
        day
        for month in eligible_months(convention, period, group)
        for day in days_of_month(period.year, month)
        if is_active(convention, day)
        and (group is None or group.active_on(day))
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
    return Booking(
        session.start_minutes,
        session.end_minutes,
        site_key(session.convention, session.location),
        session.id,
    )


def day_problem(session: Session, convention: Convention, practitioner: Practitioner) -> str | None:
    """The session's day is a working day, not blocked, and within the convention's term."""
    if not is_active(convention, session.date):
        return f"{session.date} is outside the convention's term"
    reason = hard_blocker(session.date, convention, practitioner)
    return f"{session.date}: {reason}" if reason else None


def session_problems(
    session: Session, convention: Convention, practitioner: Practitioner
) -> list[str]:
    """The rules one session obeys on its own: slot, day, period."""
    return [
        p
        for p in (
            slot_problem(session, convention),
            day_problem(session, convention, practitioner),
            period_problem(session, convention),
        )
        if p
    ]


def placement_problems(
    candidate: Session,
    others: Iterable[Session],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
) -> list[str]:
    """Every hard rule that ``candidate`` breaks among the ``others``."""
    problems = session_problems(candidate, conventions[candidate.convention], practitioner)
    same_day = [
        o for o in others if o.date == candidate.date and o.occupies_time and o.id != candidate.id
    ]
    limit = practitioner.max_sessions_per_day
    if limit is not None and len(same_day) >= limit:
        problems.append(
            f"{candidate.date} already has {len(same_day)} sessions, the profile "
            f"allows {limit} a day"
        )
    mine = session_booking(candidate)
    for other in sorted(same_day, key=lambda s: (s.start, s.id)):
        reason = clash(session_booking(other), mine, practitioner.travel_minutes)
        if reason:
            problems.append(
                f"{candidate.date} {candidate.start:%H:%M}: {reason} with "
                f"{other.id} ({other.start:%H:%M}-{other.end:%H:%M})"
            )
    return problems


def plan_violations(
    sessions: Iterable[Session], conventions: dict[str, Convention], practitioner: Practitioner
) -> list[tuple[str, str]]:
    """Every hard rule a calendar breaks, as ``(session id, message)`` pairs."""
    found: list[tuple[str, str]] = []
    by_day: dict[date, list[Session]] = defaultdict(list)
    seen: set[str] = set()
    for session in sessions:
        if session.id in seen:
            found.append((session.id, "period met twice (duplicate session)"))
        seen.add(session.id)
        if session.occupies_time:
            found += [
                (session.id, problem)
                for problem in session_problems(
                    session, conventions[session.convention], practitioner
                )
            ]
            by_day[session.date].append(session)
    for day, day_sessions in sorted(by_day.items()):
        found += _day_clashes(day, day_sessions, practitioner)
    return found


def _day_clashes(
    day: date, sessions: list[Session], practitioner: Practitioner
) -> list[tuple[str, str]]:
    found = []
    ordered = sorted(sessions, key=lambda s: (s.start, s.id))
    limit = practitioner.max_sessions_per_day
    if limit is not None and len(ordered) > limit:
        found.append(
            (ordered[-1].id, f"{day}: {len(ordered)} sessions, the profile allows {limit} a day")
        )
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            reason = clash(
                session_booking(first), session_booking(second), practitioner.travel_minutes
            )
            if reason:
                found.append((second.id, f"{day} {second.start:%H:%M}: {reason} with {first.id}"))
    return found


def missing_periods(
    sessions: Iterable[Session], conventions: dict[str, Convention], year: int
) -> list[str]:
    """Ids of sessions the conventions require in ``year`` that the calendar lacks."""
    present = {s.id for s in sessions}
    return [
        session_id(conv_id, group.id, period)
        for conv_id, convention in conventions.items()
        for group in convention.groups
        for period in periods_due(convention, group, year)
        if session_id(conv_id, group.id, period) not in present
    ]
