"""The agenda: where the practitioner is expected, day by day (``apptool agenda``).

The live sessions of a span of days (planned or moved, at their current date: those that
occupy the practitioner's time) and the individual consultations, in the order of the day;
between two that follow each other at different sites, the travel time between the sites
(the planner's :class:`~apptool.domain.hard_rules.TravelTimes`) and the time left once
travelled, and the hard rule they break if they are too close (its own words). A day with
nothing on it is shown only when it says why: a public holiday, an absence, a closure, a
session cancelled that awaits its report (on one of the practitioner's working days).

Consultations are confidential (art. 2.2, 6): an item shows only their id, opaque code,
duration and place, never more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from typing import Literal

from apptool.domain.calendar_fr import (
    establishment_closed,
    practitioner_unavailable,
    public_holidays,
)
from apptool.domain.contract import is_active
from apptool.domain.hard_rules import (
    OFFICE,
    TravelTimes,
    consultation_site,
    site_key,
    span_clash,
)
from apptool.domain.models import Convention, Practitioner, minutes
from apptool.domain.records import IndividualConsultation
from apptool.domain.schedule import Session, sort_key

#: The longest agenda, in days (a year, leap day included).
MAX_DAYS = 366


@dataclass(frozen=True)
class Travel:
    """The change of site before an item, from the item before it that day.

    ``minutes`` is the travel time between the two sites (None: too far apart for one day);
    ``free`` the minutes left between the two items once travelled (None when too far);
    ``problem`` the hard rule the two break, as :func:`span_clash` words it.
    """

    origin: str
    destination: str
    minutes: int | None
    free: int | None
    problem: str | None


@dataclass(frozen=True)
class Item:
    """A session or a consultation of the agenda.

    ``start`` is None for a consultation recorded without its time; ``minutes`` is the
    duration. ``location`` is the convention's location id, or ``office`` (the
    practitioner's own, for a consultation); ``place`` its name and ``address`` its address.
    A session also gives its group, period, status and, if it was moved, its date and start
    before the last move; a consultation only its opaque code (``ref``), never a name.
    """

    kind: Literal["session", "consultation"]
    id: str
    convention: str
    start: time | None
    minutes: int
    location: str
    place: str
    address: str | None
    site: str
    group: str | None = None
    group_name: str | None = None
    period: str | None = None
    status: str | None = None
    moved_from: tuple[date, time] | None = None
    ref: str | None = None
    travel: Travel | None = None

    @property
    def start_minutes(self) -> int | None:
        return None if self.start is None else minutes(self.start)

    @property
    def end_minutes(self) -> int | None:
        """Minutes since midnight at its end (past 24:00 for a consultation that runs late)."""
        return None if self.start is None else minutes(self.start) + self.minutes

    @property
    def end(self) -> time | None:
        end = self.end_minutes
        return None if end is None else time(*divmod(end % (24 * 60), 60))


@dataclass(frozen=True)
class AgendaDay:
    """A day of the agenda: its items in the order of the day, and what to know about it."""

    date: date
    items: list[Item]
    notes: list[str]


@dataclass(frozen=True)
class Agenda:
    """The days of ``first``..``last`` that have something on them or say why not."""

    first: date
    last: date
    days: list[AgendaDay]
    #: The sessions and consultations shown, in date order (for a calendar feed).
    sessions: list[Session]
    consultations: list[IndividualConsultation]

    @property
    def items(self) -> list[Item]:
        return [item for day in self.days for item in day.items]

    @property
    def minutes(self) -> int:
        """The time of every session and consultation shown."""
        return sum(item.minutes for item in self.items)

    @property
    def travel_minutes(self) -> int:
        """The travel between the sites of a day (the first trip of a day is not known)."""
        return sum(
            item.travel.minutes for item in self.items if item.travel and item.travel.minutes
        )


def span_end(first: date, days: int) -> date:
    """The last day of ``days`` days from ``first``."""
    return first + timedelta(days=days - 1)


def build_agenda(
    first: date,
    last: date,
    sessions: Iterable[Session],
    consultations: Iterable[IndividualConsultation],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    today: date,
    convention: str | None = None,
) -> Agenda:
    """The agenda of ``first``..``last`` (``convention``: only its sessions, consultations
    and closures; the travel before an item is kept when the item before it is also shown).

    ``today`` decides each session's status (:meth:`Session.display_status`).
    """
    in_span = [s for s in sessions if first <= s.date <= last]
    live = sorted((s for s in in_span if s.occupies_time), key=sort_key)
    pending = sorted((s for s in in_span if s.status == "report-pending"), key=sort_key)
    seen = sorted(
        (c for c in consultations if first <= c.date <= last), key=lambda c: (c.date, c.id)
    )
    by_day: dict[date, list[Item]] = defaultdict(list)
    for session in live:
        by_day[session.date].append(session_item(session, conventions, today))
    for consultation in seen:
        by_day[consultation.date].append(consultation_item(consultation, conventions))
    travel = TravelTimes(practitioner, conventions)
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        items = shown(with_travel(ordered(by_day.get(day, [])), travel), convention)
        notes = day_notes(day, conventions, practitioner, convention)
        notes += [
            f"cancelled, report pending: {s.id} ({s.start:%H:%M}-{s.end:%H:%M})"
            for s in pending
            if s.date == day and convention in (None, s.convention)
        ]
        working = day.weekday() in practitioner.weekday_numbers
        if items or (notes and working):
            days.append(AgendaDay(day, items, notes))
    return Agenda(
        first,
        last,
        days,
        [s for s in live if convention in (None, s.convention)],
        [c for c in seen if convention in (None, c.convention)],
    )


def session_item(session: Session, conventions: dict[str, Convention], today: date) -> Item:
    """A live session as the agenda shows it: its group, site and status."""
    convention = conventions[session.convention]
    location = convention.location(session.location)
    last = session.history[-1] if session.history else None
    moved_from = (
        (last.previous_date, last.previous_start)
        if session.status == "moved" and last is not None and last.action == "moved"
        else None
    )
    return Item(
        kind="session",
        id=session.id,
        convention=session.convention,
        start=session.start,
        minutes=session.end_minutes - session.start_minutes,
        location=session.location,
        place=location.name,
        address=location.address,
        site=site_key(session.convention, session.location),
        group=session.group,
        group_name=convention.group(session.group).name,
        period=session.period,
        status=session.display_status(today),
        moved_from=moved_from,
    )


def consultation_item(
    consultation: IndividualConsultation, conventions: dict[str, Convention]
) -> Item:
    """A consultation as the agenda shows it: id, opaque code, duration and place only."""
    convention = conventions.get(consultation.convention)
    location = None
    if consultation.place != OFFICE and convention is not None:
        location = next((loc for loc in convention.locations if loc.id == consultation.place), None)
    return Item(
        kind="consultation",
        id=consultation.id,
        convention=consultation.convention,
        start=consultation.start,
        minutes=consultation.duration,
        location=consultation.place,
        place=location.name if location is not None else consultation.place,
        address=location.address if location is not None else None,
        site=consultation_site(consultation),
        ref=consultation.ref,
    )


def ordered(items: list[Item]) -> list[Item]:
    """The order of the day: by start (then end, then id); items without a time last."""
    timed = sorted(
        (i for i in items if i.start is not None),
        key=lambda i: (i.start_minutes, i.end_minutes, i.id),
    )
    return timed + sorted((i for i in items if i.start is None), key=lambda i: i.id)


def with_travel(items: list[Item], travel: TravelTimes) -> list[Item]:
    """Each timed item after another at a different site (or too close to it) with the
    travel between the two sites, the time left once travelled, and the rule they break."""
    result = list(items)
    for index in range(1, len(result)):
        before, item = result[index - 1], result[index]
        if before.start is None or item.start is None:
            continue
        a_start, a_end = before.start_minutes, before.end_minutes
        b_start, b_end = item.start_minutes, item.end_minutes
        assert a_start is not None and a_end is not None
        assert b_start is not None and b_end is not None
        problem = span_clash(a_start, a_end, before.site, b_start, b_end, item.site, travel)
        if before.site == item.site and problem is None:
            continue
        needed = travel.between(before.site, item.site)
        free = None if needed is None else b_start - a_end - needed
        result[index] = replace(item, travel=Travel(before.site, item.site, needed, free, problem))
    return result


def shown(items: list[Item], convention: str | None) -> list[Item]:
    """The items of one convention (all without ``convention``): an item keeps the travel
    before it only when the item before it is shown too."""
    if convention is None:
        return items
    kept = []
    for index, item in enumerate(items):
        if item.convention != convention:
            continue
        if item.travel is not None and (index == 0 or items[index - 1].convention != convention):
            item = replace(item, travel=None)
        kept.append(item)
    return kept


def day_notes(
    day: date,
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    convention: str | None = None,
) -> list[str]:
    """What to know about a day: a public holiday, the practitioner's absence, the closures
    of the establishments whose convention runs that day."""
    notes = []
    holiday = public_holidays(day.year).get(day)
    if holiday:
        notes.append(f"public holiday: {holiday}")
    absent = practitioner_unavailable(day, practitioner)
    if absent:
        notes.append(absent)
    for conv_id, terms in sorted(conventions.items()):
        if convention in (None, conv_id) and is_active(terms, day):
            closed = establishment_closed(day, terms)
            if closed:
                notes.append(f"{conv_id}: {closed}")
    return notes
