"""The contract's clauses (``domain/contract.py``), each pinned by a test that fails when the
rule is broken: every other module asks these functions, so a wrong clause shows here."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from apptool.domain import contract, lifecycle
from apptool.domain.hard_rules import placement_problems
from apptool.domain.orders import OrderStatus
from apptool.domain.schedule import Session
from apptool.errors import RuleRefused
from apptool.services import planning
from apptool.store.workspace import Workspace, load_workspace
from conftest import CONVENTION, TODAY, write_workspace

#: School holidays ignored: July and August are then workable days, so only the excluded
#: months of art. 2.1 keep sessions out of them.
NO_SCHOOL = CONVENTION.replace("policy: avoid", "policy: ignore")


@pytest.fixture
def summer(tmp_path: Path) -> tuple[Workspace, list[Session]]:
    root = write_workspace(tmp_path / "ws", {"test": NO_SCHOOL})
    sessions = planning.plan(root, 2025, TODAY).plan.sessions
    return load_workspace(root), sessions


def session_of(sessions: list[Session], group: str, period: str) -> Session:
    return next(s for s in sessions if s.group == group and s.period == period)


def workable_day(ws: Workspace, sessions: list[Session], month: int) -> date:
    """A weekday of ``month`` 2025 with no session and no public holiday."""
    day = date(2025, month, 1)
    busy = {s.date for s in sessions}
    while day.weekday() >= 5 or day in busy or day in (date(2025, 7, 14), date(2025, 8, 15)):
        day += timedelta(days=1)
    return day


# --- art. 2.1: excluded months, and a moved session stays in its period ---------------------


@pytest.mark.parametrize("month", [7, 8])
def test_month_excluded_is_the_conventions_list(
    summer: tuple[Workspace, list[Session]], month: int
) -> None:
    ws, _ = summer
    assert contract.month_excluded(ws.conventions["test"], month)
    assert not contract.month_excluded(ws.conventions["test"], 6)


def test_no_session_is_planned_in_july_or_august(summer: tuple[Workspace, list[Session]]) -> None:
    _, sessions = summer
    assert {s.date.month for s in sessions}.isdisjoint({7, 8})


def test_a_move_out_of_its_period_is_refused_without_the_flag(
    summer: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = summer
    june = session_of(sessions, "alpha", "2025-06")
    september = workable_day(ws, sessions, 9)
    with pytest.raises(RuleRefused, match="outside the session's period 2025-06"):
        lifecycle.reschedule(
            june,
            september,
            None,
            date(2025, 5, 1),
            "establishment",
            None,
            False,
            [s for s in sessions if s.id != june.id],
            ws.conventions,
            ws.practitioner,
        )


@pytest.mark.parametrize("month", [7, 8])
def test_a_moved_session_never_lands_in_an_excluded_month(
    summer: tuple[Workspace, list[Session]], month: int
) -> None:
    """Even with --allow-move-out, July and August stay without sessions (art. 2.1)."""
    ws, sessions = summer
    june = session_of(sessions, "alpha", "2025-06")
    day = workable_day(ws, sessions, month)
    others = [s for s in sessions if s.id != june.id]
    with pytest.raises(RuleRefused, match="no session in an excluded month"):
        lifecycle.reschedule(
            june,
            day,
            None,
            date(2025, 5, 1),
            "establishment",
            None,
            True,
            others,
            ws.conventions,
            ws.practitioner,
        )
    candidate = lifecycle.moved_to(june, day, june.start, ws.conventions["test"])
    assert f"{day}: no session in an excluded month (art. 2.1)" in placement_problems(
        candidate, others, ws.conventions, ws.practitioner
    )


def test_a_session_in_its_period_has_no_period_problem(
    summer: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = summer
    june = session_of(sessions, "alpha", "2025-06")
    assert contract.period_problem(june, ws.conventions["test"]) is None
    moved = june.model_copy(update={"date": workable_day(ws, sessions, 9)})
    assert contract.period_problem(moved, ws.conventions["test"]) == (
        f"{moved.date} is not in an eligible month of period 2025-06"
    )


# --- art. 2.1 and 4: notice, and a cancelled session moved without it ----------------------


def _cancel(
    ws: Workspace,
    sessions: list[Session],
    session: Session,
    by: str,
    requested: date,
    no_report: bool = False,
) -> lifecycle.CancellationResult:
    return lifecycle.cancel(
        session,
        by,
        requested,
        None,  # type: ignore[arg-type]
        [s for s in sessions if s.id != session.id],
        ws.conventions,
        ws.practitioner,
        no_report,
    )


def _move(
    ws: Workspace, sessions: list[Session], session: Session, day: date, requested: date
) -> Session:
    return lifecycle.reschedule(
        session,
        day,
        None,
        requested,
        "establishment",
        None,
        False,
        [s for s in sessions if s.id != session.id],
        ws.conventions,
        ws.practitioner,
    )


def test_a_cancelled_session_moves_without_the_notice(
    summer: tuple[Workspace, list[Session]],
) -> None:
    """The notice is about moving a planned date; a session the practitioner cancelled (not
    due) can be rescheduled later, days before the new date."""
    ws, sessions = summer
    may = session_of(sessions, "alpha", "2025-05")
    cancelled = _cancel(ws, sessions, may, "practitioner", may.date - timedelta(days=20)).session
    assert cancelled.status == "cancelled"
    requested = may.date - timedelta(days=3)
    others = [s for s in sessions if s.id != may.id]
    new_day = next(
        a.date
        for a in lifecycle.alternatives(
            cancelled, others, ws.conventions, ws.practitioner, requested, 20
        )
        if a.in_period
    )
    moved = _move(ws, sessions, cancelled, new_day, requested)
    assert (moved.status, moved.date) == ("moved", new_day)
    assert not contract.move_needs_notice(cancelled)
    assert contract.move_needs_notice(may)
    with pytest.raises(RuleRefused, match="3 days' notice, the convention requires 15"):
        _move(ws, sessions, may, new_day, requested)


def test_a_cancellation_by_the_establishment_awaits_its_report_then_moves(
    summer: tuple[Workspace, list[Session]],
) -> None:
    """Art. 4: cancelled 17 days ahead, a report is possible: pending, with its dates; the
    report keeps the notice of the cancellation (17 days), so it may be agreed later."""
    ws, sessions = summer
    may = session_of(sessions, "alpha", "2025-05")
    result = _cancel(ws, sessions, may, "establishment", may.date - timedelta(days=17))
    assert (result.status, result.due) == ("report-pending", False)
    assert result.reports and all(a.in_period for a in result.reports)
    pending = result.session
    moved = _move(ws, sessions, pending, result.reports[0].date, may.date - timedelta(days=2))
    assert (moved.status, moved.date) == ("moved", result.reports[0].date)


def test_no_report_makes_a_pending_cancellation_due(
    summer: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = summer
    may = session_of(sessions, "alpha", "2025-05")
    pending = _cancel(ws, sessions, may, "establishment", may.date - timedelta(days=17)).session
    due = _cancel(
        ws, sessions, pending, "establishment", may.date - timedelta(days=16), no_report=True
    )
    assert due.status == "due" and due.session.history[-1].status == "due"
    with pytest.raises(RuleRefused, match="report pending"):
        _cancel(ws, sessions, pending, "practitioner", may.date - timedelta(days=16))


def test_a_late_cancellation_leaves_no_report_and_is_due_at_once(
    summer: tuple[Workspace, list[Session]],
) -> None:
    ws, sessions = summer
    may = session_of(sessions, "alpha", "2025-05")
    result = _cancel(ws, sessions, may, "establishment", may.date - timedelta(days=10))
    assert (result.status, result.reports) == ("due", [])


@pytest.mark.parametrize(
    ("by", "report", "no_report", "status"),
    [
        ("establishment", True, False, "report-pending"),
        ("establishment", False, False, "due"),
        ("establishment", True, True, "due"),
        ("practitioner", False, False, "cancelled"),
        ("practitioner", True, True, "cancelled"),
    ],
)
def test_a_cancellation_is_due_only_from_the_establishment_without_report(
    summer: tuple[Workspace, list[Session]],
    by: str,
    report: bool,
    no_report: bool,
    status: str,
) -> None:
    """Art. 4: "sans report possible ... la prestation sera due"; never by the practitioner."""
    ws, _ = summer
    assert contract.cancellation_status(by, ws.conventions["test"], report, no_report) == status  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "dates_left", "possible"), [(15, True, True), (14, True, False), (30, False, False)]
)
def test_a_report_needs_the_notice_and_a_date_left(
    summer: tuple[Workspace, list[Session]], given: int, dates_left: bool, possible: bool
) -> None:
    ws, _ = summer
    assert contract.report_possible(given, ws.conventions["test"], dates_left) is possible


# --- art. 9.3: termination -----------------------------------------------------------------


def test_the_earlier_termination_date_ends_the_convention() -> None:
    assert contract.effective_termination(date(2025, 10, 31), date(2025, 11, 30)) == date(
        2025, 10, 31
    )
    assert contract.effective_termination(date(2025, 11, 30), date(2025, 10, 31)) == date(
        2025, 10, 31
    )
    assert contract.effective_termination(None, date(2025, 10, 31)) == date(2025, 10, 31)
    assert contract.effective_termination(None, None) is None


@pytest.mark.parametrize(
    ("written", "recorded", "end"),
    [
        ("2025-10-31", "2025-11-30", date(2025, 10, 31)),
        ("2025-11-30", "2025-10-31", date(2025, 10, 31)),
    ],
)
def test_a_recorded_termination_never_extends_the_written_one(
    tmp_path: Path, written: str, recorded: str, end: date
) -> None:
    text = CONVENTION.replace(
        "renewal: tacit-yearly", f"renewal: tacit-yearly\n  termination: {written}"
    )
    root = write_workspace(tmp_path / "ws", {"test": text})
    (root / "records").mkdir()
    (root / "records" / "terminations.yaml").write_text(
        "terminations:\n- convention: test\n  notice_on: 2025-09-01\n"
        f"  effective_end: {recorded}\n",
        encoding="utf-8",
    )
    convention = load_workspace(root).conventions["test"]
    assert convention.period.termination == end
    assert contract.active_until(convention) == end


# --- framework agreements: the order warning ------------------------------------------------


@pytest.mark.parametrize(
    ("consumed", "warned"),
    [(Decimal("2559.99"), False), (Decimal("2560.00"), True), (Decimal("3200.00"), True)],
)
def test_an_order_warns_from_80_percent_of_its_maximum(consumed: Decimal, warned: bool) -> None:
    maximum = Decimal("3200.00")
    assert Decimal("0.8") == contract.ORDER_WARNING_SHARE
    assert (contract.order_warning("BC-1", consumed, maximum) is not None) is warned


def test_the_orders_report_and_the_invoice_warn_alike(tmp_path: Path) -> None:
    """``apptool orders`` and ``apptool invoice`` ask the same clause."""
    from apptool.domain.models import Order

    order = Order.model_validate(
        {
            "number": "BC-1",
            "date": "2025-01-02",
            "unit_price": "320",
            "maximum": "3200",
            "groups": [{"id": "g", "name": "G", "cadence": "monthly", "location": "l"}],
        }
    )
    status = OrderStatus("agreement", order, 10, 10, 8, 8, Decimal("2560.00"))
    assert status.warning == contract.order_warning("BC-1", Decimal("2560.00"), Decimal("3200.00"))
    assert OrderStatus("agreement", order, 10, 10, 7, 7, Decimal("2240.00")).warning is None


def test_an_order_is_never_invoiced_beyond_its_maximum() -> None:
    assert (
        contract.order_maximum_problem("BC-1", Decimal("2880"), Decimal("320"), Decimal("3200"))
        is None
    )
    assert "would exceed its maximum of 3200 EUR HT" in (
        contract.order_maximum_problem("BC-1", Decimal("2880"), Decimal("320.01"), Decimal("3200"))
        or ""
    )


# --- numbers ----------------------------------------------------------------------------------


def test_numbers_follow_one_another_without_gap() -> None:
    assert contract.next_in_series([]) == 1
    assert contract.next_in_series([1, 2, 3]) == 4
    assert contract.series_gaps([1, 2, 3]) == ([], [])
    assert contract.series_gaps([1, 4, 4, 6]) == ([(2, 3, 4), (5, 5, 6)], [4])
