"""Framework agreements with purchase orders, the practitioner's side."""

from __future__ import annotations

import json
import shutil
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
    ordered = [
        p.with_suffix(".md").read_text(encoding="utf-8")
        for p in invoices
        if "BuyerOrderReferencedDocument" in p.read_text(encoding="utf-8")
    ]
    for markdown in ordered:  # an agreement's invoice says so, and cites its order
        assert "Accord-cadre : " in markdown and "N° de bon de commande : EXEMPLE-BC-" in markdown
        assert "Convention : " not in markdown


@pytest.mark.usefixtures("quick_pdf")
def test_invoicing_beyond_the_order_maximum_is_refused(both: Path) -> None:
    set_agreement(both, agreement_text(both).replace("maximum: 3200", "maximum: 640"))
    run(both, "plan", "2025", "--today", "2024-01-01")
    code, output = run(both, "invoice", "--month", "2025-02", "--today", "2025-03-01")
    assert code == 0 and "issued" in output
    code, output = run(both, "invoice", "--month", "2025-03", "--today", "2025-04-01")
    assert code == 0
    assert "warning: order EXEMPLE-BC-2025-014: 100 % of its maximum" in output
    code, listed = run(both, "orders", "--today", "2025-04-01")
    assert "warning: order EXEMPLE-BC-2025-014: 100 % of its maximum" in listed
    assert "order EXEMPLE-BC-2025-014: order" not in listed  # named once
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


# --- issue 14, point 8: orders that fit, problems where they were written ----------------------


def order_add(root: Path, *args: str) -> tuple[int, str]:
    base = ["order", "add", AGREEMENT, "--unit-price", "320", "--location", "cdas-fougeres"]
    return run(root, *base, *args)


def test_an_order_asks_for_sessions_from_its_date_on(both: Path) -> None:
    code, output = order_add(
        both,
        *("--number", "N-0", "--date", "2025-03-01", "--maximum", "640", "--group", "g0"),
        *("--name", "G0", "--sessions", "2", "--from", "2025-01-01", "--to", "2025-04-30"),
    )
    assert code == 4
    assert (
        "group g0: 2025-01-01 is before the order's date (2025-03-01): an order asks for "
        "sessions from its date on"
    ) in " ".join(output.split())


def test_order_add_names_the_option_to_fix(both: Path) -> None:
    code, output = order_add(
        both,
        *("--number", "N-9", "--date", "2025-03-01", "--maximum", "640", "--group", "G 5"),
        *("--name", "G5", "--sessions", "2", "--to", "2025-12-31"),
    )
    assert code == 2 and "Invalid value for --group: 'G 5' is not an identifier" in output


def test_order_add_refuses_sessions_beyond_the_maximum_or_the_months(both: Path) -> None:
    # monthly from January to December but August: 11 sessions x 320 = 3 520 > 3 200
    code, output = order_add(
        both,
        *("--number", "N-1", "--date", "2025-01-20", "--maximum", "3200", "--group", "g1"),
        *("--name", "G1", "--cadence", "monthly", "--from", "2025-01-01", "--to", "2025-12-31"),
    )
    assert code == 4
    assert (
        "11 session(s) x 320.00 EUR = 3520.00 EUR HT exceed the order's maximum of 3200.00 "
        "EUR HT: at most 10 session(s) fit"
    ) in " ".join(output.split())
    # 12 sessions against 320: neither the months nor the maximum
    code, output = order_add(
        both,
        *("--number", "N-2", "--date", "2025-01-20", "--maximum", "320", "--group", "g2"),
        *("--name", "G2", "--sessions", "12", "--from", "2025-01-01", "--to", "2025-12-31"),
    )
    assert code == 4
    text = " ".join(output.split())
    assert "group g2: 12 sessions cannot fit between 2025-01-01 and 2025-12-31" in text
    assert "there are 11: at most 11 can be ordered" in text
    assert "at most 1 session(s) fit" in text
    # 10 sessions from March to December but August: 9 months, at most 9 (never 9 silently)
    code, output = order_add(
        both,
        *("--number", "N-3", "--date", "2025-02-20", "--maximum", "3200", "--group", "g3"),
        *("--name", "G3", "--sessions", "10", "--from", "2025-03-01", "--to", "2025-12-31"),
    )
    assert code == 4 and "there are 9: at most 9 can be ordered" in " ".join(output.split())
    # past the agreement's end (renewal not recorded)
    code, output = order_add(
        both,
        *("--number", "N-4", "--date", "2025-02-20", "--maximum", "3200", "--group", "g4"),
        *("--name", "G4", "--sessions", "4", "--from", "2025-09-01", "--to", "2026-06-30"),
    )
    assert code == 4 and "2026-06-30 is after the agreement's end (2026-02-18)" in output
    code, output = order_add(
        both,
        *("--number", "N-4", "--date", "2025-02-20", "--maximum", "3200", "--group", "g4"),
        *("--name", "G4", "--sessions", "4", "--from", "2025-09-01", "--to", "9999-12-31"),
    )
    assert code == 2 and "9999-12-31 is outside the years 1900-2200" in output
    assert not (both / "records" / "purchase-orders.yaml").exists()
    # the same order that fits is recorded
    code, output = order_add(
        both,
        *("--number", "N-5", "--date", "2025-02-20", "--maximum", "2880", "--group", "g5"),
        *("--name", "G5", "--sessions", "9", "--from", "2025-03-01", "--to", "2025-12-31"),
    )
    assert code == 0, output


def test_the_lots_yearly_maximum_counts_per_agreement_year(both: Path) -> None:
    # EXEMPLE-BC-2025-014 (3 200, dated 2025-01-20) is in agreement year 1 (to 2025-02-18)
    args = ("--group", "g1", "--name", "G1", "--sessions", "1", "--to", "2025-12-31")
    code, output = order_add(
        both, "--number", "N-1", "--date", "2025-02-10", "--maximum", "297000", *args
    )
    assert code == 4
    assert (
        "lot 3, agreement year 1 (2024-02-19 to 2025-02-18): order N-1 (297000.00 EUR HT) would "
        "bring the committed amount to 300200.00 EUR HT, over the yearly maximum 300000.00"
    ) in " ".join(output.split())
    code, output = order_add(
        both, "--number", "N-1", "--date", "2025-02-19", "--maximum", "297000", *args
    )
    assert code == 0, output  # agreement year 2 has only EXEMPLE-BC-2025-027 (1 920)
    code, output = run(both, "orders", "--today", "2025-03-01")
    assert (
        "ille-et-vilaine-lot3, agreement year 2 (2025-02-19 to 2026-02-18): orders 298920.00 "
        "EUR HT (their maxima), 99.6 % of the lot's yearly maximum 300000.00 EUR HT"
    ) in " ".join(output.split())
    code, output = run(both, "orders", "--format", "json", "--today", "2025-03-01")
    assert [o["agreement_year"] for o in json.loads(output)["orders"]] == [1, 2, 2]
    # the ceiling is checked on load too: the order that crosses it, at its line
    set_agreement(both, agreement_text(both).replace("maximum: 1920", "maximum: 299000"))
    code, output = run(both, "check")
    assert code == 2
    line = next(
        n for n, row in enumerate(agreement_text(both).splitlines(), 1) if "maximum: 299000" in row
    )
    assert (
        f"conventions/{AGREEMENT}.yaml:{line}: orders[1].maximum: lot 3, agreement year 2 "
        "(2025-02-19 to 2026-02-18): order EXEMPLE-BC-2025-027 (299000.00 EUR HT) would bring "
        "the committed amount to 596000.00 EUR HT"
    ) in " ".join(output.split())


def test_a_recorded_orders_problem_points_at_the_records_file(both: Path) -> None:
    code, output = order_add(
        both,
        *("--number", "N-1", "--date", "2025-02-20", "--maximum", "1280", "--group", "g1"),
        *("--name", "G1", "--sessions", "4", "--from", "2025-09-01", "--to", "2025-12-31"),
    )
    assert code == 0, output
    path = both / "records" / "purchase-orders.yaml"
    text = path.read_text(encoding="utf-8")
    assert "cadence" not in text and "preferences" not in text  # only what was given
    path.write_text(text.replace("id: g1", "id: rennes-nord-equipe-1"), encoding="utf-8")
    code, output = run(both, "check")
    assert code == 2
    line = path.read_text(encoding="utf-8").splitlines().index("    - from: '2025-09-01'") + 2
    assert (
        f"records/purchase-orders.yaml:{line}: orders[0].order.groups[0].id: duplicate group id "
        "'rennes-nord-equipe-1'"
    ) in output
    assert f"conventions/{AGREEMENT}.yaml" not in output
    path.write_text(text.replace("sessions: 4", "sessions: 5"), encoding="utf-8")
    code, output = run(both, "check")
    assert code == 2
    assert "records/purchase-orders.yaml:" in output
    assert "orders[0].order.groups[0].sessions: 5 sessions need 5 eligible months" in output


def test_recorded_orders_of_the_previous_version_still_load(both: Path) -> None:
    (both / "records").mkdir(exist_ok=True)
    (both / "records" / "purchase-orders.yaml").write_text(
        """\
# apptool records: purchase orders added with `apptool order add`.
orders:
- convention: ille-et-vilaine-lot3
  order:
    date: '2025-03-01'
    groups:
    - cadence: monthly
      composition: null
      from: '2025-09-01'
      id: g1
      location: cdas-fougeres
      name: G1
      preferences:
        slots: []
        weekdays: []
      sessions: 4
      to: '2025-12-31'
    maximum: '1280.00'
    number: X-1
    unit_price: '320.00'
""",
        encoding="utf-8",
    )
    code, output = run(both, "check")
    assert code == 0, output


def test_a_merged_document_names_the_records_file() -> None:
    from apptool.domain.source import Document, MergedDocument

    base = Document(Path("c.yaml"), "conventions/c.yaml", {}, {("orders",): 40, ("orders", 0): 41})
    records = Document(
        Path("r.yaml"),
        "records/purchase-orders.yaml",
        {},
        {("orders", 3, "order", "groups", 0): 17},
    )
    merged = MergedDocument(base, records, first=1, entries=[3])
    assert (
        str(merged.problem(("orders", 0, "date"), "x"))
        == "conventions/c.yaml:41: orders[0].date: x"
    )
    assert str(merged.problem(("orders", 1, "groups", 0), "y")) == (
        "records/purchase-orders.yaml:17: orders[3].order.groups[0]: y"
    )


def test_the_drafts_of_two_orders_of_a_month_are_two_files(tmp_path: Path) -> None:
    """One invoice per purchase order: with --output, one draft file per order too."""
    from apptool.store.workspace import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    shutil.copy(next((root / "agreements").glob("*.yaml")), root / "conventions")
    assert run(root, "plan", "2025", "--today", "2024-01-01")[0] == 0
    out = tmp_path / "out"
    code, output = run(
        root,
        "invoice",
        "--month",
        "2025-07",
        "--today",
        "2025-08-02",
        "--draft",
        "--format",
        "md",
        "--output",
        str(out),
    )
    assert code == 0, output
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and len(set(names)) == 2
    assert all(n.startswith("BROUILLON-ille-et-vilaine-lot3-2025-07-") for n in names)
