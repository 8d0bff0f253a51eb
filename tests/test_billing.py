"""Invoice lines and totals from the record (art. 4), exact to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from apptool.domain import lifecycle
from apptool.domain.billing import Consultation, Month, month_lines, totals
from apptool.output.french import euros, long_date
from apptool.output.wording import FRENCH_LINES
from apptool.services import planning
from apptool.store.workspace import load_workspace
from conftest import TODAY


def test_french_formats() -> None:
    assert long_date(date(2025, 5, 13)) == "mardi 13 mai 2025"
    assert euros(Decimal("1234.56")) == "1\u202f234,56\xa0€"


def test_may_2025_invoice_of_the_example_from_its_plan(example: Path) -> None:
    sessions = planning.plan(example, 2025, TODAY).plan.sessions
    ws = load_workspace(example)
    convention = ws.conventions["ccas-dreux"]
    lines = month_lines(convention, sessions, [], Month(2025, 5), date(2025, 6, 1), FRENCH_LINES)
    may = [s for s in sessions if s.date.month == 5]
    assert len(lines) == len(may) == 7  # the quarterly group meets in June
    assert {line.source for line in lines} == {s.id for s in may}
    assert all(line.unit_price == Decimal("150.00") and line.quantity == 1 for line in lines)
    assert totals(lines, None).gross == Decimal("1050.00")
    assert "Pôle seniors 1" in next(
        line.description for line in lines if line.source == "ccas-dreux/seniors-1/2025-05"
    )


def test_only_held_sessions_are_billed(example: Path) -> None:
    sessions = planning.plan(example, 2025, TODAY).plan.sessions
    ws = load_workspace(example)
    mid_may = date(2025, 5, 15)
    lines = month_lines(
        ws.conventions["ccas-dreux"], sessions, [], Month(2025, 5), mid_may, FRENCH_LINES
    )
    assert {line.source for line in lines} == {
        s.id for s in sessions if s.date.month == 5 and s.date < mid_may
    }


def test_due_cancellation_and_individual_consultation(example: Path) -> None:
    sessions = planning.plan(example, 2025, TODAY).plan.sessions
    ws = load_workspace(example)
    convention = ws.conventions["ccas-dreux"]
    target = next(s for s in sessions if s.id == "ccas-dreux/seniors-2/2025-05")
    others = [s for s in sessions if s.id != target.id]
    due = lifecycle.cancel(
        target, "establishment", target.date, "grève", others, ws.conventions, ws.practitioner
    ).session
    early = next(s for s in sessions if s.id == "ccas-dreux/seniors-3/2025-05")
    cancelled_early = lifecycle.cancel(
        early,
        "establishment",
        date(2025, 4, 1),
        None,
        [s for s in sessions if s.id != early.id],
        ws.conventions,
        ws.practitioner,
    ).session
    assert (due.status, cancelled_early.status) == ("due", "report-pending")
    record = [
        due if s.id == due.id else cancelled_early if s.id == cancelled_early.id else s
        for s in sessions
    ]
    consultation = Consultation("ccas-dreux/individual/2025-05-14/1", date(2025, 5, 14), 90)
    lines = month_lines(
        convention, record, [consultation], Month(2025, 5), date(2025, 6, 1), FRENCH_LINES
    )
    by_source = {line.source: line for line in lines}
    assert cancelled_early.id not in by_source
    assert by_source[due.id].kind == "cancellation"
    assert "due (art. 4 de la convention)" in by_source[due.id].description
    individual = by_source[consultation.id]
    assert (individual.quantity, individual.unit, individual.amount) == (
        Decimal("1.50"),
        "hour",
        Decimal("120.00"),
    )
    assert individual.description == "Consultation individuelle — mercredi 14 mai 2025 — 1 h 30"
    assert totals(lines, None).gross == Decimal("1020.00")  # 6 x 150 + 120


def test_totals_with_vat_are_exact_to_the_cent() -> None:
    from apptool.domain.billing import Line

    lines = [
        Line(
            kind="session",
            day=date(2025, 5, 1),
            description="x",
            quantity=Decimal(1),
            unit="session",
            unit_price=Decimal("150.00"),
            source="a",
        ),
        Line(
            kind="individual",
            day=date(2025, 5, 2),
            description="y",
            quantity=Decimal("1.50"),
            unit="hour",
            unit_price=Decimal("80.00"),
            source="b",
        ),
    ]
    result = totals(lines, Decimal("20"))
    assert (result.net, result.vat, result.gross) == (
        Decimal("270.00"),
        Decimal("54.00"),
        Decimal("324.00"),
    )
