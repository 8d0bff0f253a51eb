"""The invoice register as data: issued invoices and credit notes, their deposit, payment,
refund, and where each stands (due date, lateness, interest owed).

An issued invoice or credit note is an :class:`InvoiceRecord`: the typed document as issued,
its number in its series, and the hash of its content and files. Numbers of a series are
unique, chronological and continuous (CGI art. 242 nonies A,
:func:`~apptool.domain.contract.next_in_series`). What happens to an invoice after its issue
(deposit on Chorus Pro, payment, refund) is a :class:`RegisterEvents`. The files themselves
are read and written by :mod:`apptool.store.register`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from apptool.domain.billing import DocumentKind, InvoiceDocument
from apptool.domain.contract import (
    RECOVERY_INDEMNITY,
    late_payment_rate,
    moratorium_interest,
    next_in_series,
    payment_due,
    series_gaps,
)
from apptool.domain.models import Day, Identifier, Money, Strict
from apptool.domain.schedule import Session
from apptool.errors import InvalidInput, Problem

INVOICES = "invoices"
Series = Literal["invoice", "credit-note"]
PaymentMethod = Literal["virement", "chèque", "espèces", "carte", "autre"]
ZERO = Decimal("0.00")


def content_hash(data: Any) -> str:
    """SHA-256 of canonical JSON: the same content always gives the same hash."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def yearly_series(pattern: str) -> bool:
    """A number pattern with ``{year}`` numbers each year from 1; without it, the sequence
    runs on from year to year and never restarts (so a number is never given twice)."""
    return "{year" in pattern


class InvoiceRecord(Strict):
    """An issued invoice or credit note: never rewritten once written."""

    number: str
    series: Series
    year: int
    seq: int = Field(ge=1)
    convention: Identifier
    month: str
    issue_date: Day
    order: str | None = None
    reason: str | None = None
    #: For an interest claim: the invoice whose late payment it claims.
    claims: str | None = None
    document: InvoiceDocument = Field(strict=False)
    content_hash: str
    files: dict[str, str] = {}

    @property
    def kind(self) -> DocumentKind:
        return "credit-note" if self.series == "credit-note" else "invoice"

    @property
    def amount(self) -> Decimal:
        """The amount due, TTC (BT-115)."""
        return self.document.totals.gross

    @property
    def net(self) -> Decimal:
        """The amount HT (BT-109)."""
        return self.document.totals.net

    @property
    def preceding(self) -> str | None:
        """The invoice it cancels (credit note), replaces (invoice) or claims for (BG-3)."""
        return self.document.preceding[0] if self.document.preceding else None

    @property
    def payment_days(self) -> int | None:
        """The payment period the invoice was issued with (its due date from its issue)."""
        due = self.document.due_date
        return None if due is None else (due - self.issue_date).days

    @property
    def sources(self) -> dict[str, Decimal]:
        """The billed items: source id -> amount (to tell what changed since)."""
        return {line.source: line.amount for line in self.document.lines}


def new_record(
    doc: InvoiceDocument,
    series: Series,
    seq: int,
    convention_id: str,
    order: str | None,
    reason: str | None = None,
    claims: str | None = None,
) -> InvoiceRecord:
    """The record of a document being issued, with the hash of its content."""
    assert doc.number is not None
    return InvoiceRecord(
        number=doc.number,
        series=series,
        year=doc.issue_date.year,
        seq=seq,
        convention=convention_id,
        month=str(doc.period),
        issue_date=doc.issue_date,
        order=order,
        reason=reason,
        claims=claims,
        document=doc,
        content_hash=content_hash(doc.model_dump(mode="json")),
    )


# --- what happens after issue ----------------------------------------------------------------


class Deposit(Strict):
    """The day an invoice was made available to the buyer (deposited on Chorus Pro): the
    payment period runs from it (art. R2192-12)."""

    number: str
    on: Day


class Payment(Strict):
    """A payment received for an invoice: the livre des recettes' entry."""

    number: str
    paid_on: Day
    method: PaymentMethod = "virement"


class Refund(Strict):
    """Money paid back to the buyer for a credit note on an invoice already paid."""

    number: str  # the credit note
    on: Day
    amount: Money
    method: PaymentMethod = "virement"


class RegisterEvents(Strict):
    """``invoices/payments.yaml``: deposits, payments and refunds, in the order recorded."""

    deposits: list[Deposit] = []
    payments: list[Payment] = []
    refunds: list[Refund] = []


class EcbRate(Strict):
    """A change of the ECB main refinancing rate, in percent, and the day it took effect."""

    since: Day = Field(alias="from")
    rate: Money


class EcbRates(Strict):
    """The dated table of the ECB main refinancing rate (shipped, plus a workspace's rows)."""

    rates: list[EcbRate] = []

    def table(self) -> list[tuple[date, Decimal]]:
        return sorted((r.since, r.rate) for r in self.rates)


# --- the register ----------------------------------------------------------------------------


@dataclass
class Register:
    """Every record of ``invoices/``, what happened to them, and the problems found reading."""

    records: list[InvoiceRecord]
    events: RegisterEvents
    problems: list[Problem]

    @property
    def payments(self) -> dict[str, Payment]:
        return {p.number: p for p in self.events.payments}

    @property
    def deposits(self) -> dict[str, date]:
        return {d.number: d.on for d in self.events.deposits}

    @property
    def refunds(self) -> dict[str, Refund]:
        return {r.number: r for r in self.events.refunds}

    def find(self, number: str) -> InvoiceRecord:
        for record in self.records:
            if record.number == number:
                return record
        raise InvalidInput(f"unknown invoice number {number!r} (see `apptool invoices`)")

    def credited(self) -> dict[str, InvoiceRecord]:
        """Invoice number -> the credit note that cancels it."""
        return {
            r.preceding: r
            for r in self.records
            if r.series == "credit-note" and r.preceding is not None
        }

    def claims(self) -> dict[str, InvoiceRecord]:
        """Invoice number -> the interest claim issued for its late payment."""
        return {r.claims: r for r in self.records if r.claims is not None}

    def active_invoice(
        self, convention: str, month: str, order: str | None = None
    ) -> InvoiceRecord | None:
        """The month's invoice for a convention (and order) that no credit note cancels."""
        credited = self.credited()
        for record in self.records:
            if (
                record.series == "invoice"
                and record.claims is None
                and record.convention == convention
                and record.month == month
                and record.order == order
                and record.number not in credited
            ):
                return record
        return None

    def last_credited(
        self, convention: str, month: str, order: str | None = None
    ) -> InvoiceRecord | None:
        """The month's last invoice cancelled by a credit note: the one a new invoice of the
        month replaces ("annule et remplace")."""
        credited = self.credited()
        found = [
            r
            for r in self.records
            if r.series == "invoice"
            and r.claims is None
            and (r.convention, r.month, r.order) == (convention, month, order)
            and r.number in credited
        ]
        return max(found, key=lambda r: (r.issue_date, r.year, r.seq), default=None)

    def covering(self, source: str) -> list[InvoiceRecord]:
        """The issued invoices that bill ``source`` (a session or consultation id) and that
        no credit note cancels: what is issued is never changed behind the accountant's back."""
        credited = self.credited()
        return [
            r
            for r in self.records
            if r.series == "invoice" and r.number not in credited and source in r.sources
        ]

    def order_invoices(self, convention: str, order: str) -> list[InvoiceRecord]:
        """The invoices of a purchase order that no credit note cancels."""
        credited = self.credited()
        return [
            r
            for r in self.records
            if r.series == "invoice"
            and r.claims is None
            and r.convention == convention
            and r.order == order
            and r.number not in credited
        ]

    def order_consumption(self, convention: str, order: str) -> Decimal:
        """Amount HT already invoiced on a purchase order (invoices not cancelled)."""
        return sum((r.net for r in self.order_invoices(convention, order)), ZERO)

    def next_number(self, series: Series, year: int, pattern: str) -> tuple[str, int]:
        """The next number of a series: continuous, never reused once recorded; each year
        from 1 when the pattern holds ``{year}``, else running on across years."""
        yearly = yearly_series(pattern)
        seq = next_in_series(
            r.seq for r in self.records if r.series == series and (not yearly or r.year == year)
        )
        return pattern.format(year=year, seq=seq), seq


def billed_change_refusal(register: Register, source: str, change: str) -> str | None:
    """Why a session or consultation an issued invoice bills cannot ``change`` (be moved,
    cancelled, removed...), or None: an issued invoice is never changed (CGI art. 242 nonies
    A, code de commerce art. L441-9), so the record keeps what it bills until a credit note
    cancels the invoice."""
    billed = register.covering(source)
    if not billed:
        return None
    invoice = billed[0]
    return (
        f"{source} is billed by invoice {invoice.number} (issued {invoice.issue_date}): "
        f"an issued invoice is never changed; cancel it with a credit note (`apptool "
        f"credit-note {invoice.number} --reason ...`), then {change}"
    )


def billed_session_problems(register: Register, sessions: dict[str, Session]) -> list[Problem]:
    """Each session an issued invoice bills (no credit note cancelling it) is still in the
    calendar of record as billed: on the day billed, held for a session line, due for a
    cancellation line. A hand edit of the calendar must not contradict an issued invoice."""
    credited = register.credited()
    problems = []
    for record in register.records:
        if record.series != "invoice" or record.number in credited:
            continue
        display = f"{INVOICES}/{record.number}.yaml"
        for index, line in enumerate(record.document.lines):
            if line.kind not in ("session", "cancellation"):
                continue
            session = sessions.get(line.source)
            if session is None:
                found = "is no longer in the calendar of record"
            elif session.date != line.day:
                found = f"is recorded on {session.date}, not on {line.day}"
            elif line.kind == "session" and not session.occupies_time:
                found = f"is recorded as {session.status}, not held"
            elif line.kind == "cancellation" and session.status != "due":
                found = f"is recorded as {session.status}, not due"
            else:
                continue
            problems.append(
                Problem(
                    display,
                    None,
                    f"document.lines[{index}]",
                    f"invoice {record.number} bills {line.source} on {line.day}, which "
                    f"{found}: an issued invoice is never changed; restore the session, or "
                    f"cancel the invoice with a credit note and invoice the month again",
                )
            )
    return problems


def series_problems(register: Register, yearly: dict[str, bool] | None = None) -> list[Problem]:
    """Duplicates, gaps and out-of-order dates in each series (CGI art. 242 nonies A).

    ``yearly`` says, per series, whether its numbers restart each year (default: yes).
    """
    problems = []
    by_series: dict[tuple[str, int], list[InvoiceRecord]] = defaultdict(list)
    seen: set[str] = set()
    for record in register.records:
        restarts = (yearly or {}).get(record.series, True)
        by_series[(record.series, record.year if restarts else 0)].append(record)
        if record.number in seen:
            problems.append(
                Problem(
                    f"{INVOICES}/{record.number}.yaml",
                    None,
                    "number",
                    f"duplicate number {record.number}",
                )
            )
        seen.add(record.number)
    for (series, year), records in sorted(by_series.items()):
        records.sort(key=lambda r: (r.seq, r.year))
        label = f"the {series} series of {year}" if year else f"the {series} series"
        by_seq = {r.seq: r for r in reversed(records)}  # the first record of each number
        runs, twice = series_gaps(r.seq for r in records)
        for first, last, after_seq in runs:
            missing = f"number {first}" if first == last else f"numbers {first} to {last}"
            after = by_seq[after_seq]
            problems.append(
                Problem(
                    f"{INVOICES}/{after.number}.yaml",
                    None,
                    "seq",
                    f"gap in {label}: {missing} missing before {after.number}",
                )
            )
        for seq in twice:
            for record in [r for r in records if r.seq == seq][1:]:
                problems.append(
                    Problem(
                        f"{INVOICES}/{record.number}.yaml",
                        None,
                        "seq",
                        f"{label}: sequence {seq} used twice",
                    )
                )
        for before_, after in itertools.pairwise(records):
            if after.issue_date < before_.issue_date:
                problems.append(
                    Problem(
                        f"{INVOICES}/{after.number}.yaml",
                        None,
                        "issue_date",
                        f"{after.number} is dated {after.issue_date}, before "
                        f"{before_.number} ({before_.issue_date})",
                    )
                )
    return problems


# --- standing -------------------------------------------------------------------------------

Status = Literal["issued", "deposited", "paid", "paid late", "overdue", "credited", "credit-note"]


@dataclass(frozen=True)
class Standing:
    """Where an invoice stands: status, due date, and what a late payer owes.

    The interest and the indemnity are owed of right from the day after the due date, without
    a reminder, and stay owed after a late payment (art. L2192-13 code de la commande
    publique) until an interest claim is issued and paid.
    """

    record: InvoiceRecord
    status: Status
    due: date | None = None
    days_late: int = 0
    rate: Decimal | None = None  # percent: the ECB rate of the half-year + 8 points
    interest: Decimal = ZERO
    indemnity: Decimal = ZERO
    paid_on: date | None = None
    claimed_by: str | None = None

    @property
    def owed_for_lateness(self) -> Decimal:
        """Interest and indemnity still owed (zero once claimed)."""
        return ZERO if self.claimed_by else self.interest + self.indemnity


def standing(
    register: Register,
    record: InvoiceRecord,
    today: date,
    rates: list[tuple[date, Decimal]],
) -> Standing:
    """Issued, deposited, paid, credited, or late with the moratorium interest and indemnity.

    The due date runs from the deposit (the issue date when none is recorded) for the payment
    period the invoice carries; lateness from the day after it, to the payment or to today;
    interest at the ECB rate of the half-year in which lateness began + 8 points
    (:func:`~apptool.domain.contract.late_payment_rate`), simple, on 365 days.
    """
    if record.series == "credit-note":
        return Standing(record, "credit-note")
    if record.number in register.credited():
        return Standing(record, "credited")
    days = record.payment_days
    if days is None:
        return Standing(record, "issued")
    received = register.deposits.get(record.number, record.issue_date)
    due = payment_due(received, days)
    payment = register.payments.get(record.number)
    end = payment.paid_on if payment else today
    late = (end - due).days
    claimed = register.claims().get(record.number)
    if late <= 0:
        status: Status = (
            "paid" if payment else ("deposited" if record.number in register.deposits else "issued")
        )
        return Standing(record, status, due, paid_on=payment.paid_on if payment else None)
    rate = late_payment_rate(rates, due)
    interest = ZERO if rate is None else moratorium_interest(record.amount, rate, late)
    return Standing(
        record,
        "paid late" if payment else "overdue",
        due,
        late,
        rate,
        interest,
        RECOVERY_INDEMNITY,
        payment.paid_on if payment else None,
        claimed.number if claimed else None,
    )


@dataclass(frozen=True)
class Balance:
    """The register's arithmetic: issued − credited − paid (+ refunded) = outstanding."""

    issued: Decimal
    credited: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.issued - self.credited - self.paid + self.refunded


def balance(register: Register) -> Balance:
    """The amounts TTC of the register: issued invoices, credit notes, payments, refunds."""
    invoices = {r.number: r for r in register.records if r.series == "invoice"}
    return Balance(
        issued=sum((r.amount for r in invoices.values()), ZERO),
        credited=sum((r.amount for r in register.records if r.series == "credit-note"), ZERO),
        paid=sum((invoices[p.number].amount for p in register.events.payments), ZERO),
        refunded=sum((r.amount for r in register.events.refunds), ZERO),
    )


def received_in(register: Register, year: int) -> list[tuple[date, InvoiceRecord, Decimal, str]]:
    """The livre des recettes of a year: each amount received (a refund negative), in date
    order: (date, invoice or credit note, amount TTC, method)."""
    invoices = {r.number: r for r in register.records}
    entries = [
        (p.paid_on, invoices[p.number], invoices[p.number].amount, p.method)
        for p in register.events.payments
        if p.paid_on.year == year and p.number in invoices
    ]
    entries += [
        (r.on, invoices[r.number], -r.amount, r.method)
        for r in register.events.refunds
        if r.on.year == year and r.number in invoices
    ]
    return sorted(entries, key=lambda e: (e[0], e[1].number))


@dataclass
class Ledger:
    """The livre des recettes of a year, and the VAT franchise thresholds it is held to."""

    year: int
    entries: list[tuple[date, InvoiceRecord, Decimal, str]]
    threshold: Decimal
    tolerance: Decimal

    @property
    def turnover(self) -> Decimal:
        return sum((amount for _, _, amount, _ in self.entries), Decimal("0.00"))

    @property
    def warning(self) -> str | None:
        """CGI art. 293 B: the franchise holds while the year's receipts stay under the
        threshold; past the higher one, VAT is due from the day it is crossed."""
        total = self.turnover
        if total > self.tolerance:
            return (
                f"{self.year}: {total} EUR received, over the higher VAT franchise threshold "
                f"({self.tolerance} EUR): VAT is due from the day it was crossed"
            )
        if total > self.threshold:
            return (
                f"{self.year}: {total} EUR received, over the VAT franchise threshold "
                f"({self.threshold} EUR): the franchise ends next year (and at once past "
                f"{self.tolerance} EUR)"
            )
        if total >= self.threshold * Decimal("0.9"):
            return (
                f"{self.year}: {total} EUR received, 90 % of the VAT franchise threshold "
                f"({self.threshold} EUR) reached"
            )
        return None


def default_due(issue: date, days: int) -> date:
    """The due date printed on an invoice: its payment period from its issue, the day it is
    taken as deposited unless a later deposit is recorded."""
    return issue + timedelta(days=days)
