"""Invoicing end to end, through the command line: issue, number, credit, pay, check.

Golden files: ``tests/golden/invoice-2025-0001.md`` and ``.html`` are the Markdown and HTML of
the example's May 2025 invoice, compared byte for byte. After an intended change of the
templates or the mentions, regenerate them and review the diff before committing:

    APPTOOL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_invoicing.py

Each issued invoice renders a PDF and runs Saxon, so the example is planned and invoiced
once per module and copied (``shutil.copytree``) into each test.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from markupsafe import escape
from stdnum import luhn
from stdnum.fr import siret as siret_number
from typer.testing import CliRunner

from apptool.cli import app
from apptool.output import einvoice
from apptool.output.mentions import invoice_mentions
from apptool.store import register
from apptool.store.register import InvoiceRecord, content_hash, load_register, register_problems
from apptool.store.workspace import init_workspace
from conftest import CONVENTION, PRACTITIONER, check_golden, safe_load, write_workspace

runner = CliRunner()
#: The example's May 2025 invoice: issued the first working day after the month.
MAY, ISSUED_ON = "2025-05", "2025-06-02"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EUR_150 = "150,00\xa0€"
EUR_1050 = "1\u202f050,00\xa0€"


# --- helpers ------------------------------------------------------------------------------


def run(root: Path, *args: str, code: int = 0) -> Any:
    """Invoke ``apptool -w ROOT ARGS``, expect exit ``code`` and never a traceback."""
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def invoices_dir(root: Path) -> dict[str, bytes]:
    """The files of ``invoices/`` and their bytes (empty if there is no such folder)."""
    folder = root / "invoices"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the workspace and its bytes (the lock file is not data)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".apptool.lock"
    }


def record(root: Path, number: str) -> dict[str, Any]:
    data: dict[str, Any] = safe_load(
        (root / "invoices" / f"{number}.yaml").read_text(encoding="utf-8")
    )
    return data


def standings(root: Path, today: str) -> dict[str, dict[str, Any]]:
    """``apptool invoices --format json``, by number."""
    result = run(root, "invoices", "--format", "json", "--today", today)
    return {item["number"]: item for item in json.loads(result.stdout)["invoices"]}


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(v).strip() for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


def valid_siret(first_eight: str, establishment: str) -> str:
    """A SIRET with valid checksums: SIREN (8 digits + Luhn), NIC (4 digits + Luhn)."""
    siren = first_eight + luhn.calc_check_digit(first_eight)
    siret = siren + establishment + luhn.calc_check_digit(siren + establishment)
    assert siret_number.is_valid(siret)
    return siret


def day_of(root: Path, session_id: str) -> date:
    data = safe_load((root / "calendars" / "2025.yaml").read_text(encoding="utf-8"))
    return date.fromisoformat(
        str(next(s for s in data["sessions"] if s["id"] == session_id)["date"])
    )


def issue_example(root: Path) -> Path:
    """The example, planned for 2025 and invoiced for May 2025."""
    init_workspace(root)
    run(root, "plan", "2025", "--today", "2024-01-01")
    result = run(root, "invoice", "--month", MAY, "--today", ISSUED_ON)
    assert "ccas-dreux: issued 2025-0001 for 2025-05" in result.output
    return root


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planned_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planned") / "example"
    init_workspace(root)
    run(root, "plan", "2025", "--today", "2024-01-01")
    return root


@pytest.fixture(scope="module")
def issued_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return issue_example(tmp_path_factory.mktemp("issued") / "example")


@pytest.fixture
def planned(planned_example: Path, tmp_path: Path) -> Path:
    """A copy of the example planned for 2025, nothing invoiced."""
    return Path(shutil.copytree(planned_example, tmp_path / "example"))


@pytest.fixture
def issued(issued_example: Path, tmp_path: Path) -> Path:
    """A copy of the example with invoice 2025-0001 (May 2025) issued on 2 June 2025."""
    return Path(shutil.copytree(issued_example, tmp_path / "example"))


BILLING = """\
billing:
  legal_name: Test Practitioner
  address: [1 rue du Test, 28100 Dreux]
  siret: "81234560100007"
  vat: {exempt_mention: "TVA non applicable, art. 293 B du CGI"}
  email: test@example.fr
  iban: FR7630006000011234567890189
  bic: AGRIFRPP882
"""


def billing_ready(name: str, service_code: str, siret: str) -> str:
    """The conftest convention with a buyer ready to be invoiced (SIRET, service code)."""
    return CONVENTION.replace("CCAS de Test", name).replace(
        "  chorus_service_code: TEST1\n",
        f"  chorus_service_code: {service_code}\n  siret: '{siret}'\n"
        "  invoice_requires: [siret, service_code]\n",
    )


@pytest.fixture
def two_conventions(tmp_path: Path) -> Path:
    """Two conventions, both buyers billing-ready, planned for 2025."""
    root = write_workspace(
        tmp_path / "ws",
        {
            "a-ccas": billing_ready("CCAS de Test", "TEST1", valid_siret("26280110", "0001")),
            "b-ehpad": billing_ready("EHPAD de Test", "TEST2", valid_siret("26280220", "0002")),
        },
        practitioner=PRACTITIONER + BILLING,
    )
    run(root, "plan", "2025", "--today", "2024-01-01")
    return root


# --- 1. the example's May 2025 invoice ----------------------------------------------------


def test_may_2025_invoice_of_the_example_from_its_plan(issued: Path) -> None:
    files = invoices_dir(issued)
    assert set(files) == {f"2025-0001.{ext}" for ext in ("md", "html", "xml", "pdf", "yaml")}
    markdown = files["2025-0001.md"].decode("utf-8")
    assert markdown.startswith("# Facture N° 2025-0001\n")
    assert markdown.count(f"| 1 | {EUR_150} | {EUR_150} |") == 7
    assert f"**Total TTC : {EUR_1050}**" in markdown
    data = record(issued, "2025-0001")
    assert (data["number"], data["series"], data["seq"], data["month"], data["issue_date"]) == (
        "2025-0001",
        "invoice",
        1,
        MAY,
        ISSUED_ON,
    )
    lines = data["document"]["lines"]
    assert len(lines) == 7 and {line["unit_price"] for line in lines} == {"150.00"}
    assert data["document"]["totals"]["gross"] == "1050.00"
    assert data["content_hash"] == content_hash(data["document"])
    assert data["files"] == {
        name: hashlib.sha256(content).hexdigest()
        for name, content in files.items()
        if not name.endswith(".yaml")
    }
    assert register_problems(issued, load_register(issued)) == []


# --- 2. due cancellation and individual consultation --------------------------------------


@pytest.mark.usefixtures("quick_pdf")
def test_due_cancellation_and_individual_consultation_are_invoiced(planned: Path) -> None:
    sid = "ccas-dreux/seniors-2/2025-05"
    requested = (day_of(planned, sid) - timedelta(days=10)).isoformat()
    result = run(
        planned,
        "cancel",
        sid,
        "--by",
        "establishment",
        "--requested-on",
        requested,
        "--today",
        requested,
    )
    assert "DUE" in result.output
    run(
        planned,
        "individual",
        "add",
        "--convention",
        "ccas-dreux",
        "--date",
        "2025-05-14",
        "--duration",
        "1h30",
    )
    run(planned, "invoice", "--month", MAY, "--today", ISSUED_ON)
    markdown = (planned / "invoices" / "2025-0001.md").read_text(encoding="utf-8")
    assert (
        "| Consultation individuelle — mercredi 14 mai 2025 — 1 h 30 | 1 h 30 | 80,00\xa0€ | "
        "120,00\xa0€ |"
    ) in markdown
    (due,) = [line for line in markdown.splitlines() if "Pôle seniors 2" in line]
    assert (
        "séance annulée par l'établissement sans report possible, due (art. 4 de la "
        "convention)" in due
    )
    assert due.endswith(f"| 1 | {EUR_150} | {EUR_150} |")
    assert "**Total TTC : 1\u202f170,00\xa0€**" in markdown
    kinds = {
        line["source"]: line["kind"] for line in record(planned, "2025-0001")["document"]["lines"]
    }
    assert kinds[sid] == "cancellation"
    assert kinds["ccas-dreux/individual/2025-05-14/1"] == "individual"


# --- 3. numbers without gaps --------------------------------------------------------------


def numbers_by_convention(root: Path) -> dict[tuple[str, str], str]:
    register = load_register(root)
    return {(r.convention, r.month): r.number for r in register.records}


@pytest.mark.usefixtures("quick_pdf")
def test_numbers_run_on_across_months_and_conventions(two_conventions: Path) -> None:
    root = two_conventions
    run(root, "invoice", "--month", MAY, "--today", "2025-06-02")
    run(root, "invoice", "--month", "2025-06", "--today", "2025-07-01")
    assert numbers_by_convention(root) == {
        ("a-ccas", MAY): "2025-0001",
        ("b-ehpad", MAY): "2025-0002",
        ("a-ccas", "2025-06"): "2025-0003",
        ("b-ehpad", "2025-06"): "2025-0004",
    }
    issued = sorted(load_register(root).records, key=lambda r: r.seq)
    assert [r.issue_date for r in issued] == sorted(r.issue_date for r in issued)
    assert "no problem found" in run(root, "check").output


@pytest.mark.usefixtures("quick_pdf")
def test_a_failure_before_the_record_leaves_no_gap(
    two_conventions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fails while writing the first record: nothing is committed, the number is
    issued again by the next run (``write_issued`` writes the record through
    ``register.write_once``)."""
    root = two_conventions
    real_write = register.write_once
    failures: list[Path] = []

    def flaky_write(path: Path, content: str | bytes) -> None:
        if path.suffix == ".yaml" and not failures:
            failures.append(path)
            raise OSError(28, "No space left on device", str(path))
        real_write(path, content)

    monkeypatch.setattr(register, "write_once", flaky_write)
    result = run(root, "invoice", "--month", MAY, "--today", "2025-06-02", code=1)
    assert result.output.startswith("error: [Errno 28] No space left on device")
    assert failures == [root / "invoices" / "2025-0001.yaml"]
    assert not [name for name in invoices_dir(root) if name.endswith(".yaml")]

    result = run(root, "invoice", "--month", MAY, "--today", "2025-06-02")
    assert "a-ccas: issued 2025-0001 for 2025-05" in result.output
    assert "b-ehpad: issued 2025-0002 for 2025-05" in result.output
    run(root, "invoice", "--month", "2025-06", "--today", "2025-07-01")
    assert sorted(numbers_by_convention(root).values()) == [f"2025-000{n}" for n in (1, 2, 3, 4)]
    assert "no problem found" in run(root, "check").output


# --- 4. idempotence -----------------------------------------------------------------------


def test_invoicing_a_month_again_shows_the_invoice_and_what_changed(issued: Path) -> None:
    before = invoices_dir(issued)
    result = run(issued, "invoice", "--month", MAY, "--today", "2025-06-10")
    assert (
        "ccas-dreux: 2025-05 is already invoiced: 2025-0001 of 2025-06-02 (no second "
        "invoice is issued)"
    ) in result.output
    assert result.stdout == before["2025-0001.md"].decode("utf-8")  # the existing invoice
    assert "changed since" not in result.output
    assert invoices_dir(issued) == before

    run(
        issued,
        "individual",
        "add",
        "--convention",
        "ccas-dreux",
        "--date",
        "2025-05-14",
        "--duration",
        "1h",
    )
    result = run(issued, "invoice", "--month", MAY, "--today", "2025-06-10")
    assert "changed since: added: ccas-dreux/individual/2025-05-14/1" in result.output
    assert "apptool credit-note 2025-0001" in result.output
    assert invoices_dir(issued) == before


# --- 5. credit notes ----------------------------------------------------------------------


@pytest.mark.usefixtures("quick_pdf")
def test_credit_note_cancels_an_invoice_and_the_month_can_be_invoiced_again(issued: Path) -> None:
    result = run(
        issued,
        "credit-note",
        "2025-0001",
        "--reason",
        "séance facturée à tort",
        "--today",
        "2025-06-05",
    )
    assert "issued credit note AV-2025-0001 cancelling 2025-0001" in result.output
    data = record(issued, "AV-2025-0001")
    assert (data["series"], data["seq"], data["reason"]) == (
        "credit-note",
        1,
        "séance facturée à tort",
    )
    xml = (issued / "invoices" / "AV-2025-0001.xml").read_bytes()
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    amounts = [Decimal(v) for v in xpath(xml, "//ram:*[contains(local-name(), 'Amount')]/text()")]
    assert amounts and all(amount >= 0 for amount in amounts)
    assert xpath(xml, "//ram:GrandTotalAmount/text()") == ["1050.00"]
    reference = "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument"
    assert xpath(xml, f"{reference}/ram:IssuerAssignedID/text()") == ["2025-0001"]
    assert xpath(xml, f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString/text()") == [
        "20250602"
    ]

    result = run(issued, "invoice", "--month", MAY, "--today", "2025-06-05")
    assert "ccas-dreux: issued 2025-0002 for 2025-05" in result.output
    result = run(issued, "credit-note", "2025-0001", "--today", "2025-06-06", code=4)
    assert "already cancelled by credit note AV-2025-0001" in result.output

    table = run(issued, "invoices", "--today", "2025-06-06").output
    rows = {
        cells[0]: cells
        for line in table.splitlines()
        if len(cells := re.split(r"\s{2,}", line.strip())) > 1
    }
    assert rows["2025-0001"][-1] == "credited"
    assert rows["AV-2025-0001"][-1] == "credit-note"
    assert rows["2025-0002"][-1] == "issued"
    assert "no problem found" in run(issued, "check").output


@pytest.mark.usefixtures("quick_pdf")
def test_credit_notes_are_numbered_in_date_order(issued: Path) -> None:
    run(issued, "invoice", "--month", "2025-06", "--today", "2025-07-01")
    run(issued, "credit-note", "2025-0002", "--today", "2025-07-10")
    result = run(issued, "credit-note", "2025-0001", "--today", "2025-07-05", code=4)
    assert "the last credit note, AV-2025-0001, is dated 2025-07-10" in result.output
    assert not (issued / "invoices" / "AV-2025-0002.yaml").exists()
    assert "no problem found" in run(issued, "check").output


# --- 6. the Factur-X PDF ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["2025-0001", "AV-2025-0001"])
def test_xml_embedded_in_the_pdf_is_the_checked_e_invoice(issued: Path, number: str) -> None:
    if number.startswith("AV-"):
        run(issued, "credit-note", "2025-0001", "--today", "2025-06-05")
    folder = issued / "invoices"
    xml = folder.joinpath(f"{number}.xml").read_bytes()
    assert einvoice.xml_from_pdf(folder.joinpath(f"{number}.pdf").read_bytes()) == xml
    assert [failure for failure in einvoice.check_einvoice(xml) if failure.blocking] == []


# --- 7. the buyer's requirements ----------------------------------------------------------


def test_missing_service_code_required_by_the_buyer_refuses_issuing(planned: Path) -> None:
    path = planned / "conventions" / "ccas-dreux.yaml"
    text = path.read_text(encoding="utf-8")
    assert "invoice_requires: [siret, service_code]" in text
    path.write_text(
        text.replace("  chorus_service_code: CCA4", "  # no service code"), encoding="utf-8"
    )
    line = text.splitlines().index("establishment:") + 1
    before = snapshot(planned)
    result = run(planned, "invoice", "--month", MAY, "--today", ISSUED_ON, code=2)
    assert result.output.startswith(
        f"error: conventions/ccas-dreux.yaml:{line}: establishment.chorus_service_code: "
        "missing: the buyer requires its service code on invoices"
    )
    assert snapshot(planned) == before
    assert invoices_dir(planned) == {}


# --- 8. drafts, empty months, months not over ---------------------------------------------


def test_draft_has_no_number_and_writes_nothing(planned: Path) -> None:
    before = snapshot(planned)
    result = run(planned, "invoice", "--month", MAY, "--draft", "--today", ISSUED_ON)
    assert result.stdout.startswith("# Facture BROUILLON")
    assert "N° 2025-" not in result.stdout and f"**Total TTC : {EUR_1050}**" in result.stdout
    assert "DRAFT for 2025-05 (no number, nothing written)" in result.output
    assert snapshot(planned) == before


def test_month_with_nothing_billable_issues_nothing(planned: Path) -> None:
    result = run(planned, "invoice", "--month", "2025-07", "--today", "2025-08-01")
    assert "ccas-dreux: nothing billable in 2025-07; no invoice issued" in result.output
    assert invoices_dir(planned) == {}


def test_month_not_over_is_refused_unless_draft(planned: Path) -> None:
    result = run(planned, "invoice", "--month", "2025-06", "--today", "2025-06-30", code=4)
    assert "2025-06 is not over (today is 2025-06-30)" in result.output
    assert "--draft" in result.output
    result = run(planned, "invoice", "--month", "2025-06", "--today", "2025-06-30", "--draft")
    assert result.stdout.startswith("# Facture BROUILLON")
    assert invoices_dir(planned) == {}


# --- 9. mandatory mentions ----------------------------------------------------------------


def assert_mentions_shown(root: Path, number: str) -> dict[str, str]:
    """Every mention in the Markdown and, escaped as Jinja escapes it, in the HTML.

    (Jinja's autoescape is markupsafe's: ``'`` becomes ``&#39;``, where ``html.escape``
    would write ``&#x27;``.)
    """
    data = InvoiceRecord.model_validate(record(root, number))
    mentions = invoice_mentions(data.document)
    markdown = (root / "invoices" / f"{number}.md").read_text(encoding="utf-8")
    html = (root / "invoices" / f"{number}.html").read_text(encoding="utf-8")
    for key, value in mentions.items():
        assert value, key
        assert value in markdown, key
        assert str(escape(value)) in html, key
    return mentions


def test_every_mandatory_mention_is_shown(issued: Path) -> None:
    mentions = assert_mentions_shown(issued, "2025-0001")
    assert {
        "seller_siret",
        "buyer_siret",
        "service_period",
        "category",
        "vat",
        "due_date",
        "late_payment",
        "recovery_indemnity",
        "no_discount",
        "service_code",
        "contract",
    } <= set(mentions)
    assert mentions["vat"] == "TVA non applicable, art. 293 B du CGI"


def test_credit_note_shows_its_title_and_the_invoice_it_cancels(issued: Path) -> None:
    from pypdf import PdfReader

    run(issued, "credit-note", "2025-0001", "--today", "2025-06-05")
    mentions = assert_mentions_shown(issued, "AV-2025-0001")
    assert mentions["title"] == "Facture d'avoir"
    assert mentions["preceding"] == "Avoir sur la facture N° 2025-0001 du 02/06/2025"
    markdown = (issued / "invoices" / "AV-2025-0001.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Facture d'avoir N° AV-2025-0001\n")
    # the page footer comes from the heading, not from text pasted into the CSS
    pdf = PdfReader(issued / "invoices" / "AV-2025-0001.pdf")
    text = pdf.pages[0].extract_text()
    assert "Facture d'avoir N° AV-2025-0001 — page 1/1" in text and "&#39;" not in text


# --- 10. golden files and determinism -----------------------------------------------------


@pytest.mark.parametrize("ext", ["md", "html"])
def test_rendering_of_the_may_2025_invoice_matches_the_golden_file(issued: Path, ext: str) -> None:
    rendered = (issued / "invoices" / f"2025-0001.{ext}").read_text(encoding="utf-8")
    check_golden(f"invoice-2025-0001.{ext}", rendered)


def test_two_fresh_workspaces_give_byte_identical_files(
    issued_example: Path, tmp_path: Path
) -> None:
    again = invoices_dir(issue_example(tmp_path / "again"))
    first = invoices_dir(issued_example)
    assert again.keys() == first.keys()
    for name in first:
        assert again[name] == first[name], name  # the PDF included


# --- 11. payments and late payment --------------------------------------------------------


def test_paid_invoice_shows_as_paid_and_cannot_be_paid_twice(issued: Path) -> None:
    assert (
        "2025-0001: paid on 2025-06-20"
        in run(issued, "paid", "2025-0001", "--on", "2025-06-20").output
    )
    assert standings(issued, "2025-09-01")["2025-0001"]["status"] == "paid"
    record_before = invoices_dir(issued)["2025-0001.yaml"]
    result = run(issued, "paid", "2025-0001", "--on", "2025-06-21", code=4)
    assert "already recorded as paid on 2025-06-20" in result.output
    assert invoices_dir(issued)["2025-0001.yaml"] == record_before  # never rewritten
    assert "no problem found" in run(issued, "check").output


@pytest.mark.usefixtures("quick_pdf")
def test_a_credit_note_cannot_be_paid(issued: Path) -> None:
    run(issued, "credit-note", "2025-0001", "--today", "2025-06-05")
    result = run(issued, "paid", "AV-2025-0001", "--on", "2025-06-20", code=4)
    assert "AV-2025-0001 is a credit note: nothing to pay" in result.output
    result = run(issued, "paid", "2025-0001", "--on", "2025-06-20", code=4)
    assert "cancelled by a credit note" in result.output


@pytest.mark.parametrize("days", [49, 219])  # 219: 63.945 exactly, rounded half up
def test_unpaid_invoice_past_its_due_date_is_overdue_with_interest(issued: Path, days: int) -> None:
    due = date(2025, 7, 2)  # 30 days after 2 June
    assert standings(issued, due.isoformat())["2025-0001"]["status"] == "issued"
    late = standings(issued, (due + timedelta(days=days)).isoformat())["2025-0001"]
    interest = (Decimal("1050.00") * (Decimal("2.15") + 8) / 100 * days / 365).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert (late["status"], late["days_late"], late["interest"], late["indemnity"]) == (
        "overdue",
        days,
        str(interest),
        "40.00",
    )


# --- 12. the register check ---------------------------------------------------------------


def delete_first_record(root: Path) -> None:
    run(root, "invoice", "--month", "2025-06", "--today", "2025-07-01")
    assert "no problem found" in run(root, "check").output
    (root / "invoices" / "2025-0001.yaml").unlink()


def alter_amount(root: Path) -> None:
    path = root / "invoices" / "2025-0001.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("gross: '1050.00'") == 1
    path.write_text(text.replace("gross: '1050.00'", "gross: '1500.00'"), encoding="utf-8")


def alter_pdf(root: Path) -> None:
    with (root / "invoices" / "2025-0001.pdf").open("ab") as pdf:
        pdf.write(b"%altered\n")


@pytest.mark.parametrize(
    ("alteration", "expected", "count"),
    [
        (
            delete_first_record,
            "invoices/2025-0002.yaml: seq: gap in the invoice series of 2025: "
            "number 1 missing before 2025-0002",
            5,  # the gap, and the four renderings 2025-0001.* no record holds any more
        ),
        (
            alter_amount,
            "invoices/2025-0001.yaml: content_hash: the record was altered after issue "
            "(hash mismatch)",
            1,
        ),
        (
            alter_pdf,
            "invoices/2025-0001.yaml: files: 2025-0001.pdf was altered after issue (hash mismatch)",
            1,
        ),
    ],
    ids=["gap", "altered-record", "altered-pdf"],
)
def test_check_reports_gaps_and_altered_records(
    issued: Path, alteration: Any, expected: str, count: int
) -> None:
    alteration(issued)
    result = run(issued, "check", code=2)
    assert expected in result.output
    assert f"{count} problem(s) found" in result.output
