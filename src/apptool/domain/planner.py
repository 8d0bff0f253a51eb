"""The annual planner: conventions + calendar of record + today -> a plan, or why there is none.

Hard rules (``hard_rules.py``) are never broken. Among the positions they allow, each session
goes to the cheapest by a cost that encodes the soft goals, in this order of weight: school
holidays under ``prefer-avoid`` (only if nothing else fits); the group's preferences (a free
preferred weekday and slot is always taken); about a month between sessions, never under 21
days when another choice exists; few trips (sessions at one site gathered on one day); a
regular rhythm (same weekday, week of the month and slot); a balanced load. Sessions are
placed in calendar order, most constrained first; when one finds no free position, the planner
tries to move one already placed (not kept) session out of its way. Ties are broken by date
and time, so the same inputs always give the same plan.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from functools import cached_property, lru_cache

from apptool.domain.calendar_fr import (
    MONTHS_EN,
    days_of_month,
    describe_ranges,
    establishment_closed,
    hard_blocker,
    non_working_weekday,
    practitioner_unavailable,
    public_holidays,
    school_holiday,
)
from apptool.domain.contract import eligible_months, is_active, period_over, periods_due
from apptool.domain.hard_rules import (
    Booking,
    TravelTimes,
    clash,
    eligible_days,
    site_key,
    span_clash,
)
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
W_SCHOOL_HOLIDAY = 1_000_000  # prefer-avoid: only if nothing else fits
#: A group's preferences outweigh every other soft goal: a free preferred day is taken.
W_PREFERRED_WEEKDAY = 100_000
W_PREFERRED_SLOT = 40_000
W_SHORT_INTERVAL = 1_000  # under the minimum interval when another choice exists
W_INTERVAL_DAY = 2  # per day away from the target interval
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

    @cached_property
    def id(self) -> str:
        return session_id(self.convention_id, self.group.id, self.period)

    @cached_property
    def site(self) -> str:
        return site_key(self.convention_id, self.group.location)

    @cached_property
    def group_key(self) -> str:
        return f"{self.convention_id}/{self.group.id}"

    @cached_property
    def positions_by_day(self) -> tuple[tuple[date, tuple[Position, ...]], ...]:
        """The positions grouped by day, in date order (shared like :attr:`positions`)."""
        return _by_day_of(self.positions)

    @cached_property
    def period_text(self) -> str:
        return str(self.period)

    @cached_property
    def positions(self) -> tuple[Position, ...]:
        """Every (day, slot) the demand may take, in date and time order (shared by the
        demands of one convention over the same days)."""
        return _positions_of(self.convention, self.days)

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

    def __init__(self, practitioner: Practitioner, travel: TravelTimes) -> None:
        self.practitioner = practitioner
        self.travel = travel
        self.by_day: dict[date, list[Booking]] = defaultdict(list)
        self.group_days: dict[str, list[tuple[date, int, str]]] = defaultdict(list)
        self.movable: dict[str, tuple[Demand, Position]] = {}
        self.week_load: Counter[tuple[int, int]] = Counter()
        #: The school-holiday part of a day's cost, by convention and day: computed once.
        self.school_costs: dict[tuple[str, date], int] = {}

    def add(self, booking: Booking, day: date, group_key: str, period: str) -> None:
        self.by_day[day].append(booking)
        self.group_days[group_key].append((day, booking.start, period))
        self.week_load[_week(day)] += 1

    def remove(self, booking: Booking, day: date, group_key: str) -> None:
        self.by_day[day].remove(booking)
        self.group_days[group_key] = [
            entry
            for entry in self.group_days[group_key]
            if (entry[0], entry[1]) != (day, booking.start)
        ]
        self.week_load[_week(day)] -= 1

    def conflicts(self, day: date, booking: Booking) -> list[Booking]:
        return [b for b in self.by_day.get(day, []) if clash(b, booking, self.travel)]

    def fits(self, day: date, booking: Booking) -> bool:
        return self.fits_span(day, booking.start, booking.end, booking.site)

    def fits_span(self, day: date, start: int, end: int, site: str) -> bool:
        """Whether a session from ``start`` to ``end`` at ``site`` fits on ``day``."""
        bookings = self.by_day.get(day)
        if not bookings:
            return True
        limit = self.practitioner.max_sessions_per_day
        if limit is not None and len(bookings) >= limit:
            return False
        travel = self.travel
        return not any(
            span_clash(b.start, b.end, b.site, start, end, site, travel) for b in bookings
        )


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


def _day_cost(
    demand: Demand, day: date, state: _State, usual: Usual, neighbours: _Neighbours
) -> int:
    """The soft cost of a day for ``demand`` (lower is better), the same for each of its slots.

    A position's cost is its day's cost plus its slot's (:func:`_slot_cost`).
    """
    key = (demand.convention_id, day)
    cost = state.school_costs.get(key)
    if cost is None:
        cost = state.school_costs[key] = _school_holiday_cost(demand.convention, day)
    weekday = day.weekday()
    preferred = demand.group.preferences.weekdays
    if preferred and WEEKDAYS[weekday] not in preferred:
        cost += W_PREFERRED_WEEKDAY
    if neighbours.entries or demand.next_last is not None:  # else no interval to weigh
        cost += _interval_cost(demand, day, neighbours)
    if usual.day is not None:
        usual_weekday, usual_week = usual.day
        cost += W_USUAL_WEEKDAY * (weekday != usual_weekday)
        cost += W_USUAL_WEEK * (_week_of_month(day) != usual_week)
    if demand.period.cadence == "quarterly":
        cost += W_USUAL_MONTH_OF_QUARTER * ((day.month - 1) % 3 != usual.month_of_quarter)
    bookings = state.by_day.get(day)
    if bookings:
        site = demand.site
        same_site = sum(1 for b in bookings if b.site == site)
        if not same_site:
            cost += W_NEW_TRIP
        if same_site != len(bookings):
            cost += W_MIXED_DAY
        cost += W_DAY_LOAD * len(bookings)
    else:
        cost += W_NEW_TRIP  # a day without sessions yet: a trip of its own
    return cost + W_WEEK_LOAD * state.week_load[_week(day)]


def _school_holiday_cost(convention: Convention, day: date) -> int:
    """A school-holiday day costs more under ``prefer-avoid`` (art. 2.1)."""
    if convention.school_holidays.policy == "prefer-avoid" and school_holiday(day, convention):
        return W_SCHOOL_HOLIDAY
    return 0


@lru_cache(maxsize=1024)
def _week(day: date) -> tuple[int, int]:
    """The ISO (year, week) of a day."""
    year, week, _ = day.isocalendar()
    return year, week


class _Neighbours:
    """A group's sessions so far, by date, to find the one before and after a day."""

    def __init__(self, entries: list[tuple[date, int, str]]) -> None:
        self.entries = sorted((d, p) for d, _, p in entries)
        self.days = [d for d, _ in self.entries]

    def around(self, day: date) -> tuple[tuple[date, str] | None, tuple[date, str] | None]:
        """The latest entry on or before ``day`` and the earliest on or after it."""
        after = bisect_right(self.days, day)
        before = bisect_left(self.days, day)
        previous = self.entries[after - 1] if after else None
        following = self.entries[before] if before < len(self.entries) else None
        return previous, following


def _interval_cost(demand: Demand, day: date, neighbours: _Neighbours) -> int:
    """About a month (or a quarter) after the group's previous session and before its next."""
    cadence = demand.period.cadence
    low, high = TARGET_INTERVAL[cadence]
    period = demand.period_text
    previous, following = neighbours.around(day)
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


def _positions(demand: Demand) -> tuple[Position, ...]:
    return demand.positions


_POSITIONS: dict[tuple[int, tuple[date, ...]], tuple[Position, ...]] = {}


_BY_DAY: dict[int, tuple[tuple[date, tuple[Position, ...]], ...]] = {}


def _by_day_of(
    positions: tuple[Position, ...],
) -> tuple[tuple[date, tuple[Position, ...]], ...]:
    """Positions grouped by day, once per shared tuple of positions."""
    key = id(positions)
    if key not in _BY_DAY:
        grouped: dict[date, list[Position]] = {}
        for position in positions:
            grouped.setdefault(position.day, []).append(position)
        _BY_DAY[key] = tuple((day, tuple(found)) for day, found in grouped.items())
    return _BY_DAY[key]


def _positions_of(convention: Convention, days: tuple[date, ...]) -> tuple[Position, ...]:
    """The (day, slot) positions of a convention over some days, built once per planning run
    (``plan_year`` clears the cache: it holds pure values, no state)."""
    key = (id(convention), days)
    if key not in _POSITIONS:
        duration = convention.session_duration
        slots = sorted(convention.slots)
        _POSITIONS[key] = tuple(
            Position(day, slot, minutes(slot.start), minutes(slot.start) + duration)
            for day in days
            for slot in slots
        )
    return _POSITIONS[key]


def _booking(demand: Demand, position: Position) -> Booking:
    return Booking(position.start, position.end, demand.site, demand.id)


def _best(
    demand: Demand, state: _State, exclude: Position | None = None
) -> tuple[int, Position] | None:
    """The cheapest free position for ``demand``, or None (ties: the earliest day and slot).

    A position costs its day's cost plus a slot cost that is never negative: days are
    weighed first, cheapest first, and the search stops at the first day whose cost alone
    cannot beat the best position found. The state does not change while looking.
    """
    usual_cache: dict[int, Usual] = {}
    entries = state.group_days.get(demand.group_key, [])
    neighbours = _Neighbours(entries)
    weighed = []
    for day, positions in demand.positions_by_day:
        usual = _usual_cached(entries, bisect_left(neighbours.days, day), day, usual_cache)
        weighed.append((_day_cost(demand, day, state, usual, neighbours), day, usual, positions))
    weighed.sort(key=lambda item: (item[0], item[1]))
    site = demand.site
    best: tuple[int, date, int, Position] | None = None
    for day_cost, day, usual, positions in weighed:
        if best is not None and (day_cost, day) > (best[0], best[1]):
            break  # every position left costs more, or as much on a later day
        for position in positions:
            if position == exclude or not state.fits_span(day, position.start, position.end, site):
                continue
            cost = day_cost + _slot_cost(demand, position, state, usual)
            if best is None or (cost, day, position.start) < best[:3]:
                best = (cost, day, position.start, position)
    return None if best is None else (best[0], best[3])


def _usual_cached(
    entries: list[tuple[date, int, str]], before: int, day: date, cache: dict[int, Usual]
) -> Usual:
    """``usual_habits(entries, day)``, cached by ``before``, the number of entries before
    ``day``: for one list of entries, that number decides which entries come before."""
    if before not in cache:
        cache[before] = usual_habits(entries, day)
    return cache[before]


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
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    year: int,
    held: frozenset[str] = frozenset(),
) -> list[Demand]:
    """Every session the conventions require in ``year`` (art. 2.1), in placement order; but
    those of ``held`` (the ids of sessions the calendar already holds)."""
    demands = []
    workable: dict[tuple[str, Period], tuple[date, ...]] = {}  # the same for every group
    for conv_index, (conv_id, convention) in enumerate(conventions.items()):
        for group_index, group in enumerate(convention.groups):
            windowed = group.start is not None or group.end is not None
            for period in periods_due(convention, group, year):
                if held and session_id(conv_id, group.id, period) in held:
                    continue
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
    _POSITIONS.clear()  # keyed by id(): never reused across runs
    _BY_DAY.clear()
    state = _State(practitioner, TravelTimes(practitioner, conventions))
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
    kept_ids = frozenset(s.id for s in kept)
    demands = build_demands(conventions, practitioner, year, kept_ids)
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
            yesterday = not_before - timedelta(days=1)
            if period_over(demand.convention, demand.period, demand.group, yesterday):
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
    shortfalls = capacity_problems(demands, practitioner, not_before)
    if shortfalls:
        raise NoValidPlan(
            f"no valid plan for {year}: more sessions than free slots in "
            f"{len(shortfalls)} month(s) and site(s)",
            shortfalls,
        )
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


# --- counting before searching ------------------------------------------------------------


def grid_capacity(convention: Convention) -> int:
    """How many sessions of a convention fit in one day: its slots, each lasting the
    session duration, without overlap (earliest end first)."""
    return _most_disjoint(
        [
            (minutes(s.start), minutes(s.start) + convention.session_duration)
            for s in convention.slots
        ]
    )


def _most_disjoint(intervals: list[tuple[int, int]]) -> int:
    count, end = 0, -1
    for start, stop in sorted(intervals, key=lambda i: (i[1], i[0])):
        if start >= end:
            count, end = count + 1, stop
    return count


def capacity_problems(
    demands: list[Demand], practitioner: Practitioner, not_before: date | None
) -> list[Problem]:
    """Count before searching: for each month (and each quarter), at each site and for the
    practitioner as a whole, the sessions that must take place in it against the free slots
    its workable days offer. Each count is an upper bound of what any plan could place, so a
    shortfall proves no plan exists: one line per month and site, with the rules that removed
    the days."""
    by_window: dict[tuple[int, ...], list[Demand]] = defaultdict(list)
    for demand in demands:
        months = tuple(eligible_months(demand.convention, demand.period, demand.group))
        if months:
            by_window[(demand.period.year, *months)].append(demand)
    windows = sorted(by_window)
    problems: list[Problem] = []
    for window in windows:  # a month, or a quarter holding its months' demands too
        year, span = window[0], set(window[1:])
        inside = [d for w in windows if w[0] == year and set(w[1:]) <= span for d in by_window[w]]
        label = _window_label(year, sorted(span))
        sites: dict[str, list[Demand]] = defaultdict(list)
        for demand in inside:
            sites[demand.site].append(demand)
        short_sites = []
        for site_demands in sites.values():
            found = _site_shortfall(label, site_demands, practitioner, not_before)
            if found is not None:
                short_sites.append(found)
        if short_sites:
            problems += short_sites
        elif len(sites) > 1:
            found = _overall_shortfall(label, inside, practitioner)
            if found is not None:
                problems.append(found)
    return problems


def _window_label(year: int, months: list[int]) -> str:
    if len(months) == 1:
        return f"{year}-{months[0]:02d}"
    return f"{year}-{months[0]:02d}..{months[-1]:02d}"


def _day_limit(practitioner: Practitioner, per_day: int) -> int:
    limit = practitioner.max_sessions_per_day
    return per_day if limit is None else min(per_day, limit)


def _site_shortfall(
    label: str, demands: list[Demand], practitioner: Practitioner, not_before: date | None
) -> Problem | None:
    first = demands[0]
    convention = first.convention
    per_day = _day_limit(practitioner, grid_capacity(convention))
    days = sorted({day for d in demands for day in d.days})
    free = len(days) * per_day
    if len(demands) <= free:
        return None
    location = convention.location(first.group.location)
    months = sorted({m for d in demands for m in eligible_months(d.convention, d.period, d.group)})
    removed = _removed_days(
        convention, practitioner, first.period.year, months, set(days), not_before
    )
    message = (
        f"{label} {location.name}: {len(demands)} sessions, {free} free slots "
        f"({len(days)} workable days × {per_day} slots): {len(demands) - free} short"
        + (f"; days removed: {removed}" if removed else "")
    )
    index = next(i for i, loc in enumerate(convention.locations) if loc.id == location.id)
    return Problem(f"conventions/{first.convention_id}.yaml", None, f"locations[{index}]", message)


def _overall_shortfall(
    label: str, demands: list[Demand], practitioner: Practitioner
) -> Problem | None:
    grids: dict[date, list[tuple[int, int]]] = defaultdict(list)
    seen: set[tuple[date, str]] = set()
    for demand in demands:
        for day in demand.days:
            if (day, demand.convention_id) not in seen:
                seen.add((day, demand.convention_id))
                duration = demand.convention.session_duration
                grids[day] += [
                    (minutes(s.start), minutes(s.start) + duration) for s in demand.convention.slots
                ]
    free = sum(_day_limit(practitioner, _most_disjoint(g)) for g in grids.values())
    if len(demands) <= free:
        return None
    return Problem(
        "conventions/",
        None,
        "",
        f"{label}, all sites: {len(demands)} sessions, {free} free slots on {len(grids)} "
        f"workable days for one practitioner: {len(demands) - free} short",
    )


def _removed_days(
    convention: Convention,
    practitioner: Practitioner,
    year: int,
    months: list[int],
    workable: set[date],
    not_before: date | None,
) -> str:
    """The rules that removed days from months: ``weekends and days not worked (9), school
    holidays zone A (7-22 February)...``."""
    reasons: dict[str, list[date]] = defaultdict(list)
    for month in months:
        for day in days_of_month(year, month):
            if day in workable:
                continue
            if not_before is not None and day < not_before:
                reasons["already past"].append(day)
            elif not is_active(convention, day):
                reasons["outside the convention's term"].append(day)
            elif (holiday := public_holidays(day.year).get(day)) and not non_working_weekday(
                day, practitioner
            ):
                reasons[holiday].append(day)
            elif reason := (  # weekends inside a holiday fold into it: "7-18 April"
                practitioner_unavailable(day, practitioner)
                or establishment_closed(day, convention)
                or school_holiday(day, convention)
            ):
                reasons[reason.split(" (")[0]].append(day)
            elif non_working_weekday(day, practitioner):
                reasons["days not worked"].append(day)
            else:
                reasons["outside the group's dates"].append(day)
    parts = []
    for name, days in reasons.items():
        if name == "days not worked":
            parts.append(f"{name} ({len(days)})")
        else:
            parts.append(f"{name} ({describe_ranges(days)})")
    return ", ".join(parts)


def _with_lookahead(demands: list[Demand]) -> list[Demand]:
    """Give each demand the last workable day of its group's next period, if also to place."""
    last_day = {(d.group_key, d.period): max(d.days) for d in demands if d.days}
    return [
        replace(demand, next_last=last_day.get((demand.group_key, _next_period(demand.period))))
        for demand in demands
    ]


def _next_period(period: Period) -> Period:
    """The period after ``period`` in its cadence (2025-12 -> 2026-01, 2025-Q4 -> 2026-Q1)."""
    count = 12 // CADENCE_MONTHS[period.cadence]
    if period.index == count:
        return Period(period.year + 1, period.cadence, 1)
    return Period(period.year, period.cadence, period.index + 1)


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
            f"; {travel_blocked} slot(s) too close to a session at another site (the travel "
            "time between the two sites)"
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


@dataclass(frozen=True)
class PreferenceMiss:
    """A session away from its group's preferred weekday or slot, and why."""

    session: str
    day: date
    start: time
    missed: str  # "on a friday (prefers thursday)", "at 09:00 (prefers 14:00)"
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.session} on {self.day:%A} {self.day} {self.start:%H:%M}: {self.missed}"


def unworkable_preferences(
    conventions: dict[str, Convention], practitioner: Practitioner
) -> list[tuple[str, str]]:
    """Groups whose preferred weekdays are all days the practitioner never works
    (``working_weekdays``): the planner can never honour the preference, so each session of
    the group misses it. By convention: ``(convention id, message)``."""
    found = []
    for conv_id, convention in conventions.items():
        for group in convention.groups:
            preferred = group.preferences.weekdays
            if preferred and not set(preferred) & set(practitioner.working_weekdays):
                found.append(
                    (
                        conv_id,
                        f"group {group.id} prefers {', '.join(preferred)}, never a day the "
                        "practitioner works (practitioner.yaml: working_weekdays): the "
                        "preference cannot be met",
                    )
                )
    return found


def preference_misses(
    sessions: list[Session],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    group_key: str | None = None,
) -> list[PreferenceMiss]:
    """Each session (of ``group_key`` when given: ``CONVENTION/GROUP``) that misses its group's
    preferences, with why each preferred day and slot of its period was not taken: the rule
    that blocks it, or the session that holds it."""
    misses = []
    live = [s for s in sessions if s.occupies_time]
    travel = TravelTimes(practitioner, conventions)
    for session in sorted(live, key=lambda s: (s.date, s.start, s.id)):
        if group_key is not None and f"{session.convention}/{session.group}" != group_key:
            continue
        convention = conventions[session.convention]
        prefs = convention.group(session.group).preferences
        weekday = WEEKDAYS[session.date.weekday()]
        missed = []
        if prefs.weekdays and weekday not in prefs.weekdays:
            missed.append(f"on a {weekday} (prefers {', '.join(prefs.weekdays)})")
        preferred_starts = {minutes(t) for t in prefs.slots}
        if prefs.slots and session.start_minutes not in preferred_starts:
            wanted = ", ".join(f"{t:%H:%M}" for t in prefs.slots)
            missed.append(f"at {session.start:%H:%M} (prefers {wanted})")
        if missed:
            reasons = _why_not_preferred(session, convention, practitioner, live, travel)
            misses.append(
                PreferenceMiss(
                    session.id, session.date, session.start, "; ".join(missed), tuple(reasons)
                )
            )
    return misses


def _why_not_preferred(
    session: Session,
    convention: Convention,
    practitioner: Practitioner,
    sessions: list[Session],
    travel: TravelTimes,
) -> list[str]:
    """Why each preferred day of the session's period (at a preferred slot) was not taken."""
    group = convention.group(session.group)
    prefs = group.preferences
    period = Period.parse(session.period)
    weekdays = {WEEKDAYS.index(d) for d in prefs.weekdays} or set(range(7))
    starts = sorted(
        {minutes(t) for t in prefs.slots} or {minutes(s.start) for s in convention.slots}
    )
    site = site_key(session.convention, session.location)
    reasons = []
    for month in period.months:
        for day in days_of_month(period.year, month):
            if day.weekday() not in weekdays:
                continue
            blocker = (
                "no session in this month (excluded)"
                if month not in eligible_months(convention, period, group)
                else "outside the convention's term"
                if not is_active(convention, day)
                else hard_blocker(day, convention, practitioner)
            )
            if blocker:
                reasons.append(f"{day}: {blocker}")
                continue
            taken = []
            for start in starts:
                booking = Booking(start, start + convention.session_duration, site, session.id)
                others = [s for s in sessions if s.date == day and s.id != session.id]
                holders = [
                    s
                    for s in others
                    if clash(
                        Booking(
                            s.start_minutes, s.end_minutes, site_key(s.convention, s.location), s.id
                        ),
                        booking,
                        travel,
                    )
                ]
                limit = practitioner.max_sessions_per_day
                if holders:
                    taken.append(
                        f"{start // 60:02d}:{start % 60:02d} taken by "
                        + ", ".join(s.id for s in holders)
                    )
                elif limit is not None and len(others) >= limit:
                    taken.append(f"{limit} sessions already that day (the profile's maximum)")
                else:
                    taken.append(
                        f"{start // 60:02d}:{start % 60:02d} free but left for "
                        "the minimum interval or the school holidays"
                    )
            reasons.append(f"{day}: " + "; ".join(taken))
    return reasons or ["no preferred weekday in its period"]


def _soft_reason(
    session: Session, convention: Convention, day: date, sessions: list[Session]
) -> str:
    """Why a free preferred day was not taken: a soft rule that weighs more, or the record."""
    if convention.school_holidays.policy == "prefer-avoid" and school_holiday(day, convention):
        return "but in school holidays (policy prefer-avoid)"
    cadence = Period.parse(session.period).cadence
    mine = [
        s.date
        for s in sessions
        if (s.convention, s.group) == (session.convention, session.group) and s.id != session.id
    ]
    close = [d for d in mine if abs((d - day).days) < MIN_INTERVAL[cadence]]
    if close:
        return (
            f"but {abs((close[0] - day).days)} days from the group's session of "
            f"{close[0]} (minimum {MIN_INTERVAL[cadence]})"
        )
    return (
        "but the session was already in the calendar of record (`apptool plan --fresh` "
        "re-plans future sessions)"
    )


@lru_cache(maxsize=4096)
def _consecutive(first: str, second: str) -> bool:
    """Whether two periods follow each other (2025-05 -> 2025-06, 2025-Q4 -> 2026-Q1)."""
    a, b = Period.parse(first), Period.parse(second)
    span = CADENCE_MONTHS[a.cadence]
    return (
        a.cadence == b.cadence
        and (b.year * 12 + b.index * span) - (a.year * 12 + a.index * span) == span
    )
