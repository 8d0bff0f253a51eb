"""Each hard rule of the planner has a test that fails if the rule is dropped."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from apptool.domain.calendar_fr import public_holidays, school_holidays
from apptool.domain.hard_rules import plan_violations
from apptool.domain.planner import Plan
from apptool.domain.schedule import Session
from apptool.errors import NoValidPlan
from apptool.services import planning
from apptool.store.workspace import load_workspace
from conftest import CONVENTION, PRACTITIONER, TODAY, write_workspace

ONE_GROUP = """\
kind: convention
title: One group
establishment: {name: Client, address: [Somewhere]}
period: {start: START, end: END, renewal: none}
fees: {group_session: {amount: 150, per: session}}
session_duration: 1h30
slots: ["09:00-10:30", "10:30-12:00", "13:30-15:00", "15:00-16:30"]
notice_days: 15
school_holidays: {zone: B, policy: POLICY}
CLOSURES
locations: [{id: site, name: Site}, {id: other, name: Other site}]
groups:
  - {id: g1, name: Group 1, cadence: monthly, location: site}
"""


def one_group(
    start: str,
    end: str,
    policy: str = "avoid",
    closures: str = "closures: []",
    extra_groups: str = "",
) -> str:
    text = (
        ONE_GROUP.replace("START", start)
        .replace("END", end)
        .replace("POLICY", policy)
        .replace("CLOSURES", closures)
    )
    return text + extra_groups


def practitioner(
    weekdays: str = "[monday, tuesday, wednesday, thursday, friday]",
    unavailability: str = "[]",
    travel: int = 30,
    extra: str = "",
) -> str:
    return (
        f"name: P\nworking_weekdays: {weekdays}\nunavailability: {unavailability}\n"
        f"travel_minutes: {travel}\n{extra}"
    )


def plan_of(
    tmp_path: Path, conventions: dict[str, str], profile: str = PRACTITIONER, year: int = 2025
) -> Plan:
    root = write_workspace(tmp_path / "ws", conventions, profile)
    return planning.plan(root, year, TODAY).plan


def assert_no_violation(tmp_path: Path, sessions: list[Session]) -> None:
    ws = load_workspace(tmp_path / "ws")
    assert plan_violations(sessions, ws.conventions, ws.practitioner) == []


# --- each group meets exactly once per cadence period --------------------------------------


def test_each_group_meets_once_per_month_and_quarter(tmp_path: Path) -> None:
    result = plan_of(tmp_path, {"test": CONVENTION})
    periods = Counter((s.group, s.period) for s in result.sessions)
    assert set(periods.values()) == {1}
    assert sorted(p for g, p in periods if g == "alpha") == [
        "2025-04",
        "2025-05",
        "2025-06",
        "2025-09",
        "2025-10",
        "2025-11",
        "2025-12",
    ]
    assert sorted(p for g, p in periods if g == "gamma") == ["2025-Q2", "2025-Q3", "2025-Q4"]


def test_excluded_months_have_no_session(tmp_path: Path) -> None:
    result = plan_of(tmp_path, {"test": CONVENTION})
    assert not [s for s in result.sessions if s.date.month in (7, 8)]


def test_quarterly_group_meets_in_september_when_july_and_august_are_excluded(
    tmp_path: Path,
) -> None:
    result = plan_of(tmp_path, {"test": CONVENTION})
    q3 = next(s for s in result.sessions if s.period == "2025-Q3")
    assert q3.date.month == 9


def test_tacit_renewal_keeps_the_convention_active_next_year(tmp_path: Path) -> None:
    result = plan_of(tmp_path, {"test": CONVENTION}, year=2026)
    assert len(result.sessions) == 2 * 10 + 4


def test_no_renewal_means_no_session_after_the_end(tmp_path: Path) -> None:
    text = CONVENTION.replace("renewal: tacit-yearly", "renewal: none")
    assert plan_of(tmp_path, {"test": text}, year=2026).sessions == []


def test_termination_ends_the_sessions(tmp_path: Path) -> None:
    text = CONVENTION.replace(
        "renewal: tacit-yearly", "renewal: tacit-yearly\n  termination: 2026-04-30"
    )
    result = plan_of(tmp_path, {"test": text}, year=2026)
    assert max(s.date for s in result.sessions) <= date(2026, 4, 30)
    assert sorted({s.period for s in result.sessions if s.group == "alpha"}) == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
    ]


def test_example_totals_52_in_2025_and_74_in_2026(example: Path) -> None:
    assert len(planning.plan(example, 2025, TODAY).plan.sessions) == 52
    assert len(planning.plan(example, 2026, TODAY).plan.sessions) == 74


# --- days -----------------------------------------------------------------------------------


def test_only_on_working_weekdays(tmp_path: Path) -> None:
    result = plan_of(tmp_path, {"test": CONVENTION}, practitioner("[tuesday]"))
    assert {s.date.weekday() for s in result.sessions} == {1}


def test_never_on_a_public_holiday(tmp_path: Path) -> None:
    # Thursdays of May 2025: the 1st, 8th and 29th are public holidays.
    text = one_group("2025-05-01", "2025-05-31", "ignore")
    result = plan_of(tmp_path, {"c": text}, practitioner("[thursday]"))
    (session,) = result.sessions
    assert session.date == date(2025, 5, 15)
    assert session.date not in public_holidays(2025)


def test_never_on_a_day_of_unavailability(tmp_path: Path) -> None:
    text = one_group("2025-09-01", "2025-09-30")
    result = plan_of(
        tmp_path, {"c": text}, practitioner(unavailability="[{from: 2025-09-01, to: 2025-09-12}]")
    )
    assert result.sessions[0].date == date(2025, 9, 15)


def test_never_on_an_establishment_closure(tmp_path: Path) -> None:
    text = one_group(
        "2025-09-01",
        "2025-09-30",
        closures="closures: [{from: 2025-09-01, to: 2025-09-05, reason: travaux}]",
    )
    result = plan_of(tmp_path, {"c": text})
    assert result.sessions[0].date == date(2025, 9, 8)


def test_avoid_policy_never_plans_in_school_holidays(tmp_path: Path) -> None:
    # Zone B spring holidays 2025: 5-21 April.
    text = one_group("2025-04-05", "2025-04-30")
    result = plan_of(tmp_path, {"c": text})
    assert result.sessions[0].date == date(2025, 4, 22)
    assert result.sessions[0].date not in school_holidays("B", 2025)


def test_prefer_avoid_uses_school_holidays_only_when_nothing_else_fits(tmp_path: Path) -> None:
    outside = plan_of(tmp_path / "a", {"c": one_group("2025-04-01", "2025-04-30", "prefer-avoid")})
    assert outside.sessions[0].date not in school_holidays("B", 2025)
    inside = plan_of(tmp_path / "b", {"c": one_group("2025-04-07", "2025-04-18", "prefer-avoid")})
    assert inside.sessions[0].date in school_holidays("B", 2025)
    assert inside.report.in_school_holidays == ["c/g1/2025-04"]


def test_avoid_policy_with_only_school_holidays_is_no_valid_plan(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"c": one_group("2025-04-07", "2025-04-18")})
    with pytest.raises(NoValidPlan) as failure:
        planning.plan(root, 2025, TODAY)
    message = str(failure.value.problems[0])
    assert "2025-04" in message and "school holidays zone B (7-18 April)" in message
    assert not (root / "calendars" / "2025.yaml").exists()


# --- slots and duration ---------------------------------------------------------------------


def test_sessions_start_at_a_slot_and_last_the_duration(tmp_path: Path) -> None:
    text = CONVENTION.replace("session_duration: 1h30", "session_duration: 1h")
    result = plan_of(tmp_path, {"test": text})
    starts = {"09:00", "10:30", "13:30", "15:00"}
    for session in result.sessions:
        assert f"{session.start:%H:%M}" in starts
        assert session.end_minutes - session.start_minutes == 60


# --- one practitioner -----------------------------------------------------------------------


def test_no_two_sessions_overlap_across_conventions(tmp_path: Path) -> None:
    a = one_group("2025-09-01", "2025-09-30").replace(
        '["09:00-10:30", "10:30-12:00", "13:30-15:00", "15:00-16:30"]', '["09:00-10:30"]'
    )
    b = a.replace('["09:00-10:30"]', '["10:00-11:30"]')
    result = plan_of(tmp_path, {"a": a, "b": b}, practitioner("[tuesday]"))
    first, second = result.sessions
    assert first.date != second.date
    assert_no_violation(tmp_path, result.sessions)


def test_travel_time_between_sites_is_respected(tmp_path: Path) -> None:
    # One day only, back-to-back morning slots: two sites cannot share the morning.
    text = one_group(
        "2025-09-02",
        "2025-09-02",
        extra_groups=("  - {id: g2, name: Group 2, cadence: monthly, location: other}\n"),
    )
    result = plan_of(tmp_path, {"c": text}, practitioner(travel=30))
    by_site = {s.location: s for s in result.sessions}
    gap = by_site["other"].start_minutes - by_site["site"].end_minutes
    gap = gap if gap >= 0 else by_site["site"].start_minutes - by_site["other"].end_minutes
    assert gap >= 30


def test_travel_time_that_cannot_fit_is_no_valid_plan(tmp_path: Path) -> None:
    text = one_group(
        "2025-09-02",
        "2025-09-02",
        extra_groups=("  - {id: g2, name: Group 2, cadence: monthly, location: other}\n"),
    ).replace(
        '["09:00-10:30", "10:30-12:00", "13:30-15:00", "15:00-16:30"]',
        '["09:00-10:30", "10:30-12:00"]',
    )
    with pytest.raises(NoValidPlan):
        plan_of(tmp_path / "a", {"c": text}, practitioner(travel=30))
    assert len(plan_of(tmp_path / "b", {"c": text}, practitioner(travel=0)).sessions) == 2


def test_max_sessions_per_day_is_respected(tmp_path: Path) -> None:
    result = plan_of(
        tmp_path, {"test": CONVENTION}, practitioner(extra="max_sessions_per_day: 1\n")
    )
    assert max(Counter(s.date for s in result.sessions).values()) == 1


# --- the calendar of record -----------------------------------------------------------------


def test_sessions_in_the_calendar_file_stay_where_they_are(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    first = planning.plan(root, 2025, TODAY).plan
    path = root / "calendars" / "2025.yaml"
    moved = first.sessions[0]
    text = path.read_text(encoding="utf-8")
    # Move the first session by hand to the last Friday of its month, 15:00.
    new_day = date(2025, 4, 25)
    text = text.replace(
        f"date: '{moved.date}'\n  end: '{moved.end:%H:%M}'\n  group: "
        f"{moved.group}\n  id: {moved.id}",
        f"date: '{new_day}'\n  end: '{moved.end:%H:%M}'\n  group: {moved.group}\n  id: {moved.id}",
        1,
    )
    path.write_text(text, encoding="utf-8")
    again = planning.plan(root, 2025, TODAY).plan
    assert next(s for s in again.sessions if s.id == moved.id).date == new_day
    assert again.placed == []


def test_new_group_is_placed_without_moving_published_sessions(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    before = {s.id: (s.date, s.start) for s in planning.plan(root, 2025, TODAY).plan.sessions}
    text = CONVENTION + "  - {id: delta, name: Delta, cadence: monthly, location: home}\n"
    (root / "conventions" / "test.yaml").write_text(text, encoding="utf-8")
    after = planning.plan(root, 2025, TODAY).plan
    assert {s.id: (s.date, s.start) for s in after.sessions if s.id in before} == before
    assert len(after.placed) == 7


def test_once_a_year_is_planned_new_sessions_go_after_today(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    planning.plan(root, 2025, TODAY)
    text = CONVENTION + "  - {id: delta, name: Delta, cadence: monthly, location: home}\n"
    (root / "conventions" / "test.yaml").write_text(text, encoding="utf-8")
    result = planning.plan(root, 2025, date(2025, 10, 15)).plan
    delta = sorted(s.period for s in result.sessions if s.group == "delta")
    assert delta == ["2025-10", "2025-11", "2025-12"]
    assert all(s.date > date(2025, 10, 15) for s in result.sessions if s.group == "delta")
    assert "test/delta/2025-04" in result.skipped_past


def test_fresh_replans_only_future_sessions(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    first = planning.plan(root, 2025, TODAY).plan
    today = date(2025, 9, 30)
    again = planning.plan(root, 2025, today, fresh=True).plan
    past = {s.id: s.date for s in first.sessions if s.date <= today}
    assert {s.id: s.date for s in again.sessions if s.id in past} == past
    assert all(s.date > today for s in again.sessions if s.id in again.placed)


def test_planning_is_deterministic(tmp_path: Path) -> None:
    roots = [write_workspace(tmp_path / name) for name in ("a", "b")]
    for root in roots:
        planning.plan(root, 2025, TODAY)
    texts = [(root / "calendars" / "2025.yaml").read_bytes() for root in roots]
    assert texts[0] == texts[1]


# --- soft goals on the example ---------------------------------------------------------------


def test_example_needs_at_most_three_trips_a_month(example: Path) -> None:
    report = planning.plan(example, 2026, TODAY).plan.report
    assert max(report.trips_per_month.values()) <= 3


def test_example_monthly_sessions_are_at_least_21_days_apart(example: Path) -> None:
    report = planning.plan(example, 2026, TODAY).plan.report
    assert report.short_intervals == []
    assert report.intervals["monthly"][0] >= 21


def test_example_plan_breaks_no_hard_rule(example: Path) -> None:
    result = planning.plan(example, 2025, TODAY).plan
    ws = load_workspace(example)
    assert plan_violations(result.sessions, ws.conventions, ws.practitioner) == []


# --- counting before searching --------------------------------------------------------------


def test_more_sessions_than_free_slots_is_refused_with_one_line_per_month_and_site(
    tmp_path: Path,
) -> None:
    """30 monthly groups on one site, Tuesdays only: 4 or 5 Tuesdays a month x 4 slots."""
    groups = "".join(
        f"  - {{id: g{n}, name: G{n}, cadence: monthly, location: office}}\n" for n in range(30)
    )
    text = CONVENTION[: CONVENTION.index("groups:")] + "groups:\n" + groups
    profile = PRACTITIONER.replace("[monday, tuesday, wednesday, thursday, friday]", "[tuesday]")
    root = write_workspace(tmp_path / "ws", {"test": text}, practitioner=profile)
    with pytest.raises(NoValidPlan) as failure:
        planning.plan(root, 2025, TODAY)
    lines = [str(p) for p in failure.value.problems]
    months = [line.split("locations[0]: ")[1].split(" ")[0] for line in lines]
    assert months == sorted(set(months))  # one line per month (and site), in order
    may = next(line for line in lines if ": 2025-05 Office:" in line)
    assert "30 sessions, 16 free slots (4 workable days × 4 slots): 14 short" in may
    assert "days not worked" in may
    assert may.startswith("conventions/test.yaml:") and "locations[0]" in may
    assert not (root / "calendars" / "2025.yaml").exists()
