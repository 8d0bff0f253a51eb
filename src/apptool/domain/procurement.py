"""Framework agreements, the buyer's side: lots, holders, groups, and purchase orders.

A buyer (e.g. a Département) awards a multi-provider framework agreement in lots. For each
group to serve it issues a purchase order (bon de commande) to one holder of the group's lot:

* ``rotation`` lots (Ille-et-Vilaine, lot 1): in turn, so that one provider does not take
  groups of managers who work together. The turn continues after the holder of the last order
  issued in the lot; a holder is skipped when it declined this order, is at capacity, or
  already serves a group of the same ``team``.
* ``cascade`` lots (lots 2 and 3): to the first-ranked holder with capacity who has not
  declined this order.

The buyer workspace's files (``buyer.yaml``, ``records/orders.yaml``) are read and written by
:mod:`apptool.store.buyer_files`. This module decides; it prints nothing and never asks for
today's date (it is passed in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import Field
from stdnum.fr import siret

from apptool.domain.contract import next_in_series, series_gaps, yearly_ceiling_problem
from apptool.domain.models import Day, Identifier, Money, Strict
from apptool.domain.source import Document
from apptool.domain.validation import duplicates
from apptool.errors import InvalidInput, Problem, RuleRefused

BUYER = "buyer.yaml"
ZERO = Decimal("0.00")

Allocation = Literal["rotation", "cascade"]
OrderStatus = Literal["assigned", "passed", "declined"]


# --- buyer.yaml -------------------------------------------------------------------------------


class BuyerIdentity(Strict):
    """The buyer (pouvoir adjudicateur)."""

    name: str = Field(min_length=1)
    siret: str


class Agreement(Strict):
    """The framework agreement: initial term, and one optional renewal up to ``renewal_end``."""

    reference: str = Field(min_length=1)
    title: str | None = None
    start: Day
    end: Day
    renewal_end: Day | None = None
    renewal_recorded: bool = False

    @property
    def active_until(self) -> date:
        """The last day orders may be dated: the renewal's end once it is recorded."""
        if self.renewal_recorded and self.renewal_end is not None:
            return self.renewal_end
        return self.end

    def period_problem(self, day: date) -> str | None:
        """Why an order dated ``day`` is outside the agreement, or None."""
        if self.start <= day <= self.active_until:
            return None
        text = f"{day} is outside the agreement's period ({self.start} to {self.active_until})"
        if self.renewal_end is not None and not self.renewal_recorded and day > self.end:
            text += (
                f"; the renewal up to {self.renewal_end} is not recorded (set "
                f"agreement.renewal_recorded: true in {BUYER} once it is decided)"
            )
        return text


class Holder(Strict):
    """A holder (titulaire) of a lot, at its rank; ``capacity`` groups at once."""

    rank: int = Field(ge=1)
    id: Identifier
    name: str = Field(min_length=1)
    capacity: int = Field(ge=1)
    price: Money  # per session, HT


class BuyerLot(Strict):
    """A lot, its allocation rule, its yearly amounts HT and its holders in rank order."""

    number: int = Field(ge=1)
    title: str = Field(min_length=1)
    allocation: Allocation
    estimated_yearly: Money
    maximum_yearly: Money
    holders: list[Holder] = Field(min_length=1)

    def holder(self, holder_id: str) -> Holder:
        return next(h for h in self.holders if h.id == holder_id)


class BuyerGroup(Strict):
    """A group to serve: its lot, the ``team`` (or territory) whose groups work together."""

    id: Identifier
    name: str = Field(min_length=1)
    lot: int
    team: Identifier | None = None
    sessions: int = Field(ge=1)  # per year: an order covers one year of sessions
    start: Day | None = Field(default=None, alias="from")
    end: Day | None = Field(default=None, alias="to")

    def started(self, day: date) -> bool:
        return self.start is None or self.start <= day

    def ended(self, day: date) -> bool:
        return self.end is not None and self.end < day


class BuyerFile(Strict):
    """``buyer.yaml``."""

    buyer: BuyerIdentity
    agreement: Agreement
    lots: list[BuyerLot] = Field(min_length=1)
    groups: list[BuyerGroup] = []

    def lot(self, number: int) -> BuyerLot:
        return next(lot for lot in self.lots if lot.number == number)

    def group(self, group_id: str) -> BuyerGroup:
        return next(g for g in self.groups if g.id == group_id)


# --- records/orders.yaml ----------------------------------------------------------------------


class Decline(Strict):
    """A holder refused the order on ``date``."""

    date: Day
    holder: Identifier
    reason: str | None = None


class BuyerOrder(Strict):
    """A purchase order: one group, one holder (none once every possible holder declined)."""

    number: str = Field(pattern=r"^BC-\d{4}-\d{4}$")
    lot: int
    group: Identifier
    date: Day
    sessions: int = Field(ge=1)
    status: OrderStatus
    holder: Identifier | None = None
    unit_price: Money | None = None
    amount: Money | None = None
    reason: str = Field(min_length=1)
    declines: list[Decline] = []

    @property
    def active(self) -> bool:
        return self.status != "declined"

    @property
    def year_seq(self) -> tuple[int, int]:
        return int(self.number[3:7]), int(self.number[8:])


class OrdersFile(Strict):
    """``records/orders.yaml``: orders in the order they were issued."""

    orders: list[BuyerOrder] = []


# --- rules of buyer.yaml, one function each ---------------------------------------------------

BuyerRule = Callable[[BuyerFile, Document], list[Problem]]


def agreement_dates_in_order(spec: BuyerFile, doc: Document) -> list[Problem]:
    """The agreement ends after it starts; a renewal ends after the initial end."""
    term = spec.agreement
    problems = []
    if term.end < term.start:
        problems.append(
            doc.problem(("agreement", "end"), f"{term.end} is before the start {term.start}")
        )
    if term.renewal_end is not None and term.renewal_end <= term.end:
        problems.append(
            doc.problem(
                ("agreement", "renewal_end"), f"{term.renewal_end} is not after the end {term.end}"
            )
        )
    if term.renewal_recorded and term.renewal_end is None:
        problems.append(
            doc.problem(("agreement", "renewal_recorded"), "a recorded renewal needs renewal_end")
        )
    return problems


def buyer_siret_valid(spec: BuyerFile, doc: Document) -> list[Problem]:
    """The buyer's SIRET is 14 digits with a valid checksum."""
    if siret.is_valid(spec.buyer.siret):
        return []
    return [
        doc.problem(
            ("buyer", "siret"),
            f"{spec.buyer.siret!r} is not a valid SIRET (14 digits, Luhn checksum)",
        )
    ]


def unique_lot_numbers(spec: BuyerFile, doc: Document) -> list[Problem]:
    """Each lot has its own number."""
    return duplicates(doc, spec.lots, "lots", "lot", "number")


def lot_amounts_in_order(spec: BuyerFile, doc: Document) -> list[Problem]:
    """A lot's yearly estimate does not exceed its yearly maximum."""
    return [
        doc.problem(
            ("lots", index, "estimated_yearly"),
            f"{lot.estimated_yearly} is over the yearly maximum {lot.maximum_yearly}",
        )
        for index, lot in enumerate(spec.lots)
        if lot.estimated_yearly > lot.maximum_yearly
    ]


def unique_holder_ids(spec: BuyerFile, doc: Document) -> list[Problem]:
    """Within a lot, each holder has its own id."""
    problems = []
    for l_index, lot in enumerate(spec.lots):
        seen: dict[str, int] = {}
        for index, holder in enumerate(lot.holders):
            if holder.id in seen:
                problems.append(
                    doc.problem(
                        ("lots", l_index, "holders", index, "id"),
                        f"duplicate holder id "
                        f"{holder.id!r} (first at lots[{l_index}].holders[{seen[holder.id]}])",
                    )
                )
            seen.setdefault(holder.id, index)
    return problems


def holder_ranks_in_order(spec: BuyerFile, doc: Document) -> list[Problem]:
    """Holders are listed in rank order: 1, 2, 3... without gap or tie."""
    return [
        doc.problem(
            ("lots", l_index, "holders", index, "rank"),
            f"rank {holder.rank} where {index + 1} is expected: list the holders "
            "in rank order, 1, 2, 3...",
        )
        for l_index, lot in enumerate(spec.lots)
        for index, holder in enumerate(lot.holders)
        if holder.rank != index + 1
    ]


def same_holder_same_name(spec: BuyerFile, doc: Document) -> list[Problem]:
    """A holder id used in several lots names one provider: the same name everywhere."""
    names: dict[str, tuple[str, int]] = {}
    problems = []
    for l_index, lot in enumerate(spec.lots):
        for index, holder in enumerate(lot.holders):
            first = names.setdefault(holder.id, (holder.name, lot.number))
            if first[0] != holder.name:
                problems.append(
                    doc.problem(
                        ("lots", l_index, "holders", index, "name"),
                        f"holder {holder.id!r} is "
                        f"named {first[0]!r} in lot {first[1]}: one id is one provider",
                    )
                )
    return problems


def unique_group_ids(spec: BuyerFile, doc: Document) -> list[Problem]:
    """Each group has its own id."""
    return duplicates(doc, spec.groups, "groups", "group")


def known_group_lots(spec: BuyerFile, doc: Document) -> list[Problem]:
    """A group belongs to one of the lots."""
    known = [lot.number for lot in spec.lots]
    return [
        doc.problem(
            ("groups", index, "lot"),
            f"unknown lot {group.lot} (known: {', '.join(map(str, known))})",
        )
        for index, group in enumerate(spec.groups)
        if group.lot not in known
    ]


def rotation_groups_have_team(spec: BuyerFile, doc: Document) -> list[Problem]:
    """In a rotation lot, a group says which team it works with (the exclusion needs it)."""
    rotation = {lot.number for lot in spec.lots if lot.allocation == "rotation"}
    return [
        doc.problem(
            ("groups", index, "team"),
            f"missing: lot {group.lot} is allocated by "
            "rotation, which keeps groups of one team with different holders",
        )
        for index, group in enumerate(spec.groups)
        if group.lot in rotation and group.team is None
    ]


def group_dates_in_order(spec: BuyerFile, doc: Document) -> list[Problem]:
    """A group's ``to`` is on or after its ``from``."""
    return [
        doc.problem(("groups", index, "to"), f"{group.end} is before {group.start}")
        for index, group in enumerate(spec.groups)
        if group.start and group.end and group.end < group.start
    ]


BUYER_RULES: tuple[BuyerRule, ...] = (
    agreement_dates_in_order,
    buyer_siret_valid,
    unique_lot_numbers,
    lot_amounts_in_order,
    unique_holder_ids,
    holder_ranks_in_order,
    same_holder_same_name,
    unique_group_ids,
    known_group_lots,
    rotation_groups_have_team,
    group_dates_in_order,
)


# --- rules of records/orders.yaml, one function each ------------------------------------------

OrdersRule = Callable[[BuyerFile, list[BuyerOrder], Document], list[Problem]]


def order_numbers_continuous(
    spec: BuyerFile, orders: list[BuyerOrder], doc: Document
) -> list[Problem]:
    """Numbers are unique, carry their date's year, and run 0001, 0002... without gap."""
    problems = []
    seen: set[str] = set()
    by_year: dict[int, list[int]] = {}
    for index, order in enumerate(orders):
        year, seq = order.year_seq
        if order.number in seen:
            problems.append(
                doc.problem(("orders", index, "number"), f"duplicate order number {order.number!r}")
            )
        seen.add(order.number)
        if year != order.date.year:
            problems.append(
                doc.problem(
                    ("orders", index, "number"),
                    f"{order.number} is dated {order.date}: the number carries the order's year",
                )
            )
        by_year.setdefault(year, []).append(seq)
    for year, seqs in sorted(by_year.items()):
        runs, _ = series_gaps(seqs)
        missing = [seq for first, last, _ in runs for seq in range(first, last + 1)]
        if missing:
            problems.append(
                doc.problem(
                    ("orders",),
                    "numbers are continuous; missing: "
                    + ", ".join(f"BC-{year}-{seq:04d}" for seq in missing),
                )
            )
    return problems


def order_references_known(
    spec: BuyerFile, orders: list[BuyerOrder], doc: Document
) -> list[Problem]:
    """An order names a lot, a group of that lot and holders of that lot."""
    lots = {lot.number: lot for lot in spec.lots}
    groups = {g.id: g for g in spec.groups}
    problems = []
    for index, order in enumerate(orders):
        lot = lots.get(order.lot)
        if lot is None:
            problems.append(doc.problem(("orders", index, "lot"), f"unknown lot {order.lot}"))
            continue
        group = groups.get(order.group)
        if group is None:
            problems.append(
                doc.problem(
                    ("orders", index, "group"),
                    f"unknown group "
                    f"{order.group!r}: keep a served group in {BUYER} "
                    "(give it a 'to' date when it ends)",
                )
            )
        elif group.lot != order.lot:
            problems.append(
                doc.problem(
                    ("orders", index, "lot"), f"group {order.group!r} belongs to lot {group.lot}"
                )
            )
        holder_ids = {h.id for h in lot.holders}
        named = [(("orders", index, "holder"), order.holder)] + [
            (("orders", index, "declines", d_index, "holder"), decline.holder)
            for d_index, decline in enumerate(order.declines)
        ]
        for loc, holder in named:
            if holder is not None and holder not in holder_ids:
                problems.append(doc.problem(loc, f"{holder!r} is not a holder of lot {order.lot}"))
    return problems


def order_status_consistent(
    spec: BuyerFile, orders: list[BuyerOrder], doc: Document
) -> list[Problem]:
    """A declined order has no holder; an active one has a holder, a price and its amount."""
    problems = []
    for index, order in enumerate(orders):
        loc = ("orders", index)
        if order.status == "declined":
            if order.holder is not None or order.amount is not None:
                problems.append(
                    doc.problem((*loc, "status"), "a declined order has no holder and no amount")
                )
            if not order.declines:
                problems.append(
                    doc.problem((*loc, "declines"), "a declined order lists who declined it")
                )
            continue
        if order.holder is None or order.unit_price is None or order.amount is None:
            problems.append(
                doc.problem(
                    (*loc, "status"), f"an order {order.status} needs holder, unit_price and amount"
                )
            )
            continue
        if order.amount != order.unit_price * order.sessions:
            problems.append(
                doc.problem(
                    (*loc, "amount"), f"{order.amount} is not {order.sessions} x {order.unit_price}"
                )
            )
        if (order.status == "passed") != bool(order.declines):
            problems.append(
                doc.problem(
                    (*loc, "status"),
                    "passed is the status of an order "
                    "taken after declines; assigned, of one never declined",
                )
            )
        if any(d.holder == order.holder for d in order.declines):
            problems.append(doc.problem((*loc, "holder"), f"{order.holder!r} declined this order"))
    return problems


def one_order_per_group(spec: BuyerFile, orders: list[BuyerOrder], doc: Document) -> list[Problem]:
    """A group has one purchase order (a declined one is passed on, not issued again)."""
    seen: dict[str, str] = {}
    problems = []
    for index, order in enumerate(orders):
        if order.group in seen:
            problems.append(
                doc.problem(
                    ("orders", index, "group"),
                    f"group {order.group!r} already has order {seen[order.group]}",
                )
            )
        seen.setdefault(order.group, order.number)
    return problems


ORDERS_RULES: tuple[OrdersRule, ...] = (
    order_numbers_continuous,
    order_references_known,
    order_status_consistent,
    one_order_per_group,
)


# --- allocation ---------------------------------------------------------------------------


def eur_text(value: Decimal) -> str:
    """``48000.00 EUR``: the amounts of messages."""
    return f"{value:.2f} EUR"


def committed(orders: list[BuyerOrder], lot: int, year: int) -> Decimal:
    """The amount HT of the lot's active orders dated in ``year``."""
    return sum(
        (
            o.amount
            for o in orders
            if o.lot == lot and o.date.year == year and o.active and o.amount is not None
        ),
        ZERO,
    )


def next_number(orders: list[BuyerOrder], year: int) -> str:
    """The next number of ``year``'s series: BC-2025-0001, BC-2025-0002... (no gap)."""
    seq = next_in_series(seq for y, seq in (o.year_seq for o in orders) if y == year)
    return f"BC-{year}-{seq:04d}"


def _last_holder(orders: list[BuyerOrder], lot: int) -> str | None:
    """The holder of the last order issued in the lot (the last to decline it, if declined)."""
    for order in reversed(orders):
        if order.lot == lot:
            if order.holder is not None:
                return order.holder
            if order.declines:
                return order.declines[-1].holder
    return None


@dataclass(frozen=True)
class Choice:
    """Who takes an order, why, and why each holder before it was skipped."""

    holder: Holder | None
    skipped: list[tuple[Holder, str]]
    reason: str


def _exclusion(
    spec: BuyerFile,
    orders: list[BuyerOrder],
    lot: BuyerLot,
    holder: Holder,
    group: BuyerGroup,
    declined: set[str],
    day: date,
    number: str | None,
) -> str | None:
    """Why ``holder`` cannot take the order of ``group`` (``number``, when it exists), or None."""
    if holder.id in declined:
        return "declined this order"
    groups = {g.id: g for g in spec.groups}

    def serving(order: BuyerOrder) -> bool:
        other = groups.get(order.group)
        return (
            order.active
            and order.holder == holder.id
            and order.number != number
            and other is not None
            and not other.ended(day)
        )

    load = sum(1 for o in orders if o.lot == lot.number and serving(o))
    if load >= holder.capacity:
        return f"at capacity {load}/{holder.capacity}"
    if lot.allocation == "rotation" and group.team is not None:
        for order in orders:
            other = groups.get(order.group)
            if (
                serving(order)
                and other is not None
                and other.id != group.id
                and other.team == group.team
            ):
                return f"serves team {group.team} via {other.id}"
    return None


def choose_holder(
    spec: BuyerFile,
    orders: list[BuyerOrder],
    lot: BuyerLot,
    group: BuyerGroup,
    day: date,
    declined: set[str],
    number: str | None = None,
    after: str | None = None,
) -> Choice:
    """The holder who takes the order of ``group`` by the lot's rule, with the reason.

    Rotation: in rank order, starting after ``after`` (default: the holder of the lot's last
    order), round robin; cascade: the first rank. Skipped: holders who declined the order, are
    at capacity, or (rotation) serve a group of the same team.
    """
    holders = lot.holders
    if lot.allocation == "rotation":
        previous = after if after is not None else _last_holder(orders, lot.number)
        ids = [h.id for h in holders]
        start = ids.index(previous) + 1 if previous in ids else 0
        sequence = holders[start:] + holders[:start]
        head = (
            f"rotation: after {previous}"
            if previous is not None
            else f"rotation: first order of lot {lot.number}"
        )
    else:
        sequence = list(holders)
        head = "cascade:"
    skipped: list[tuple[Holder, str]] = []
    for holder in sequence:
        why = _exclusion(spec, orders, lot, holder, group, declined, day, number)
        if why is None:
            parts = [f"{h.id} skipped ({w})" for h, w in skipped]
            parts.append(f"{holder.id} (rank {holder.rank}) takes it")
            sep = " " if head.endswith(":") else ", "
            return Choice(holder, skipped, head + sep + ", ".join(parts))
        skipped.append((holder, why))
    return Choice(
        None,
        skipped,
        f"{head.rstrip(':')}: no holder can take it: "
        + "; ".join(f"{h.id} {w}" for h, w in skipped),
    )


def _ceiling_problem(
    orders: list[BuyerOrder], lot: BuyerLot, year: int, amount: Decimal, what: str
) -> str | None:
    return yearly_ceiling_problem(
        committed(orders, lot.number, year),
        amount,
        lot.maximum_yearly,
        what,
        f"lot {lot.number}, {year}",
    )


def _share(amount: Decimal, whole: Decimal) -> Decimal:
    """``amount`` in percent of ``whole``, to one decimal (26.25 -> 26.3)."""
    if not whole:
        return Decimal("0.0")
    return (amount * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def estimate_warnings(
    spec: BuyerFile, orders: list[BuyerOrder], touched: set[tuple[int, int]]
) -> list[str]:
    """A warning for each (lot, year) touched whose committed amount is past its estimate."""
    warnings = []
    for number, year in sorted(touched):
        lot = spec.lot(number)
        total = committed(orders, number, year)
        if total > lot.estimated_yearly:
            warnings.append(
                f"lot {number}, {year}: committed {eur_text(total)} HT is past the yearly "
                f"estimate {eur_text(lot.estimated_yearly)} HT "
                f"({_share(total, lot.estimated_yearly)} %); maximum "
                f"{eur_text(lot.maximum_yearly)} HT"
            )
    return warnings


@dataclass
class AllocationOutcome:
    """What ``apptool allocate`` did (or would do, in a dry run)."""

    orders: list[BuyerOrder]  # every order after the run
    assigned: list[BuyerOrder]  # orders issued, or declined orders taken, in this run
    waiting: list[tuple[BuyerGroup, str]] = field(default_factory=list)
    unassigned: list[tuple[BuyerOrder, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def allocate(spec: BuyerFile, orders: list[BuyerOrder], day: date) -> AllocationOutcome:
    """Issue an order, dated ``day``, for each group without a provider, in file order.

    All or nothing: if a group finds no holder, or an order would push its lot over the
    yearly maximum, :class:`RuleRefused` is raised and nothing is assigned. A declined order
    (every holder it reached declined) is offered again; if still nobody can take it, it stays
    unassigned and is reported, without blocking the others.
    """
    problem = spec.agreement.period_problem(day)
    if problem is not None:
        raise RuleRefused(f"no order can be issued: {problem}")
    current = list(orders)
    by_group = {o.group: o for o in current}
    outcome = AllocationOutcome(current, [])
    touched: set[tuple[int, int]] = set()
    for group in spec.groups:
        lot = spec.lot(group.lot)
        existing = by_group.get(group.id)
        if existing is not None and existing.active:
            continue
        if group.ended(day):
            if existing is None:
                outcome.waiting.append((group, f"ended on {group.end}"))
            continue
        if not group.started(day):
            outcome.waiting.append((group, f"starts on {group.start}"))
            continue
        declined = {d.holder for d in existing.declines} if existing else set()
        choice = choose_holder(
            spec, current, lot, group, day, declined, existing.number if existing else None
        )
        if choice.holder is None:
            if existing is not None:
                outcome.unassigned.append((existing, choice.reason))
                continue
            raise RuleRefused(
                f"lot {lot.number}: no holder can take group {group.id} "
                f"({group.name}): "
                + "; ".join(f"{h.id} {w}" for h, w in choice.skipped)
                + "; nothing was assigned"
            )
        amount = choice.holder.price * group.sessions
        if existing is None:
            order = BuyerOrder(
                number=next_number(current, day.year),
                lot=lot.number,
                group=group.id,
                date=day,
                sessions=group.sessions,
                status="assigned",
                holder=choice.holder.id,
                unit_price=choice.holder.price,
                amount=amount,
                reason=choice.reason,
            )
        else:
            order = existing.model_copy(
                update={
                    "status": "passed",
                    "holder": choice.holder.id,
                    "sessions": group.sessions,
                    "unit_price": choice.holder.price,
                    "amount": amount,
                    "reason": f"offered again on {day}: {choice.reason}",
                }
            )
        over = _ceiling_problem(
            current,
            lot,
            order.date.year,
            amount,
            f"the order of group {group.id} to {choice.holder.id}",
        )
        if over is not None:
            raise RuleRefused(over + "; nothing was assigned")
        if existing is None:
            current.append(order)
        else:
            current[current.index(existing)] = order
        by_group[group.id] = order
        outcome.assigned.append(order)
        touched.add((lot.number, order.date.year))
    outcome.warnings = estimate_warnings(spec, current, touched)
    return outcome


@dataclass
class DeclineOutcome:
    """What ``apptool decline`` did: the order passed on, or left unassigned (``refusal``)."""

    orders: list[BuyerOrder]
    before: BuyerOrder
    order: BuyerOrder
    refusal: str | None = None  # why nobody took it: the order stays declined, unassigned
    warnings: list[str] = field(default_factory=list)


def decline(
    spec: BuyerFile, orders: list[BuyerOrder], number: str, day: date, reason: str | None = None
) -> DeclineOutcome:
    """Record that the order's holder declined it on ``day`` and pass it on.

    Cascade: to the next ranked holder with capacity that has not declined it; rotation: to
    the next in turn after the decliner, with the same exclusions as ``allocate``. When nobody
    is left (or the new price would break the lot's yearly maximum), the decline is still
    recorded: the order becomes ``declined`` without holder, and ``refusal`` says why.
    """
    order = next((o for o in orders if o.number == number), None)
    if order is None:
        known = ", ".join(o.number for o in orders if o.active) or "none"
        raise InvalidInput(f"unknown order {number!r} (orders with a holder: {known})")
    if order.holder is None:
        raise RuleRefused(f"order {number} has no holder to decline it: " + order.reason)
    if day < order.date:
        raise RuleRefused(f"{day} is before the order's date {order.date}")
    problem = spec.agreement.period_problem(day)
    if problem is not None:
        raise RuleRefused(f"order {number} cannot be passed on: {problem}")
    lot = spec.lot(order.lot)
    group = spec.group(order.group)
    declines = [*order.declines, Decline(date=day, holder=order.holder, reason=reason)]
    declined = {d.holder for d in declines}
    choice = choose_holder(
        spec, orders, lot, group, day, declined, order.number, after=order.holder
    )
    head = f"declined by {order.holder} on {day}"
    refusal = None
    if choice.holder is not None:
        amount = choice.holder.price * order.sessions
        others = [o for o in orders if o.number != number]
        refusal = _ceiling_problem(
            others, lot, order.date.year, amount, f"passing order {number} to {choice.holder.id}"
        )
    if choice.holder is None or refusal is not None:
        refusal = refusal or choice.reason
        new = order.model_copy(
            update={
                "status": "declined",
                "holder": None,
                "unit_price": None,
                "amount": None,
                "declines": declines,
                "reason": f"{head}; {refusal}",
            }
        )
    else:
        assert choice.holder is not None
        new = order.model_copy(
            update={
                "status": "passed",
                "holder": choice.holder.id,
                "unit_price": choice.holder.price,
                "amount": choice.holder.price * order.sessions,
                "declines": declines,
                "reason": f"{head}; {choice.reason}",
            }
        )
    current = [new if o.number == number else o for o in orders]
    warnings = [] if refusal else estimate_warnings(spec, current, {(lot.number, new.date.year)})
    return DeclineOutcome(current, order, new, refusal, warnings)


# --- the lots report ------------------------------------------------------------------------


@dataclass(frozen=True)
class HolderFigures:
    holder: Holder
    orders: int
    sessions: int
    amount: Decimal
    declines: int


@dataclass(frozen=True)
class LotFigures:
    """A lot in a year: orders, amounts committed versus estimate and maximum, per holder."""

    lot: BuyerLot
    year: int
    orders: int
    committed: Decimal
    unassigned: int
    holders: list[HolderFigures]

    @property
    def estimate_share(self) -> Decimal:
        return _share(self.committed, self.lot.estimated_yearly)

    @property
    def maximum_share(self) -> Decimal:
        return _share(self.committed, self.lot.maximum_yearly)


def order_years(orders: list[BuyerOrder]) -> list[int]:
    return sorted({o.date.year for o in orders})


def lot_figures(spec: BuyerFile, orders: list[BuyerOrder], years: list[int]) -> list[LotFigures]:
    """``apptool lots``: each lot, each year, with each holder's count and amount."""
    figures = []
    for year in years:
        dated = [o for o in orders if o.date.year == year]
        for lot in spec.lots:
            in_lot = [o for o in dated if o.lot == lot.number]
            active = [o for o in in_lot if o.active]
            holders = [
                HolderFigures(
                    holder,
                    orders=sum(1 for o in active if o.holder == holder.id),
                    sessions=sum(o.sessions for o in active if o.holder == holder.id),
                    amount=sum((o.amount or ZERO for o in active if o.holder == holder.id), ZERO),
                    declines=sum(
                        1
                        for o in orders
                        if o.lot == lot.number
                        for d in o.declines
                        if d.holder == holder.id and d.date.year == year
                    ),
                )
                for holder in lot.holders
            ]
            figures.append(
                LotFigures(
                    lot,
                    year,
                    len(active),
                    committed(orders, lot.number, year),
                    len(in_lot) - len(active),
                    holders,
                )
            )
    return figures
