"""The e-invoice: EN 16931 terms, the CII XML (Factur-X EN 16931), local validation, Factur-X PDF.

* :func:`en16931_terms` maps an :class:`~apptool.billing.InvoiceDocument` to the business
  terms of EN 16931 in the ``data_dict`` format of the ``factur-x`` library, and
  :func:`cii_xml` builds the CII XML from them with ``facturx.generate_cii_xml``
  (profile EN 16931, BT-24 ``urn:cen.eu:en16931:2017``).
* :func:`check_einvoice` (from :mod:`apptool.output.einvoice_checks`) checks an XML locally:
  the XSD and both Schematrons, possibly in a helper process (:class:`BackgroundChecks`).
* :func:`facturx_pdf` embeds the XML into a PDF/A-3b (made by WeasyPrint, see
  :func:`apptool.render.pdf_from_html`); :func:`xml_from_pdf` reads it back.

What the French rules (BR-FR-*) demand and how this module meets them:

* BT-23 (billing mode, BR-FR-08): ``S1``, a service invoice deposited by the supplier.
* BT-29/BT-46 (BR-FR-09): the SIRET, scheme ``0009``; BT-30/BT-47 (BR-FR-10): the SIREN,
  scheme ``0002``.
* BT-34/BT-49 (BR-FR-12, BR-FR-13): mandatory electronic addresses; by default the SIREN
  under scheme ``0225`` (the directory of the French reform), or ``Party.electronic_address``
  (with ``Party.electronic_scheme``), or the e-mail (scheme ``EM``) without SIRET.
* BG-1 (BR-FR-05): notes with subject codes PMT (40 EUR recovery indemnity), PMD (late
  payment interest) and AAB (no early payment discount), each once: see
  :data:`apptool.mentions.NOTES`.
* VAT franchise: category ``E``, rate 0, BT-120 ``TVA non applicable, art. 293 B du CGI``,
  BT-121 ``VATEX-FR-FRANCHISE``; BR-E-02 needs BT-31, BT-32 or BT-63: a franchise seller has
  no VAT number, so BT-32 (scheme FC) carries ``Party.tax_registration``, else the SIREN.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from apptool.domain.billing import TYPE_CODES, UNIT_CODES, InvoiceDocument, Party, round_cents
from apptool.output import helper
from apptool.output.einvoice_checks import (
    SCHEMATRONS,
    XSD,
    BackgroundChecks,
    EInvoiceCheckError,
    RuleFailure,
    background_checks,
    blocking,
    check_einvoice,
    warm_up,
)
from apptool.output.facturx_files import (
    EInvoiceInvalid,
    cii_xml_from_terms,
    embed_xml,
    xml_from_pdf,
)

__all__ = [
    "SCHEMATRONS",
    "XSD",
    "BackgroundChecks",
    "EInvoiceCheckError",
    "EInvoiceInvalid",
    "RuleFailure",
    "background_checks",
    "blocking",
    "check_einvoice",
    "cii_xml",
    "en16931_terms",
    "facturx_pdf",
    "require_valid",
    "warm_up",
    "xml_from_pdf",
]

#: BT-23, billing mode of the French rules (BR-FR-08): S1 = service invoice, deposited by the
#: supplier (B1 goods, M1 mixed; 2 already paid, 4 final after deposit...).
BILLING_MODE = "S1"
#: BT-81: UNTDID 4461, 30 = credit transfer (58 = SEPA credit transfer).
PAYMENT_MEANS = "30"
#: BT-34-1 / BT-49-1 default scheme: the electronic address of the French directory.
DEFAULT_ADDRESS_SCHEME = "0225"
SIRET_SCHEME = "0009"  # BT-29-1 / BT-46-1
SIREN_SCHEME = "0002"  # BT-30-1 / BT-47-1
#: BT-121 for the VAT franchise (art. 293 B du CGI).
FRANCHISE_CODE = "VATEX-FR-FRANCHISE"
FRANCHISE_TEXT = "TVA non applicable, art. 293 B du CGI"


# --- the business terms ---------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    return f"{round_cents(value):f}"


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _price(value: Decimal) -> str:
    """A unit price: two decimals, or more when it has more (up to 4 in Factur-X)."""
    return _amount(value) if value == round_cents(value) else _decimal(value)


def _percent(value: Decimal) -> str:
    return f"{round_cents(value):f}"


def _electronic_address(party: Party) -> tuple[str, str] | None:
    """(scheme, address) of BT-34 / BT-49."""
    if party.electronic_address:
        return party.electronic_scheme or DEFAULT_ADDRESS_SCHEME, party.electronic_address
    if party.siren:
        return DEFAULT_ADDRESS_SCHEME, party.siren
    if party.email:
        return "EM", party.email
    return None


def _party(party: Party, *, tax_registration: str | None = None) -> dict[str, Any]:
    """A party block (BG-4 or BG-7) of facturx's data_dict."""
    lines = list(party.address)
    block: dict[str, Any] = {
        "name": party.name,  # BT-27 / BT-44
        "country_code": party.country,  # BT-40 / BT-55
        "postcode": party.postcode,  # BT-38 / BT-53
        "city": party.city,  # BT-37 / BT-52
    }
    for key, line in zip(("addr_l1", "addr_l2", "addr_l3"), lines, strict=False):
        block[key] = line  # BT-35, BT-36, BT-162 / BT-50, BT-51, BT-163
    if len(lines) > 3:  # CII has three street lines: the rest joins the third
        block["addr_l3"] = ", ".join(lines[2:])
    if party.siret:
        block["identifiers"] = {SIRET_SCHEME: party.siret}  # BT-29 / BT-46
        block["legal_identifier"] = party.siren  # BT-30 / BT-47
        block["legal_identifier_schemeid"] = SIREN_SCHEME
    if party.vat_number:
        block["vat_identifier"] = party.vat_number  # BT-31 / BT-48
    if tax_registration:
        block["tax_identifier"] = tax_registration  # BT-32 (seller only)
    if party.legal_form:
        block["legal_info"] = party.legal_form  # BT-33 (seller only)
    address = _electronic_address(party)
    if address:
        block["einvoicing_addr_schemeid"], block["einvoicing_addr"] = address  # BT-34 / BT-49
    if party.email:
        block["contacts"] = [{"email": party.email}]  # BT-43 / BT-58
    return block


def _exemption(text: str | None) -> dict[str, str]:
    """BT-120 and, for the franchise (art. 293 B du CGI), BT-121 VATEX-FR-FRANCHISE."""
    text = text or FRANCHISE_TEXT
    if "293 B" in text:
        return {"BT-120": text, "BT-121": FRANCHISE_CODE}
    return {"BT-120": text}  # another exemption: the text alone (BR-E-10)


def en16931_terms(doc: InvoiceDocument) -> dict[str, Any]:
    """The EN 16931 business terms of ``doc``, as ``facturx.generate_cii_xml`` reads them.

    Keys are the term ids (``"BT-1"``, ``"BG-4"``...): dates as :class:`date`, amounts as
    strings with two decimals. A credit note (381) carries positive amounts and cites the
    credited invoice (BG-3). Raises ValueError for a draft (no number).
    """
    if doc.number is None:
        raise ValueError("a draft has no number (BT-1): issue it before making its e-invoice")
    exempt = not doc.totals.vat_rate
    category = "E" if exempt else "S"
    rate = _percent(doc.totals.vat_rate or Decimal(0))
    seller_tax_registration = doc.seller.tax_registration
    if exempt and not seller_tax_registration and not doc.seller.vat_number:
        seller_tax_registration = doc.seller.siren  # BR-E-02 for a franchise seller
    terms: dict[str, Any] = {
        "BT-1": doc.number,
        "BT-2": doc.issue_date,
        "BT-3": TYPE_CODES[doc.kind],
        "BT-5": doc.currency,
        "BT-23": BILLING_MODE,
        "BG-1": [{"BT-21": code, "BT-22": text} for code, text in doc.notes],
        "BG-4": _party(doc.seller, tax_registration=seller_tax_registration),
        "BG-7": _party(doc.buyer),
        # BT-72: the day the service was completed. Also, facturx writes an empty (nil, hence
        # XSD-invalid) ApplicableHeaderTradeDelivery when no delivery term is given.
        "BT-72": max((line.day for line in doc.lines), default=doc.period.last),
        "BT-73": doc.period.first,
        "BT-74": doc.period.last,
        "BT-106": _amount(sum((line.amount for line in doc.lines), Decimal(0))),
        "BT-109": _amount(doc.totals.net),
        "BT-110": _amount(doc.totals.vat),
        "BT-112": _amount(doc.totals.gross),
        "BT-115": _amount(doc.totals.gross),
        "BG-23": [
            {
                "BT-116": _amount(doc.totals.net),
                "BT-117": _amount(doc.totals.vat),
                "BT-118": category,
                "BT-119": rate,
                **(_exemption(doc.vat_exemption) if exempt else {}),
            }
        ],
        "BG-25": [
            {
                "BT-126": str(index),
                "BT-129": _decimal(line.quantity),
                "BT-130": UNIT_CODES[line.unit],
                "BT-146": _price(line.unit_price),
                "BT-131": _amount(line.amount),
                "BT-151": category,
                "BT-152": rate,
                "BT-153": line.description,
            }
            for index, line in enumerate(doc.lines, start=1)
        ],
    }
    optional = {
        "BT-10": doc.buyer_reference,  # the Chorus Pro service code
        "BT-12": doc.contract_reference,
        "BT-13": doc.order_reference,
        "BT-9": doc.due_date,  # none on a credit note: nothing is payable
        "BT-20": doc.payment_terms,
    }
    terms.update({key: value for key, value in optional.items() if value})
    if doc.kind == "invoice":
        terms["BT-83"] = doc.number  # remittance information
    if doc.iban:
        terms["BT-81"] = PAYMENT_MEANS
        terms["BT-84"] = re.sub(r"[\s.-]", "", doc.iban).upper()  # as printed, unspaced
        if doc.bic:
            terms["BT-86"] = doc.bic
    if doc.preceding is not None:
        terms["BG-3"] = [{"BT-25": doc.preceding[0], "BT-26": doc.preceding[1]}]
    return terms


def cii_xml(doc: InvoiceDocument) -> bytes:
    """The CII XML (Factur-X EN 16931) of ``doc``, made by ``facturx.generate_cii_xml`` (in
    the document helper when one runs, :mod:`apptool.output.helper`).

    Not checked here (no XSD, no Schematron, no Saxon server): run :func:`check_einvoice`.
    """
    terms = en16931_terms(doc)
    made = helper.run("cii_xml", terms)
    return made if isinstance(made, bytes) else cii_xml_from_terms(terms)


def require_valid(xml: bytes) -> list[RuleFailure]:
    """Validate; raise :class:`EInvoiceInvalid` on any blocking failure, else the warnings."""
    failures = check_einvoice(xml)
    if bad := blocking(failures):
        raise EInvoiceInvalid(f"the e-invoice breaks {len(bad)} rule(s)", bad)
    return failures


# --- PDF ------------------------------------------------------------------------------------


def facturx_pdf(pdf: bytes, xml: bytes) -> bytes:
    """Embed ``xml`` as ``factur-x.xml`` into ``pdf`` (a PDF/A-3b): a Factur-X EN 16931 PDF
    (:func:`~apptool.output.facturx_files.embed_xml`, in the document helper when one runs).
    """
    credit_note = TYPE_CODES["credit-note"]
    made = helper.run("facturx_pdf", pdf, xml, credit_note)
    return made if isinstance(made, bytes) else embed_xml(pdf, xml, credit_note)
