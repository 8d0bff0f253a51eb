"""The invoice register as data: issued invoices and credit notes, payments, their standing.

An issued invoice or credit note is an :class:`InvoiceRecord`: the typed document as issued,
its number in its series, and the hash of its content and files. Numbers of a series are
unique, chronological and continuous within a year (CGI art. 242 nonies A,
:func:`~apptool.domain.contract.next_in_series`). The files themselves are read and written
by :mod:`apptool.store.register`.
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

from apptool.domain.billing import DocumentKind, InvoiceDocument, round_cents
from apptool.domain.contract import next_in_series, series_gaps
from apptool.domain.models import Day, Identifier, Strict
from apptool.errors import InvalidInput, Problem

INVOICES = "invoices"
Series = Literal["invoice", "credit-note"]
#: Fixed recovery indemnity owed by a late public buyer (art. D. 2192-35 code de la commande
#: publique): forty euros.
RECOVERY_INDEMNITY = Decimal("40.00")
LATE_INTEREST_POINTS = Decimal("8")


def content_hash(data: Any) -> str:
    """SHA-256 of canonical JSON: the same content always gives the same hash."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


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
        """For a credit note, the number of the invoice it cancels (BG-3)."""
        return self.document.preceding[0] if self.document.preceding else None

    @property
    def sources(self) -> dict[str, Decimal]:
        """The billed items: source id -> amount (to tell what changed since)."""
        return {line.source: line.quantity * line.unit_price for line in self.document.lines}


def new_record(
    doc: InvoiceDocument,
    series: Series,
    seq: int,
    convention_id: str,
    order: str | None,
    reason: str | None = None,
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
        document=doc,
        content_hash=content_hash(doc.model_dump(mode="json")),
    )


class Payment(Strict):
    number: str
    paid_on: Day


class Payments(Strict):
    payments: list[Payment] = []


@dataclass
class Register:
    """Every record of ``invoices/``, the payments, and the problems found reading them."""

    records: list[InvoiceRecord]
    payments: dict[str, date]
    problems: list[Problem]

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

    def active_invoice(
        self, convention: str, month: str, order: str | None = None
    ) -> InvoiceRecord | None:
        """The month's invoice for a convention (and order) that no credit note cancels."""
        credited = self.credited()
        for record in self.records:
            if (
                record.series == "invoice"
                and record.convention == convention
                and record.month == month
                and record.order == order
                and record.number not in credited
            ):
                return record
        return None

    def order_invoices(self, convention: str, order: str) -> list[InvoiceRecord]:
        """The invoices of a purchase order that no credit note cancels."""
        credited = self.credited()
        return [
            r
            for r in self.records
            if r.series == "invoice"
            and r.convention == convention
            and r.order == order
            and r.number not in credited
        ]

    def order_consumption(self, convention: str, order: str) -> Decimal:
        """Amount HT already invoiced on a purchase order (invoices not cancelled)."""
        return sum((r.net for r in self.order_invoices(convention, order)), Decimal("0.00"))

    def next_number(self, series: Series, year: int, pattern: str) -> tuple[str, int]:
        """The next number of a series in a year: continuous, never reused once recorded."""
        seq = next_in_series(r.seq for r in self.records if r.series == series and r.year == year)
        return pattern.format(year=year, seq=seq), seq


def series_problems(register: Register) -> list[Problem]:
    """Duplicates, gaps and out-of-order dates in each series (CGI art. 242 nonies A)."""
    problems = []
    by_series: dict[tuple[str, int], list[InvoiceRecord]] = defaultdict(list)
    seen: set[str] = set()
    for record in register.records:
        by_series[(record.series, record.year)].append(record)
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
        records.sort(key=lambda r: r.seq)
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
                    f"gap in the {series} series of {year}: {missing} "
                    f"missing before {after.number}",
                )
            )
        for seq in twice:
            for record in [r for r in records if r.seq == seq][1:]:
                problems.append(
                    Problem(
                        f"{INVOICES}/{record.number}.yaml",
                        None,
                        "seq",
                        f"{series} {year}: sequence {seq} used twice",
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


@dataclass(frozen=True)
class Standing:
    """Where an invoice stands: status, and what a late payer owes."""

    record: InvoiceRecord
    status: Literal["issued", "paid", "overdue", "credited", "credit-note"]
    days_late: int = 0
    interest: Decimal = Decimal("0.00")
    indemnity: Decimal = Decimal("0.00")


def standing(register: Register, record: InvoiceRecord, today: date, ecb_rate: Decimal) -> Standing:
    """Issued, paid, credited, or overdue with the moratorium interest and indemnity owed.

    Public buyer: interest at the ECB rate + 8 points, per day late over 365 (rounded to the
    cent half up, like every amount), plus the fixed 40 EUR recovery indemnity.
    """
    if record.series == "credit-note":
        return Standing(record, "credit-note")
    if record.number in register.credited():
        return Standing(record, "credited")
    if record.number in register.payments:
        return Standing(record, "paid")
    due = record.document.due_date
    if today <= due:
        return Standing(record, "issued")
    days = (today - due).days
    rate = (ecb_rate + LATE_INTEREST_POINTS) / 100
    interest = round_cents(record.amount * rate * days / 365)
    return Standing(record, "overdue", days, interest, RECOVERY_INDEMNITY)


def due_date(issue: date, days: int) -> date:
    """Payment due ``days`` after receipt (taken as the issue date): 30 for a public buyer."""
    return issue + timedelta(days=days)
