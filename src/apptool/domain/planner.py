"""The annual planner: conventions + calendar of record + today -> a plan, or why there is none.

Hard rules (``rules.py``) are never broken. Among the positions they allow, each session goes
to the cheapest by a cost that encodes the soft goals: a regular rhythm for each group (same
weekday, week of the month and slot; about a month between sessions, never under 21 days when
another choice exists), few trips (sessions at one site gathered on one day), the group's
preferences, school holidays under ``prefer-avoid``, a balanced load. Sessions are placed in
calendar order, most constrained first; when one finds no free position, the planner tries to
move one already placed (not kept) session out of its way. Ties are broken by date and time,
so the same inputs always give the same plan.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, time
from functools import lru_cache

from apptool.domain.calendar_fr import (
    MONTHS_EN,
    days_of_month,
    describe_ranges,
    establishment_closed,
    non_working_weekday,
    practitioner_unavailable,
    public_holidays,
    school_holiday,
)
from apptool.domain.contract import eligible_months, is_active, periods_due
from apptool.domain.hard_rules import Booking, clash, eligible_days, site_key
from apptool.domain.models import (
    CADENCE_MONTHS,
    WEEKDAYS,
    Convention,
    Group,
    Practitioner,
    Slot,
    minutes,
)
from apptool.domain.schedule import Period, Session, session_id
from apptool.errors import NoValidPlan, Problem, field_name

# Soft-goal weights (integers keep the arithmetic exact and the plan deterministic).
W_SCHOOL_HOLIDAY = 10_000  # prefer-avoid: only if nothing else fits
W_SHORT_INTERVAL = 1_000  # under the minimum interval when another choice exists
W_INTERVAL_DAY = 2  # per day away from the target interval
W_PREFERRED_WEEKDAY = 40
W_PREFERRED_SLOT = 25
W_NEW_TRIP = 60  # a new (day, site) visit
W_MIXED_DAY = 20  # a day that already has sessions at another site
W_USUAL_WEEKDAY = 30
W_USUAL_WEEK = 15
W_USUAL_SLOT = 8
W_USUAL_MONTH_OF_QUARTER = 20
W_NOT_ADJACENT = 5
W_DAY_LOAD = 3
W_WEEK_LOAD = 1

#: Target interval between two consecutive sessions of a group, and the soft minimum.
TARGET_INTERVAL = {"monthly": (28, 35), "quarterly": (84, 98)}
MIN_INTERVAL = {"monthly": 21, "quarterly": 63}


@dataclass(frozen=True)
class Demand:
    """A session the conventions require and the calendar does not have yet."""

    convention_id: str
    convention: Convention
    group: Group
    period: Period
    days: tuple[date, ...]
    order: tuple[int, int]
    #: The last workable day of the group's next period when it is still to be placed:
    #: looking ahead keeps room for the next session at the minimum interval.
    next_last: date | None = None

    @property
    def id(self) -> str:
        return session_id(self.convention_id, self.group.id, self.period)

    @property
    def site(self) -> str:
        return site_key(self.convention_id, self.group.location)

    @property
    def group_key(self) -> str:
        return f"{self.convention_id}/{self.group.id}"

    @property
    def decision_month(self) -> int:
        """Quarterly sessions are placed after the monthly ones of their quarter."""
        months = eligible_months(self.convention, self.period, self.group)
        return months[-1] if self.period.cadence == "quarterly" else months[0]


@dataclass
class SoftReport:
    """How well the plan meets the soft goals (reported, never enforced)."""

    sessions: int = 0
    days: int = 0
    trips: int = 0
    trips_per_month: dict[str, int] = field(default_factory=dict)
    #: Shortest and longest days between sessions of consecutive periods, per cadence.
    intervals: dict[str, tuple[int, int]] = field(default_factory=dict)
    short_intervals: list[str] = field(default_factory=list)
    off_rhythm: int = 0
    preference_misses: list[str] = field(default_factory=list)
    in_school_holidays: list[str] = field(default_factory=list)
    busiest_day: int = 0


@dataclass
class Plan:
    """The result of planning a year."""

    year: int
    sessions: list[Session]
    placed: list[str]
    kept: list[str]
    skipped_past: list[str]
    report: SoftReport


@dataclass(frozen=True)
class Position:
    day: date
    slot: Slot
    start: int
    end: int


class _State:
    """The practitioner's bookings and each group's sessions while planning."""

    def __init__(self, practitioner: Practitioner) -> None:
        self.practitioner = practitioner
        self.by_day: dict[date, list[Booking]] = defaultdict(list)
        self.group_days: dict[str, list[tuple[date, int, str]]] = defaultdict(list)
        self.movable: dict[str, tuple[Demand, Position]] = {}
        self.week_load: Counter[tuple[int, int]] = Counter()

    def add(self, booking: Booking, day: date, group_key: str, period: str) -> None:
        self.by_day[day].append(booking)
        self.group_days[group_key].append((day, booking.start, period))
        self.week_load[day.isocalendar()[:2]] += 1

    def remove(self, booking: Booking, day: date, group_key: str) -> None:
        self.by_day[day].remove(booking)
        self.group_days[group_key] = [
            entry
            for entry in self.group_days[group_key]
            if (entry[0], entry[1]) != (day, booking.start)
        ]
        self.week_load[day.isocalendar()[:2]] -= 1

    def conflicts(self, day: date, booking: Booking) -> list[Booking]:
        travel = self.practitioner.travel_minutes
        return [b for b in self.by_day.get(day, []) if clash(b, booking, travel)]

    def fits(self, day: date, booking: Booking) -> bool:
        limit = self.practitioner.max_sessions_per_day
        if limit is not None and len(self.by_day.get(day, [])) >= limit:
            return False
        return not self.conflicts(day, booking)


def _week_of_month(day: date) -> int:
    return (day.day - 1) // 7 + 1


def _mode(values: list[tuple[date, object]]) -> object:
    """The most frequent value, the most recent one on a tie (then the first seen)."""
    counts: dict[object, int] = {}
    latest: dict[object, date] = {}
    for day, value in values:
        counts[value] = counts.get(value, 0) + 1
        if value not in latest or day > latest[value]:
            latest[value] = day
    return max(counts, key=lambda value: (counts[value], latest[value]))


@dataclass(frozen=True)
class Usual:
    """A group's habits so far: weekday and week of the month, slot, month of the quarter."""

    day: tuple[int, int] | None
    start: int | None
    month_of_quarter: int


def usual_habits(entries: list[tuple[date, int, str]], before: date) -> Usual:
    """The group's usual weekday, week of month, slot and month of quarter before a date.

    A quarterly group without history defaults to the quarter's last month, which keeps
    quarters regular when a month is excluded (2025 Q3 -> September).
    """
    earlier = [e for e in entries if e[0] < before]
    if not earlier:
        return Usual(None, None, 2)
    return Usual(
        _mode([(d, (d.weekday(), _week_of_month(d))) for d, _, _ in earlier]),  # type: ignore[arg-type]
        _mode([(d, start) for d, start, _ in earlier]),  # type: ignore[arg-type]
        _mode([(d, (d.month - 1) % 3) for d, _, _ in earlier]),  # type: ignore[arg-type]
    )


def _day_cost(demand: Demand, day: date, state: _State, usual: Usual) -> int:
    """The soft cost of a day for ``demand`` (lower is better), the same for each of its slots.

    A position's cost is its day's cost plus its slot's (:func:`_slot_cost`).
    """
    cadence = demand.period.cadence
    cost = 0
    if demand.convention.school_holidays.policy == "prefer-avoid" and school_holiday(
        day, demand.convention
    ):
        cost += W_SCHOOL_HOLIDAY
    cost += _interval_cost(demand, day, state)
    if usual.day is not None:
        weekday, week = usual.day
        cost += W_USUAL_WEEKDAY * (day.weekday() != weekday)
        cost += W_USUAL_WEEK * (_week_of_month(day) != week)
    if cadence == "quarterly":
        cost += W_USUAL_MONTH_OF_QUARTER * ((day.month - 1) % 3 != usual.month_of_quarter)
    preferences = demand.group.preferences
    if preferences.weekdays and WEEKDAYS[day.weekday()] not in preferences.weekdays:
        cost += W_PREFERRED_WEEKDAY
    bookings = state.by_day.get(day, [])
    same_site = sum(1 for b in bookings if b.site == demand.site)
    if not same_site:
        cost += W_NEW_TRIP
    if same_site != len(bookings):
        cost += W_MIXED_DAY
    cost += W_DAY_LOAD * len(bookings)
    cost += W_WEEK_LOAD * state.week_load[day.isocalendar()[:2]]
    return cost


def _interval_cost(demand: Demand, day: date, state: _State) -> int:
    """About a month (or a quarter) after the group's previous session and before its next."""
    cadence = demand.period.cadence
    low, high = TARGET_INTERVAL[cadence]
    period = str(demand.period)
    entries = state.group_days.get(demand.group_key, [])
    previous = max(((d, p) for d, _, p in entries if d <= day), default=None)
    following = min(((d, p) for d, _, p in entries if d >= day), default=None)
    cost = 0
    for neighbour, other in filter(None, (previous, following)):
        gap = abs((day - neighbour).days)
        if gap < MIN_INTERVAL[cadence]:
            cost += W_SHORT_INTERVAL + (MIN_INTERVAL[cadence] - gap) * 10
        elif _consecutive(other, period) or _consecutive(period, other):
            cost += max(0, low - gap, gap - high) * W_INTERVAL_DAY
    if demand.next_last is not None and following is None:
        room = (demand.next_last - day).days
        if room < MIN_INTERVAL[cadence]:
            cost += W_SHORT_INTERVAL
        elif room < low:
            cost += (low - room) * W_INTERVAL_DAY
    return cost


def _slot_cost(demand: Demand, position: Position, state: _State, usual: Usual) -> int:
    """The part of the cost that depends on the slot: habits, preferences, adjacency."""
    cost = 0
    if usual.start is not None:
        cost += W_USUAL_SLOT * (position.start != usual.start)
    preferences = demand.group.preferences
    if preferences.slots and position.start not in {minutes(t) for t in preferences.slots}:
        cost += W_PREFERRED_SLOT
    same_site = [b for b in state.by_day.get(position.day, []) if b.site == demand.site]
    if same_site and not any(b.end == position.start or b.start == position.end for b in same_site):
        cost += W_NOT_ADJACENT
    return cost


def _positions(demand: Demand) -> list[Position]:
    duration = demand.convention.session_duration
    return [
        Position(day, slot, minutes(slot.start), minutes(slot.start) + duration)
        for day in demand.days
        for slot in sorted(demand.convention.slots)
    ]


def _booking(demand: Demand, position: Position) -> Booking:
    return Booking(position.start, position.end, demand.site, demand.id)


def _best(
    demand: Demand, state: _State, exclude: Position | None = None
) -> tuple[int, Position] | None:
    """The cheapest free position for ``demand``, or None.

    The state does not change while looking, so the day's part of the cost is computed once
    a day, and the group's habits once for each number of sessions before the day.
    """
    best: tuple[int, date, int, Position] | None = None
    usual_cache: dict[int, Usual] = {}
    day_cache: dict[date, tuple[int, Usual]] = {}
    entries = state.group_days.get(demand.group_key, [])
    for position in _positions(demand):
        if position == exclude or not state.fits(position.day, _booking(demand, position)):
            continue
        if position.day not in day_cache:
            usual = _usual_cached(entries, position.day, usual_cache)
            day_cache[position.day] = (_day_cost(demand, position.day, state, usual), usual)
        day_cost, usual = day_cache[position.day]
        cost = day_cost + _slot_cost(demand, position, state, usual)
        key = (cost, position.day, position.start, position)
        if best is None or key[:3] < best[:3]:
            best = key
    return None if best is None else (best[0], best[3])


def _usual_cached(
    entries: list[tuple[date, int, str]], day: date, cache: dict[int, Usual]
) -> Usual:
    """``usual_habits(entries, day)``, cached by the number of entries before ``day``: for one
    list of entries, that number decides which entries come before."""
    count = sum(1 for entry in entries if entry[0] < day)
    if count not in cache:
        cache[count] = usual_habits(entries, day)
    return cache[count]


def _place(demand: Demand, position: Position, state: _State) -> None:
    state.add(_booking(demand, position), position.day, demand.group_key, str(demand.period))
    state.movable[demand.id] = (demand, position)


def _unplace(demand: Demand, position: Position, state: _State) -> None:
    state.remove(_booking(demand, position), position.day, demand.group_key)
    del state.movable[demand.id]


def _repair(demand: Demand, state: _State) -> bool:
    """Make room for ``demand`` by moving one placed session elsewhere; True if done."""
    options: list[tuple[int, date, int, Position, Demand, Position, Position]] = []
    for position in _positions(demand):
        booking = _booking(demand, position)
        blockers = state.conflicts(position.day, booking)
        if len(blockers) != 1 or blockers[0].session_id not in state.movable:
            continue
        other, other_position = state.movable[blockers[0].session_id]
        _unplace(other, other_position, state)
        if state.fits(position.day, booking):
            _place(demand, position, state)
            found = _best(other, state, exclude=other_position)
            _unplace(demand, position, state)
            if found is not None:
                options.append(
                    (
                        found[0],
                        position.day,
                        position.start,
                        position,
                        other,
                        other_position,
                        found[1],
                    )
                )
        _place(other, other_position, state)
    if not options:
        return False
    _, _, _, position, other, old, new = min(options, key=lambda o: o[:3])
    _unplace(other, old, state)
    _place(demand, position, state)
    _place(other, new, state)
    return True


def build_demands(
    conventions: dict[str, Convention], practitioner: Practitioner, year: int
) -> list[Demand]:
    """Every session the conventions require in ``year`` (art. 2.1), in placement order."""
    demands = []
    workable: dict[tuple[str, Period], tuple[date, ...]] = {}  # the same for every group
    for conv_index, (conv_id, convention) in enumerate(conventions.items()):
        for group_index, group in enumerate(convention.groups):
            windowed = group.start is not None or group.end is not None
            for period in periods_due(convention, group, year):
                if windowed:
                    days = tuple(eligible_days(convention, practitioner, period, group))
                else:
                    if (conv_id, period) not in workable:
                        workable[conv_id, period] = tuple(
                            eligible_days(convention, practitioner, period)
                        )
                    days = workable[conv_id, period]
                demands.append(
                    Demand(conv_id, convention, group, period, days, (conv_index, group_index))
                )
    return sorted(demands, key=lambda d: (d.decision_month, len(d.days), d.order))


#: The most sessions a year the planner places: more than one practitioner can hold (about
#: 250 working days with 4 sessions each is 1000), so that a workspace of thousands of
#: groups is refused at once instead of being planned for hours.
MAX_SESSIONS_A_YEAR = 3000
#: Once this many sessions could not be placed there is no plan: the planner stops moving
#: sessions out of the way and only lists the others that find no free slot, so that an
#: impossible workspace (hundreds of groups) is refused in seconds, not minutes.
REPAIR_FAILURES = 20


def plan_year(
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    year: int,
    kept: list[Session],
    context: list[Session],
    not_before: date | None = None,
) -> Plan:
    """Plan ``year``: keep the ``kept`` sessions, place every missing one.

    ``context`` holds sessions of neighbouring years (they occupy time and set each group's
    rhythm); new sessions are placed after ``not_before`` when given (the past is not
    rewritten). Raises :class:`NoValidPlan` naming every session that cannot be placed.
    """
    state = _State(practitioner)
    for session in [*context, *kept]:
        if session.occupies_time:
            booking = Booking(
                session.start_minutes,
                session.end_minutes,
                site_key(session.convention, session.location),
                session.id,
            )
            state.add(
                booking, session.date, f"{session.convention}/{session.group}", session.period
            )
    kept_ids = {s.id for s in kept}
    demands = [d for d in build_demands(conventions, practitioner, year) if d.id not in kept_ids]
    if len(demands) + len(kept) > MAX_SESSIONS_A_YEAR:
        message = (
            f"{len(demands) + len(kept)} sessions are required in {year}: one practitioner "
            f"cannot hold more than {MAX_SESSIONS_A_YEAR} a year; check the groups (and "
            "purchase orders) of the conventions"
        )
        raise NoValidPlan(
            f"no valid plan for {year}: {message}", [Problem("conventions/", None, "", message)]
        )
    skipped = []
    if not_before is not None:
        live = []
        for demand in demands:
            days = tuple(day for day in demand.days if day >= not_before)
            all_days = [
                day
                for m in eligible_months(demand.convention, demand.period, demand.group)
                for day in days_of_month(year, m)
            ]
            if all_days and all_days[-1] < not_before:
                skipped.append(demand.id)
            else:
                live.append(
                    Demand(
                        demand.convention_id,
                        demand.convention,
                        demand.group,
                        demand.period,
                        days,
                        demand.order,
                    )
                )
        demands = live
    demands = _with_lookahead(demands)
    failures: list[Demand] = []
    for demand in demands:
        found = _best(demand, state)
        if found is not None:
            _place(demand, found[1], state)
        elif len(failures) >= REPAIR_FAILURES or not _repair(demand, state):
            failures.append(demand)
    if failures:
        failing: dict[tuple[int, int], set[str]] = defaultdict(set)  # by month: their ids
        for failure in failures:
            for month in eligible_months(failure.convention, failure.period, failure.group):
                failing[failure.period.year, month].add(failure.id)
        raise NoValidPlan(
            f"no valid plan for {year}: {len(failures)} session(s) cannot be placed",
            [_diagnose(d, failing, state, practitioner, not_before) for d in failures],
        )
    placed = []
    for demand, position in state.movable.values():
        placed.append(
            Session(
                id=demand.id,
                convention=demand.convention_id,
                group=demand.group.id,
                period=str(demand.period),
                date=position.day,
                start=time(position.start // 60, position.start % 60),
                end=time(position.end // 60, position.end % 60),
                location=demand.group.location,
            )
        )
    sessions = sorted([*kept, *placed], key=lambda s: (s.date, s.start, s.id))
    return Plan(
        year,
        sessions,
        sorted(s.id for s in placed),
        sorted(kept_ids),
        sorted(skipped),
        soft_report(sessions, [*context, *kept], conventions),
    )


def _with_lookahead(demands: list[Demand]) -> list[Demand]:
    """Give each demand the last workable day of its group's next period, if also to place."""
    last_day: dict[str, dict[str, date]] = defaultdict(dict)  # by group, by period
    for d in demands:
        if d.days:
            last_day[d.group_key][str(d.period)] = max(d.days)
    result = []
    for demand in demands:
        following = next(
            (
                last
                for period, last in last_day.get(demand.group_key, {}).items()
                if _consecutive(str(demand.period), period)
            ),
            None,
        )
        result.append(replace(demand, next_last=following))
    return result


def _diagnose(
    demand: Demand,
    failing: dict[tuple[int, int], set[str]],
    state: _State,
    practitioner: Practitioner,
    not_before: date | None,
) -> Problem:
    """Say what blocks a session: competing sessions, free slots left, blocked days.

    The problem names the group as ``groups[i]``; the caller adds the file's line.
    """
    convention = demand.convention
    months = eligible_months(convention, demand.period, demand.group)
    month_names = ", ".join(MONTHS_EN[m - 1] for m in months) + f" {demand.period.year}"
    placed = sum(
        len(bookings)
        for day, bookings in state.by_day.items()
        if day.year == demand.period.year and day.month in months
    )
    competing = placed + len(
        set().union(*(failing.get((demand.period.year, m), set()) for m in months))
    )
    free = travel_blocked = 0
    for position in _positions(demand):
        booking = _booking(demand, position)
        if state.fits(position.day, booking):
            free += 1
        elif all(
            b.end <= booking.start or booking.end <= b.start
            for b in state.conflicts(position.day, booking)
        ):
            travel_blocked += 1
    reasons: dict[str, list[date]] = defaultdict(list)
    for month in months:
        # Weekends are looked at too, so that a holiday reads "5-21 April", not in pieces.
        for day in days_of_month(demand.period.year, month):
            if not is_active(convention, day):
                reasons["outside the convention's term"].append(day)
            elif not_before is not None and day < not_before:
                reasons["already past"].append(day)
            elif holiday := public_holidays(day.year).get(day):
                if not non_working_weekday(day, practitioner):
                    reasons[holiday].append(day)
            elif reason := (
                practitioner_unavailable(day, practitioner)
                or establishment_closed(day, convention)
                or (
                    convention.school_holidays.policy == "avoid" and school_holiday(day, convention)
                )
            ):
                reasons[reason.split(" (")[0]].append(day)
    blocked = ", ".join(f"{name} ({describe_ranges(days)})" for name, days in reasons.items())
    location = convention.location(demand.group.location).name
    message = (
        f"{demand.period}: {demand.group.name} ({location}) cannot be placed: "
        f"{competing} sessions to place in {month_names} across all conventions, "
        f"{len(demand.days) * len(convention.slots)} slots on {len(demand.days)} workable "
        f"days, {free} free"
        + (f"; blocked: {blocked}" if blocked else "")
        + (
            f"; {travel_blocked} slot(s) too close to a session at another site (travel "
            f"{practitioner.travel_minutes} min)"
            if travel_blocked
            else ""
        )
    )
    return Problem(
        f"conventions/{demand.convention_id}.yaml",
        None,
        field_name(convention.group_path(demand.group.id)),
        message,
    )


def soft_report(
    sessions: list[Session], history: list[Session], conventions: dict[str, Convention]
) -> SoftReport:
    """Figures on the soft goals of the plan's sessions (history gives earlier intervals)."""
    report = SoftReport(sessions=len(sessions))
    live = [s for s in sessions if s.occupies_time]
    report.days = len({s.date for s in live})
    trips = {(s.date, s.convention, s.location) for s in live}
    report.trips = len(trips)
    per_month: Counter[str] = Counter(f"{d:%Y-%m}" for d, _, _ in trips)
    report.trips_per_month = dict(sorted(per_month.items()))
    per_day = Counter(s.date for s in live)
    report.busiest_day = max(per_day.values(), default=0)
    by_group: dict[str, list[Session]] = defaultdict(list)
    for session in {s.id: s for s in [*history, *sessions]}.values():
        if session.occupies_time:
            by_group[f"{session.convention}/{session.group}"].append(session)
    intervals: dict[str, list[int]] = defaultdict(list)
    own = {s.id for s in sessions}
    for key, group_sessions in sorted(by_group.items()):
        group_sessions.sort(key=lambda s: s.date)
        usual = Counter((s.date.weekday(), _week_of_month(s.date)) for s in group_sessions)
        common = usual.most_common(1)[0][0] if usual else None
        report.off_rhythm += sum(
            1
            for s in group_sessions
            if s.id in own and (s.date.weekday(), _week_of_month(s.date)) != common
        )
        cadence = conventions[key.split("/")[0]].group(key.split("/")[1]).cadence
        for first, second in itertools.pairwise(group_sessions):
            if second.id not in own or not _consecutive(first.period, second.period):
                continue
            gap = (second.date - first.date).days
            intervals[cadence].append(gap)
            if gap < MIN_INTERVAL[cadence]:
                report.short_intervals.append(f"{second.id}: {gap} days after {first.date}")
    report.intervals = {c: (min(gaps), max(gaps)) for c, gaps in sorted(intervals.items())}
    for session in live:
        convention = conventions[session.convention]
        group = convention.group(session.group)
        prefs = group.preferences
        weekday = session.date.strftime("%A").lower()
        if prefs.weekdays and weekday not in prefs.weekdays:
            report.preference_misses.append(f"{session.id}: on a {weekday}")
        if prefs.slots and session.start not in prefs.slots:
            report.preference_misses.append(f"{session.id}: at {session.start:%H:%M}")
        if convention.school_holidays.policy != "ignore" and school_holiday(
            session.date, convention
        ):
            report.in_school_holidays.append(session.id)
    return report


@lru_cache(maxsize=4096)
def _consecutive(first: str, second: str) -> bool:
    """Whether two periods follow each other (2025-05 -> 2025-06, 2025-Q4 -> 2026-Q1)."""
    a, b = Period.parse(first), Period.parse(second)
    span = CADENCE_MONTHS[a.cadence]
    return (
        a.cadence == b.cadence
        and (b.year * 12 + b.index * span) - (a.year * 12 + a.index * span) == span
    )
