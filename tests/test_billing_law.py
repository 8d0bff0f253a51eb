"""Invoices a public accountant accepts (issue 11): only what took place is billed, a run is
all or nothing, due dates run from receipt, late payment owes interest at the ECB rate of its
half-year + 8 points, credit notes ask for nothing, amounts are exact, issued files are
write-once, the PDF/A metadata agree, and the livre des recettes is kept."""

from __future__ import annotations

import contextlib
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from lxml import etree
from typer.testing import CliRunner

from apptool.cli import app
from apptool.domain import contract
from apptool.domain.billing import Month
from apptool.domain.register import balance
from apptool.domain.schedule import awaits_confirmation, recorded_on, took_place
from apptool.errors import RuleRefused
from apptool.output import einvoice
from apptool.output.invoice import RenderedInvoice
from apptool.services import invoicing
from apptool.store.files import dump_yaml
from apptool.store.register import load_register
from conftest import PRACTITIONER, safe_load, write_workspace
from test_invoicing import BILLING, NS, billing_ready, valid_siret

runner = CliRunner()
SIRET_A = valid_siret("26280110", "0001")
SIRET_B = valid_siret("26280220", "0002")


def run(root: Path, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def xpath(xml: bytes, path: str) -> list[str]:
    """The text of each node the path selects (or each string it returns)."""
    found = etree.fromstring(xml).xpath(path.removesuffix("/text()"), namespaces=NS)
    return [str(getattr(node, "text", node) or "").strip() for node in found]


def files(root: Path) -> dict[str, bytes]:
    folder = root / "invoices"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def sessions_json(root: Path, *args: str) -> list[dict[str, Any]]:
    out = run(root, "sessions", "--format", "json", *args).stdout
    return list(json.loads(out)["sessions"])


def workspace(
    tmp_path: Path, conventions: dict[str, str] | None = None, profile: str = PRACTITIONER + BILLING
) -> Path:
    return write_workspace(
        tmp_path / "ws",
        conventions or {"a-ccas": billing_ready("CCAS de Test", "TEST1", SIRET_A)},
        practitioner=profile,
    )


@pytest.fixture(scope="module")
def may_issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One convention planned before its dates, May 2025 invoiced on 2 June 2025."""
    root = workspace(tmp_path_factory.mktemp("may"))
    run(root, "plan", "2025", "--today", "2024-01-01")
    run(root, "invoice", "--month", "2025-05", "--today", "2025-06-02")
    return root


@pytest.fixture
def issued(may_issued: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(may_issued, tmp_path / "copy"))


# --- 1. only what took place is billed -------------------------------------------------------


def test_a_plan_made_after_the_fact_marks_past_sessions_unconfirmed(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2025-06-15")
    listed = sessions_json(root, "--today", "2025-06-15")
    past = [s for s in listed if s["date"] < "2025-06-15"]
    assert past and {s["status"] for s in past} == {"unconfirmed"}
    assert {s["status"] for s in listed if s["date"] > "2025-06-15"} == {"planned"}


def test_unconfirmed_sessions_are_listed_and_not_billed(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2025-06-15")
    result = run(root, "invoice", "--month", "2025-05", "--today", "2025-06-15")
    assert "nothing billable in 2025-05" in result.output
    assert "not billed: written into the calendar after its date and not confirmed" in (
        result.output
    )
    assert "apptool held a-ccas/alpha/2025-05" in result.output
    assert not (root / "invoices").exists()


@pytest.mark.usefixtures("quick_pdf")
def test_held_confirms_and_only_confirmed_sessions_are_billed(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2025-06-15")
    run(root, "held", "a-ccas/alpha/2025-05", "--today", "2025-06-15")
    run(root, "invoice", "--month", "2025-05", "--today", "2025-06-15")
    data = safe_load((root / "invoices" / "2025-0001.yaml").read_text(encoding="utf-8"))
    assert [line["source"] for line in data["document"]["lines"]] == ["a-ccas/alpha/2025-05"]
    # the others stay unconfirmed, listed, unbilled
    statuses = {
        s["id"]: s["status"]
        for s in sessions_json(root, "--month", "2025-05", "--today", "2025-06-15")
    }
    assert statuses["a-ccas/alpha/2025-05"] == "held"
    assert statuses["a-ccas/beta/2025-05"] == "unconfirmed"


def test_sessions_confirm_confirms_what_it_lists(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2025-06-15")
    result = run(
        root,
        "sessions",
        "--month",
        "2025-05",
        "--status",
        "unconfirmed",
        "--confirm",
        "--today",
        "2025-06-15",
    )
    assert "session(s) confirmed as held" in result.output
    assert (
        sessions_json(
            root, "--status", "unconfirmed", "--month", "2025-05", "--today", "2025-06-15"
        )
        == []
    )
    assert sessions_json(
        root, "--status", "unconfirmed", "--month", "2025-04", "--today", "2025-06-15"
    )


def test_held_on_another_day_corrects_the_record(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2025-06-15")
    session = next(
        s for s in sessions_json(root, "--today", "2025-06-15") if s["id"] == "a-ccas/alpha/2025-05"
    )
    day = "2025-05-22" if session["date"] != "2025-05-22" else "2025-05-21"
    run(root, "held", "a-ccas/alpha/2025-05", "--on", day, "--today", "2025-06-15")
    after = next(
        s for s in sessions_json(root, "--today", "2025-06-15") if s["id"] == "a-ccas/alpha/2025-05"
    )
    assert (after["date"], after["status"]) == (day, "moved")
    assert after["history"][-1]["by"] == "practitioner"
    # a day not past yet is refused
    run(root, "held", "a-ccas/beta/2025-06", "--on", "2025-06-20", "--today", "2025-06-15", code=4)


def test_the_record_vouches_only_for_sessions_written_before_their_date() -> None:
    from apptool.domain.schedule import Session

    session = Session(
        id="c/g/2025-05",
        convention="c",
        group="g",
        period="2025-05",
        date=date(2025, 5, 6),
        start="09:00",
        end="10:30",  # type: ignore[arg-type]
        location="l",
    )
    before = recorded_on(session, date(2025, 5, 5))
    after = recorded_on(session, date(2025, 5, 6))
    assert not before.unconfirmed and after.unconfirmed
    assert took_place(before, date(2025, 6, 1)) and not took_place(after, date(2025, 6, 1))
    assert awaits_confirmation(after, date(2025, 6, 1))


# --- 2. all or nothing ------------------------------------------------------------------------


def test_one_refusal_issues_nothing_and_names_every_problem(tmp_path: Path) -> None:
    broken = billing_ready("EHPAD de Test", "TEST2", SIRET_B).replace(
        "  chorus_service_code: TEST2\n", ""
    )
    root = workspace(
        tmp_path, {"a-ccas": billing_ready("CCAS de Test", "TEST1", SIRET_A), "b-ehpad": broken}
    )
    run(root, "plan", "2025", "--today", "2024-01-01")
    result = run(root, "invoice", "--month", "2025-05", "--today", "2025-06-02", code=2)
    assert "nothing was issued" in result.output
    assert "conventions/b-ehpad.yaml:" in result.output and "service code" in result.output
    assert files(root) == {}


def test_a_calendar_check_refuses_is_not_invoiced(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2024-01-01")
    path = root / "calendars" / "2025.yaml"
    data = safe_load(path.read_text(encoding="utf-8"))
    may = [s for s in data["sessions"] if s["period"] == "2025-05" and s["group"] != "gamma"]
    may[1]["date"], may[1]["start"], may[1]["end"] = may[0]["date"], may[0]["start"], may[0]["end"]
    path.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
    assert "overlaps" in run(root, "check", code=2).output
    result = run(root, "invoice", "--month", "2025-05", "--today", "2025-06-02", code=4)
    assert "calendars/2025.yaml" in result.output and "overlaps" in result.output
    assert files(root) == {}


def test_an_unwritable_output_folder_is_refused_before_anything_is_issued(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2024-01-01")
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    run(
        root,
        "invoice",
        "--month",
        "2025-05",
        "--today",
        "2025-06-02",
        "--output",
        str(blocker / "sub"),
        code=2,
    )
    assert files(root) == {}


def test_a_pdf_without_output_says_where_the_issued_pdf_is(issued: Path) -> None:
    result = run(
        issued, "invoice", "--month", "2025-05", "--format", "pdf", "--today", "2025-06-10"
    )
    assert "PDF: " in result.output and "2025-0001.pdf" in result.output


@pytest.mark.parametrize("month", ["2026-11", "2026-12"])
def test_a_month_not_over_gets_one_answer(may_issued: Path, month: str) -> None:
    result = run(may_issued, "invoice", "--month", month, "--today", "2026-11-28", code=4)
    assert "is not over (today is 2026-11-28)" in result.output


def test_a_month_of_a_year_without_plan_says_to_plan_it(may_issued: Path) -> None:
    result = run(may_issued, "invoice", "--month", "2026-03", "--today", "2026-11-28", code=4)
    assert "run `apptool plan 2026` first" in result.output


# --- 3. and 4. interest and due dates ----------------------------------------------------------

RATES = [(date(2024, 12, 18), Decimal("3.15")), (date(2025, 6, 11), Decimal("2.15"))]


@pytest.mark.parametrize(
    ("due", "rate"),
    [
        (date(2025, 6, 29), Decimal("11.15")),  # late from 30 June: first half-year
        (date(2025, 6, 30), Decimal("10.15")),  # late from 1 July: second half-year
        (date(2025, 1, 10), Decimal("11.15")),
    ],
)
def test_the_rate_is_the_ecb_rate_of_the_half_year_lateness_began_plus_8(
    due: date, rate: Decimal
) -> None:
    assert contract.late_payment_rate(RATES, due) == rate


def test_interest_is_simple_on_365_days_rounded_to_the_cent() -> None:
    assert contract.moratorium_interest(Decimal("1050.00"), Decimal("11.15"), 10) == Decimal(
        "3.21"
    )  # 1050 x 11.15 % x 10 / 365 = 3.2075...
    assert contract.moratorium_interest(Decimal("1050.00"), Decimal("11.15"), 0) == Decimal("0")


def test_the_shipped_table_gives_the_rates_the_law_names(tmp_path: Path) -> None:
    from apptool.store.rates import load_rates

    table = load_rates(tmp_path)
    assert contract.ecb_rate_in_force(table, date(2025, 1, 1)) == Decimal("3.15")
    assert contract.ecb_rate_in_force(table, date(2025, 7, 1)) == Decimal("2.15")
    assert min(day for day, _ in table) <= date(2012, 1, 1)


@pytest.mark.parametrize(
    ("kind", "own_days", "days", "terms"),
    [
        ("local-authority", None, 30, "réception de la facture (art. R2192-10 du code"),
        ("state", None, 30, "réception de la facture (art. R2192-10 du code"),
        ("public-health-establishment", None, 50, "réception de la facture (art. R2192-11 du"),
        (
            "local-authority",
            20,
            20,
            "(délai fixé par la convention, dans la limite de l'art. R2192-10 du code",
        ),
        (
            "public-health-establishment",
            45,
            45,
            "(délai fixé par la convention, dans la limite de l'art. R2192-11 du code",
        ),
    ],
)
def test_the_payment_period_is_the_buyers(
    tmp_path: Path, kind: str, own_days: int | None, days: int, terms: str
) -> None:
    """30 days for a public buyer (art. R2192-10), 50 for a public health establishment
    (art. R2192-11), or the convention's own period within them: each cites its article."""
    text = billing_ready("CH de Test", "TEST1", SIRET_A).replace(
        "  name: CH de Test\n", f"  name: CH de Test\n  kind: {kind}\n"
    )
    if own_days is not None:
        text += f"payment_days: {own_days}\n"
    root = workspace(tmp_path, {"a-ccas": text})
    run(root, "plan", "2025", "--today", "2024-01-01")
    run(root, "invoice", "--month", "2025-05", "--today", "2025-06-02", "--draft", "--format", "md")
    doc = invoicing.build_document(*_built(root), date(2025, 6, 2), None)
    assert (doc.due_date - date(2025, 6, 2)).days == days
    assert f"Paiement à {days} jours à compter de la réception" in (doc.payment_terms or "")
    assert terms in (doc.payment_terms or "")


def _built(root: Path) -> tuple[Any, str, Month, list[Any]]:
    workspace_, billables = invoicing.load_billables(root)
    month = Month(2025, 5)
    return (
        workspace_,
        "a-ccas",
        month,
        billables.lines(workspace_, "a-ccas", month, date(2025, 6, 2)),
    )


def test_the_register_on_a_day_lists_what_was_issued_by_then(issued: Path) -> None:
    out = run(issued, "invoices", "--format", "json", "--today", "2025-06-01").stdout
    assert json.loads(out)["invoices"] == []  # 2025-0001 is issued on 2 June
    out = run(issued, "invoices", "--format", "json", "--today", "2025-06-02").stdout
    assert [i["number"] for i in json.loads(out)["invoices"]] == ["2025-0001"]


def test_lateness_runs_from_the_deposit(issued: Path) -> None:
    run(issued, "deposited", "2025-0001", "--on", "2025-06-20")
    state = _standing(issued, "2025-07-10")
    assert (state["status"], state["due"]) == ("deposited", "2025-07-20")
    state = _standing(issued, "2025-07-25")
    assert (state["status"], state["days_late"]) == ("overdue", 5)


def _standing(root: Path, today: str) -> dict[str, Any]:
    out = run(root, "invoices", "--format", "json", "--today", today).stdout
    return next(i for i in json.loads(out)["invoices"] if i["number"] == "2025-0001")


@pytest.mark.usefixtures("quick_pdf")
def test_interest_and_indemnity_stay_owed_after_a_late_payment_and_are_claimed(
    issued: Path,
) -> None:
    run(issued, "paid", "2025-0001", "--on", "2025-07-12")  # due 2025-07-02: 10 days late
    state = _standing(issued, "2025-09-01")
    amount = Decimal(state["amount"])
    assert (state["status"], state["days_late"], state["rate"]) == ("paid late", 10, "10.15")
    assert Decimal(state["interest"]) == contract.moratorium_interest(amount, Decimal("10.15"), 10)
    assert state["indemnity"] == "40.00"
    result = run(issued, "interest", "2025-0001", "--today", "2025-09-01")
    assert "issued 2025-0002" in result.output
    claim = safe_load((issued / "invoices" / "2025-0002.yaml").read_text(encoding="utf-8"))
    assert claim["claims"] == "2025-0001"
    assert [line["kind"] for line in claim["document"]["lines"]] == ["interest", "indemnity"]
    markdown = (issued / "invoices" / "2025-0002.md").read_text(encoding="utf-8")
    assert "Facture d'intérêts moratoires et d'indemnité forfaitaire" in markdown
    assert "Retard de paiement de la facture N° 2025-0001 du 02/06/2025" in markdown
    assert "10,15 %" in markdown and "taux BCE de 2,15 %" in markdown
    xml = (issued / "invoices" / "2025-0002.xml").read_bytes()
    assert einvoice.blocking(einvoice.check_einvoice(xml)) == []
    assert _standing(issued, "2025-09-02")["claimed_by"] == "2025-0002"
    run(issued, "interest", "2025-0001", "--today", "2025-09-02", code=4)  # claimed once


def test_an_unpaid_late_invoice_cannot_be_claimed_yet(issued: Path) -> None:
    result = run(issued, "interest", "2025-0001", "--today", "2025-09-01", code=4)
    assert "not paid yet" in result.output


def test_a_workspace_adds_newer_rates_checked_with_their_line(issued: Path) -> None:
    (issued / "ecb-rates.yaml").write_text(
        "rates:\n  - {from: 2025-13-01, rate: 2}\n", encoding="utf-8"
    )
    result = run(issued, "check", code=2)
    assert "ecb-rates.yaml:2: rates[0].from" in result.output


# --- an issued invoice is never changed behind the accountant's back --------------------------


def _billed_session(root: Path) -> dict[str, Any]:
    return next(
        s for s in sessions_json(root, "--today", "2025-06-02") if s["date"].startswith("2025-05")
    )


@pytest.mark.parametrize(
    "change",
    [
        ["cancel", "{id}", "--by", "practitioner", "--requested-on", "2025-04-01"],
        ["cancel", "{id}", "--by", "establishment", "--requested-on", "2025-04-01"],
        [
            "reschedule",
            "{id}",
            "--to",
            "2025-05-20",
            "--slot",
            "09:00",
            "--requested-on",
            "2025-04-01",
            "--by",
            "establishment",
        ],
        ["held", "{id}", "--on", "2025-05-21"],
    ],
    ids=["cancel-practitioner", "cancel-establishment", "reschedule", "held-on"],
)
def test_a_billed_session_is_not_changed_until_a_credit_note(
    issued: Path, change: list[str]
) -> None:
    session = _billed_session(issued)
    args = [part.format(id=session["id"]) for part in change]
    calendar = (issued / "calendars" / "2025.yaml").read_bytes()
    result = run(issued, *args, "--today", "2025-06-03", code=4)
    assert f"{session['id']} is billed by invoice 2025-0001 (issued 2025-06-02)" in result.output
    assert "apptool credit-note 2025-0001" in result.output
    assert (issued / "calendars" / "2025.yaml").read_bytes() == calendar
    run(issued, "credit-note", "2025-0001", "--today", "2025-06-04")
    result = runner.invoke(app, ["-w", str(issued), *args, "--today", "2025-06-05"])
    assert "is billed by invoice" not in result.output


VAT_PROFILE = BILLING.replace(
    'vat: {exempt_mention: "TVA non applicable, art. 293 B du CGI"}',
    "vat: {rate: 20}\n  vat_number: FR40812345601",
)


@pytest.mark.parametrize(
    ("profile", "rate", "message"),
    [
        (
            BILLING,
            "5.5",
            "5.5 % VAT for this buyer, but practitioner.yaml's billing is under the "
            "VAT franchise (art. 293 B du CGI: no VAT charged)",
        ),
        (VAT_PROFILE, "0", "0 % VAT for a practitioner who charges VAT needs an exemption"),
        (VAT_PROFILE, "101", "101 is not a French VAT rate (0, 0.9, 1.05"),
        (VAT_PROFILE, "19", "19 is not a French VAT rate"),
    ],
)
def test_a_buyer_s_vat_rate_is_french_and_agrees_with_the_profile(
    tmp_path: Path, profile: str, rate: str, message: str
) -> None:
    """check refuses, at the line, a VAT rate the e-invoice would be rejected for (BR-FR-16)
    or an invoice would state falsely (VAT under the franchise, 0 % with no exemption)."""
    text = billing_ready("CCAS de Test", "TEST1", SIRET_A).replace(
        "  group_session:", f"  vat_rate: {rate}\n  group_session:"
    )
    root = workspace(tmp_path, {"a-ccas": text}, profile=PRACTITIONER + profile)
    result = run(root, "check", code=2)
    assert "conventions/a-ccas.yaml:" in result.output and "fees.vat_rate: " in result.output
    assert message in result.output, result.output


def test_a_termination_never_cancels_a_billed_session(issued: Path) -> None:
    """Terminated with notice on 10 March: the end is 30 April, after it May's sessions
    would be cancelled, but invoice 2025-0001 bills them: refused, nothing written."""
    before = {p: p.read_bytes() for p in sorted(issued.rglob("*.yaml"))}
    result = run(issued, "terminate", "a-ccas", "--notice-on", "2025-03-10", "--yes", code=4)
    assert "the termination would cancel a-ccas/" in result.output
    assert "is billed by invoice 2025-0001" in result.output
    assert "then record the termination" in result.output
    assert {p: p.read_bytes() for p in sorted(issued.rglob("*.yaml"))} == before


@pytest.mark.parametrize(
    ("edit", "found"),
    [
        ("removed", "is no longer in the calendar of record"),
        ("moved", "is recorded on 2025-05-20, not on {date}"),
        ("cancelled", "is recorded as cancelled, not held"),
    ],
)
def test_check_finds_a_calendar_edited_against_an_issued_invoice(
    issued: Path, edit: str, found: str
) -> None:
    """A hand edit of the calendar that contradicts an issued invoice is a problem of check
    (the commands refuse such a change themselves)."""
    session = _billed_session(issued)
    path = issued / "calendars" / "2025.yaml"
    data = safe_load(path.read_text(encoding="utf-8"))
    entry = next(s for s in data["sessions"] if s["id"] == session["id"])
    if edit == "removed":
        data["sessions"].remove(entry)
    elif edit == "moved":
        entry["date"] = date(2025, 5, 20)
    else:
        entry["status"] = "cancelled"
        entry["history"] = [
            {
                "action": "cancelled",
                "by": "practitioner",
                "requested_on": date(2025, 4, 1),
                "notice_days": 35,
                "previous_date": entry["date"],
                "previous_start": entry["start"],
                "previous_end": entry["end"],
                "status": "planned",
            }
        ]
    path.write_text(dump_yaml(data), encoding="utf-8")
    result = run(issued, "check", code=2)
    assert "1 problem(s) found" in result.output, result.output
    expected = (
        "invoices/2025-0001.yaml: document.lines[",
        f"invoice 2025-0001 bills {session['id']} on {session['date']}, which "
        + found.format(date=session["date"]),
    )
    assert all(part in result.output for part in expected), result.output


# --- 5. credit notes and replacements ----------------------------------------------------------


@pytest.mark.usefixtures("quick_pdf")
def test_a_credit_note_asks_for_no_payment_and_prints_its_reason(issued: Path) -> None:
    run(
        issued,
        "credit-note",
        "2025-0001",
        "--reason",
        "séance facturée deux fois",
        "--today",
        "2025-06-05",
    )
    markdown = (issued / "invoices" / "AV-2025-0001.md").read_text(encoding="utf-8")
    assert "Avoir sur la facture N° 2025-0001 du 02/06/2025" in markdown
    assert "Motif : séance facturée deux fois" in markdown
    for absent in ("Date d'échéance", "IBAN", "Pénalités de retard", "Paiement à 30 jours"):
        assert absent not in markdown
    xml = (issued / "invoices" / "AV-2025-0001.xml").read_bytes()
    assert xpath(xml, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/*/text()") == []
    assert xpath(xml, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID/text()") == []


def test_payments_and_deposits_are_recorded_once_they_happened(issued: Path) -> None:
    events = issued / "invoices" / "payments.yaml"
    result = run(issued, "paid", "2025-0001", "--on", "2025-06-20", "--today", "2025-06-19", code=4)
    assert "2025-06-20 is after today (2025-06-19): record the payment once it has happened" in (
        result.output
    )
    result = run(
        issued, "deposited", "2025-0001", "--on", "2199-12-31", "--today", "2025-06-19", code=4
    )
    assert "record the deposit once it has happened" in result.output
    assert not events.exists()
    run(issued, "paid", "2025-0001", "--on", "2025-06-20", "--today", "2025-06-20")
    recorded = events.read_bytes()
    again = run(issued, "paid", "2025-0001", "--on", "2025-06-20", "--today", "2025-06-21")
    assert "(already recorded)" in again.output and events.read_bytes() == recorded


@pytest.mark.usefixtures("quick_pdf")
def test_no_claim_nor_refund_before_the_payment(issued: Path) -> None:
    run(issued, "paid", "2025-0001", "--on", "2025-07-12")  # due 2025-07-02: 10 days late
    before = files(issued)
    result = run(issued, "interest", "2025-0001", "--today", "2025-07-10", code=4)
    assert "was paid on 2025-07-12, after 2025-07-10" in result.output
    result = run(issued, "credit-note", "2025-0001", "--refund", "--today", "2025-07-05", code=4)
    assert "--refund: 2025-0001 was paid on 2025-07-12, after 2025-07-05" in result.output
    assert files(issued) == before


@pytest.mark.usefixtures("quick_pdf")
def test_a_paid_invoice_is_credited_only_with_a_refund(issued: Path) -> None:
    run(issued, "paid", "2025-0001", "--on", "2025-06-20")
    result = run(issued, "credit-note", "2025-0001", "--today", "2025-06-25", code=4)
    assert "add --refund" in result.output
    run(issued, "credit-note", "2025-0001", "--refund", "--today", "2025-06-25")
    events = safe_load((issued / "invoices" / "payments.yaml").read_text(encoding="utf-8"))
    assert events["refunds"][0]["number"] == "AV-2025-0001"
    assert balance(load_register(issued)).outstanding == Decimal("0.00")


@pytest.mark.usefixtures("quick_pdf")
def test_the_replacement_invoice_cites_the_invoice_it_replaces(issued: Path) -> None:
    run(issued, "credit-note", "2025-0001", "--today", "2025-06-05")
    run(issued, "invoice", "--month", "2025-05", "--today", "2025-06-06")
    markdown = (issued / "invoices" / "2025-0002.md").read_text(encoding="utf-8")
    assert "Annule et remplace la facture N° 2025-0001 du 02/06/2025" in markdown
    xml = (issued / "invoices" / "2025-0002.xml").read_bytes()
    assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [
        "2025-0001"
    ]


# --- 6. exact amounts, tax registration, addresses, formats ------------------------------------


@pytest.mark.usefixtures("quick_pdf")
def test_hours_are_priced_on_the_exact_minutes(tmp_path: Path) -> None:
    profile = (
        PRACTITIONER
        + BILLING
        + '  tax_registration: "1234567890123"\n'
        + ('  electronic_address: {scheme: "0009", id: "81234560100007"}\n')
    )
    text = billing_ready("CCAS de Test", "TEST1", SIRET_A).replace(
        "  invoice_requires:",
        '  electronic_address: {scheme: "0225", id: "262801101"}\n  invoice_requires:',
    )
    root = workspace(tmp_path, {"a-ccas": text}, profile)
    run(root, "plan", "2025", "--today", "2024-01-01")
    run(
        root,
        "individual",
        "add",
        "--convention",
        "a-ccas",
        "--date",
        "2025-05-14",
        "--duration",
        "20min",
    )
    run(root, "invoice", "--month", "2025-05", "--today", "2025-06-02")
    data = safe_load((root / "invoices" / "2025-0001.yaml").read_text(encoding="utf-8"))
    line = next(li for li in data["document"]["lines"] if li["kind"] == "individual")
    assert (line["quantity"], line["minutes"]) == ("0.3333", 20)
    xml = (root / "invoices" / "2025-0001.xml").read_bytes()
    amounts = xpath(
        xml,
        "//ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement"
        "/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount/text()",
    )
    assert "26.67" in amounts
    assert xpath(
        xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']"
    ) == ["1234567890123"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID") == [
        "81234560100007"
    ]
    assert xpath(xml, "//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID") == [
        "262801101"
    ]
    assert "| 20 min |" in (root / "invoices" / "2025-0001.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [("invoices",), ("orders",), ("individual", "list")])
def test_lists_refuse_a_format_they_do_not_have(issued: Path, command: tuple[str, ...]) -> None:
    assert "ics" in run(issued, *command, "--format", "ics", code=2).output


# --- 7. --output copies the issued files --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "md", "html"])
def test_output_of_a_month_already_invoiced_copies_the_issued_file(
    issued: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "copies"
    run(
        issued,
        "invoice",
        "--month",
        "2025-05",
        "--format",
        fmt,
        "--output",
        str(out),
        "--today",
        "2025-06-10",
    )
    assert (out / f"2025-0001.{fmt}").read_bytes() == (
        issued / "invoices" / f"2025-0001.{fmt}"
    ).read_bytes()


# --- 8. PDF/A-3b metadata ---------------------------------------------------------------------


def test_the_pdf_information_dictionary_and_xmp_agree(may_issued: Path) -> None:
    reader = pypdf.PdfReader(may_issued / "invoices" / "2025-0001.pdf")
    info = reader.metadata
    xmp = reader.xmp_metadata
    assert info is not None and xmp is not None
    assert info["/Producer"] == xmp.pdf_producer
    assert info["/Keywords"] == xmp.pdf_keywords
    assert info["/Title"] == xmp.dc_title["x-default"]
    assert info["/Author"] == xmp.dc_creator[0]
    assert info["/Subject"] == xmp.dc_description["x-default"]
    assert info["/Creator"] == xmp.xmp_creator_tool
    assert info.creation_date == xmp.xmp_create_date.replace(tzinfo=info.creation_date.tzinfo)
    assert info.modification_date == xmp.xmp_modify_date.replace(
        tzinfo=info.modification_date.tzinfo
    )


# --- 9. the livre des recettes -----------------------------------------------------------------


def test_the_ledger_lists_receipts_and_warns_near_the_franchise(issued: Path) -> None:
    run(issued, "paid", "2025-0001", "--on", "2025-06-20", "--method", "chèque")
    result = run(issued, "ledger", "--year", "2025", "--format", "csv")
    lines = result.stdout.splitlines()
    assert lines[0] == "date;client;invoice;amount;method"
    assert lines[1].startswith("2025-06-20;CCAS de Test;2025-0001;") and lines[1].endswith(
        ";chèque"
    )
    assert "warning" not in result.output
    profile = (issued / "practitioner.yaml").read_text(encoding="utf-8")
    (issued / "practitioner.yaml").write_text(
        profile + "  vat_franchise: {threshold: 100, tolerance: 200}\n", encoding="utf-8"
    )
    warned = run(issued, "ledger", "--year", "2025")
    assert "# Livre des recettes 2025" in warned.stdout
    assert "over the higher VAT franchise threshold" in warned.output


# --- issue 12.1 and 12.8: write-once records, numbers unique forever, orphans -------------------


@pytest.mark.usefixtures("quick_pdf")
def test_a_pattern_without_year_runs_on_across_years(tmp_path: Path) -> None:
    profile = PRACTITIONER + BILLING + '  number_pattern: "F{seq:04d}"\n'
    root = workspace(tmp_path, profile=profile)
    run(root, "plan", "2025", "--today", "2024-01-01")
    run(root, "plan", "2026", "--today", "2024-01-01")
    run(root, "invoice", "--month", "2025-12", "--today", "2026-01-02")
    run(root, "invoice", "--month", "2026-01", "--today", "2026-02-02")
    assert {"F0001.yaml", "F0002.yaml"} <= set(files(root))
    assert "no problem found" in run(root, "check").output


def test_series_that_could_share_a_number_are_refused(tmp_path: Path) -> None:
    profile = (
        PRACTITIONER
        + BILLING
        + ('  number_pattern: "F{seq:04d}"\n  credit_note_pattern: "F{seq:04d}"\n')
    )
    root = workspace(tmp_path, profile=profile)
    result = run(root, "check", code=2)
    assert "credit notes need their own series: F0001 would be both" in result.output


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("CD-{year}-{seq:03d}-{foo}", "{foo} is not a field of a number: use {year} and {seq}"),
        ("CD-{}-{seq:03d}", "is not a number pattern: write e.g. FA-{year}-{seq:04d}"),
        ("CD-{year-{seq}", "is not a number pattern: write e.g. FA-{year}-{seq:04d}"),
    ],
)
def test_a_wrong_number_pattern_says_what_to_write(
    tmp_path: Path, pattern: str, message: str
) -> None:
    root = workspace(tmp_path, profile=PRACTITIONER + BILLING + f'  number_pattern: "{pattern}"\n')
    result = run(root, "check", code=2)
    assert f"billing.number_pattern: {pattern!r}" in result.output
    assert message in result.output, result.output


def test_an_issued_record_is_never_replaced(issued: Path) -> None:
    from apptool.domain.register import new_record
    from apptool.store.register import write_issued

    record = load_register(issued).find("2025-0001")
    before = files(issued)
    with pytest.raises(RuleRefused, match="never replaced"):
        write_issued(issued, new_record(record.document, "invoice", 1, "a-ccas", None), {})
    assert files(issued) == before


@pytest.mark.usefixtures("quick_pdf")
def test_renderings_of_an_interrupted_issue_are_reported_then_replaced(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    run(root, "plan", "2025", "--today", "2024-01-01")
    (root / "invoices").mkdir()
    (root / "invoices" / "2025-0001.md").write_text("half", encoding="utf-8")
    assert (
        "invoices/2025-0001.md: no issued record holds this file"
        in run(root, "check", code=2).output
    )
    run(root, "invoice", "--month", "2025-05", "--today", "2025-06-02")
    assert (
        (root / "invoices" / "2025-0001.md")
        .read_text(encoding="utf-8")
        .startswith("# Facture N° 2025-0001")
    )
    assert "no problem found" in run(root, "check").output


# --- the register's arithmetic, for any sequence ------------------------------------------------


def fast_render(
    doc: Any, root: Path, pdf: bool, facturx: bool, einvoice: bool = True, **_: Any
) -> RenderedInvoice:
    """The service's rendering without PDF and e-invoice checks: the register is the point."""
    return RenderedInvoice(f"# {doc.number}\n", f"<p>{doc.number}</p>")


class RegisterMachine(RuleBasedStateMachine):
    """Issue, credit, re-issue, deposit and pay in any order: numbers stay gap-free in each
    series, each credited invoice has exactly one credit note, and the register balances."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory(prefix="apptool-register-")
        self.root = Path(self.tmp.name) / "ws"
        self.day = date(2025, 6, 2)

    @initialize()
    def planned(self) -> None:
        from apptool.services import planning

        workspace(Path(self.tmp.name))
        planning.plan(self.root, 2025, date(2024, 1, 1))
        self.patch = pytest.MonkeyPatch()
        self.patch.setattr(invoicing, "render_invoice", fast_render)

    def teardown(self) -> None:
        self.patch.undo()
        self.tmp.cleanup()

    def advance(self, days: int) -> date:
        self.day = date.fromordinal(self.day.toordinal() + days)
        return self.day

    @rule(month=st.sampled_from(["2025-04", "2025-05", "2025-06"]), days=st.integers(0, 3))
    def invoice(self, month: str, days: int) -> None:
        try:
            invoicing.invoice_month(self.root, Month.parse(month), self.advance(days))
        except RuleRefused as exc:
            assert "is not over" in exc.message  # June, until July

    @rule(data=st.data(), refund=st.booleans())
    def credit(self, data: st.DataObject, refund: bool) -> None:
        register = load_register(self.root)
        open_ = [
            r.number
            for r in register.records
            if r.series == "invoice" and r.number not in register.credited()
        ]
        if open_:
            number = data.draw(st.sampled_from(open_))
            # refused: paid without --refund, or a refund of an unpaid invoice
            with contextlib.suppress(RuleRefused):
                invoicing.credit_note(self.root, number, self.advance(1), "x", refund)

    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        register = load_register(self.root)
        unpaid = [
            r.number
            for r in register.records
            if r.series == "invoice"
            and r.number not in register.payments
            and r.number not in register.credited()
        ]
        if unpaid:
            invoicing.mark_paid(self.root, data.draw(st.sampled_from(unpaid)), self.advance(1))

    @invariant()
    def numbers_stay_gap_free_and_credit_notes_pair(self) -> None:
        if not (self.root / "invoices").exists():
            return
        register = load_register(self.root)
        for series in ("invoice", "credit-note"):
            seqs = sorted(r.seq for r in register.records if r.series == series)
            assert seqs == list(range(1, len(seqs) + 1))
        preceding = [r.preceding for r in register.records if r.series == "credit-note"]
        assert len(preceding) == len(set(preceding))
        state = balance(register)
        open_ = sum(
            (
                r.amount
                for r in register.records
                if r.series == "invoice"
                and r.number not in register.payments
                and r.number not in register.credited()
            ),
            Decimal("0.00"),
        )
        assert state.outstanding == open_


RegisterMachine.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_register_balances_for_any_sequence = RegisterMachine.TestCase
