"""Property tests of the planner: random valid workspaces, written as YAML, planned end to end.

Whatever the workspace, planning a year either raises :class:`NoValidPlan` or returns a plan
that breaks no hard rule and holds every required session exactly once. Planning is
deterministic, re-planning over the calendar of record changes nothing, and re-planning the
future (``fresh``) never rewrites the past.

Workspaces are built in a ``tempfile`` folder inside each example (pytest's ``tmp_path`` is
shared by all the examples of a test).
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st

from apptool.domain.planner import build_demands
from apptool.domain.schedule import Session
from apptool.errors import NoValidPlan
from apptool.services import planning
from apptool.store.workspace import load_workspace
from conftest import write_workspace
from oracle import read_contract, required_periods, violations

YEAR = 2026
TODAY = date(2025, 1, 1)
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
#: More examples for a deeper search: APPTOOL_PROPERTY_EXAMPLES=500 pytest tests/test_properties.py
#: (20 random workspaces a run by default, and the edge cases of :data:`EDGE_CASES` every run).
EXAMPLES = int(os.environ.get("APPTOOL_PROPERTY_EXAMPLES", "20"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- random workspaces --------------------------------------------------------------------


def hhmm(total: int) -> str:
    return f"{total // 60:02d}:{total % 60:02d}"


@dataclass(frozen=True)
class Grid:
    """A convention's slots (start, end in minutes) and its session duration."""

    slots: tuple[tuple[int, int], ...]
    duration: int


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    """2-5 non-overlapping slots of 60-120 min, and a session duration that fits them all."""
    count = draw(st.integers(2, 5))
    start = draw(st.sampled_from(range(7 * 60, 10 * 60 + 1, 15)))
    slots = []
    for _ in range(count):
        length = draw(st.sampled_from(range(60, 121, 15)))
        slots.append((start, start + length))
        start += length + draw(st.sampled_from([0, 0, 15, 30, 60]))
    shortest = min(end - begin for begin, end in slots)
    duration = draw(st.sampled_from(range(30, shortest + 1, 15)))
    return Grid(tuple(slots), duration)


@st.composite
def day_ranges(draw: st.DrawFn, most: int) -> list[str]:
    """Ranges of days around the planned year, as YAML flow mappings."""
    ranges = []
    for _ in range(draw(st.integers(0, most))):
        first = date(YEAR - 1, 12, 1) + timedelta(days=draw(st.integers(0, 420)))
        length = draw(st.integers(0, 20))
        end = "" if length == 0 else f", to: {first + timedelta(days=length)}"
        ranges.append(f"{{from: {first}{end}, reason: r}}")
    return ranges


@st.composite
def terms(draw: st.DrawFn) -> str:
    """The convention's period: start, end, renewal and sometimes a termination."""
    start = date(YEAR, 1, 1) + timedelta(days=draw(st.integers(-500, 330)))
    end = start + timedelta(days=draw(st.integers(0, 800)))
    renewal = draw(st.sampled_from(["tacit-yearly", "none"]))
    text = f"{{start: {start}, end: {end}, renewal: {renewal}"
    if draw(st.integers(0, 4)) == 0:
        termination = start + timedelta(days=draw(st.integers(0, 800)))
        text += f", termination: {termination}"
    return text + "}"


@st.composite
def conventions(draw: st.DrawFn, index: int) -> str:
    """One valid convention with 1-12 groups over 1-3 locations."""
    grid = draw(grids())
    locations = draw(st.integers(1, 3))
    excluded = draw(st.sets(st.integers(1, 12), max_size=4))
    zone = draw(st.sampled_from("ABC"))
    policy = draw(st.sampled_from(["avoid", "prefer-avoid", "ignore"]))
    if policy == "avoid" and draw(st.integers(0, 4)):
        excluded |= {7, 8}  # as real conventions do: August is all school holidays
    closures = draw(day_ranges(3))
    groups = []
    for number in range(draw(st.integers(1, 12))):
        cadence = draw(st.sampled_from(["monthly", "monthly", "quarterly"]))
        prefs = []
        if draw(st.booleans()):
            days = draw(st.sets(st.sampled_from(WEEKDAYS[:5]), min_size=1, max_size=2))
            prefs.append(f"weekdays: [{', '.join(sorted(days))}]")
        if draw(st.booleans()):
            prefs.append(f'slots: ["{hhmm(draw(st.sampled_from(grid.slots))[0])}"]')
        preferences = f", preferences: {{{', '.join(prefs)}}}" if prefs else ""
        groups.append(
            f"  - {{id: g{number}, name: Group {number}, cadence: {cadence}, "
            f"location: l{draw(st.integers(0, locations - 1))}{preferences}}}"
        )
    slots = ", ".join(f'"{hhmm(a)}-{hhmm(b)}"' for a, b in grid.slots)
    return (
        "\n".join(
            [
                "kind: convention",
                f"title: Convention {index}",
                "establishment: {name: Client, address: [1 rue de la Paix]}",
                f"period: {draw(terms())}",
                "fees: {group_session: {amount: 150, per: session}}",
                f"session_duration: {grid.duration}min",
                f"slots: [{slots}]",
                f"excluded_months: {sorted(excluded)}",
                "notice_days: 15",
                f"school_holidays: {{zone: {zone}, policy: {policy}}}",
                f"closures: [{', '.join(closures)}]",
                "locations:",
                *(f"  - {{id: l{n}, name: Location {n}}}" for n in range(locations)),
                "groups:",
                *groups,
            ]
        )
        + "\n"
    )


@st.composite
def practitioners(draw: st.DrawFn) -> str:
    """A profile: working weekdays, unavailability, travel time, optional daily cap."""
    if draw(st.integers(0, 3)) == 0:
        weekdays = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))
    else:
        weekdays = set(WEEKDAYS[:5])
    ordered = [day for day in WEEKDAYS if day in weekdays]
    text = (
        f"name: P\nworking_weekdays: [{', '.join(ordered)}]\n"
        f"unavailability: [{', '.join(draw(day_ranges(4)))}]\n"
        f"travel_minutes: {draw(st.integers(0, 60))}\n"
    )
    cap = draw(st.none() | st.integers(1, 4))
    return text if cap is None else text + f"max_sessions_per_day: {cap}\n"


@st.composite
def workspaces(draw: st.DrawFn) -> tuple[dict[str, str], str]:
    """Texts of 1-3 conventions and of the practitioner's profile."""
    count = draw(st.integers(1, 3))
    texts = {f"c{index}": draw(conventions(index)) for index in range(count)}
    return texts, draw(practitioners())


def _convention(
    period: str,
    groups: list[str],
    *,
    slots: str = '"09:00-10:30", "10:30-12:00"',
    more: str = "school_holidays: {zone: B, policy: ignore}",
) -> str:
    """A convention written as :func:`conventions` writes one."""
    return (
        "\n".join(
            [
                "kind: convention",
                "title: Convention 0",
                "establishment: {name: Client, address: [1 rue de la Paix]}",
                f"period: {period}",
                "fees: {group_session: {amount: 150, per: session}}",
                "session_duration: 90min",
                f"slots: [{slots}]",
                *([more] if more else []),
                "notice_days: 15",
                "locations:",
                "  - {id: l0, name: Location 0}",
                "  - {id: l1, name: Location 1}",
                "groups:",
                *groups,
            ]
        )
        + "\n"
    )


def _profile(weekdays: str = "monday, tuesday, wednesday, thursday, friday", more: str = "") -> str:
    return (
        f"name: P\nworking_weekdays: [{weekdays}]\nunavailability: []\ntravel_minutes: 30\n" + more
    )


def _monthly(count: int, location: str = "l0") -> list[str]:
    return [
        f"  - {{id: g{n}, name: Group {n}, cadence: monthly, location: {location}}}"
        for n in range(count)
    ]


#: Workspaces every run tries, whatever the random ones: the planner's two outcomes (a plan,
#: no valid plan) and the contract's edge cases.
EDGE_CASES: dict[str, tuple[dict[str, str], str]] = {
    # one group, the whole year, nothing in the way: an easy workspace, a plan
    "easy": (
        {"c0": _convention("{start: 2026-01-01, end: 2026-12-31, renewal: none}", _monthly(1))},
        _profile(),
    ),
    # the practitioner away all year: a session with no workable day
    "no workable day": (
        {"c0": _convention("{start: 2026-01-01, end: 2026-12-31, renewal: none}", _monthly(2))},
        _profile().replace(
            "unavailability: []", "unavailability: [{from: 2026-01-01, to: 2026-12-31, reason: r}]"
        ),
    ),
    # 24 monthly groups, one session a day on Tuesdays only: no valid plan
    "over capacity": (
        {
            f"c{i}": _convention(
                "{start: 2025-06-01, end: 2026-12-31, renewal: tacit-yearly}", _monthly(12)
            ).replace("title: Convention 0", f"title: Convention {i}")
            for i in range(2)
        },
        _profile("tuesday", "max_sessions_per_day: 1\n"),
    ),
    # terminated within the year, from the year before, quarterly groups with preferences, two
    # sites, closures, excluded months, school holidays avoided, weekends worked, a daily cap
    "terminated": (
        {
            "c0": _convention(
                "{start: 2025-03-01, end: 2027-02-28, renewal: none, termination: 2026-06-15}",
                [
                    "  - {id: g0, name: Group 0, cadence: quarterly, location: l0, "
                    'preferences: {weekdays: [monday], slots: ["10:30"]}}',
                    "  - {id: g1, name: Group 1, cadence: quarterly, location: l1}",
                    "  - {id: g2, name: Group 2, cadence: monthly, location: l1, "
                    "preferences: {weekdays: [friday]}}",
                ],
                more="excluded_months: [2, 7, 8]\nschool_holidays: {zone: C, policy: avoid}\n"
                "closures: [{from: 2026-01-05, to: 2026-01-20, reason: r}, {from: 2026-03-02, "
                "reason: r}]",
            ),
            "c1": _convention(
                "{start: 2025-12-15, end: 2026-03-31, renewal: tacit-yearly}",
                _monthly(3, "l1"),
                slots='"13:30-15:00", "15:15-16:45", "17:00-18:30"',
                more="school_holidays: {zone: A, policy: prefer-avoid}",
            ),
        },
        _profile(
            "monday, tuesday, wednesday, thursday, friday, saturday, sunday",
            "max_sessions_per_day: 2\n",
        ).replace(
            "unavailability: []", "unavailability: [{from: 2026-05-01, to: 2026-05-20, reason: r}]"
        ),
    ),
}


def edge_cases(*more: Any) -> Any:
    """``@example`` of each of :data:`EDGE_CASES` (with ``more`` arguments after it)."""

    def decorate(test: Any) -> Any:
        for spec in reversed(EDGE_CASES.values()):
            test = example(spec, *more)(test)
        return test

    return decorate


# --- helpers ------------------------------------------------------------------------------


@contextmanager
def written(spec: tuple[dict[str, str], str]) -> Iterator[Path]:
    """The workspace of ``spec`` in a fresh temporary folder."""
    texts, profile = spec
    note(profile)
    for conv_id, text in texts.items():
        note(f"--- {conv_id}.yaml\n{text}")
    with tempfile.TemporaryDirectory(prefix="apptool-prop-") as tmp:
        yield write_workspace(Path(tmp) / "ws", texts, textwrap.dedent(profile))


def trivially_feasible(root: Path) -> bool:
    """Whether every required session has more workable days than sessions that compete for
    them: then an empty day is always left for it, and the planner must not fail."""
    workspace = load_workspace(root)
    demands = build_demands(workspace.conventions, workspace.practitioner, YEAR)
    days = [set(d.days) for d in demands]
    return all(
        len(mine) > sum(1 for j, theirs in enumerate(days) if j != i and mine & theirs)
        for i, mine in enumerate(days)
    )


def assert_valid(root: Path, sessions: list[Session]) -> None:
    """No hard rule broken, every required session present, none twice: checked by the
    tests' own reading of the contracts (``oracle.py``), not by the tool's rules."""
    assert violations(root, sessions, YEAR) == []
    ids = [s.id for s in sessions]
    assert len(ids) == len(set(ids))
    assert set(ids) == required_periods(
        {p.stem: read_contract(p) for p in (root / "conventions").glob("*.yaml")}, YEAR
    )


def plan_or_none(
    root: Path, today: date = TODAY, fresh: bool = False, dry_run: bool = False
) -> planning.PlanOutcome | None:
    """The outcome of ``apptool plan``, or None when there is no valid plan."""
    try:
        return planning.plan(root, YEAR, today, fresh=fresh, dry_run=dry_run)
    except NoValidPlan as exc:
        note(f"no valid plan: {exc.lines()}")
        return None


# --- properties ---------------------------------------------------------------------------


@PROPERTY
@given(workspaces())
@edge_cases()
def test_a_plan_breaks_no_hard_rule_and_holds_every_session_once(
    spec: tuple[dict[str, str], str],
) -> None:
    with written(spec) as root:
        outcome = plan_or_none(root)
        if outcome is None:
            workspace = load_workspace(root)
            demands = build_demands(workspace.conventions, workspace.practitioner, YEAR)
            event(
                "no valid plan"
                + ("" if all(d.days for d in demands) else ": a session has no workable day")
            )
            assert not trivially_feasible(root), "the planner failed on an easy workspace"
            return
        event("planned" + (" (easy workspace)" if trivially_feasible(root) else ""))
        assert outcome.warnings == []
        assert_valid(root, outcome.plan.sessions)
        assert sorted(s.id for s in outcome.plan.sessions) == outcome.plan.placed


@PROPERTY
@given(workspaces())
@edge_cases()
def test_planning_is_deterministic(spec: tuple[dict[str, str], str]) -> None:
    with written(spec) as first, written(spec) as second:
        one, two = plan_or_none(first, dry_run=True), plan_or_none(second, dry_run=True)
        assert (one is None) == (two is None)
        if one is not None and two is not None:
            assert one.plan.sessions == two.plan.sessions
            assert one.plan.report == two.plan.report


@PROPERTY
@given(workspaces())
@edge_cases()
def test_replanning_over_the_calendar_of_record_changes_nothing(
    spec: tuple[dict[str, str], str],
) -> None:
    with written(spec) as root:
        outcome = plan_or_none(root)
        if outcome is None:
            return
        again = planning.plan(root, YEAR, TODAY)
        assert again.plan.sessions == outcome.plan.sessions
        assert again.plan.placed == []
        assert again.warnings == []
        checked = planning.check(root, TODAY)
        assert checked.problems == []
        # nothing required is missing (a note on preferences that can never be met may stay)
        assert [n for n in checked.notes if "cannot be met" not in n] == []


@PROPERTY
@given(workspaces(), st.integers(0, 364))
@edge_cases(150)
def test_replanning_the_future_keeps_the_past(
    spec: tuple[dict[str, str], str], offset: int
) -> None:
    with written(spec) as root:
        outcome = plan_or_none(root)
        if outcome is None:
            return
        today = date(YEAR, 1, 1) + timedelta(days=offset)
        again = plan_or_none(root, today=today, fresh=True)
        if again is None:
            event("no valid re-plan")
            return
        assert_valid(root, again.plan.sessions)
        past = [s for s in outcome.plan.sessions if s.date <= today]
        assert [s for s in again.plan.sessions if s.date <= today] == past
        assert all(s.date > today for s in again.plan.sessions if s.id in again.plan.placed)


@PROPERTY
@given(workspaces())
@edge_cases()
def test_the_next_year_plans_around_the_previous_one(spec: tuple[dict[str, str], str]) -> None:
    with written(spec) as root:
        outcome = plan_or_none(root)
        if outcome is None:
            return
        try:
            following = planning.plan(root, YEAR + 1, TODAY)
        except NoValidPlan:
            event("no valid plan the next year")
            return
        both = [*outcome.plan.sessions, *following.plan.sessions]  # no clash across new year
        assert violations(root, both, YEAR + 1) == []
        assert planning.plan(root, YEAR, TODAY).plan.sessions == outcome.plan.sessions
