"""Framework agreements with purchase orders, the practitioner's side."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apptool.cli import app
from apptool.domain.hard_rules import plan_violations
from apptool.services import planning
from apptool.store.workspace import init_workspace, load_workspace
from conftest import write_workspace

runner = CliRunner()
AGREEMENT = "ille-et-vilaine-lot3"


def run(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture
def both(tmp_path: Path) -> Path:
    """The shipped example with the lot 3 agreement copied into conventions/."""
    root = tmp_path / "ws"
    init_workspace(root)
    text = (root / "agreements" / f"{AGREEMENT}.yaml").read_text(encoding="utf-8")
    (root / "conventions" / f"{AGREEMENT}.yaml").write_text(text, encoding="utf-8")
    return root


def agreement_text(root: Path) -> str:
    return (root / "conventions" / f"{AGREEMENT}.yaml").read_text(encoding="utf-8")


def set_agreement(root: Path, text: str) -> None:
    (root / "conventions" / f"{AGREEMENT}.yaml").write_text(text, encoding="utf-8")


def test_ordered_groups_are_planned_with_the_ccas_without_clashes(both: Path) -> None:
    plan = planning.plan(both, 2025, date(2024, 1, 1)).plan
    ordered = [s for s in plan.sessions if s.convention == AGREEMENT]
    assert len([s for s in plan.sessions if s.convention == "ccas-dreux"]) == 52
    monthly = [s for s in ordered if s.group == "rennes-nord-equipe-1"]
    counted = [s for s in ordered if s.group == "fougeres-agrements"]
    assert len(monthly) == 10  # February to December 2025 but August
    assert len(counted) == 6 and all(s.date >= date(2025, 4, 1) for s in counted)
    assert min(s.date for s in monthly) >= date(2025, 2, 1)
    ws = load_workspace(both)
    assert plan_violations(plan.sessions, ws.conventions, ws.practitioner) == []


@pytest.mark.usefixtures("quick_pdf")
def test_invoice_per_order_carries_the_order_number(both: Path) -> None:
    run(both, "plan", "2025", "--today", "2024-01-01")
    code, output = run(both, "invoice", "--month", "2025-06", "--today", "2025-07-01")
    assert code == 0, output
    assert "(order EXEMPLE-BC-2025-014): issued" in output
    assert "(order EXEMPLE-BC-2025-027): issued" in output
    invoices = sorted((both / "invoices").glob("*.xml"))
    orders = []
    for path in invoices:
        xml = path.read_text(encoding="utf-8")
        if "BuyerOrderReferencedDocument" in xml:
            orders.append(
                xml.split("<ram:BuyerOrderReferencedDocument>")[1]
                .split("</ram:IssuerAssignedID>")[0]
                .split(">")[-1]
            )
    assert sorted(orders) == ["EXEMPLE-BC-2025-014", "EXEMPLE-BC-2025-027"]


@pytest.mark.usefixtures("quick_pdf")
def test_invoicing_beyond_the_order_maximum_is_refused(both: Path) -> None:
    set_agreement(both, agreement_text(both).replace("maximum: 3200", "maximum: 640"))
    run(both, "plan", "2025", "--today", "2024-01-01")
    code, output = run(both, "invoice", "--month", "2025-02", "--today", "2025-03-01")
    assert code == 0 and "issued" in output
    code, output = run(both, "invoice", "--month", "2025-03", "--today", "2025-04-01")
    assert code == 0
    assert "warning: order EXEMPLE-BC-2025-014: 100 % of its maximum" in output
    code, output = run(
        both, "invoice", "--month", "2025-04", "--today", "2025-05-01", "--convention", AGREEMENT
    )
    assert code == 4
    assert "would exceed its maximum of 640.00 EUR HT" in output
    code, output = run(both, "orders", "--format", "json", "--today", "2025-05-01")
    first = next(o for o in json.loads(output)["orders"] if o["number"] == "EXEMPLE-BC-2025-014")
    assert (first["invoiced"], first["consumed"], first["share"]) == (2, "640.00", "100.0")


@pytest.mark.usefixtures("quick_pdf")
def test_invoicing_outside_the_agreement_period_is_refused(both: Path) -> None:
    run(both, "plan", "2025", "--today", "2024-01-01")
    # The agreement ends earlier than the published calendar assumed.
    set_agreement(
        both,
        agreement_text(both)
        .replace("end: 2026-02-18", "end: 2025-05-31")
        .replace("sessions: 6", "sessions: 2"),
    )
    code, output = run(
        both, "invoice", "--month", "2025-06", "--today", "2025-07-01", "--convention", AGREEMENT
    )
    assert code == 4 and "outside the agreement's period" in output


def test_single_renewal_extends_the_agreement_only_once_recorded(both: Path) -> None:
    text = agreement_text(both).replace("to: 2025-12-31", "to: 2027-12-31")
    set_agreement(both, text)
    plan = planning.plan(both, 2026, date(2024, 1, 1), dry_run=True).plan
    assert max(s.date for s in plan.sessions if s.convention == AGREEMENT) <= date(2026, 2, 18)
    set_agreement(both, text.replace("renewed: false", "renewed: true"))
    plan = planning.plan(both, 2026, date(2024, 1, 1), dry_run=True).plan
    assert max(s.date for s in plan.sessions if s.convention == AGREEMENT) > date(2026, 9, 1)


def test_order_add_records_an_order_that_plan_then_places(both: Path) -> None:
    run(both, "plan", "2025", "--today", "2024-01-01")
    code, output = run(
        both,
        "order",
        "add",
        AGREEMENT,
        "--number",
        "EXEMPLE-BC-2025-031",
        "--date",
        "2025-06-01",
        "--unit-price",
        "320",
        "--maximum",
        "1280",
        "--group",
        "fougeres-2",
        "--name",
        "Fougères 2",
        "--location",
        "cdas-fougeres",
        "--sessions",
        "4",
        "--from",
        "2025-09-01",
        "--to",
        "2025-12-31",
    )
    assert code == 0, output
    assert agreement_text(both).count("EXEMPLE-BC-2025-031") == 0  # the user's file is intact
    plan = planning.plan(both, 2025, date(2025, 7, 1)).plan
    assert len([s for s in plan.sessions if s.group == "fougeres-2"]) == 4
    code, output = run(
        both,
        "order",
        "add",
        AGREEMENT,
        "--number",
        "EXEMPLE-BC-2025-031",
        "--date",
        "2025-06-01",
        "--unit-price",
        "320",
        "--maximum",
        "1280",
        "--group",
        "fougeres-3",
        "--name",
        "F3",
        "--location",
        "cdas-fougeres",
        "--cadence",
        "monthly",
    )
    assert code == 4 and "already exists" in output


def test_order_add_rejects_bad_input(both: Path) -> None:
    code, output = run(
        both,
        "order",
        "add",
        AGREEMENT,
        "--number",
        "X-1",
        "--date",
        "2025-13-01",
        "--unit-price",
        "320",
        "--maximum",
        "1280",
        "--group",
        "g",
        "--name",
        "G",
        "--location",
        "cdas-fougeres",
        "--cadence",
        "monthly",
    )
    assert code == 2
    code, output = run(
        both,
        "order",
        "add",
        "ccas-dreux",
        "--number",
        "X-1",
        "--date",
        "2025-06-01",
        "--unit-price",
        "320",
        "--maximum",
        "1280",
        "--group",
        "g",
        "--name",
        "G",
        "--location",
        "ccas",
        "--cadence",
        "monthly",
    )
    assert code == 4 and "framework agreement" in output


def test_agreement_yaml_mistakes_are_reported_with_lines(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root)
    text = (root / "agreements" / f"{AGREEMENT}.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "        sessions: 6                       # six sessions between "
        "April and December\n        from: 2025-04-01\n        to: "
        "2025-12-31\n",
        "        sessions: 6\n",
    )
    assert broken != text
    (root / "conventions" / f"{AGREEMENT}.yaml").write_text(broken, encoding="utf-8")
    code, output = run(root, "check")
    assert code == 2
    line = broken.splitlines().index("        sessions: 6") + 1
    assert f"conventions/{AGREEMENT}.yaml:{line}: orders[1].groups[0].sessions" in output


def test_a_convention_cannot_carry_orders(tmp_path: Path) -> None:
    from conftest import CONVENTION

    text = CONVENTION + (
        "orders:\n  - number: X\n    date: 2025-05-01\n    unit_price: 1\n"
        "    maximum: 10\n    groups: [{id: z, name: Z, location: office, "
        "cadence: monthly}]\n"
    )
    root = write_workspace(tmp_path / "ws", {"test": text})
    code, output = run(root, "check")
    assert code == 2 and "orders: only a framework-agreement has purchase orders" in output
