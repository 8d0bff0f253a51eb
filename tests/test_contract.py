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


def test_a_cancelled_session_moves_without_the_notice(
    summer: tuple[Workspace, list[Session]],
) -> None:
    """The notice is about moving a planned date; the report of a session already cancelled
    (with notice, not due) can be agreed later, days before the new date."""
    ws, sessions = summer
    may = session_of(sessions, "alpha", "2025-05")
    cancelled = lifecycle.cancel(
        may, "establishment", may.date - timedelta(days=20), None, ws.conventions["test"]
    ).session
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
    moved = lifecycle.reschedule(
        cancelled,
        new_day,
        None,
        requested,
        "establishment",
        None,
        False,
        others,
        ws.conventions,
        ws.practitioner,
    )
    assert (moved.status, moved.date) == ("moved", new_day)
    assert not contract.move_needs_notice(cancelled)
    assert contract.move_needs_notice(may)
    with pytest.raises(RuleRefused, match="3 days' notice, the convention requires 15"):
        lifecycle.reschedule(
            may,
            new_day,
            None,
            requested,
            "establishment",
            None,
            False,
            others,
            ws.conventions,
            ws.practitioner,
        )


@pytest.mark.parametrize(
    ("by", "given", "due"),
    [("establishment", 14, True), ("establishment", 15, False), ("practitioner", 1, False)],
)
def test_cancellation_due_only_from_the_establishment_without_notice(
    summer: tuple[Workspace, list[Session]], by: str, given: int, due: bool
) -> None:
    ws, _ = summer
    assert contract.cancellation_due(by, given, ws.conventions["test"]) is due  # type: ignore[arg-type]


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
