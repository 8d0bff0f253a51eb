"""Strict pydantic models of the workspace's files: conventions and the practitioner.

Field-level rules (formats, ranges) live here, next to the field. Rules that relate several
fields (a group's location exists, a slot fits the duration...) live in ``validation.py``,
one function each, so that each problem is reported with its own line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    field_validator,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Cadence = Literal["monthly", "quarterly"]
#: Months in one period of each cadence.
CADENCE_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3}


#: Characters no text of the tool may hold: C0 and C1 control characters (tab, line feed and
#: carriage return excepted), DEL, surrogates and the two non-characters XML refuses. They
#: cannot be printed, nor written in an e-invoice's XML.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def control_character_problem(text: str) -> str | None:
    """Why ``text`` cannot be kept (a control character), or None."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return f"control character U+{ord(found.group()):04X} is not allowed in a text"


class ControlCharacter(ValueError):
    """A text holding a control character; ``path`` says where inside the field it is."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


def _control_character(value: Any, path: tuple[str | int, ...] = ()) -> ControlCharacter | None:
    """The first control character in a value's texts (lists and mapping keys included);
    nested models check their own fields."""
    if isinstance(value, str):
        problem = control_character_problem(value)
        return ControlCharacter(problem, path) if problem else None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _control_character(item, (*path, index))
            if found:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _control_character(key, path) or _control_character(item, (*path, str(key)))
            if found:
                return found
    return None


class Strict(BaseModel):
    """Base of every model read from a file: unknown keys and loose types are rejected, and
    no text holds a control character (:data:`CONTROL_CHARACTER`)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_character(cls, value: Any) -> Any:
        found = _control_character(value)
        if found is not None:
            raise found
        return value


# --- scalar types -------------------------------------------------------------------------

IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ValueError(
            f"{value!r} is not an identifier: use lowercase letters, digits, '-' and '_'"
        )
    return value


Identifier = Annotated[str, PlainValidator(_identifier)]

#: The years the tool handles: every date it reads or is given falls within them.
MIN_YEAR = 1900
MAX_YEAR = 2200


def date_range_problem(day: date) -> str | None:
    """Why a date is outside the years the tool handles (:data:`MIN_YEAR`-:data:`MAX_YEAR`)."""
    if MIN_YEAR <= day.year <= MAX_YEAR:
        return None
    return f"{day.isoformat()} is outside the years {MIN_YEAR}-{MAX_YEAR} the tool handles"


def _bounded_day(day: date) -> date:
    problem = date_range_problem(day)
    if problem:
        raise ValueError(problem)
    return day


#: A calendar date, within :data:`MIN_YEAR`-:data:`MAX_YEAR`; in YAML written ``2025-04-01``.
Day = Annotated[date, Field(strict=False), AfterValidator(_bounded_day)]


def parse_time(value: Any) -> time:
    """``"09:00"`` -> ``time(9, 0)``; the only accepted form is HH:MM (24 h)."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if match:
            return time(int(match[1]), int(match[2]))
    raise ValueError(f'{_as_written(value)} is not a time of day: write it as HH:MM, e.g. "09:00"')


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


TimeOfDay = Annotated[time, PlainValidator(parse_time), PlainSerializer(format_time)]


def minutes(value: time) -> int:
    """Minutes since midnight."""
    return value.hour * 60 + value.minute


#: The longest duration: a day (a session, a consultation).
MAX_DURATION = 24 * 60


def parse_duration(value: Any) -> int:
    """``"1h30"``, ``"1h"``, ``"90min"`` or an integer number of minutes -> minutes (at most
    a day)."""
    total = None
    if isinstance(value, int) and not isinstance(value, bool):
        total = value
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        match = re.fullmatch(r"(?:([0-9]{1,4})h([0-5]?[0-9])?)|(?:([0-9]{1,5})min)", text)
        if match:
            total = (int(match[1]) * 60 + int(match[2] or 0)) if match[1] else int(match[3])
    if total is not None and 0 < total <= MAX_DURATION:
        return total
    if total is not None and total > MAX_DURATION:
        raise ValueError(f"{_as_written(value)}: a duration is at most 24h")
    raise ValueError(f'{_as_written(value)} is not a duration: write e.g. "1h30", "2h" or "45min"')


def format_duration(value: int) -> str:
    hours, mins = divmod(value, 60)
    if not hours:
        return f"{mins}min"
    return f"{hours}h{mins:02d}" if mins else f"{hours}h"


Duration = Annotated[int, PlainValidator(parse_duration), PlainSerializer(format_duration)]


#: Amounts are below a billion euros (exact to the cent within Decimal's precision).
MAX_AMOUNT = Decimal(10**9)


def _as_written(value: Any) -> str:
    """A number as the file writes it (``237.505``, not ``Decimal('237.505')``), else repr."""
    return (
        str(value)
        if isinstance(value, int | Decimal) and not isinstance(value, bool)
        else repr(value)
    )


#: An amount written as text: digits, and a decimal point (a sign is refused with its reason).
_AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def parse_money(value: Any) -> Decimal:
    """An amount in euros: an integer or a decimal with at most two decimals, never negative."""
    if isinstance(value, (bool, float)):
        raise ValueError(
            f"{_as_written(value)}: write amounts as integers or decimals, e.g. 150 or 80.50"
        )
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value.strip()):
        amount = None  # "1e3", "1_000", other scripts' digits: not how an amount is written
    else:
        try:
            amount = Decimal(str(value).strip()) if isinstance(value, int | str | Decimal) else None
        except InvalidOperation:
            amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(f"{_as_written(value)} is not an amount: write e.g. 150 or 80.50")
    if amount < 0:
        raise ValueError(f"{_as_written(value)}: an amount cannot be negative")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"{_as_written(value)}: an amount is less than {MAX_AMOUNT:,} euros")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"{_as_written(value)}: an amount has at most two decimals")
    return amount.quantize(Decimal("0.01"))


Money = Annotated[Decimal, PlainValidator(parse_money), PlainSerializer(str)]


def _priced(amount: Decimal) -> Decimal:
    """A price is more than nothing: a session at 0 EUR would be an invoice of nothing."""
    if amount == 0:
        raise ValueError("a price of 0 EUR: give the fee the contract sets (e.g. 150)")
    return amount


#: The price of a session or an hour (art. 4; an order's unit price): never 0.
Price = Annotated[
    Decimal, PlainValidator(parse_money), AfterValidator(_priced), PlainSerializer(str)
]


@dataclass(frozen=True, order=True)
class Slot:
    """A time slot of a convention, e.g. 09:00-10:30 (art. 2.1)."""

    start: time
    end: time

    @property
    def label(self) -> str:
        return f"{format_time(self.start)}-{format_time(self.end)}"

    @property
    def length(self) -> int:
        return minutes(self.end) - minutes(self.start)


def parse_slot(value: Any) -> Slot:
    """``"09:00-10:30"`` -> Slot; the end must come after the start."""
    if isinstance(value, Slot):
        return value
    if isinstance(value, str) and value.count("-") == 1:
        start_text, end_text = value.split("-")
        start, end = parse_time(start_text), parse_time(end_text)
        if minutes(end) <= minutes(start):
            raise ValueError(f"{_as_written(value)}: the slot ends before it starts")
        return Slot(start, end)
    raise ValueError(
        f'{_as_written(value)} is not a slot: write it as "HH:MM-HH:MM", e.g. "09:00-10:30"'
    )


SlotField = Annotated[Slot, PlainValidator(parse_slot), PlainSerializer(lambda s: s.label)]


# --- shared parts -------------------------------------------------------------------------


def split_address(lines: list[str]) -> tuple[tuple[str, ...], str, str] | None:
    """``["2 rue X", "28100 Dreux"]`` -> (street lines, postcode, city); None if no postcode.

    The last line must read ``<5-digit postcode> <city>`` (a French postal address).
    """
    if len(lines) < 2:
        return None
    match = re.fullmatch(r"\s*(\d{5})\s+(.+?)\s*", lines[-1])
    if not match:
        return None
    return tuple(lines[:-1]), match[1], match[2]


class DayRange(Strict):
    """One day or a range of days (inclusive): a closure, a holiday, a training."""

    start: Day = Field(alias="from")
    end: Day | None = Field(default=None, alias="to")
    reason: str | None = None

    @property
    def last(self) -> date:
        return self.end or self.start

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.last


# --- convention ---------------------------------------------------------------------------


InvoiceRequirement = Literal["siret", "service_code", "engagement_number"]


class ElectronicAddress(Strict):
    """An electronic invoicing address (BT-34 seller, BT-49 buyer) and its scheme (EAS code,
    e.g. ``0225`` for the French directory, ``0009`` a SIRET, ``EM`` an e-mail)."""

    scheme: str = Field(pattern=r"^[A-Z0-9]{2,4}$")
    id: str = Field(min_length=1, max_length=100)


EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def _email(value: Any) -> str:
    if not isinstance(value, str) or not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address (name@example.fr)")
    return value


Email = Annotated[str, PlainValidator(_email)]


def _said(value: str) -> str:
    """A text printed on the documents (a name, an address line) says something."""
    if not value.strip():
        raise ValueError(
            "is empty: write it as it should read on the invoices and documents"
            if not value
            else "holds only spaces: write it as it should read on the invoices and documents"
        )
    return value


#: A name, a title, an address line: printed on the documents, never empty or only spaces
#: (an invoice without its buyer's or seller's name is rejected: EN 16931 BR-6, BR-7).
Text = Annotated[str, AfterValidator(_said)]


def _one_line(value: str) -> str:
    """A reference carried by the e-invoice (an order or engagement number, a service code)
    is one line, without tabs."""
    if any(character in value for character in "\t\n\r"):
        raise ValueError("holds a tab or a line break: write the reference on one line")
    return value


#: A reference of the buyer's printed and carried by the e-invoice (BT-10, BT-13).
Reference = Annotated[str, AfterValidator(_said), AfterValidator(_one_line)]


class Contact(Strict):
    """Someone at the establishment who receives the calendar and the notices."""

    name: Text | None = None
    email: Email


class Establishment(Strict):
    """The buyer: the public body that signs the convention (preamble of the convention).

    ``invoice_requires`` lists what this buyer's invoices must carry (Chorus Pro rejects an
    invoice without them): its SIRET, its service code (BT-10), an engagement number (BT-13).
    ``kind`` sets the legal payment period (30 days, 50 for a public health establishment).
    """

    name: Text
    kind: Literal["local-authority", "state", "public-health-establishment"] = "local-authority"
    address: list[Text] = Field(min_length=1)
    siret: str | None = None
    chorus_service_code: Reference | None = None
    engagement_number: Reference | None = None
    electronic_address: ElectronicAddress | None = None
    invoice_requires: list[InvoiceRequirement] = []
    contacts: list[Contact] = []

    @property
    def siren(self) -> str | None:
        return self.siret[:9] if self.siret else None


class Term(Strict):
    """Duration and renewal (art. 9.1); ``termination`` is the effective end (art. 9.3).

    A framework agreement is renewable ``once``, up to ``renewal_end``, when ``renewed``.
    """

    start: Day
    end: Day
    renewal: Literal["tacit-yearly", "none", "once"] = "none"
    renewal_end: Day | None = None
    renewed: bool = False
    termination: Day | None = None


class Fee(Strict):
    """A fee and its unit: per session or per hour (art. 4)."""

    amount: Price
    per: Literal["session", "hour"]


class Fees(Strict):
    """Fees of art. 4; amounts are net (no VAT) unless the profile says otherwise."""

    currency: Literal["EUR"] = "EUR"
    group_session: Fee
    individual: Fee | None = None
    vat_rate: Money | None = None  # VAT in percent for this buyer, when the profile charges it


class SchoolHolidays(Strict):
    """Which school holidays the calendar takes into account (art. 2.1)."""

    zone: Literal["A", "B", "C"]
    policy: Literal["avoid", "prefer-avoid", "ignore"] = "avoid"


class CancellationTerms(Strict):
    """What a cancellation by the establishment costs (art. 4).

    ``due`` (the CCAS wording, the default): "en cas d'annulation d'une séance de la part de
    l'Etablissement et sans report possible de la part du praticien, la prestation sera due";
    ``not-due``: the contract has no such clause.
    """

    by_establishment_without_rescheduling: Literal["due", "not-due"] = "due"


ClauseText = Annotated[str, Field(min_length=1, max_length=40)]


class Clauses(Strict):
    """Where each rule is written in this contract (``art. 2.1``), for the documents to cite.

    A document cites a clause only when its contract gives it; without it, the sentence
    reads well without a reference.
    """

    schedule: ClauseText | None = None  # slots, months without sessions, school holidays
    notice: ClauseText | None = None  # the notice to move a date
    individual: ClauseText | None = None  # individual consultations
    report: ClauseText | None = None  # the annual report (bilan)
    sites: ClauseText | None = None  # where sessions take place
    fees: ClauseText | None = None  # the fees, invoicing
    cancellation: ClauseText | None = None  # a cancellation without report stays due
    confidentiality: ClauseText | None = None
    renewal: ClauseText | None = None
    payment: ClauseText | None = None  # non-payment may suspend the interventions
    termination: ClauseText | None = None


class Location(Strict):
    """A site where sessions take place (art. 3)."""

    id: Identifier
    name: Text
    address: Text | None = None


class Preferences(Strict):
    """Soft wishes of a group: the planner honours them when it can."""

    weekdays: list[Weekday] = []
    slots: list[TimeOfDay] = []


class Group(Strict):
    """A practice-analysis group (art. 2.1).

    A group meets once per cadence period, or, with ``sessions``, that many times within
    ``from``..``to`` (one a month, spread evenly): the form purchase orders use. ``order`` is
    set by the tool for the groups of a purchase order.
    """

    id: Identifier
    name: Text
    composition: Text | None = None
    cadence: Cadence = "monthly"
    sessions: int | None = Field(default=None, ge=1)
    start: Day | None = Field(default=None, alias="from")
    end: Day | None = Field(default=None, alias="to")
    location: str
    preferences: Preferences = Field(default_factory=Preferences)
    order: str | None = Field(default=None, exclude=True)

    def active_on(self, day: date) -> bool:
        """Whether ``day`` falls in the group's window (no window: always)."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


class AgreementLot(Strict):
    """The lot of a framework agreement and its yearly amounts HT (estimated, maximum)."""

    number: int = Field(ge=1)
    title: Text
    estimated_yearly: Money
    maximum_yearly: Money


class Order(Strict):
    """A purchase order (bon de commande): groups, a unit price, a maximum amount HT."""

    number: Reference
    date: Day
    unit_price: Price
    maximum: Money
    groups: list[Group] = Field(min_length=1)


class Convention(Strict):
    """A convention d'intervention, or a framework agreement whose groups come from orders.

    The convention's id is its file name without ``.yaml``.
    """

    kind: Literal["convention", "framework-agreement"] = "convention"
    title: Text
    reference: Text | None = None
    establishment: Establishment
    period: Term
    fees: Fees
    session_duration: Duration
    slots: list[SlotField] = Field(min_length=1)
    excluded_months: list[Annotated[int, Field(ge=1, le=12)]] = []
    notice_days: int = Field(ge=0, le=365)  # art. 2.1: days; a year at most
    payment_days: int | None = Field(default=None, ge=1, le=60)
    cancellation: CancellationTerms = Field(default_factory=CancellationTerms)
    clauses: Clauses = Field(default_factory=Clauses)
    invoicing: Literal["monthly"] = "monthly"
    school_holidays: SchoolHolidays
    closures: list[DayRange] = []
    locations: list[Location] = Field(min_length=1)
    declared_groups: list[Group] = Field(default=[], alias="groups")
    travel: list[TravelPair] = []
    lot: AgreementLot | None = None
    orders: list[Order] = []

    @cached_property
    def groups(self) -> list[Group]:
        """Every group: those declared, then those of each purchase order (in file order)."""
        return [
            *self.declared_groups,
            *(
                group.model_copy(update={"order": order.number, "start": group.start or order.date})
                for order in self.orders
                for group in order.groups
            ),
        ]

    def group_path(self, group_id: str) -> tuple[str | int, ...]:
        """Where a group is written: ``("groups", 2)`` or ``("orders", 0, "groups", 1)``."""
        for index, group in enumerate(self.declared_groups):
            if group.id == group_id:
                return ("groups", index)
        for o_index, order in enumerate(self.orders):
            for g_index, group in enumerate(order.groups):
                if group.id == group_id:
                    return ("orders", o_index, "groups", g_index)
        return ("groups",)

    def location(self, location_id: str) -> Location:
        return next(loc for loc in self.locations if loc.id == location_id)

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.id == group_id)

    def order(self, number: str) -> Order:
        return next(o for o in self.orders if o.number == number)

    def fee_for(self, group: Group) -> Fee:
        """The fee of a group session: its purchase order's unit price, else the convention's."""
        if group.order is not None:
            return Fee(amount=self.order(group.order).unit_price, per="session")
        return self.fees.group_session


# --- practitioner -------------------------------------------------------------------------


class Vat(Strict):
    """VAT status: exempt under the franchise with its legal mention, or a rate in percent."""

    exempt_mention: str | None = None
    rate: Money | None = None


def retired(message: str) -> Any:
    """A key earlier versions read and this one refuses with what to do instead."""

    def refuse(value: Any) -> None:
        raise ValueError(message)

    return Annotated[None, PlainValidator(refuse)]


class VatFranchise(Strict):
    """The VAT franchise thresholds for services (CGI art. 293 B), to warn before crossing:
    the base threshold and the higher one, crossed within the year, that ends it at once."""

    threshold: Money = Decimal("37500")
    tolerance: Money = Decimal("41250")


class Billing(Strict):
    """The practitioner's identity and terms on invoices (mandatory mentions)."""

    legal_name: Text
    legal_form: Text | None = "EI"
    address: list[Text] = Field(min_length=2)
    siret: str
    vat: Vat
    vat_number: str | None = None
    tax_registration: str | None = None
    email: str | None = None
    iban: str
    bic: str
    electronic_address: ElectronicAddress | None = None
    number_pattern: str = "{year}-{seq:04d}"
    credit_note_pattern: str = "AV-{year}-{seq:04d}"
    vat_franchise: VatFranchise = Field(default_factory=VatFranchise)
    payment_days: retired(  # type: ignore[valid-type]
        "no longer here: the payment period is the buyer's (30 days from receipt, 50 for a "
        "public health establishment): set payment_days in a convention if it differs, and "
        "remove this line"
    ) = None
    ecb_rate: retired(  # type: ignore[valid-type]
        "no longer used: late-payment interest takes the ECB rate of its half-year from the "
        "dated table shipped with apptool (newer rates go in ecb-rates.yaml); remove this line"
    ) = None


SITE = re.compile(r"^(office|[a-z0-9][a-z0-9_-]*/([a-z0-9][a-z0-9_-]*|\*))$")


def _site(value: Any) -> str:
    if not isinstance(value, str) or not SITE.match(value):
        raise ValueError(
            f"{value!r} is not a site: write CONVENTION/LOCATION (ccas-dreux/vaumonnaie), "
            "CONVENTION/* for every site of a convention, or office"
        )
    return value


SiteRef = Annotated[str, PlainValidator(_site)]


class TravelPair(Strict):
    """The travel time between two sites, or that they are too far apart for one day.

    ``between``: two sites, ``CONVENTION/LOCATION``, ``CONVENTION/*`` (each site of that
    convention) or ``office`` (the practitioner's own office, for individual consultations).
    """

    between: list[SiteRef] = Field(min_length=2, max_length=2)
    minutes: int | None = Field(default=None, ge=0, le=600)
    same_day: bool = True


class Practitioner(Strict):
    """The practitioner's profile: when and how they can work."""

    name: Text
    working_weekdays: list[Weekday] = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    unavailability: list[DayRange] = []
    travel_minutes: int = Field(default=0, ge=0, le=600)
    travel: list[TravelPair] = []
    max_sessions_per_day: int | None = Field(default=None, ge=1)
    billing: Billing | None = None

    @property
    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(day) for day in self.working_weekdays)
