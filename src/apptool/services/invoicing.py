"""Use cases of billing: invoice a month, credit an invoice, claim late-payment interest, and
keep the register (deposits, payments, refunds, the livre des recettes).

One invoice per convention (and purchase order) per month, from the calendars of record and
the individual consultations (art. 4). Only what took place is billed. A run is all or
nothing: every invoice of the month is built, checked (the buyer's requirements, an order's
maximum, the calendar's hard rules, the e-invoice rules) and rendered *before* any number is
written; one refusal issues nothing and names every problem. Then the rendered files are
written and, last, each record: the record is the commit point of its number.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
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
    unconfirmed_in_month,
)
from apptool.domain.contract import (
    RECOVERY_INDEMNITY,
    active_until,
    clause,
    ecb_rate_in_force,
    half_year_start,
    order_maximum_problem,
    order_warning,
    payment_period_article,
    payment_period_days,
)
from apptool.domain.hard_rules import plan_violations
from apptool.domain.models import Billing, Convention
from apptool.domain.records import IndividualConsultations
from apptool.domain.register import (
    Deposit,
    InvoiceRecord,
    Ledger,
    Payment,
    PaymentMethod,
    Refund,
    Register,
    Series,
    Standing,
    default_due,
    new_record,
    received_in,
    standing,
    yearly_series,
)
from apptool.domain.schedule import Session
from apptool.errors import AppToolError, InvalidInput, Problem, RuleRefused
from apptool.output.einvoice_checks import background_checks
from apptool.output.french import euros, number, short_date
from apptool.output.invoice import RenderedInvoice, render_invoice
from apptool.output.mentions import CREDIT_TERMS, NOTES, REFUND_TERMS, payment_terms
from apptool.output.wording import FRENCH_LINES
from apptool.services.common import known_convention
from apptool.store.calendars import Calendars, load_calendars
from apptool.store.rates import load_rates
from apptool.store.records import INDIVIDUAL, load_records
from apptool.store.register import (
    invoices_folder,
    load_register,
    save_events,
    write_issued,
)
from apptool.store.workspace import Workspace, load_workspace, locked

FORMATS = ("md", "html", "pdf")
#: A claim's lines are outside the scope of VAT (damages, not the price of a service).
OUT_OF_SCOPE = "Hors champ de la TVA : intérêts moratoires et indemnité forfaitaire de recouvrement"


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
    replaces: InvoiceRecord | None = None,
) -> InvoiceDocument:
    """The invoice document: parties, references, lines, totals, terms and mentions."""
    billing = _billing(workspace)
    convention = workspace.conventions[convention_id]
    vat_rate = (
        convention.fees.vat_rate if convention.fees.vat_rate is not None else billing.vat.rate
    )
    days = payment_period_days(convention)
    engagement = convention.establishment.engagement_number
    return InvoiceDocument(
        kind=kind,
        number=number,
        issue_date=issue,
        due_date=default_due(issue, days),
        payment_days=days,
        period=month,
        seller=seller_party(billing),
        buyer=buyer_party(convention),
        buyer_reference=convention.establishment.chorus_service_code,
        order_reference=order or engagement,
        engagement_reference=engagement if order and engagement != order else None,
        contract_reference=convention.reference,
        contract_kind=convention.kind,
        lines=tuple(lines),
        totals=totals(lines, vat_rate),
        vat_exemption=None if vat_rate else billing.vat.exempt_mention,
        iban=billing.iban,
        bic=billing.bic,
        payment_terms=payment_terms(
            days, payment_period_article(convention), convention.payment_days is not None
        ),
        notes=NOTES,
        preceding=(replaces.number, replaces.issue_date) if replaces else None,
    )


@dataclass
class Billables:
    """What a month's invoices are made of, loaded once per command."""

    calendars: Calendars
    consultations: dict[str, list[Consultation]]  # by convention

    @property
    def sessions(self) -> list[Session]:
        return self.calendars.sessions

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

    def pending_reports(
        self, convention_id: str, month: Month, order: str | None, workspace: Workspace
    ) -> list[Session]:
        """The month's sessions the establishment cancelled whose report is still pending."""
        return _pending(self, convention_id, month, order, workspace)

    def unconfirmed(
        self,
        workspace: Workspace,
        convention_id: str,
        month: Month,
        today: date,
        order: str | None = None,
    ) -> list[Session]:
        return unconfirmed_in_month(
            workspace.conventions[convention_id],
            [s for s in self.sessions if s.convention == convention_id],
            month,
            today,
            order,
        )


def _pending(
    billables: Billables, conv_id: str, month: Month, order: str | None, workspace: Workspace
) -> list[Session]:
    convention = workspace.conventions[conv_id]
    return [
        s
        for s in billables.sessions
        if s.convention == conv_id
        and s.status == "report-pending"
        and month.contains(s.date)
        and convention.group(s.group).order == order
    ]


def load_billables(root: Path) -> tuple[Workspace, Billables]:
    """The workspace, every session of record and every individual consultation."""
    calendars = load_calendars(root)
    individual = load_records(root, INDIVIDUAL, IndividualConsultations)
    consultations: dict[str, list[Consultation]] = {}
    for c in individual.consultations:
        consultations.setdefault(c.convention, []).append(Consultation(c.id, c.date, c.duration))
    return calendars.workspace, Billables(calendars, consultations)


def changes_since(record: InvoiceRecord, lines: list[Line]) -> list[str]:
    """What changed in the billable items since the invoice was issued."""
    before = record.sources
    now = {line.source: line.amount for line in lines}
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
    """What ``apptool invoice`` did for one convention (and purchase order)."""

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
    #: The issued files, by extension, for a month already invoiced (``--output`` copies them).
    issued_files: dict[str, Path] = field(default_factory=dict)

    @property
    def number(self) -> str:
        return self.record.number if self.record else ""

    @property
    def issued_on(self) -> date | None:
        return self.record.issue_date if self.record else None


class InvoiceRunRefused(AppToolError):
    """An invoice run refused as a whole: every problem of every invoice, nothing issued.

    Exit 2 when a file is at fault (the buyer's requirements, an e-invoice rule), else 4.
    """

    def __init__(self, message: str, problems: list[Problem], invalid: bool) -> None:
        super().__init__(message, problems)
        self.exit_code = InvalidInput.exit_code if invalid else RuleRefused.exit_code

    def lines(self) -> list[str]:
        return [*super().lines(), self.message]


@dataclass
class _Pending:
    """An invoice of the run, checked, waiting for its number."""

    convention: str
    order: str | None
    lines: list[Line]
    replaces: InvoiceRecord | None
    warnings: list[str]


def _not_over_problem(billables: Billables, month: Month, today: date) -> str | None:
    """A month is invoiced once it is over; say what is planned in it meanwhile."""
    if today > month.last:
        return None
    planned = sorted(
        (s for s in billables.sessions if month.contains(s.date) and s.occupies_time),
        key=lambda s: s.date,
    )
    if planned:
        what = f"{len(planned)} session(s) planned, the last on {planned[-1].date}"
    elif month.year not in billables.calendars.calendars:
        what = f"no calendar of record for {month.year} yet (run `apptool plan {month.year}`)"
    else:
        what = "no session planned in it"
    return (
        f"{month} is not over (today is {today}): {what}; invoice it from "
        f"{date.fromordinal(month.last.toordinal() + 1)} on, or use --draft"
    )


def _no_plan_problem(billables: Billables, workspace: Workspace, month: Month) -> str | None:
    """A month of a year that has no calendar of record: plan it first."""
    if month.year in billables.calendars.calendars:
        return None
    if not any(
        c.period.start <= month.last and month.first <= active_until(c) and c.groups
        for c in workspace.conventions.values()
    ):
        return None
    return (
        f"no calendar of record for {month.year} (calendars/{month.year}.yaml): run "
        f"`apptool plan {month.year}` first"
    )


def _calendar_problems(
    workspace: Workspace, billables: Billables, sources: set[str]
) -> list[Problem]:
    """The hard rules ``apptool check`` applies, for the sessions an invoice would bill."""
    problems = []
    for session_id, message in plan_violations(
        billables.sessions, workspace.conventions, workspace.practitioner
    ):
        if session_id in sources:
            year = session_id.rsplit("/", 1)[-1][:4]
            problems.append(
                Problem(
                    f"calendars/{year}.yaml",
                    None,
                    session_id,
                    f"{message}; a calendar `apptool check` refuses is not invoiced: fix it first",
                )
            )
    return problems


def invoice_month(
    root: Path,
    month: Month,
    today: date,
    convention: str | None = None,
    draft: bool = False,
    pdf: bool = True,
    facturx: bool = True,
) -> list[InvoiceOutcome]:
    """``apptool invoice --month``: the month's invoices, all or nothing.

    An existing invoice is shown instead of a second one (with what changed since); a month
    with nothing billable issues nothing; a draft has no number and writes nothing.
    """
    with locked(root):
        workspace, billables = load_billables(root)
        if convention is not None:
            known_convention(workspace, convention)
        register = load_register(root, strict=True)
        if not draft:
            for problem in (
                _not_over_problem(billables, month, today),
                _no_plan_problem(billables, workspace, month),
            ):
                if problem:
                    raise RuleRefused(problem)
        outcomes: list[InvoiceOutcome] = []
        pending: list[_Pending] = []
        problems: list[Problem] = []
        invalid = False
        for conv_id in [convention] if convention else list(workspace.conventions):
            assert conv_id is not None
            shown: list[InvoiceOutcome] = []
            orders = [o.number for o in workspace.conventions[conv_id].orders]
            for order in [None, *orders]:  # one invoice per purchase order
                outcome, candidate, found, bad = _prepare(
                    root, workspace, billables, register, conv_id, month, today, draft, order
                )
                problems += found
                invalid = invalid or bad
                if outcome is not None and (outcome.status != "nothing" or outcome.warnings):
                    shown.append(outcome)
                if candidate is not None:
                    pending.append(candidate)
            outcomes += shown or [InvoiceOutcome(conv_id, month, "nothing")]
        if draft:
            outcomes += [_draft(root, workspace, month, today, p, pdf) for p in pending]
            return _ordered(outcomes, workspace)
        if problems:
            raise InvoiceRunRefused(
                f"{month}: {len(problems)} problem(s): nothing was issued", problems, invalid
            )
        issued = _issue_all(root, workspace, register, pending, month, today, pdf, facturx)
        return _ordered(outcomes + issued, workspace)


def _ordered(outcomes: list[InvoiceOutcome], workspace: Workspace) -> list[InvoiceOutcome]:
    """One line per convention and order, in the workspace's order, nothing shown twice."""
    rank = {conv_id: index for index, conv_id in enumerate(workspace.conventions)}
    kept = [
        o
        for o in outcomes
        if o.status != "nothing"
        or not any(p.convention == o.convention and p.status != "nothing" for p in outcomes)
    ]
    return sorted(kept, key=lambda o: (rank[o.convention], o.order or ""))


def _prepare(
    root: Path,
    workspace: Workspace,
    billables: Billables,
    register: Register,
    conv_id: str,
    month: Month,
    today: date,
    draft: bool,
    order: str | None,
) -> tuple[InvoiceOutcome | None, _Pending | None, list[Problem], bool]:
    """One invoice of the run: shown (existing, nothing), or pending with its problems."""
    lines = billables.lines(workspace, conv_id, month, today, order)
    warnings = [
        f"{s.id} ({s.date}) not billed: written into the calendar after its date and not "
        f"confirmed; if it took place, run `apptool held {s.id}`"
        for s in billables.unconfirmed(workspace, conv_id, month, today, order)
    ]
    warnings += [
        f"{s.id} ({s.date}) cancelled by the establishment, its report pending: move it "
        f"(`apptool reschedule {s.id} ...`), or record that no report is possible "
        f"(`apptool cancel {s.id} --by establishment --no-report`): it is then due and billed"
        for s in billables.pending_reports(conv_id, month, order, workspace)
    ]
    existing = register.active_invoice(conv_id, str(month), order)
    if existing is not None:
        doc = existing.document
        files = {
            Path(name).suffix.lstrip("."): invoices_folder(root) / name for name in existing.files
        }
        return (
            InvoiceOutcome(
                conv_id,
                month,
                "existing",
                order,
                doc,
                existing,
                render_invoice(doc, root, False, False, einvoice=False) if not draft else None,
                changes_since(existing, lines),
                warnings=warnings,
                issued_files=files,
            ),
            None,
            [],
            False,
        )
    if not lines:
        outcome = InvoiceOutcome(conv_id, month, "nothing", order, warnings=warnings)
        return (outcome if warnings else None), None, [], False
    problems: list[Problem] = []
    invalid = False
    if order is not None:
        refusals, order_warnings = order_invoice_problems(
            workspace, register, conv_id, order, month, totals(lines, None).net
        )
        warnings += order_warnings
        if draft:
            warnings += refusals
        else:
            problems += [
                Problem(f"conventions/{conv_id}.yaml", None, f"order {order}", r) for r in refusals
            ]
    if not draft:
        found = requirement_problems(
            workspace.conventions[conv_id], workspace.documents[conv_id], order
        )
        invalid = bool(found)
        problems += found
        problems += _calendar_problems(workspace, billables, {line.source for line in lines})
    replaces = register.last_credited(conv_id, str(month), order)
    return None, _Pending(conv_id, order, lines, replaces, warnings), problems, invalid


def _draft(
    root: Path, workspace: Workspace, month: Month, today: date, pending: _Pending, pdf: bool
) -> InvoiceOutcome:
    doc = build_document(
        workspace,
        pending.convention,
        month,
        pending.lines,
        today,
        None,
        pending.order,
        replaces=pending.replaces,
    )
    return InvoiceOutcome(
        pending.convention,
        month,
        "draft",
        pending.order,
        doc,
        rendered=render_invoice(doc, root, pdf, False),
        warnings=pending.warnings,
    )


def _issue_all(
    root: Path,
    workspace: Workspace,
    register: Register,
    pending: list[_Pending],
    month: Month,
    today: date,
    pdf: bool,
    facturx: bool,
) -> list[InvoiceOutcome]:
    """Number, render and check every pending invoice; only then write them, in order."""
    if not pending:
        return []
    billing = _billing(workspace)
    _check_date_order(register, "invoice", today, billing.number_pattern)
    prepared: list[tuple[_Pending, InvoiceDocument, RenderedInvoice, InvoiceRecord]] = []
    problems: list[Problem] = []
    numbered = Register(list(register.records), register.events, [])
    checks = background_checks() if pdf else None  # Saxon starts while the PDFs render
    with checks if checks is not None else nullcontext():
        for item in pending:
            number, seq = numbered.next_number("invoice", today.year, billing.number_pattern)
            doc = build_document(
                workspace,
                item.convention,
                month,
                item.lines,
                today,
                number,
                item.order,
                replaces=item.replaces,
            )
            try:
                rendered = render_invoice(doc, root, pdf, facturx, checks=checks)
            except InvalidInput as exc:
                problems += exc.problems
                continue
            record = new_record(doc, "invoice", seq, item.convention, item.order)
            numbered.records.append(record)
            prepared.append((item, doc, rendered, record))
    if problems:
        raise InvoiceRunRefused(
            f"{month}: the e-invoices break {len(problems)} rule(s): nothing was issued",
            problems,
            True,
        )
    outcomes = []
    for item, doc, rendered, record in prepared:
        written = write_issued(
            root, record, rendered.files(record.number), _pdf_note(rendered, facturx)
        )
        register.records.append(record)
        outcomes.append(
            InvoiceOutcome(
                item.convention,
                month,
                "issued",
                item.order,
                doc,
                record,
                rendered,
                [],
                written,
                item.warnings,
            )
        )
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


def _pdf_note(rendered: RenderedInvoice, facturx: bool) -> str:
    return " (Factur-X PDF)" if facturx and rendered.pdf else ""


def _check_date_order(register: Register, series: Series, today: date, pattern: str) -> None:
    """A new number of a series cannot be dated before the last one of its series."""
    yearly = yearly_series(pattern)
    last = max(
        (
            r
            for r in register.records
            if r.series == series and (not yearly or r.year == today.year)
        ),
        key=lambda r: (r.issue_date, r.seq),
        default=None,
    )
    if last is not None and today < last.issue_date:
        what = "credit note" if series == "credit-note" else "invoice"
        raise RuleRefused(
            f"the last {what}, {last.number}, is dated {last.issue_date}: a new "
            f"one cannot be dated {today} (numbers and dates must run in order)"
        )


def _issue_one(
    root: Path,
    register: Register,
    doc: InvoiceDocument,
    series: Series,
    seq: int,
    convention: str,
    order: str | None,
    facturx: bool,
    pdf: bool = True,
    reason: str | None = None,
    claims: str | None = None,
) -> tuple[InvoiceRecord, RenderedInvoice, list[Path]]:
    checks = background_checks() if pdf else None  # Saxon starts while the PDF renders
    with checks if checks is not None else nullcontext():
        rendered = render_invoice(doc, root, pdf, facturx, checks=checks)
    record = new_record(doc, series, seq, convention, order, reason, claims)
    written = write_issued(
        root, record, rendered.files(record.number), _pdf_note(rendered, facturx)
    )
    register.records.append(record)
    return record, rendered, written


# --- credit notes ----------------------------------------------------------------------------


def credit_note(
    root: Path,
    number: str,
    today: date,
    reason: str | None = None,
    refund: bool = False,
    pdf: bool = True,
    facturx: bool = True,
) -> InvoiceOutcome:
    """``apptool credit-note NUMBER``: a "facture d'avoir" cancelling an invoice in full.

    It cites the invoice's number and date (BG-3), carries positive amounts (type 381), takes
    the next number of its own series, asks for no payment; the month can then be invoiced
    again. A paid invoice is credited only with ``refund``: the money paid back is recorded.
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
        payment = register.payments.get(number)
        if payment is not None and not refund:
            raise RuleRefused(
                f"{number} was paid on {payment.paid_on}: crediting it means paying the money "
                "back; add --refund to record the refund with the credit note"
            )
        if refund and payment is None:
            raise RuleRefused(f"--refund: {number} is not recorded as paid, nothing to refund")
        if refund and payment is not None and today < payment.paid_on:
            raise RuleRefused(
                f"--refund: {number} was paid on {payment.paid_on}, after {today}: the money is "
                "paid back after it arrived"
            )
        billing = _billing(workspace)
        _check_date_order(register, "credit-note", today, billing.credit_note_pattern)
        credit_number, seq = register.next_number(
            "credit-note", today.year, billing.credit_note_pattern
        )
        doc = original.document.model_copy(
            update={
                "kind": "credit-note",
                "number": credit_number,
                "issue_date": today,
                "due_date": None,
                "payment_days": None,
                "payment_terms": REFUND_TERMS if refund else CREDIT_TERMS,
                "iban": None,
                "bic": None,
                "reason": reason,
                "preceding": (original.number, original.issue_date),
            }
        )
        record, rendered, written = _issue_one(
            root,
            register,
            doc,
            "credit-note",
            seq,
            original.convention,
            original.order,
            facturx,
            pdf,
            reason,
        )
        if refund:
            events = register.events.model_copy(
                update={
                    "refunds": [
                        *register.events.refunds,
                        Refund(number=credit_number, on=today, amount=record.amount),
                    ]
                }
            )
            written.append(save_events(root, events))
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


# --- late payment: the claim of interest and indemnity ----------------------------------------


def interest_claim(root: Path, number: str, today: date, facturx: bool = True) -> InvoiceOutcome:
    """``apptool interest NUMBER``: the invoice of the moratorium interest and the 40 EUR
    recovery indemnity a late payment owes of right (art. L2192-13, R2192-31 to -36)."""
    with locked(root):
        workspace = load_workspace(root)
        register = load_register(root, strict=True)
        rates = load_rates(root)
        original = register.find(number)
        if original.series != "invoice" or original.claims is not None:
            raise RuleRefused(f"{number} is not an invoice of services: nothing to claim")
        claimed = register.claims().get(number)
        if claimed is not None:
            raise RuleRefused(f"{number}'s late payment is already claimed by {claimed.number}")
        state = standing(register, original, today, rates)
        if state.status == "overdue":
            raise RuleRefused(
                f"{number} is {state.days_late} days late and not paid yet: the interest runs "
                f"until payment; record it (`apptool paid {number} --on DATE`), then claim"
            )
        if state.status != "paid late":
            raise RuleRefused(f"{number} is {state.status}: it was not paid late")
        assert state.paid_on is not None
        if today < state.paid_on:
            raise RuleRefused(
                f"{number} was paid on {state.paid_on}, after {today}: the interest runs until "
                "the payment, and is claimed once it has arrived"
            )
        if state.rate is None:
            assert state.due is not None
            raise InvalidInput(
                f"no ECB rate known on {half_year_start(state.due)}: add the rate in force "
                "that day to ecb-rates.yaml (see README, 'Late payment')"
            )
        billing = _billing(workspace)
        _check_date_order(register, "invoice", today, billing.number_pattern)
        claim_number, seq = register.next_number("invoice", today.year, billing.number_pattern)
        convention = workspace.conventions.get(original.convention)
        doc = _claim_document(original, state, rates, claim_number, today, billing, convention)
        record, rendered, written = _issue_one(
            root,
            register,
            doc,
            "invoice",
            seq,
            original.convention,
            original.order,
            facturx,
            claims=number,
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


def _claim_document(
    original: InvoiceRecord,
    state: Standing,
    rates: list[tuple[date, Decimal]],
    claim_number: str,
    today: date,
    billing: Billing,
    convention: Convention | None,
) -> InvoiceDocument:
    """The claim of ``original``'s late payment, on the original's payment period (its terms
    from the convention, else the original's own)."""
    assert state.due is not None and state.paid_on is not None and state.rate is not None
    first_late = state.due + timedelta(days=1)
    ecb_day = half_year_start(first_late)
    ecb = ecb_rate_in_force(rates, ecb_day)
    interest_text = (
        f"Intérêts moratoires sur la facture N° {original.number} "
        f"({euros(original.amount)} TTC) : {state.days_late} jours de retard, du "
        f"{short_date(first_late)} au {short_date(state.paid_on)}, au taux de "
        f"{number(state.rate)} % (taux BCE de {number(ecb or Decimal(0))} % en vigueur le "
        f"{short_date(ecb_day)}, majoré de 8 points), sur 365 jours"
    )
    lines = [
        Line(
            kind="interest",
            day=state.paid_on,
            description=interest_text,
            quantity=Decimal(1),
            unit="unit",
            unit_price=state.interest,
            source=f"interest/{original.number}",
        ),
        Line(
            kind="indemnity",
            day=state.paid_on,
            description="Indemnité forfaitaire pour frais de recouvrement (art. D2192-35 du "
            "code de la commande publique)",
            quantity=Decimal(1),
            unit="unit",
            unit_price=RECOVERY_INDEMNITY,
            source=f"indemnity/{original.number}",
        ),
    ]
    source = original.document
    days = original.payment_days or 30
    return source.model_copy(
        update={
            "kind": "invoice",
            "subject": "late-payment",
            "number": claim_number,
            "issue_date": today,
            "due_date": default_due(today, days),
            "payment_days": days,
            "period": Month(state.paid_on.year, state.paid_on.month),
            "lines": tuple(lines),
            "totals": totals(lines, None),
            "vat_exemption": source.vat_exemption or OUT_OF_SCOPE,
            "iban": billing.iban,
            "bic": billing.bic,
            "payment_terms": (
                payment_terms(
                    days, payment_period_article(convention), convention.payment_days is not None
                )
                if convention is not None
                else source.payment_terms
            ),
            "preceding": (original.number, original.issue_date),
            "reason": None,
            "engagement_reference": None,
        }
    )


# --- the register ------------------------------------------------------------------------------


def payment_clauses(root: Path) -> dict[str, str | None]:
    """Each convention's clause on unpaid invoices suspending the interventions (the CCAS's
    art. 9.2), None where its contract has none."""
    workspace = load_workspace(root)
    return {conv_id: clause(c, "payment") for conv_id, c in workspace.conventions.items()}


def list_invoices(root: Path, today: date, year: int | None = None) -> list[Standing]:
    """``apptool invoices``: every invoice and credit note issued by ``today``, with its
    standing on that day (one issued later does not exist yet then)."""
    load_workspace(root)
    register = load_register(root, strict=True)
    rates = load_rates(root)
    records = sorted(
        (r for r in register.records if (year is None or r.year == year) and r.issue_date <= today),
        key=lambda r: (r.issue_date, r.series, r.seq),
    )
    return [standing(register, r, today, rates) for r in records]


def _issued_invoice(register: Register, number: str, action: str) -> InvoiceRecord:
    record = register.find(number)
    if record.series != "invoice":
        raise RuleRefused(f"{number} is a credit note: nothing to {action}")
    if number in register.credited():
        raise RuleRefused(f"{number} was cancelled by a credit note")
    return record


def _not_after_today(number: str, what: str, on: date, today: date | None) -> None:
    """What is recorded has happened: a deposit or a payment is never dated after today."""
    if today is not None and on > today:
        raise RuleRefused(
            f"{number}: {on} is after today ({today}): record the {what} once it has happened"
        )


def mark_deposited(
    root: Path, number: str, on: date, today: date | None = None
) -> tuple[InvoiceRecord, bool]:
    """``apptool deposited NUMBER --on DATE``: the day the invoice was deposited on Chorus Pro
    (made available to the buyer): its payment period runs from it (art. R2192-12). The
    record, and whether that very deposit was already recorded (nothing written again)."""
    with locked(root):
        register = load_register(root, strict=True)
        record = _issued_invoice(register, number, "deposit")
        if number in register.deposits:
            if register.deposits[number] == on:
                return record, True
            raise RuleRefused(
                f"{number} is already recorded as deposited on {register.deposits[number]}"
            )
        if on < record.issue_date:
            raise RuleRefused(f"{number} was issued on {record.issue_date}, after {on}")
        _not_after_today(number, "deposit", on, today)
        events = register.events.model_copy(
            update={"deposits": [*register.events.deposits, Deposit(number=number, on=on)]}
        )
        save_events(root, events)
        return record, False


def mark_paid(
    root: Path,
    number: str,
    paid_on: date,
    method: PaymentMethod = "virement",
    today: date | None = None,
) -> tuple[InvoiceRecord, bool]:
    """``apptool paid NUMBER --on DATE``: record the payment (the record stays untouched).
    The record, and whether that very payment was already recorded (nothing written again)."""
    with locked(root):
        register = load_register(root, strict=True)
        record = _issued_invoice(register, number, "pay")
        if number in register.payments:
            known = register.payments[number]
            if (known.paid_on, known.method) == (paid_on, method):
                return record, True
            raise RuleRefused(f"{number} is already recorded as paid on {known.paid_on}")
        if paid_on < record.issue_date:
            raise RuleRefused(f"{number} was issued on {record.issue_date}, after {paid_on}")
        _not_after_today(number, "payment", paid_on, today)
        payment = Payment(number=number, paid_on=paid_on, method=method)
        save_events(
            root,
            register.events.model_copy(update={"payments": [*register.events.payments, payment]}),
        )
        return record, False


def ledger(root: Path, year: int) -> Ledger:
    """``apptool ledger --year YEAR``: the amounts received, for the livre des recettes."""
    workspace = load_workspace(root)
    register = load_register(root, strict=True)
    franchise = _billing(workspace).vat_franchise
    return Ledger(year, received_in(register, year), franchise.threshold, franchise.tolerance)
