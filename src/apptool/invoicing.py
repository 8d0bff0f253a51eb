"""Use cases of billing: invoice a month, credit an invoice, the register, payments.

One invoice per convention (and purchase order) per month, from the calendars of record and
the individual consultations (art. 4). Issuing checks the buyer's requirements and the
e-invoice rules *before* anything is written, then writes the rendered files and, last, the
record: the record is the commit point of the number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .billing import (
    Consultation,
    DocumentKind,
    InvoiceDocument,
    Line,
    Month,
    Party,
    month_lines,
    totals,
)
from .errors import InvalidInput, Problem, RuleRefused
from .loading import Document
from .models import Billing, Convention, split_address
from .records import INDIVIDUAL, IndividualConsultations, load_records
from .register import (
    INVOICES,
    PAYMENTS,
    InvoiceRecord,
    Payment,
    Payments,
    Register,
    Series,
    Standing,
    content_hash,
    due_date,
    file_hash,
    load_register,
    standing,
    to_data,
)
from .workspace import Workspace, dump_yaml, locked, write_atomic

FORMATS = ("md", "html", "pdf")


# --- requirements ---------------------------------------------------------------------------


def _billing(workspace: Workspace) -> Billing:
    billing = workspace.practitioner.billing
    if billing is None:
        raise InvalidInput("no billing profile", [Problem(
            "practitioner.yaml", None, "billing",
            "missing: the identity, VAT status and bank details printed on invoices are needed "
            "to issue one (see the README, 'Practitioner profile')")])
    return billing


def requirement_problems(workspace: Workspace, convention_id: str,
                         order: str | None = None) -> list[Problem]:
    """What the buyer requires on its invoices (Chorus Pro) and the invoice cannot lack."""
    convention = workspace.conventions[convention_id]
    doc: Document | None = workspace.documents.get(convention_id)
    establishment = convention.establishment

    def problem(field_: str, message: str) -> Problem:
        loc = ("establishment", field_)
        if doc is None:
            return Problem(f"conventions/{convention_id}.yaml", None, ".".join(loc), message)
        return doc.problem(loc, message)

    problems = []
    present = {"siret": establishment.siret, "service_code": establishment.chorus_service_code,
               "engagement_number": order or establishment.engagement_number}
    keys = {"siret": "siret", "service_code": "chorus_service_code",
            "engagement_number": "engagement_number"}
    for requirement in establishment.invoice_requires:
        if not present[requirement]:
            problems.append(problem(keys[requirement], f"missing: the buyer requires its "
                                    f"{requirement.replace('_', ' ')} on invoices "
                                    "(invoice_requires); issuing is refused without it"))
    if split_address(establishment.address) is None:
        problems.append(problem("address", "the last line must be '<postcode> <city>', e.g. "
                                "'28100 Dreux' (needed on the invoice)"))
    return problems


def seller_party(billing: Billing) -> Party:
    street, postcode, city = split_address(billing.address) or ((), "", "")
    return Party(billing.legal_name, street, postcode, city, "FR", billing.siret,
                 billing.vat_number, billing.legal_form, billing.email)


def buyer_party(convention: Convention) -> Party:
    establishment = convention.establishment
    street, postcode, city = split_address(establishment.address) or ((), "", "")
    return Party(establishment.name, street, postcode, city, "FR", establishment.siret)


def build_document(workspace: Workspace, convention_id: str, month: Month, lines: list[Line],
                   issue: date, number: str | None, order: str | None = None,
                   kind: DocumentKind = "invoice") -> InvoiceDocument:
    """The invoice document: parties, references, lines, totals and mentions."""
    from .mentions import NOTES, PAYMENT_TERMS

    billing = _billing(workspace)
    convention = workspace.conventions[convention_id]
    vat_rate = convention.fees.vat_rate if convention.fees.vat_rate is not None else (
        billing.vat.rate)
    return InvoiceDocument(
        kind=kind, number=number, issue_date=issue,
        due_date=due_date(issue, billing.payment_days), period=month,
        seller=seller_party(billing), buyer=buyer_party(convention),
        buyer_reference=convention.establishment.chorus_service_code,
        order_reference=order or convention.establishment.engagement_number,
        contract_reference=convention.reference,
        lines=tuple(lines), totals=totals(lines, vat_rate),
        vat_exemption=None if vat_rate else billing.vat.exempt_mention,
        iban=billing.iban, bic=billing.bic,
        payment_terms=PAYMENT_TERMS.format(days=billing.payment_days), notes=NOTES,
    )


# --- the month's items ----------------------------------------------------------------------


def month_items(root: Path, workspace: Workspace, convention_id: str, month: Month,
                today: date, order: str | None = None) -> list[Line]:
    """The billable lines of a convention (or of one purchase order) for a month (art. 4)."""
    from .app import load_record

    record = load_record(root)
    sessions = [s for s in record.sessions if s.convention == convention_id]
    individual = load_records(root, INDIVIDUAL, IndividualConsultations)
    consultations = [Consultation(c.id, c.date, c.duration) for c in individual.consultations
                     if c.convention == convention_id]
    return month_lines(workspace.conventions[convention_id], sessions, consultations, month,
                       today, order)


def changes_since(record: InvoiceRecord, lines: list[Line]) -> list[str]:
    """What changed in the billable items since the invoice was issued."""
    before = record.sources
    now = {line.source: str(line.quantity * line.unit_price) for line in lines}
    changed = [f"added: {source}" for source in sorted(set(now) - set(before))]
    changed += [f"removed: {source}" for source in sorted(set(before) - set(now))]
    changed += [f"amount changed: {source}" for source in sorted(set(now) & set(before))
                if Decimal(now[source]) != Decimal(before[source])]
    return changed


# --- rendering and writing ------------------------------------------------------------------


@dataclass
class Rendered:
    markdown: str
    html: str
    xml: bytes | None = None
    pdf: bytes | None = None


def render_document(doc: InvoiceDocument, root: Path, pdf: bool, facturx: bool) -> Rendered:
    """Markdown and HTML always; the CII XML (checked) and the PDF when asked."""
    from .mentions import invoice_mentions
    from .render import pdf_from_html, render

    context: dict[str, Any] = {"doc": doc, "m": invoice_mentions(doc)}
    rendered = Rendered(render("invoice.md.j2", context, root),
                        render("invoice.html.j2", context, root))
    if doc.number is not None:
        rendered.xml = checked_xml(doc)
    if pdf:
        rendered.pdf = pdf_from_html(rendered.html, doc.issue_date)
        if facturx and rendered.xml is not None:
            from .einvoice import facturx_pdf

            rendered.pdf = facturx_pdf(rendered.pdf, rendered.xml)
    return rendered


def checked_xml(doc: InvoiceDocument) -> bytes:
    """The e-invoice XML, refused if the XSD or a schematron rule fails (nothing is written)."""
    from .einvoice import cii_xml, validate

    xml = cii_xml(doc)
    failures = [f for f in validate(xml) if f.is_error]
    if failures:
        raise InvalidInput(
            f"the e-invoice {doc.number} breaks {len(failures)} rule(s); nothing was issued",
            [Problem(f"{INVOICES}/{doc.number}", None, f.rule, f.message) for f in failures])
    return xml


def write_issued(root: Path, record: InvoiceRecord, rendered: Rendered,
                 facturx: bool) -> list[Path]:
    """Write the rendered files, then the record (last: it commits the number)."""
    folder = root / INVOICES
    outputs: dict[str, bytes] = {
        f"{record.number}.md": rendered.markdown.encode("utf-8"),
        f"{record.number}.html": rendered.html.encode("utf-8"),
    }
    if rendered.xml is not None:
        outputs[f"{record.number}.xml"] = rendered.xml
    if rendered.pdf is not None:
        outputs[f"{record.number}.pdf"] = rendered.pdf
    written = []
    for name, content in outputs.items():
        write_atomic(folder / name, content)
        written.append(folder / name)
    final = record.model_copy(update={"files": {n: file_hash(c) for n, c in outputs.items()}})
    what = "credit note" if record.series == "credit-note" else "invoice"
    header = (f"# apptool register: {what} {record.number}, issued {record.issue_date}"
              f"{' (Factur-X PDF)' if facturx and rendered.pdf else ''}. Never edit: "
              "issue a credit note instead.\n")
    write_atomic(folder / f"{record.number}.yaml",
                 dump_yaml(final.model_dump(mode="json"), header))
    written.append(folder / f"{record.number}.yaml")
    return written


def new_record(doc: InvoiceDocument, series: Series, seq: int, convention_id: str,
               order: str | None, reason: str | None = None) -> InvoiceRecord:
    data = to_data(doc)
    assert doc.number is not None
    return InvoiceRecord(number=doc.number, series=series, year=doc.issue_date.year, seq=seq,
                         convention=convention_id, month=str(doc.period),
                         issue_date=doc.issue_date, order=order, reason=reason, document=data,
                         content_hash=content_hash(data))


# --- use cases ------------------------------------------------------------------------------


@dataclass
class InvoiceOutcome:
    """What ``apptool invoice`` did for one convention."""

    convention: str
    month: Month
    status: str  # issued | draft | existing | nothing
    order: str | None = None
    document: InvoiceDocument | None = None
    record: InvoiceRecord | None = None
    rendered: Rendered | None = None
    changes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.record.number if self.record else ""

    @property
    def issued_on(self) -> date | None:
        return self.record.issue_date if self.record else None


def invoice_month(root: Path, month: Month, today: date, convention: str | None = None,
                  draft: bool = False, pdf: bool = True, facturx: bool = True,
                  ) -> list[InvoiceOutcome]:
    """``apptool invoice --month``: one invoice per convention for the month.

    An existing invoice is shown instead of a second one (with what changed since); a month
    with nothing billable issues nothing; a draft has no number and writes nothing.
    """
    from .workspace import load_workspace

    with locked(root):
        workspace = load_workspace(root)
        if convention is not None and convention not in workspace.conventions:
            raise InvalidInput(f"unknown convention {convention!r} (known: "
                               f"{', '.join(workspace.conventions)})")
        register = load_register(root, strict=True)
        outcomes = []
        for conv_id in [convention] if convention else list(workspace.conventions):
            assert conv_id is not None
            orders = [o.number for o in workspace.conventions[conv_id].orders]
            found = [_invoice_convention(root, workspace, register, conv_id, month, today,
                                         draft, pdf, facturx, order)
                     for order in [None, *orders]]  # one invoice per purchase order
            shown = [outcome for outcome in found if outcome.status != "nothing"]
            outcomes += shown or [InvoiceOutcome(conv_id, month, "nothing")]
        return outcomes


def order_consumption(register: Register, convention: str, order: str) -> Decimal:
    """Amount HT already invoiced on a purchase order (invoices not cancelled)."""
    credited = register.credited()
    return sum((Decimal(r.document["totals"]["net"]) for r in register.records
                if r.series == "invoice" and r.convention == convention and r.order == order
                and r.number not in credited), Decimal("0.00"))


def order_problems(workspace: Workspace, register: Register, conv_id: str, order: str,
                   month: Month, amount: Decimal) -> tuple[list[str], list[str]]:
    """Refusals and warnings for invoicing ``amount`` HT on a purchase order.

    Never beyond the order's maximum, never outside the agreement's period; a warning from
    80 % of the maximum.
    """
    from .rules import active_until

    convention = workspace.conventions[conv_id]
    maximum = convention.order(order).maximum
    consumed = order_consumption(register, conv_id, order)
    refusals, warnings = [], []
    if month.last < convention.period.start or month.first > active_until(convention):
        refusals.append(f"{month} is outside the agreement's period ({convention.period.start} "
                        f"to {active_until(convention)})")
    if consumed + amount > maximum:
        refusals.append(f"order {order}: {consumed} EUR HT already invoiced + {amount} EUR HT "
                        f"would exceed its maximum of {maximum} EUR HT")
    elif consumed + amount >= maximum * Decimal("0.8"):
        share = (consumed + amount) * 100 / maximum
        warnings.append(f"order {order}: {share:.0f} % of its maximum ({maximum} EUR HT) "
                        "will have been invoiced")
    return refusals, warnings


def _invoice_convention(root: Path, workspace: Workspace, register: Register, conv_id: str,
                        month: Month, today: date, draft: bool, pdf: bool,
                        facturx: bool, order: str | None = None) -> InvoiceOutcome:
    lines = month_items(root, workspace, conv_id, month, today, order)
    existing = register.active_invoice(conv_id, str(month), order)
    if existing is not None:
        doc = existing.invoice()
        return InvoiceOutcome(conv_id, month, "existing", order, doc, existing,
                              render_document(doc, root, False, False) if not draft else None,
                              changes_since(existing, lines))
    if not lines:
        return InvoiceOutcome(conv_id, month, "nothing", order)
    warnings: list[str] = []
    if order is not None:
        refusals, warnings = order_problems(workspace, register, conv_id, order, month,
                                            totals(lines, None).net)
        if refusals and not draft:
            raise RuleRefused("; ".join(refusals))
        warnings += refusals
    if draft:
        doc = build_document(workspace, conv_id, month, lines, today, None, order)
        return InvoiceOutcome(conv_id, month, "draft", order, doc,
                              rendered=render_document(doc, root, pdf, False),
                              warnings=warnings)
    problems = requirement_problems(workspace, conv_id, order)
    if problems:
        raise InvalidInput(f"cannot invoice {conv_id}: the buyer's requirements are not met",
                           problems)
    if today <= month.last:
        raise RuleRefused(f"{month} is not over (today is {today}): invoice it from "
                          f"{date.fromordinal(month.last.toordinal() + 1)} on, or use --draft")
    billing = _billing(workspace)
    _check_date_order(register, "invoice", today)
    number, seq = register.next_number("invoice", today.year, billing.number_pattern)
    doc = build_document(workspace, conv_id, month, lines, today, number, order)
    rendered = render_document(doc, root, pdf, facturx)
    record = new_record(doc, "invoice", seq, conv_id, order)
    written = write_issued(root, record, rendered, facturx)
    register.records.append(record)
    return InvoiceOutcome(conv_id, month, "issued", order, doc, record, rendered, [], written,
                          warnings)


def _check_date_order(register: Register, series: Series, today: date) -> None:
    """A new number of a series cannot be dated before the last one of its year."""
    last = max((r for r in register.records if r.series == series and r.year == today.year),
               key=lambda r: (r.issue_date, r.seq), default=None)
    if last is not None and today < last.issue_date:
        what = "credit note" if series == "credit-note" else "invoice"
        raise RuleRefused(f"the last {what}, {last.number}, is dated {last.issue_date}: a new "
                          f"one cannot be dated {today} (numbers and dates must run in order)")


def credit_note(root: Path, number: str, today: date, reason: str | None = None,
                pdf: bool = True, facturx: bool = True) -> InvoiceOutcome:
    """``apptool credit-note NUMBER``: a "facture d'avoir" cancelling an invoice in full.

    It cites the original number and date (BG-3), carries positive amounts (type 381), takes
    the next number of its own series; the month can then be invoiced again.
    """
    from .workspace import load_workspace

    with locked(root):
        workspace = load_workspace(root)
        register = load_register(root, strict=True)
        original = register.find(number)
        if original.series != "invoice":
            raise RuleRefused(f"{number} is a credit note; only an invoice can be credited")
        if number in register.credited():
            raise RuleRefused(f"{number} is already cancelled by credit note "
                              f"{register.credited()[number].number}")
        if today < original.issue_date:
            raise RuleRefused(f"a credit note cannot be dated {today}, before the invoice "
                              f"({original.issue_date})")
        billing = _billing(workspace)
        _check_date_order(register, "credit-note", today)
        credit_number, seq = register.next_number("credit-note", today.year,
                                                  billing.credit_note_pattern)
        source = original.invoice()
        doc = replace(source, kind="credit-note", number=credit_number, issue_date=today,
                      due_date=today, preceding=(original.number, original.issue_date))
        rendered = render_document(doc, root, pdf, facturx)
        record = new_record(doc, "credit-note", seq, original.convention, original.order,
                            reason)
        written = write_issued(root, record, rendered, facturx)
        return InvoiceOutcome(original.convention, Month.parse(original.month), "issued",
                              original.order, doc, record, rendered, [], written)


def list_invoices(root: Path, today: date, year: int | None = None) -> list[Standing]:
    """``apptool invoices``: every invoice and credit note with its standing."""
    from .workspace import load_workspace

    workspace = load_workspace(root)
    register = load_register(root, strict=True)
    ecb = workspace.practitioner.billing.ecb_rate if workspace.practitioner.billing else (
        Decimal("2.15"))
    records = sorted((r for r in register.records if year is None or r.year == year),
                     key=lambda r: (r.issue_date, r.series, r.seq))
    return [standing(register, r, today, ecb) for r in records]


def mark_paid(root: Path, number: str, paid_on: date) -> InvoiceRecord:
    """``apptool paid NUMBER --on DATE``: record the payment (the record stays untouched)."""
    with locked(root):
        register = load_register(root, strict=True)
        record = register.find(number)
        if record.series != "invoice":
            raise RuleRefused(f"{number} is a credit note: nothing to pay")
        if number in register.payments:
            raise RuleRefused(f"{number} is already recorded as paid on "
                              f"{register.payments[number]}")
        if number in register.credited():
            raise RuleRefused(f"{number} was cancelled by a credit note")
        if paid_on < record.issue_date:
            raise RuleRefused(f"{number} was issued on {record.issue_date}, after {paid_on}")
        payments = [Payment(number=n, paid_on=d) for n, d in register.payments.items()]
        payments.append(Payment(number=number, paid_on=paid_on))
        data = Payments(payments=sorted(payments, key=lambda p: (p.paid_on, p.number)))
        write_atomic(root / INVOICES / PAYMENTS,
                     dump_yaml(data.model_dump(mode="json"),
                               "# apptool register: payments received.\n"))
        return record
