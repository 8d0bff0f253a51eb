"""Invoice lines, totals and the invoice document: pure, exact (Decimal), in the contract's terms.

Art. 4: 150 EUR net per group session, 80 EUR net per hour of individual consultation; a
session cancelled by the establishment without possible rescheduling stays due; one invoice
a month. Individual consultations are anonymous on the invoice: date, duration, amount.

:class:`InvoiceDocument` is everything an invoice says, as printed and as sent in the
e-invoice (its fields name the EN 16931 business terms they carry).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from . import french
from .models import Convention, Fee, format_duration
from .schedule import Session

CENT = Decimal("0.01")
LineKind = Literal["session", "cancellation", "individual"]
DocumentKind = Literal["invoice", "credit-note"]
#: UN/ECE Recommendation 20 unit codes (BT-130): one unit, one hour.
UNIT_CODES = {"session": "C62", "hour": "HUR"}
#: UNTDID 1001 document type codes (BT-3).
TYPE_CODES = {"invoice": "380", "credit-note": "381"}


def money(value: Decimal) -> Decimal:
    """Round to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Month:
    """A calendar month, the service period of a monthly invoice."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"2025-05"`` -> Month(2025, 5)."""
        year, _, month = text.partition("-")
        if not (year.isdigit() and month.isdigit() and len(year) == 4 and len(month) == 2
                and 1 <= int(month) <= 12):
            raise ValueError(f"{text!r} is not a month (YYYY-MM)")
        return cls(int(year), int(month))

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"

    def contains(self, day: date) -> bool:
        return (day.year, day.month) == (self.year, self.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        import calendar

        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])


@dataclass(frozen=True)
class Party:
    """A party of an invoice (BG-4 seller, BG-7 buyer)."""

    name: str  # BT-27 / BT-44
    address: tuple[str, ...]  # BT-35.. / BT-50..: street lines
    postcode: str  # BT-38 / BT-53
    city: str  # BT-37 / BT-52
    country: str = "FR"  # BT-40 / BT-55
    siret: str | None = None  # BT-29 / BT-46 (SIRET, scheme 0009)
    vat_number: str | None = None  # BT-31 / BT-48
    legal_form: str | None = None  # e.g. "EI" (entrepreneur individuel)
    email: str | None = None  # BT-34 / BT-49 electronic address when no SIRET-based one
    tax_registration: str | None = None  # BT-32 (scheme FC): seller's tax registration
    electronic_address: str | None = None  # BT-34 / BT-49: directory address, e.g. the SIREN
    electronic_scheme: str | None = None  # BT-34-1 / BT-49-1 (EAS code); None: 0225

    @property
    def siren(self) -> str | None:  # BT-30 / BT-47
        return self.siret[:9] if self.siret else None


@dataclass(frozen=True)
class Line:
    """One invoice line (BG-25): what, when, how many, at what unit price."""

    kind: LineKind
    day: date
    description: str  # BT-153 item name
    quantity: Decimal  # BT-129
    unit: Literal["session", "hour"]  # BT-130 via UNIT_CODES
    unit_price: Decimal  # BT-146
    source: str  # the session or consultation id (kept in the record, never printed)

    @property
    def amount(self) -> Decimal:  # BT-131
        return money(self.quantity * self.unit_price)


@dataclass(frozen=True)
class Totals:
    """Totals of an invoice (BG-22): HT, VAT, TTC, exact to the cent."""

    net: Decimal  # BT-109
    vat_rate: Decimal | None  # BT-119, percent; None: exempt
    vat: Decimal  # BT-110
    gross: Decimal  # BT-112 (and BT-115, amount due)


def totals(lines: Iterable[Line], vat_rate: Decimal | None) -> Totals:
    """Sum the lines; VAT on the total net at ``vat_rate`` percent (None: exempt)."""
    net = sum((line.amount for line in lines), Decimal("0.00"))
    vat = money(net * vat_rate / 100) if vat_rate else Decimal("0.00")
    return Totals(money(net), vat_rate, vat, money(net + vat))


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything an invoice or a credit note says (EN 16931 terms in the comments)."""

    kind: DocumentKind  # BT-3: 380 invoice, 381 credit note
    number: str | None  # BT-1; None for a draft
    issue_date: date  # BT-2
    due_date: date  # BT-9
    period: Month  # BG-14: BT-73, BT-74
    seller: Party  # BG-4
    buyer: Party  # BG-7
    buyer_reference: str | None  # BT-10: Chorus Pro service code
    order_reference: str | None  # BT-13: purchase order / engagement number
    contract_reference: str | None  # BT-12: the convention's reference
    lines: tuple[Line, ...]  # BG-25
    totals: Totals  # BG-22
    vat_exemption: str | None  # BT-120: e.g. "TVA non applicable, art. 293 B du CGI"
    iban: str | None  # BT-84
    bic: str | None  # BT-86
    payment_terms: str  # BT-20
    notes: tuple[tuple[str, str], ...]  # BG-1: (subject code BT-21, text BT-22)
    preceding: tuple[str, date] | None = None  # BG-3: credited invoice number and date
    currency: str = "EUR"  # BT-5


# --- the month's lines ----------------------------------------------------------------------


@dataclass(frozen=True)
class Consultation:
    """An individual consultation as billing sees it: anonymous (art. 2.2)."""

    id: str
    day: date
    duration: int  # minutes


def is_billable_session(session: Session, today: date) -> bool:
    """Held (a past session, planned or moved, not cancelled), or cancelled and due (art. 4)."""
    if session.status == "due":
        return True
    return session.status in ("planned", "moved") and session.date < today


def quantity(fee: Fee, duration_minutes: int) -> Decimal:
    """1 for a fee per session; hours (to the hundredth) for a fee per hour (art. 4)."""
    if fee.per == "hour":
        return (Decimal(duration_minutes) / 60).quantize(CENT, rounding=ROUND_HALF_UP)
    return Decimal(1)


def session_text(convention: Convention, session: Session, kind: LineKind) -> str:
    """How a session reads on the invoice: group, day, slot and site (in French)."""
    group = convention.group(session.group)
    site = convention.location(session.location).name
    text = (f"Séance d'analyse de pratiques professionnelles — {group.name} — "
            f"{french.long_date(session.date)}, {session.start:%H:%M}-{session.end:%H:%M} — "
            f"{site}")
    if kind == "cancellation":
        text += (" — séance annulée par l'établissement sans report possible, due (art. 4 de "
                 "la convention)")
    return text


def consultation_text(consultation: Consultation) -> str:
    """An individual consultation reads: date and duration only (art. 2.2)."""
    return (f"Consultation individuelle — {french.long_date(consultation.day)} — "
            f"{format_duration(consultation.duration)}")


def month_lines(convention: Convention, sessions: Iterable[Session],
                consultations: Iterable[Consultation], month: Month, today: date,
                order: str | None = None) -> list[Line]:
    """The month's billable lines, in date order (art. 4).

    Each held group session at its fee (the purchase order's unit price for an ordered
    group); each cancellation marked due, labelled with the article; each individual
    consultation at the individual fee (per hour or session). With ``order``, only that
    purchase order's sessions: one invoice per order.
    """
    lines = []
    for session in sessions:
        group = convention.group(session.group)
        if (group.order != order or not month.contains(session.date)
                or not is_billable_session(session, today)):
            continue
        fee = convention.fee_for(group)
        kind: LineKind = "cancellation" if session.status == "due" else "session"
        lines.append(Line(kind, session.date, session_text(convention, session, kind),
                          quantity(fee, convention.session_duration), fee.per, fee.amount,
                          session.id))
    individual = convention.fees.individual
    if individual is not None and order is None:
        lines += [
            Line("individual", c.day, consultation_text(c), quantity(individual, c.duration),
                 individual.per, individual.amount, c.id)
            for c in consultations if month.contains(c.day)
        ]
    return sorted(lines, key=lambda line: (line.day, line.kind != "session", line.source))
