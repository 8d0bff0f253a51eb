"""Use cases of billing: invoice a month, credit an invoice, the register, payments.

One invoice per convention (and purchase order) per month, from the calendars of record and
the individual consultations (art. 4). Issuing checks the buyer's requirements and the
e-invoice rules *before* anything is written, then writes the rendered files and, last, the
record: the record is the commit point of the number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from apptool.domain.billing import (
    Consultation,
    DocumentKind,
    InvoiceDocument,
    Line,
    Month,
    buyer_party,
    month_lines,
    requirement_problems,
    seller_party,
    totals,
)
from apptool.domain.contract import active_until, order_maximum_problem, order_warning
from apptool.domain.models import Billing
from apptool.domain.records import IndividualConsultations
from apptool.domain.register import (
    InvoiceRecord,
    Payment,
    Register,
    Series,
    Standing,
    due_date,
    new_record,
    standing,
)
from apptool.domain.schedule import Session
from apptool.errors import InvalidInput, Problem, RuleRefused
from apptool.output.invoice import RenderedInvoice, render_invoice
from apptool.output.mentions import NOTES, PAYMENT_TERMS
from apptool.output.wording import FRENCH_LINES
from apptool.services.common import known_convention
from apptool.store.calendars import load_calendars
from apptool.store.records import INDIVIDUAL, load_records
from apptool.store.register import load_register, save_payments, write_issued
from apptool.store.workspace import Workspace, load_workspace, locked

FORMATS = ("md", "html", "pdf")


def _billing(workspace: Workspace) -> Billing:
    billing = workspace.practitioner.billing
    if billing is None:
        raise InvalidInput(
            "no billing profile",
            [
                Problem(
                    "practitioner.yaml",
                    None,
                    "billing",
                    "missing: the identity, VAT status and bank details printed on invoices "
                    "are needed to issue one (see the README, 'Practitioner profile')",
                )
            ],
        )
    return billing


def build_document(
    workspace: Workspace,
    convention_id: str,
    month: Month,
    lines: list[Line],
    issue: date,
    number: str | None,
    order: str | None = None,
    kind: DocumentKind = "invoice",
) -> InvoiceDocument:
    """The invoice document: parties, references, lines, totals and mentions."""
    billing = _billing(workspace)
    convention = workspace.conventions[convention_id]
    vat_rate = (
        convention.fees.vat_rate if convention.fees.vat_rate is not None else (billing.vat.rate)
    )
    return InvoiceDocument(
        kind=kind,
        number=number,
        issue_date=issue,
        due_date=due_date(issue, billing.payment_days),
        period=month,
        seller=seller_party(billing),
        buyer=buyer_party(convention),
        buyer_reference=convention.establishment.chorus_service_code,
        order_reference=order or convention.establishment.engagement_number,
        contract_reference=convention.reference,
        lines=tuple(lines),
        totals=totals(lines, vat_rate),
        vat_exemption=None if vat_rate else billing.vat.exempt_mention,
        iban=billing.iban,
        bic=billing.bic,
        payment_terms=PAYMENT_TERMS.format(days=billing.payment_days),
        notes=NOTES,
    )


@dataclass
class Billables:
    """What a month's invoices are made of, loaded once per command."""

    sessions: list[Session]
    consultations: dict[str, list[Consultation]]  # by convention

    def lines(
        self,
        workspace: Workspace,
        convention_id: str,
        month: Month,
        today: date,
        order: str | None = None,
    ) -> list[Line]:
        """The billable lines of a convention (or of one purchase order) for a month."""
        return month_lines(
            workspace.conventions[convention_id],
            [s for s in self.sessions if s.convention == convention_id],
            self.consultations.get(convention_id, []),
            month,
            today,
            FRENCH_LINES,
            order,
        )


def load_billables(root: Path) -> tuple[Workspace, Billables]:
    """The workspace, every session of record and every individual consultation."""
    calendars = load_calendars(root)
    individual = load_records(root, INDIVIDUAL, IndividualConsultations)
    consultations: dict[str, list[Consultation]] = {}
    for c in individual.consultations:
        consultations.setdefault(c.convention, []).append(Consultation(c.id, c.date, c.duration))
    return calendars.workspace, Billables(calendars.sessions, consultations)


def changes_since(record: InvoiceRecord, lines: list[Line]) -> list[str]:
    """What changed in the billable items since the invoice was issued."""
    before = record.sources
    now = {line.source: line.quantity * line.unit_price for line in lines}
    changed = [f"added: {source}" for source in sorted(set(now) - set(before))]
    changed += [f"removed: {source}" for source in sorted(set(before) - set(now))]
    changed += [
        f"amount changed: {source}"
        for source in sorted(set(now) & set(before))
        if now[source] != before[source]
    ]
    return changed


@dataclass
class InvoiceOutcome:
    """What ``apptool invoice`` did for one convention."""

    convention: str
    month: Month
    status: str  # issued | draft | existing | nothing
    order: str | None = None
    document: InvoiceDocument | None = None
    record: InvoiceRecord | None = None
    rendered: RenderedInvoice | None = None
    changes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.record.number if self.record else ""

    @property
    def issued_on(self) -> date | None:
        return self.record.issue_date if self.record else None


def invoice_month(
    root: Path,
    month: Month,
    today: date,
    convention: str | None = None,
    draft: bool = False,
    pdf: bool = True,
    facturx: bool = True,
) -> list[InvoiceOutcome]:
    """``apptool invoice --month``: one invoice per convention for the month.

    An existing invoice is shown instead of a second one (with what changed since); a month
    with nothing billable issues nothing; a draft has no number and writes nothing.
    """
    with locked(root):
        workspace, billables = load_billables(root)
        if convention is not None:
            known_convention(workspace, convention)
        register = load_register(root, strict=True)
        outcomes = []
        for conv_id in [convention] if convention else list(workspace.conventions):
            assert conv_id is not None
            orders = [o.number for o in workspace.conventions[conv_id].orders]
            found = [
                _invoice_convention(
                    root,
                    workspace,
                    billables,
                    register,
                    conv_id,
                    month,
                    today,
                    draft,
                    pdf,
                    facturx,
                    order,
                )
                for order in [None, *orders]
            ]  # one invoice per purchase order
            shown = [outcome for outcome in found if outcome.status != "nothing"]
            outcomes += shown or [InvoiceOutcome(conv_id, month, "nothing")]
        return outcomes


def order_invoice_problems(
    workspace: Workspace,
    register: Register,
    conv_id: str,
    order: str,
    month: Month,
    amount: Decimal,
) -> tuple[list[str], list[str]]:
    """Refusals and warnings for invoicing ``amount`` HT on a purchase order.

    Never beyond the order's maximum, never outside the agreement's period; a warning from
    :data:`~apptool.domain.contract.ORDER_WARNING_SHARE` of the maximum.
    """
    convention = workspace.conventions[conv_id]
    maximum = convention.order(order).maximum
    consumed = register.order_consumption(conv_id, order)
    refusals, warnings = [], []
    if month.last < convention.period.start or month.first > active_until(convention):
        refusals.append(
            f"{month} is outside the agreement's period ({convention.period.start} "
            f"to {active_until(convention)})"
        )
    if over := order_maximum_problem(order, consumed, amount, maximum):
        refusals.append(over)
    elif warning := order_warning(order, consumed + amount, maximum):
        warnings.append(warning)
    return refusals, warnings


def _invoice_convention(
    root: Path,
    workspace: Workspace,
    billables: Billables,
    register: Register,
    conv_id: str,
    month: Month,
    today: date,
    draft: bool,
    pdf: bool,
    facturx: bool,
    order: str | None = None,
) -> InvoiceOutcome:
    lines = billables.lines(workspace, conv_id, month, today, order)
    existing = register.active_invoice(conv_id, str(month), order)
    if existing is not None:
        doc = existing.document
        return InvoiceOutcome(
            conv_id,
            month,
            "existing",
            order,
            doc,
            existing,
            render_invoice(doc, root, False, False) if not draft else None,
            changes_since(existing, lines),
        )
    if not lines:
        return InvoiceOutcome(conv_id, month, "nothing", order)
    warnings: list[str] = []
    if order is not None:
        refusals, warnings = order_invoice_problems(
            workspace, register, conv_id, order, month, totals(lines, None).net
        )
        if refusals and not draft:
            raise RuleRefused("; ".join(refusals))
        warnings += refusals
    if draft:
        doc = build_document(workspace, conv_id, month, lines, today, None, order)
        return InvoiceOutcome(
            conv_id,
            month,
            "draft",
            order,
            doc,
            rendered=render_invoice(doc, root, pdf, False),
            warnings=warnings,
        )
    problems = requirement_problems(
        workspace.conventions[conv_id], workspace.documents[conv_id], order
    )
    if problems:
        raise InvalidInput(
            f"cannot invoice {conv_id}: the buyer's requirements are not met", problems
        )
    if today <= month.last:
        raise RuleRefused(
            f"{month} is not over (today is {today}): invoice it from "
            f"{date.fromordinal(month.last.toordinal() + 1)} on, or use --draft"
        )
    billing = _billing(workspace)
    _check_date_order(register, "invoice", today)
    number, seq = register.next_number("invoice", today.year, billing.number_pattern)
    doc = build_document(workspace, conv_id, month, lines, today, number, order)
    rendered = render_invoice(doc, root, pdf, facturx)
    record = new_record(doc, "invoice", seq, conv_id, order)
    written = write_issued(
        root, record, rendered.files(record.number), _pdf_note(rendered, facturx)
    )
    register.records.append(record)
    return InvoiceOutcome(
        conv_id, month, "issued", order, doc, record, rendered, [], written, warnings
    )


def _pdf_note(rendered: RenderedInvoice, facturx: bool) -> str:
    return " (Factur-X PDF)" if facturx and rendered.pdf else ""


def _check_date_order(register: Register, series: Series, today: date) -> None:
    """A new number of a series cannot be dated before the last one of its year."""
    last = max(
        (r for r in register.records if r.series == series and r.year == today.year),
        key=lambda r: (r.issue_date, r.seq),
        default=None,
    )
    if last is not None and today < last.issue_date:
        what = "credit note" if series == "credit-note" else "invoice"
        raise RuleRefused(
            f"the last {what}, {last.number}, is dated {last.issue_date}: a new "
            f"one cannot be dated {today} (numbers and dates must run in order)"
        )


def credit_note(
    root: Path,
    number: str,
    today: date,
    reason: str | None = None,
    pdf: bool = True,
    facturx: bool = True,
) -> InvoiceOutcome:
    """``apptool credit-note NUMBER``: a "facture d'avoir" cancelling an invoice in full.

    It cites the original number and date (BG-3), carries positive amounts (type 381), takes
    the next number of its own series; the month can then be invoiced again.
    """
    with locked(root):
        workspace = load_workspace(root)
        register = load_register(root, strict=True)
        original = register.find(number)
        if original.series != "invoice":
            raise RuleRefused(f"{number} is a credit note; only an invoice can be credited")
        if number in register.credited():
            raise RuleRefused(
                f"{number} is already cancelled by credit note {register.credited()[number].number}"
            )
        if today < original.issue_date:
            raise RuleRefused(
                f"a credit note cannot be dated {today}, before the invoice ({original.issue_date})"
            )
        billing = _billing(workspace)
        _check_date_order(register, "credit-note", today)
        credit_number, seq = register.next_number(
            "credit-note", today.year, billing.credit_note_pattern
        )
        doc = original.document.model_copy(
            update={
                "kind": "credit-note",
                "number": credit_number,
                "issue_date": today,
                "due_date": today,
                "preceding": (original.number, original.issue_date),
            }
        )
        rendered = render_invoice(doc, root, pdf, facturx)
        record = new_record(doc, "credit-note", seq, original.convention, original.order, reason)
        written = write_issued(
            root, record, rendered.files(record.number), _pdf_note(rendered, facturx)
        )
        return InvoiceOutcome(
            original.convention,
            Month.parse(original.month),
            "issued",
            original.order,
            doc,
            record,
            rendered,
            [],
            written,
        )


def list_invoices(root: Path, today: date, year: int | None = None) -> list[Standing]:
    """``apptool invoices``: every invoice and credit note with its standing."""
    workspace = load_workspace(root)
    register = load_register(root, strict=True)
    ecb = (
        workspace.practitioner.billing.ecb_rate
        if workspace.practitioner.billing
        else (Decimal("2.15"))
    )
    records = sorted(
        (r for r in register.records if year is None or r.year == year),
        key=lambda r: (r.issue_date, r.series, r.seq),
    )
    return [standing(register, r, today, ecb) for r in records]


def mark_paid(root: Path, number: str, paid_on: date) -> InvoiceRecord:
    """``apptool paid NUMBER --on DATE``: record the payment (the record stays untouched)."""
    with locked(root):
        register = load_register(root, strict=True)
        record = register.find(number)
        if record.series != "invoice":
            raise RuleRefused(f"{number} is a credit note: nothing to pay")
        if number in register.payments:
            raise RuleRefused(
                f"{number} is already recorded as paid on {register.payments[number]}"
            )
        if number in register.credited():
            raise RuleRefused(f"{number} was cancelled by a credit note")
        if paid_on < record.issue_date:
            raise RuleRefused(f"{number} was issued on {record.issue_date}, after {paid_on}")
        payments = [Payment(number=n, paid_on=d) for n, d in register.payments.items()]
        save_payments(root, [*payments, Payment(number=number, paid_on=paid_on)])
        return record
