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

from apptool.domain.calendar_fr import (
    days_of_month,
    establishment_closed,
    hard_blocker,
    non_working_weekday,
    practitioner_unavailable,
    public_holiday,
)
from apptool.domain.contract import (
    eligible_months,
    is_active,
    period_over,
    period_problem,
    periods_due,
    slot_problem,
)
from apptool.domain.models import Convention, Group, Practitioner, minutes
from apptool.domain.records import IndividualConsultation
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


OFFICE = "office"


class TravelTimes:
    """Minutes of travel between two sites (``CONVENTION/LOCATION`` or ``office``), from the
    practitioner's profile and the conventions' ``travel`` entries; ``None`` when two sites are
    too far apart for one day. Most specific first: the pair, a site and a convention's
    ``CONV/*``, two ``CONV/*``; else the profile's ``travel_minutes``."""

    def __init__(self, practitioner: Practitioner, conventions: dict[str, Convention]) -> None:
        self.default = practitioner.travel_minutes
        self.pairs: dict[frozenset[str], int | None] = {}
        entries = [*(t for c in conventions.values() for t in c.travel), *practitioner.travel]
        for entry in entries:  # the practitioner's own figures win
            self.pairs[frozenset(entry.between)] = entry.minutes if entry.same_day else None
        self._memo: dict[tuple[str, str], int | None] = {}

    def between(self, a: str, b: str) -> int | None:
        if a == b:
            return 0
        key = (a, b) if a < b else (b, a)
        if key not in self._memo:
            self._memo[key] = self._lookup(a, b)
        return self._memo[key]

    def _lookup(self, a: str, b: str) -> int | None:
        wild_a, wild_b = _any_site(a), _any_site(b)
        for pair in ({a, b}, {a, wild_b}, {wild_a, b}, {wild_a, wild_b}):
            found = frozenset(pair)
            if found in self.pairs:
                return self.pairs[found]
        return self.default


def _any_site(site: str) -> str:
    """``conv/loc`` -> ``conv/*`` (``office`` stays itself)."""
    return site.split("/", 1)[0] + "/*" if "/" in site else site


@dataclass(frozen=True)
class Booking:
    """A span of the practitioner's time on one day, at one site."""

    start: int
    end: int
    site: str
    session_id: str


def site_key(convention_id: str, location_id: str) -> str:
    """A site as travel times name it: ``CONVENTION/LOCATION``."""
    return f"{convention_id}/{location_id}"


def clash(a: Booking, b: Booking, travel: TravelTimes) -> str | None:
    """One practitioner: sessions never overlap, a change of site leaves the travel time
    between the two sites, and sites too far apart are never on the same day."""
    return span_clash(a.start, a.end, a.site, b.start, b.end, b.site, travel)


def span_clash(
    a_start: int,
    a_end: int,
    a_site: str,
    b_start: int,
    b_end: int,
    b_site: str,
    travel: TravelTimes,
) -> str | None:
    """:func:`clash` on two spans of one day (minutes) at two sites, without objects: the
    planner asks it for every position it weighs."""
    if a_start < b_end and b_start < a_end:
        return "overlaps"
    if a_site == b_site:
        return None
    needed = travel.between(a_site, b_site)
    if needed is None:
        return f"{a_site} and {b_site} are too far apart for one day"
    gap = b_start - a_end if b_start >= a_end else a_start - b_end
    if gap < needed:
        return f"leaves {gap} min to change site, travel needs {needed} min"
    return None


def consultation_site(consultation: IndividualConsultation) -> str:
    """Where a consultation takes place, as travel times name it: ``office`` (the
    practitioner's own), or ``CONVENTION/LOCATION``."""
    if consultation.place == OFFICE:
        return OFFICE
    return site_key(consultation.convention, consultation.place)


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
    travel = TravelTimes(practitioner, conventions)
    for other in sorted(same_day, key=lambda s: (s.start, s.id)):
        reason = clash(session_booking(other), mine, travel)
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
    travel = TravelTimes(practitioner, conventions)
    for day, day_sessions in sorted(by_day.items()):
        found += _day_clashes(day, day_sessions, practitioner, travel)
    return found


def _day_clashes(
    day: date, sessions: list[Session], practitioner: Practitioner, travel: TravelTimes
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
            reason = clash(session_booking(first), session_booking(second), travel)
            if reason:
                found.append((second.id, f"{day} {second.start:%H:%M}: {reason} with {first.id}"))
    return found


def missing_periods(
    sessions: Iterable[Session], conventions: dict[str, Convention], year: int, today: date
) -> tuple[list[str], list[str]]:
    """Ids of sessions the conventions require in ``year`` that the calendar lacks: those
    ``apptool plan`` can still place, and those of periods already over on ``today``
    (:func:`~apptool.domain.contract.period_over`), which it never places."""
    present = {s.id for s in sessions}
    to_plan: list[str] = []
    over: list[str] = []
    for conv_id, convention in conventions.items():
        for group in convention.groups:
            for period in periods_due(convention, group, year):
                found = session_id(conv_id, group.id, period)
                if found not in present:
                    past = period_over(convention, period, group, today)
                    (over if past else to_plan).append(found)
    return to_plan, over


#: Minutes in a day: a consultation ends by midnight.
MINUTES_A_DAY = 24 * 60


def consultation_problems(
    consultation: IndividualConsultation,
    sessions: Iterable[Session],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    consultations: Iterable[IndividualConsultation] = (),
) -> list[str]:
    """What makes an individual consultation's day or time unlikely: a non-working day, a
    public holiday, an absence, a closure of the establishment, or (its time given) an end
    after midnight, an overlap with a group session or with another consultation, travel
    between the two places included (one practitioner cannot hold, nor bill, both)."""
    convention = conventions[consultation.convention]
    day = consultation.date
    problems = [
        reason
        for reason in (
            non_working_weekday(day, practitioner),
            public_holiday(day),
            practitioner_unavailable(day, practitioner),
            establishment_closed(day, convention),
        )
        if reason
    ]
    if consultation.start is None:
        return problems
    start = minutes(consultation.start)
    if start + consultation.duration > MINUTES_A_DAY:
        problems.append(
            f"{consultation.start:%H:%M} for {consultation.duration} min ends after midnight: "
            "record a consultation on the day it takes place, within it"
        )
    mine = Booking(
        start, start + consultation.duration, consultation_site(consultation), consultation.id
    )
    travel = TravelTimes(practitioner, conventions)
    for session in sorted(sessions, key=lambda s: (s.date, s.start, s.id)):
        if session.date == day and session.occupies_time:
            reason = clash(session_booking(session), mine, travel)
            if reason:
                problems.append(
                    f"{consultation.start:%H:%M}: {reason} with {session.id} "
                    f"({session.start:%H:%M}-{session.end:%H:%M})"
                )
    for other in sorted(consultations, key=lambda c: c.id):
        if other.date != day or other.start is None or other.id == consultation.id:
            continue
        other_start = minutes(other.start)
        booking = Booking(
            other_start, other_start + other.duration, consultation_site(other), other.id
        )
        reason = clash(booking, mine, travel)
        if reason:
            end = other_start + other.duration
            problems.append(
                f"{consultation.start:%H:%M}: {reason} with the consultation {other.id} "
                f"({other.start:%H:%M}-{end // 60:02d}:{end % 60:02d})"
            )
    return problems
