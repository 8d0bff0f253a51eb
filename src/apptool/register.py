"""The invoice register: numbering without gaps, immutable records, payments.

An issued invoice or credit note is a YAML record ``invoices/<number>.yaml`` plus its
rendered files, each with a SHA-256 hash. A number is assigned only when a document is
issued; numbers of a series (invoices, credit notes) are unique, chronological and
continuous within a year. Assigning and recording happen under the workspace lock, and the
record is written last: if anything fails before, no record exists and the next command
reuses the number, so no gap ever appears. Records are never rewritten; payments go to
``invoices/payments.yaml``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from .billing import DocumentKind, InvoiceDocument, Line, Month, Party, Totals, money
from .errors import InvalidInput, Problem
from .loading import read_yaml, validate
from .models import Day, Identifier, Strict

INVOICES = "invoices"
PAYMENTS = "payments.yaml"
Series = Literal["invoice", "credit-note"]


# --- converting documents to and from plain data ----------------------------------------------


def to_data(value: Any) -> Any:
    """Dataclasses, dates, decimals and months as plain YAML/JSON data."""
    if is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, Month):
            return str(value)
        return {f.name: to_data(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _party(data: dict[str, Any]) -> Party:
    return Party(**{**data, "address": tuple(data["address"])})


def _line(data: dict[str, Any]) -> Line:
    return Line(**{**data, "day": date.fromisoformat(data["day"]),
                   "quantity": Decimal(data["quantity"]),
                   "unit_price": Decimal(data["unit_price"])})


def document_from_data(data: dict[str, Any]) -> InvoiceDocument:
    """The inverse of :func:`to_data` for an invoice document."""
    totals = data["totals"]
    preceding = data.get("preceding")
    known = {f.name for f in fields(InvoiceDocument)}
    rest = {k: v for k, v in data.items() if k in known}
    return InvoiceDocument(**{
        **rest,
        "issue_date": date.fromisoformat(data["issue_date"]),
        "due_date": date.fromisoformat(data["due_date"]),
        "period": Month.parse(data["period"]),
        "seller": _party(data["seller"]),
        "buyer": _party(data["buyer"]),
        "lines": tuple(_line(line) for line in data["lines"]),
        "totals": Totals(Decimal(totals["net"]),
                         Decimal(totals["vat_rate"]) if totals["vat_rate"] else None,
                         Decimal(totals["vat"]), Decimal(totals["gross"])),
        "notes": tuple(tuple(note) for note in data["notes"]),
        "preceding": (preceding[0], date.fromisoformat(preceding[1])) if preceding else None,
    })


def content_hash(data: Any) -> str:
    """SHA-256 of canonical JSON: the same content always gives the same hash."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- records --------------------------------------------------------------------------------


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
    document: dict[str, Any]
    content_hash: str
    files: dict[str, str] = {}

    @property
    def kind(self) -> DocumentKind:
        return "credit-note" if self.series == "credit-note" else "invoice"

    def invoice(self) -> InvoiceDocument:
        return document_from_data(self.document)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.document["totals"]["gross"])

    @property
    def preceding(self) -> str | None:
        preceding = self.document.get("preceding")
        return str(preceding[0]) if preceding else None

    @property
    def sources(self) -> dict[str, str]:
        """The billed items: source id -> amount (to tell what changed since)."""
        return {line["source"]: str(Decimal(line["quantity"]) * Decimal(line["unit_price"]))
                for line in self.document["lines"]}


class Payment(Strict):
    number: str
    paid_on: Day


class Payments(Strict):
    payments: list[Payment] = []


@dataclass
class Register:
    """Every record of ``invoices/``, with the problems found while reading them."""

    root: Path
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
        return {r.preceding: r for r in self.records
                if r.series == "credit-note" and r.preceding is not None}

    def active_invoice(self, convention: str, month: str,
                       order: str | None = None) -> InvoiceRecord | None:
        """The month's invoice for a convention (and order) that no credit note cancels."""
        credited = self.credited()
        for record in self.records:
            if (record.series == "invoice" and record.convention == convention
                    and record.month == month and record.order == order
                    and record.number not in credited):
                return record
        return None

    def next_number(self, series: Series, year: int, pattern: str) -> tuple[str, int]:
        """The next number of a series in a year: continuous, never reused once recorded."""
        seqs = [r.seq for r in self.records if r.series == series and r.year == year]
        seq = max(seqs, default=0) + 1
        return pattern.format(year=year, seq=seq), seq


def invoices_folder(root: Path) -> Path:
    return root / INVOICES


def load_register(root: Path, strict: bool = False) -> Register:
    """Read every record; a record that does not validate is a problem, not a crash.

    ``strict``: refuse to go on (InvalidInput) when a record is unreadable, so that nothing
    is numbered or paid on top of a damaged register.
    """
    folder = invoices_folder(root)
    records: list[InvoiceRecord] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if path.name == PAYMENTS:
            continue
        try:
            doc = read_yaml(path, f"{INVOICES}/{path.name}")
        except InvalidInput as exc:
            problems += exc.problems
            continue
        record, found = validate(doc, InvoiceRecord)
        problems += found
        if record is not None:
            records.append(record)
    payments: dict[str, date] = {}
    payments_path = folder / PAYMENTS
    if payments_path.exists():
        doc = read_yaml(payments_path, f"{INVOICES}/{PAYMENTS}")
        paid, found = validate(doc, Payments)
        problems += found
        if paid is not None:
            payments = {p.number: p.paid_on for p in paid.payments}
    records.sort(key=lambda r: (r.series, r.year, r.seq))
    if strict and problems:
        raise InvalidInput("the invoice register has errors", problems)
    return Register(root, records, payments, problems)


def register_problems(register: Register) -> list[Problem]:
    """Gaps, duplicates and out-of-order dates in each series, and altered records."""
    problems = list(register.problems)
    by_series: dict[tuple[str, int], list[InvoiceRecord]] = defaultdict(list)
    seen: dict[str, str] = {}
    for record in register.records:
        by_series[(record.series, record.year)].append(record)
        where = f"{INVOICES}/{record.number}.yaml"
        if record.number in seen:
            problems.append(Problem(where, None, "number", f"duplicate number {record.number}"))
        seen[record.number] = where
        if content_hash(record.document) != record.content_hash:
            problems.append(Problem(where, None, "content_hash",
                                    "the record was altered after issue (hash mismatch)"))
        for name, digest in record.files.items():
            path = invoices_folder(register.root) / name
            if not path.exists():
                problems.append(Problem(where, None, "files", f"{name} is missing"))
            elif file_hash(path.read_bytes()) != digest:
                problems.append(Problem(where, None, "files",
                                        f"{name} was altered after issue (hash mismatch)"))
    for (series, year), records in sorted(by_series.items()):
        records.sort(key=lambda r: r.seq)
        expected = 1
        for record in records:
            where = f"{INVOICES}/{record.number}.yaml"
            if record.seq > expected:
                missing = (f"number {expected}" if record.seq - 1 == expected
                           else f"numbers {expected} to {record.seq - 1}")
                problems.append(Problem(where, None, "seq", f"gap in the {series} series of "
                                        f"{year}: {missing} missing before {record.number}"))
            elif record.seq < expected:
                problems.append(Problem(where, None, "seq",
                                        f"{series} {year}: sequence {record.seq} used twice"))
            expected = record.seq + 1
        for before, after in itertools.pairwise(records):
            if after.issue_date < before.issue_date:
                problems.append(Problem(f"{INVOICES}/{after.number}.yaml", None, "issue_date",
                                        f"{after.number} is dated {after.issue_date}, before "
                                        f"{before.number} ({before.issue_date})"))
    return problems


# --- status ---------------------------------------------------------------------------------

#: Fixed recovery indemnity owed by a late public buyer (art. D. 2192-35 code de la commande
#: publique): forty euros.
RECOVERY_INDEMNITY = Decimal("40.00")
LATE_INTEREST_POINTS = Decimal("8")


@dataclass(frozen=True)
class Standing:
    """Where an invoice stands: status, and what a late payer owes."""

    record: InvoiceRecord
    status: Literal["issued", "paid", "overdue", "credited", "credit-note"]
    days_late: int = 0
    interest: Decimal = Decimal("0.00")
    indemnity: Decimal = Decimal("0.00")


def standing(register: Register, record: InvoiceRecord, today: date,
             ecb_rate: Decimal) -> Standing:
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
    due = date.fromisoformat(record.document["due_date"])
    if today <= due:
        return Standing(record, "issued")
    days = (today - due).days
    rate = (ecb_rate + LATE_INTEREST_POINTS) / 100
    interest = money(record.amount * rate * days / 365)
    return Standing(record, "overdue", days, interest, RECOVERY_INDEMNITY)


def due_date(issue: date, days: int) -> date:
    """Payment due ``days`` after receipt (taken as the issue date): 30 for a public buyer."""
    return issue + timedelta(days=days)

