"""The contract's rules after publication, as pure functions (art. 2.1, 4, 9.3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from apptool.domain import contract, lifecycle
from apptool.domain.schedule import Session
from apptool.errors import RuleRefused
from apptool.services import planning
from apptool.store.workspace import Workspace, load_workspace
from conftest import CONVENTION, TODAY, write_workspace


@pytest.fixture
def planned(workspace: Path) -> tuple[Workspace, list[Session]]:
    sessions = planning.plan(workspace, 2025, TODAY).plan.sessions
    return load_workspace(workspace), sessions


def first_of(sessions: list[Session], group: str, period: str) -> Session:
    return next(s for s in sessions if s.group == group and s.period == period)


# --- notice (art. 2.1) ----------------------------------------------------------------------


def test_notice_of_exactly_15_days_is_accepted(planned: tuple[Workspace, list[Session]]) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    requested = session.date.toordinal() - 15
    assert (
        lifecycle.notice_problem(session, ws.conventions["test"], date.fromordinal(requested))
        is None
    )


def test_notice_of_14_days_is_refused_with_the_exact_reason(
    planned: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    requested = date.fromordinal(session.date.toordinal() - 14)
    message = lifecycle.notice_problem(session, ws.conventions["test"], requested)
    assert message == (
        f"requested {requested} for a session on {session.date}: 14 days' "
        "notice, the convention requires 15 (art. 2.1)"
    )


def test_reschedule_refused_with_14_days_notice(planned: tuple[Workspace, list[Session]]) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    requested = date.fromordinal(session.date.toordinal() - 14)
    alternative = lifecycle.alternatives(
        session, sessions, ws.conventions, ws.practitioner, requested
    )[0]
    with pytest.raises(RuleRefused, match="14 days' notice"):
        lifecycle.reschedule(
            session,
            alternative.date,
            alternative.start,
            requested,
            "establishment",
            None,
            False,
            sessions,
            ws.conventions,
            ws.practitioner,
        )


def test_reschedule_accepted_with_15_days_notice_keeps_history(
    planned: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    requested = date.fromordinal(session.date.toordinal() - 15)
    alternative = lifecycle.alternatives(
        session, sessions, ws.conventions, ws.practitioner, requested
    )[0]
    moved = lifecycle.reschedule(
        session,
        alternative.date,
        alternative.start,
        requested,
        "establishment",
        "réunion de service",
        False,
        sessions,
        ws.conventions,
        ws.practitioner,
    )
    assert (moved.date, moved.start, moved.status) == (alternative.date, alternative.start, "moved")
    (change,) = moved.history
    assert (
        change.previous_date,
        change.previous_start,
        change.by,
        change.reason,
        change.notice_days,
    ) == (session.date, session.start, "establishment", "réunion de service", 15)


def test_alternatives_all_obey_every_hard_rule(planned: tuple[Workspace, list[Session]]) -> None:
    ws, sessions = planned
    for session in sessions[:10]:
        requested = date.fromordinal(session.date.toordinal() - 20)
        found = lifecycle.alternatives(
            session, sessions, ws.conventions, ws.practitioner, requested, count=8
        )
        assert found
        for alternative in found:
            candidate = lifecycle.moved_to(
                session, alternative.date, alternative.start, ws.conventions[session.convention]
            )
            assert (
                lifecycle.placement_problems(candidate, sessions, ws.conventions, ws.practitioner)
                == []
            )
            assert alternative.date > requested


def test_alternatives_put_the_same_period_first(planned: tuple[Workspace, list[Session]]) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    found = lifecycle.alternatives(
        session, sessions, ws.conventions, ws.practitioner, date(2025, 4, 1), count=40
    )
    flags = [a.in_period for a in found]
    assert flags == sorted(flags, reverse=True)
    assert all(a.date.month == 5 for a in found if a.in_period)


def _planned_with(tmp_path: Path, old: str, new: str) -> tuple[Workspace, list[Session]]:
    root = write_workspace(tmp_path / "ws", {"test": CONVENTION.replace(old, new, 1)})
    return load_workspace(root), planning.plan(root, 2025, TODAY).plan.sessions


def test_alternatives_avoid_school_holidays_as_the_planner_does(tmp_path: Path) -> None:
    """Under prefer-avoid a day of the school holidays (zone B: 18 October to 2 November 2025)
    comes after every other day of the period, and says so."""
    ws, sessions = _planned_with(tmp_path, "policy: avoid", "policy: prefer-avoid")
    session = first_of(sessions, "alpha", "2025-10")
    found = lifecycle.alternatives(
        session, sessions, ws.conventions, ws.practitioner, date(2025, 9, 1), count=60
    )
    in_period = [a for a in found if a.in_period]
    holidays = [date(2025, 10, 18) <= a.date <= date(2025, 11, 2) for a in in_period]
    assert any(holidays) and not holidays[0]
    assert holidays == sorted(holidays)  # every holiday day after every other one
    assert all(
        "school holidays zone B" in a.reason for a, h in zip(in_period, holidays, strict=True) if h
    )


def test_alternatives_honour_the_group_s_preferred_weekdays(tmp_path: Path) -> None:
    """Planned on Tuesdays, then a preference for Thursdays: the preferred day outranks the
    group's usual one."""
    root = write_workspace(tmp_path / "ws")
    sessions = planning.plan(root, 2025, TODAY).plan.sessions
    assert first_of(sessions, "alpha", "2025-05").date.weekday() != 3
    path = root / "conventions" / "test.yaml"
    path.write_text(
        CONVENTION.replace(
            "{id: alpha, name: Alpha, cadence: monthly, location: office}",
            "{id: alpha, name: Alpha, cadence: monthly, location: office,"
            " preferences: {weekdays: [thursday]}}",
        ),
        encoding="utf-8",
    )
    ws = load_workspace(root)
    session = first_of(sessions, "alpha", "2025-05")
    found = lifecycle.alternatives(
        session, sessions, ws.conventions, ws.practitioner, date(2025, 4, 1), count=30
    )
    thursdays = [a.date.weekday() == 3 for a in found if a.in_period]
    assert thursdays[0] and thursdays == sorted(thursdays, reverse=True)
    assert all("not the group's preferred day" in a.reason for a in found if a.date.weekday() != 3)
    assert all((a.date, a.start) != (session.date, session.start) for a in found)


def test_move_out_of_period_needs_the_flag(planned: tuple[Workspace, list[Session]]) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    outside = next(
        a
        for a in lifecycle.alternatives(
            session, sessions, ws.conventions, ws.practitioner, date(2025, 4, 1), count=200
        )
        if not a.in_period
    )
    with pytest.raises(RuleRefused, match="--allow-move-out"):
        lifecycle.reschedule(
            session,
            outside.date,
            outside.start,
            date(2025, 4, 1),
            "practitioner",
            None,
            False,
            sessions,
            ws.conventions,
            ws.practitioner,
        )
    moved = lifecycle.reschedule(
        session,
        outside.date,
        outside.start,
        date(2025, 4, 1),
        "practitioner",
        None,
        True,
        sessions,
        ws.conventions,
        ws.practitioner,
    )
    assert moved.moved_out_of_period and moved.period == "2025-05"


def test_reschedule_onto_a_public_holiday_is_refused(
    planned: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    with pytest.raises(RuleRefused, match="public holiday"):
        lifecycle.reschedule(
            session,
            date(2025, 5, 8),
            None,
            date(2025, 4, 1),
            "practitioner",
            None,
            False,
            sessions,
            ws.conventions,
            ws.practitioner,
        )


def test_reschedule_onto_another_session_is_refused(
    planned: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    other = first_of(sessions, "beta", "2025-05")
    with pytest.raises(RuleRefused, match="overlaps"):
        lifecycle.reschedule(
            session,
            other.date,
            other.start,
            date(2025, 4, 1),
            "practitioner",
            None,
            False,
            sessions,
            ws.conventions,
            ws.practitioner,
        )


def test_new_date_must_come_after_the_request(planned: tuple[Workspace, list[Session]]) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-10")
    requested = date.fromordinal(session.date.toordinal() - 20)
    with pytest.raises(RuleRefused, match="must come after the request date"):
        lifecycle.reschedule(
            session,
            requested,
            None,
            requested,
            "practitioner",
            None,
            False,
            sessions,
            ws.conventions,
            ws.practitioner,
        )


# --- cancellation (art. 4) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "days_before", "status", "due"),
    [
        ("establishment", 14, "due", True),
        ("establishment", 0, "due", True),
        ("establishment", 15, "report-pending", False),
        ("practitioner", 3, "cancelled", False),
        ("practitioner", 30, "cancelled", False),
    ],
)
def test_cancellation_is_due_only_from_the_establishment_without_notice(
    planned: tuple[Workspace, list[Session]], by: str, days_before: int, status: str, due: bool
) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    requested = date.fromordinal(session.date.toordinal() - days_before)
    others = [s for s in sessions if s.id != session.id]
    result = lifecycle.cancel(
        session,
        by,  # type: ignore[arg-type]
        requested,
        None,
        others,
        ws.conventions,
        ws.practitioner,
    )
    assert (result.session.status, result.due, result.notice_days) == (status, due, days_before)
    assert result.session.history[-1].action == "cancelled"


def test_due_rule_comes_from_the_convention(workspace: Path) -> None:
    text = (workspace / "conventions" / "test.yaml").read_text(encoding="utf-8")
    (workspace / "conventions" / "test.yaml").write_text(
        text + "cancellation: {by_establishment_without_rescheduling: not-due}\n", encoding="utf-8"
    )
    sessions = planning.plan(workspace, 2025, TODAY).plan.sessions
    ws = load_workspace(workspace)
    session = first_of(sessions, "alpha", "2025-05")
    others = [s for s in sessions if s.id != session.id]
    result = lifecycle.cancel(
        session, "establishment", session.date, None, others, ws.conventions, ws.practitioner
    )
    assert not result.due and result.session.status == "cancelled"


def test_a_cancelled_session_cannot_be_cancelled_twice(
    planned: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = planned
    session = first_of(sessions, "alpha", "2025-05")
    others = [s for s in sessions if s.id != session.id]
    once = lifecycle.cancel(
        session, "practitioner", date(2025, 4, 1), None, others, ws.conventions, ws.practitioner
    ).session
    with pytest.raises(RuleRefused, match="already cancelled"):
        lifecycle.cancel(
            once, "practitioner", date(2025, 4, 1), None, others, ws.conventions, ws.practitioner
        )


# --- termination (art. 9.3) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("notice_on", "force_majeure", "end"),
    [
        (date(2026, 3, 10), False, date(2026, 4, 30)),
        (date(2026, 3, 10), True, date(2026, 3, 25)),
        (date(2026, 2, 28), False, date(2026, 3, 31)),
        (date(2026, 3, 1), False, date(2026, 4, 30)),
        (date(2026, 12, 15), False, date(2027, 1, 31)),
        (date(2026, 1, 31), False, date(2026, 2, 28)),
    ],
)
def test_termination_end(notice_on: date, force_majeure: bool, end: date) -> None:
    assert contract.termination_end(notice_on, force_majeure) == end


def test_termination_cancels_later_sessions_not_due(
    planned: tuple[Workspace, list[Session]],
) -> None:
    _, sessions = planned
    cancelled = lifecycle.terminate_sessions(
        sessions, "test", date(2025, 10, 31), date(2025, 9, 20), "establishment", "résiliation"
    )
    assert cancelled
    assert all(s.date > date(2025, 10, 31) and s.status == "cancelled" for s in cancelled)
    assert {s.id for s in cancelled} == {s.id for s in sessions if s.date > date(2025, 10, 31)}
