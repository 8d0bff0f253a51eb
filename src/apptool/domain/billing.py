"""Invoice lines, totals and the invoice document: pure, exact (Decimal), in the contract's terms.

Art. 4: 150 EUR net per group session, 80 EUR net per hour of individual consultation; a
session cancelled by the establishment without possible rescheduling stays due; one invoice
a month. Individual consultations are anonymous on the invoice: date, duration, amount.

:class:`InvoiceDocument` is everything an invoice says, as printed and as sent in the
e-invoice (its fields name the EN 16931 business terms they carry). It is a typed model: the
register keeps it as it was issued and reads it back as the same model.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator

from apptool.domain.models import Billing, Convention, Fee, split_address
from apptool.domain.schedule import Session, awaits_confirmation, took_place
from apptool.domain.source import Document
from apptool.errors import Problem

CENT = Decimal("0.01")
LineKind = Literal["session", "cancellation", "individual", "interest", "indemnity"]
Unit = Literal["session", "hour", "unit"]
DocumentKind = Literal["invoice", "credit-note"]
#: UN/ECE Recommendation 20 unit codes (BT-130): one unit, one hour.
UNIT_CODES = {"session": "C62", "hour": "HUR", "unit": "C62"}
#: Quantities carry at most four decimals (EN 16931, BT-129).
QUANTITY = Decimal("0.0001")
#: UNTDID 1001 document type codes (BT-3).
TYPE_CODES = {"invoice": "380", "credit-note": "381"}


def round_cents(value: Decimal) -> Decimal:
    """Round an amount to the cent, half up."""
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
        if not (
            year.isdigit()
            and month.isdigit()
            and len(year) == 4
            and len(month) == 2
            and 1 <= int(month) <= 12
        ):
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
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])


def _month(value: Any) -> Month:
    if isinstance(value, Month):
        return value
    if isinstance(value, str):
        return Month.parse(value)
    raise ValueError(f"{value!r} is not a month (YYYY-MM)")


MonthField = Annotated[Month, PlainValidator(_month), PlainSerializer(str)]


class Issued(BaseModel):
    """Base of what an issued document holds: typed, frozen, no unknown key. Lax types, so
    that the register reads back dates and amounts it wrote as text."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(Issued):
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


class Line(Issued):
    """One invoice line (BG-25): what, when, how many, at what unit price."""

    kind: LineKind
    day: date
    description: str  # BT-153 item name
    quantity: Decimal  # BT-129 (hours: to four decimals)
    unit: Unit  # BT-130 via UNIT_CODES
    unit_price: Decimal  # BT-146
    source: str  # the session or consultation id (kept in the record, never printed)
    #: The exact duration of a line billed by the hour: its amount is priced on the minutes,
    #: not on the rounded quantity (20 min at 80 EUR/h = 26.67 EUR, not 0.33 h = 26.40).
    minutes: int | None = None

    @property
    def amount(self) -> Decimal:  # BT-131
        if self.minutes is not None:
            return round_cents(Decimal(self.minutes) * self.unit_price / 60)
        return round_cents(self.quantity * self.unit_price)


class Totals(Issued):
    """Totals of an invoice (BG-22): HT, VAT, TTC, exact to the cent."""

    net: Decimal  # BT-109
    vat_rate: Decimal | None  # BT-119, percent; None: exempt
    vat: Decimal  # BT-110
    gross: Decimal  # BT-112 (and BT-115, amount due)


def totals(lines: Iterable[Line], vat_rate: Decimal | None) -> Totals:
    """Sum the lines; VAT on the total net at ``vat_rate`` percent (None: exempt)."""
    net = sum((line.amount for line in lines), Decimal("0.00"))
    vat = round_cents(net * vat_rate / 100) if vat_rate else Decimal("0.00")
    return Totals(net=round_cents(net), vat_rate=vat_rate, vat=vat, gross=round_cents(net + vat))


class InvoiceDocument(Issued):
    """Everything an invoice or a credit note says (EN 16931 terms in the comments)."""

    kind: DocumentKind  # BT-3: 380 invoice, 381 credit note
    number: str | None  # BT-1; None for a draft
    issue_date: date  # BT-2
    due_date: date | None  # BT-9: none on a credit note (nothing is payable on an avoir)
    period: MonthField  # BG-14: BT-73, BT-74
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
    payment_terms: str | None  # BT-20
    notes: tuple[tuple[str, str], ...]  # BG-1: (subject code BT-21, text BT-22)
    #: BG-3 (BT-25, BT-26): for a credit note, the invoice it cancels; for an invoice, the
    #: invoice it replaces (annule et remplace); for a claim, the invoice paid late.
    preceding: tuple[str, date] | None = None
    currency: str = "EUR"  # BT-5
    #: What is billed: the services of a month, or what a late payment owes (interest and
    #: the recovery indemnity, art. L2192-13 code de la commande publique).
    subject: Literal["services", "late-payment"] = "services"
    reason: str | None = None  # a credit note's reason, printed
    #: Whether the contract (BT-12) is a convention or a framework agreement (accord-cadre).
    contract_kind: Literal["convention", "framework-agreement"] = "convention"
    #: The buyer's engagement number when it differs from the purchase order (BT-13).
    engagement_reference: str | None = None
    #: The payment period, in days from receipt (art. R2192-10, -11), on an invoice.
    payment_days: int | None = None


# --- the month's lines ----------------------------------------------------------------------


@dataclass(frozen=True)
class Consultation:
    """An individual consultation as billing sees it: anonymous (art. 2.2)."""

    id: str
    day: date
    duration: int  # minutes


def is_billable_session(session: Session, today: date) -> bool:
    """Only what took place is billed: a session held (past, not cancelled, in the record
    before its date or confirmed by the practitioner), or cancelled and due (art. 4)."""
    return session.status == "due" or took_place(session, today)


def unconfirmed_in_month(
    convention: Convention,
    sessions: Iterable[Session],
    month: Month,
    today: date,
    order: str | None = None,
) -> list[Session]:
    """The month's past sessions written after the fact and not confirmed: not billed until
    ``apptool held`` confirms they took place."""
    return [
        s
        for s in sessions
        if convention.group(s.group).order == order
        and month.contains(s.date)
        and awaits_confirmation(s, today)
    ]


def quantity(fee: Fee, duration_minutes: int) -> Decimal:
    """1 for a fee per session; hours (to four decimals, BT-129) for a fee per hour (art. 4).

    The amount of an hourly line is priced on the exact minutes (:attr:`Line.minutes`)."""
    if fee.per == "hour":
        return (Decimal(duration_minutes) / 60).quantize(QUANTITY, rounding=ROUND_HALF_UP)
    return Decimal(1)


def exact_minutes(fee: Fee, duration_minutes: int) -> int | None:
    """The minutes an hourly fee is priced on; None for a fee per session."""
    return duration_minutes if fee.per == "hour" else None


class LineWording(Protocol):
    """How lines read on the invoice (BT-153): the output layer words them, in French."""

    def session(self, convention: Convention, session: Session, kind: LineKind) -> str: ...

    def consultation(self, consultation: Consultation) -> str: ...


def month_lines(
    convention: Convention,
    sessions: Iterable[Session],
    consultations: Iterable[Consultation],
    month: Month,
    today: date,
    wording: LineWording,
    order: str | None = None,
) -> list[Line]:
    """The month's billable lines, in date order (art. 4).

    Each held group session at its fee (the purchase order's unit price for an ordered
    group); each cancellation marked due, labelled with the article; each individual
    consultation at the individual fee (per hour or session). With ``order``, only that
    purchase order's sessions: one invoice per order.
    """
    lines = []
    for session in sessions:
        group = convention.group(session.group)
        if (
            group.order != order
            or not month.contains(session.date)
            or not is_billable_session(session, today)
        ):
            continue
        fee = convention.fee_for(group)
        kind: LineKind = "cancellation" if session.status == "due" else "session"
        lines.append(
            Line(
                kind=kind,
                day=session.date,
                description=wording.session(convention, session, kind),
                quantity=quantity(fee, convention.session_duration),
                minutes=exact_minutes(fee, convention.session_duration),
                unit=fee.per,
                unit_price=fee.amount,
                source=session.id,
            )
        )
    individual = convention.fees.individual
    if individual is not None and order is None:
        lines += [
            Line(
                kind="individual",
                day=c.day,
                description=wording.consultation(c),
                quantity=quantity(individual, c.duration),
                minutes=exact_minutes(individual, c.duration),
                unit=individual.per,
                unit_price=individual.amount,
                source=c.id,
            )
            for c in consultations
            if month.contains(c.day)
        ]
    return sorted(lines, key=lambda line: (line.day, line.kind != "session", line.source))


# --- the buyer's requirements and the parties -----------------------------------------


def requirement_problems(
    convention: Convention, doc: Document, order: str | None = None
) -> list[Problem]:
    """What the buyer requires on its invoices (Chorus Pro) and the invoice cannot lack."""
    establishment = convention.establishment

    def problem(field_: str, message: str) -> Problem:
        return doc.problem(("establishment", field_), message)

    problems = []
    present = {
        "siret": establishment.siret,
        "service_code": establishment.chorus_service_code,
        "engagement_number": order or establishment.engagement_number,
    }
    keys = {
        "siret": "siret",
        "service_code": "chorus_service_code",
        "engagement_number": "engagement_number",
    }
    for requirement in establishment.invoice_requires:
        if not present[requirement]:
            problems.append(
                problem(
                    keys[requirement],
                    f"missing: the buyer requires its "
                    f"{requirement.replace('_', ' ')} on invoices "
                    "(invoice_requires); issuing is refused without it",
                )
            )
    if split_address(establishment.address) is None:
        problems.append(
            problem(
                "address",
                "the last line must be '<postcode> <city>', e.g. "
                "'28100 Dreux' (needed on the invoice)",
            )
        )
    return problems


def seller_party(billing: Billing) -> Party:
    street, postcode, city = split_address(billing.address) or ((), "", "")
    return Party(
        name=billing.legal_name,
        address=street,
        postcode=postcode,
        city=city,
        siret=billing.siret,
        vat_number=billing.vat_number,
        legal_form=billing.legal_form,
        email=billing.email,
        tax_registration=billing.tax_registration,
        electronic_address=billing.electronic_address.id if billing.electronic_address else None,
        electronic_scheme=(
            billing.electronic_address.scheme if billing.electronic_address else None
        ),
    )


def buyer_party(convention: Convention) -> Party:
    establishment = convention.establishment
    street, postcode, city = split_address(establishment.address) or ((), "", "")
    return Party(
        name=establishment.name,
        address=street,
        postcode=postcode,
        city=city,
        siret=establishment.siret,
        electronic_address=(
            establishment.electronic_address.id if establishment.electronic_address else None
        ),
        electronic_scheme=(
            establishment.electronic_address.scheme if establishment.electronic_address else None
        ),
    )
