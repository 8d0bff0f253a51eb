"""Framework agreements, the buyer's side: lots, holders, groups, and purchase orders.

A buyer (e.g. a Département) awards a multi-provider framework agreement in lots. For each
group to serve it issues, every **agreement year** (12 months from the agreement's start,
renewal years included), a purchase order (bon de commande) to one holder of the group's lot:

* ``rotation`` lots (Ille-et-Vilaine, lot 1): in turn, so that one provider does not take
  groups of managers who work together. The turn continues after the holder of the last order
  issued in the lot, from one agreement year to the next; a holder is skipped when it declined
  this order, is at capacity, or already serves a group of the same ``team``.
* ``cascade`` lots (lots 2 and 3): each order is asked of the holders in rank order; a holder
  that declined it, or is at capacity, is skipped (and the skip recorded); after a decline the
  order goes on to the ranks below the one who declined.

Each order keeps its history (every offer, skip, decline, re-offer, with its date and why):
the record is an audit trail whose dates never go backwards. The yearly maximum of each lot
and of the whole agreement is counted per agreement year.

The buyer workspace's files (``buyer.yaml``, ``records/orders.yaml``) are read and written by
:mod:`apptool.store.buyer_files`. This module decides; it prints nothing and never asks for
today's date (it is passed in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from stdnum.fr import siret

from apptool.domain.contract import (
    agreement_year,
    agreement_year_bounds,
    agreement_years,
    estimate_passed,
    next_in_series,
    overall_ceiling_problem,
    series_gaps,
    yearly_ceiling_problem,
)
from apptool.domain.models import Day, Identifier, Money, Strict
from apptool.domain.source import Document
from apptool.domain.validation import duplicates
from apptool.errors import InvalidInput, Problem, RuleRefused

BUYER = "buyer.yaml"
Calendar = date  # a day, in the models whose ``date`` field hides the type
ZERO = Decimal("0.00")
NUMBER_PATTERN = r"^BC-\d{4}-\d{4}$"

Allocation = Literal["rotation", "cascade"]
OrderStatus = Literal["assigned", "passed", "declined", "lapsed"]
EventAction = Literal["offered", "skipped", "declined", "unassigned", "lapsed"]


# --- buyer.yaml -------------------------------------------------------------------------------


class BuyerIdentity(Strict):
    """The buyer (pouvoir adjudicateur); ``address`` and ``signatory`` go on the order form."""

    name: str = Field(min_length=1)
    siret: str
    address: list[str] = []
    signatory: str | None = None  # who signs the orders ("Pour le Président, ...")


def _lot_keys(value: Any) -> Any:
    """Lot numbers as keys (``{3: 8}``): YAML keys are read as their text, so ``"3"`` is lot 3."""
    if isinstance(value, dict):
        return {
            int(k) if isinstance(k, str) and k.isdigit() and len(k) < 4 else k: v
            for k, v in value.items()
        }
    return value


class Agreement(Strict):
    """The framework agreement: initial term, one optional renewal up to ``renewal_end``, the
    overall yearly amounts HT of every lot together, the budget line, holders per lot."""

    reference: str = Field(min_length=1)
    title: str | None = None
    start: Day
    end: Day
    renewal_end: Day | None = None
    renewal_recorded: bool = False
    estimated_yearly: Money | None = None
    maximum_yearly: Money | None = None
    budget_line: str | None = Field(default=None, min_length=1)
    holders_per_lot: Annotated[dict[int, int], BeforeValidator(_lot_keys)] | None = None

    @property
    def active_until(self) -> date:
        """The last day orders may be dated: the renewal's end once it is recorded."""
        if self.renewal_recorded and self.renewal_end is not None:
            return self.renewal_end
        return self.end

    @property
    def last_possible_day(self) -> date:
        """The agreement's last day if it is renewed (the reports show every year)."""
        return self.renewal_end or self.end

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

    def year_of(self, day: date) -> int:
        """The agreement year of ``day`` (1, 2...; 0 before the start)."""
        return agreement_year(self.start, day)

    def year_bounds(self, year: int) -> tuple[date, date]:
        """First and last day of agreement year ``year``, the last cut at the agreement's end."""
        first, last = agreement_year_bounds(self.start, year)
        return first, min(last, self.last_possible_day)

    def year_text(self, year: int) -> str:
        first, last = self.year_bounds(year)
        return f"agreement year {year} ({first} to {last})"

    def years(self) -> list[tuple[int, date, date]]:
        """Every agreement year, renewal included."""
        return agreement_years(self.start, self.last_possible_day)


class Holder(Strict):
    """A holder (titulaire) of a lot, at its rank; ``capacity`` groups at once."""

    rank: int = Field(ge=1)
    id: Identifier
    name: str = Field(min_length=1)
    capacity: int = Field(ge=1)
    price: Money  # per session, HT
    siret: str | None = None
    address: list[str] = []


class BuyerLot(Strict):
    """A lot, its allocation rule, its yearly amounts HT and its holders in rank order."""

    number: int = Field(ge=1)
    title: str = Field(min_length=1)
    allocation: Allocation
    estimated_yearly: Money
    maximum_yearly: Money
    holders_per_lot: int | None = Field(default=None, ge=1)
    budget_line: str | None = Field(default=None, min_length=1)
    holders: list[Holder] = Field(min_length=1)

    def holder(self, holder_id: str) -> Holder:
        return next(h for h in self.holders if h.id == holder_id)


class BuyerGroup(Strict):
    """A group to serve: its lot, the ``team`` (or territory) whose groups work together."""

    id: Identifier
    name: str = Field(min_length=1)
    lot: int
    team: Identifier | None = None
    sessions: int = Field(ge=1)  # per agreement year: each yearly order covers that many
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

    def holders_expected(self, lot: BuyerLot) -> int | None:
        """How many holders the agreement provides for ``lot`` (``holders_per_lot``)."""
        if lot.holders_per_lot is not None:
            return lot.holders_per_lot
        return (self.agreement.holders_per_lot or {}).get(lot.number)

    def budget_line(self, lot: BuyerLot) -> str | None:
        return lot.budget_line or self.agreement.budget_line


# --- records/orders.yaml ----------------------------------------------------------------------


class OrderEvent(Strict):
    """One step of an order's history: offered to a holder, a holder skipped (and why), a
    decline, nobody left to take it, or its agreement year ended without a holder."""

    date: Day
    action: EventAction
    holder: Identifier | None = None
    reason: str | None = None


class BuyerOrder(Strict):
    """A purchase order: one group, one agreement year (``from``..``to``), one holder (none
    once every holder it could reach declined), and its history."""

    number: str = Field(pattern=NUMBER_PATTERN)
    lot: int
    group: Identifier
    year: int = Field(ge=1)  # the agreement year it is for, where its amount counts
    start: Day = Field(alias="from")
    end: Day = Field(alias="to")
    date: Day  # the date of its current offer
    sessions: int = Field(ge=1)
    status: OrderStatus
    holder: Identifier | None = None
    unit_price: Money | None = None
    amount: Money | None = None
    reason: str = Field(min_length=1)
    history: list[OrderEvent] = Field(min_length=1)

    @property
    def active(self) -> bool:
        """It has a holder (assigned, or passed on after declines)."""
        return self.status in ("assigned", "passed")

    @property
    def year_seq(self) -> tuple[int, int]:
        return int(self.number[3:7]), int(self.number[8:])

    @property
    def declined_by(self) -> list[str]:
        return [e.holder for e in self.history if e.action == "declined" and e.holder]

    @property
    def issued_on(self) -> Calendar:
        """The date of its first offer (its number carries that year)."""
        return self.history[0].date


class OrdersFile(Strict):
    """``records/orders.yaml``: orders in the order they were issued."""

    orders: list[BuyerOrder] = []


class LegacyDecline(Strict):
    """A decline as the previous version recorded it."""

    date: Day
    holder: Identifier
    reason: str | None = None


class LegacyOrder(Strict):
    """An order as the previous version wrote it (one order per group, ever; no history)."""

    number: str = Field(pattern=NUMBER_PATTERN)
    lot: int
    group: Identifier
    date: Day
    sessions: int = Field(ge=1)
    status: Literal["assigned", "passed", "declined"]
    holder: Identifier | None = None
    unit_price: Money | None = None
    amount: Money | None = None
    reason: str = Field(min_length=1)
    declines: list[LegacyDecline] = []


class LegacyOrdersFile(Strict):
    """``records/orders.yaml`` written by the previous version (no order has a history)."""

    orders: list[LegacyOrder] = []


def migrate_legacy(spec: BuyerFile, legacy: list[LegacyOrder]) -> list[BuyerOrder]:
    """Orders of the previous version in today's shape: the agreement year of the order's
    date, a period from its date to that year's end, and a history rebuilt from its declines
    (each holder offered it on the date the previous one declined it)."""
    groups = {g.id: g for g in spec.groups}
    term = spec.agreement
    orders = []
    for old in legacy:
        year = max(1, term.year_of(old.date))
        last = min(term.year_bounds(year)[1], term.active_until)
        group = groups.get(old.group)
        if group is not None and group.end is not None and old.date <= group.end < last:
            last = group.end
        history: list[OrderEvent] = []
        offered_on = old.date
        for decline in old.declines:
            history.append(OrderEvent(date=offered_on, action="offered", holder=decline.holder))
            history.append(
                OrderEvent(
                    date=decline.date,
                    action="declined",
                    holder=decline.holder,
                    reason=decline.reason,
                )
            )
            offered_on = max(offered_on, decline.date)
        if old.holder is not None:
            history.append(
                OrderEvent(date=offered_on, action="offered", holder=old.holder, reason=old.reason)
            )
        else:
            history.append(OrderEvent(date=offered_on, action="unassigned", reason=old.reason))
        orders.append(
            BuyerOrder(
                number=old.number,
                lot=old.lot,
                group=old.group,
                year=year,
                start=old.date,
                end=max(last, old.date),
                date=offered_on if old.holder is not None else old.date,
                sessions=old.sessions,
                status=old.status,
                holder=old.holder,
                unit_price=old.unit_price,
                amount=old.amount,
                reason=old.reason,
                history=history,
            )
        )
    return orders


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
    """The buyer's SIRET (and a holder's, when given) is 14 digits with a valid checksum."""
    named = [(("buyer", "siret"), spec.buyer.siret)] + [
        (("lots", l_index, "holders", index, "siret"), holder.siret)
        for l_index, lot in enumerate(spec.lots)
        for index, holder in enumerate(lot.holders)
        if holder.siret is not None
    ]
    return [
        doc.problem(loc, f"{value!r} is not a valid SIRET (14 digits, Luhn checksum)")
        for loc, value in named
        if not siret.is_valid(value)
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


def agreement_amounts_in_order(spec: BuyerFile, doc: Document) -> list[Problem]:
    """The agreement's overall yearly estimate does not exceed its overall yearly maximum,
    and no lot's maximum is over the overall maximum."""
    term = spec.agreement
    problems = []
    if (
        term.estimated_yearly is not None
        and term.maximum_yearly is not None
        and term.estimated_yearly > term.maximum_yearly
    ):
        problems.append(
            doc.problem(
                ("agreement", "estimated_yearly"),
                f"{term.estimated_yearly} is over the overall yearly maximum {term.maximum_yearly}",
            )
        )
    if term.maximum_yearly is not None:
        problems += [
            doc.problem(
                ("lots", index, "maximum_yearly"),
                f"{lot.maximum_yearly} is over the agreement's overall yearly maximum "
                f"{term.maximum_yearly}",
            )
            for index, lot in enumerate(spec.lots)
            if lot.maximum_yearly > term.maximum_yearly
        ]
    return problems


def holders_per_lot_consistent(spec: BuyerFile, doc: Document) -> list[Problem]:
    """``holders_per_lot`` names known lots, is at least 1, agrees where given twice, and no
    lot has more holders than the agreement provides (fewer is allowed: a warning)."""
    problems = []
    given = spec.agreement.holders_per_lot or {}
    known = {lot.number for lot in spec.lots}
    for number, count in given.items():
        loc = ("agreement", "holders_per_lot", number)
        if number not in known:
            problems.append(doc.problem(loc, f"unknown lot {number}"))
        if count < 1:
            problems.append(doc.problem(loc, f"{count}: a lot has at least one holder"))
    for index, lot in enumerate(spec.lots):
        if (
            lot.holders_per_lot is not None
            and lot.number in given
            and given[lot.number] != lot.holders_per_lot
        ):
            problems.append(
                doc.problem(
                    ("lots", index, "holders_per_lot"),
                    f"{lot.holders_per_lot}, but agreement.holders_per_lot gives "
                    f"{given[lot.number]} for lot {lot.number}",
                )
            )
        expected = spec.holders_expected(lot)
        if expected is not None and expected >= 1 and len(lot.holders) > expected:
            problems.append(
                doc.problem(
                    ("lots", index, "holders"),
                    f"{len(lot.holders)} holders, the agreement provides {expected} for lot "
                    f"{lot.number} (holders_per_lot)",
                )
            )
    return problems


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
    agreement_amounts_in_order,
    holders_per_lot_consistent,
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
    """Numbers are unique, carry the year of the order's first offer, run 0001, 0002...
    without gap, and never go backwards: in the file's order, numbers of a year increase and
    first offers are dated on or after the previous order's."""
    problems = []
    seen: set[str] = set()
    by_year: dict[int, list[int]] = {}
    last_seq: dict[int, int] = {}
    previous: BuyerOrder | None = None
    for index, order in enumerate(orders):
        year, seq = order.year_seq
        if order.number in seen:
            problems.append(
                doc.problem(("orders", index, "number"), f"duplicate order number {order.number!r}")
            )
        seen.add(order.number)
        if year != order.issued_on.year:
            problems.append(
                doc.problem(
                    ("orders", index, "number"),
                    f"{order.number} was first offered on {order.issued_on}: the number "
                    "carries the year of its first offer",
                )
            )
        if seq < last_seq.get(year, 0):
            problems.append(
                doc.problem(
                    ("orders", index, "number"),
                    f"{order.number} comes after BC-{year}-{last_seq[year]:04d}: numbers never "
                    "go backwards",
                )
            )
        if previous is not None and order.issued_on < previous.issued_on:
            problems.append(
                doc.problem(
                    ("orders", index, "history", 0, "date"),
                    f"{order.number} was first offered on {order.issued_on}, before "
                    f"{previous.number} ({previous.issued_on}): dates never go backwards",
                )
            )
        previous = order
        last_seq[year] = max(seq, last_seq.get(year, 0))
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
            (("orders", index, "history", e_index, "holder"), event.holder)
            for e_index, event in enumerate(order.history)
        ]
        for loc, holder in named:
            if holder is not None and holder not in holder_ids:
                problems.append(doc.problem(loc, f"{holder!r} is not a holder of lot {order.lot}"))
    return problems


def order_status_consistent(
    spec: BuyerFile, orders: list[BuyerOrder], doc: Document
) -> list[Problem]:
    """An order without holder (declined, lapsed) has no price or amount; an active one has a
    holder, a price and its amount, the holder of its last offer, dated on that offer."""
    problems = []
    for index, order in enumerate(orders):
        loc = ("orders", index)
        offers = [e for e in order.history if e.action == "offered"]
        if not order.active:
            if order.holder is not None or order.amount is not None:
                problems.append(
                    doc.problem(
                        (*loc, "status"), f"a {order.status} order has no holder and no amount"
                    )
                )
            if order.status == "lapsed" and order.history[-1].action != "lapsed":
                problems.append(
                    doc.problem((*loc, "history"), "a lapsed order's history ends with 'lapsed'")
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
        if (order.status == "passed") != bool(order.declined_by):
            problems.append(
                doc.problem(
                    (*loc, "status"),
                    "passed is the status of an order "
                    "taken after declines; assigned, of one never declined",
                )
            )
        if order.holder in order.declined_by:
            problems.append(doc.problem((*loc, "holder"), f"{order.holder!r} declined this order"))
        if not offers or offers[-1].holder != order.holder:
            problems.append(
                doc.problem(
                    (*loc, "holder"),
                    f"{order.holder!r} is not the holder of the order's last offer",
                )
            )
        elif offers[-1].date != order.date:
            problems.append(
                doc.problem(
                    (*loc, "date"),
                    f"{order.date}: an order is dated on its last offer ({offers[-1].date})",
                )
            )
    return problems


def order_history_in_order(
    spec: BuyerFile, orders: list[BuyerOrder], doc: Document
) -> list[Problem]:
    """An order's history is in date order, within the agreement (a decline may come after
    its end), each event naming a holder when it concerns one."""
    problems = []
    start = spec.agreement.start
    for index, order in enumerate(orders):
        previous: date | None = None
        for e_index, event in enumerate(order.history):
            loc = ("orders", index, "history", e_index)
            if previous is not None and event.date < previous:
                problems.append(
                    doc.problem(
                        (*loc, "date"),
                        f"{event.date} is before the previous event ({previous}): an order's "
                        "history never goes backwards",
                    )
                )
            previous = event.date
            if event.date < start:
                problems.append(
                    doc.problem((*loc, "date"), f"{event.date} is before the agreement's start")
                )
            needs_holder = event.action in ("offered", "skipped", "declined")
            if needs_holder != (event.holder is not None):
                problems.append(
                    doc.problem(
                        (*loc, "holder"),
                        f"an event '{event.action}' "
                        + ("names the holder" if needs_holder else "names no holder"),
                    )
                )
    return problems


def order_periods_in_their_year(
    spec: BuyerFile, orders: list[BuyerOrder], doc: Document
) -> list[Problem]:
    """An order covers part of one agreement year: ``from`` <= ``to``, both in its year."""
    problems = []
    term = spec.agreement
    for index, order in enumerate(orders):
        loc = ("orders", index)
        first, last = term.year_bounds(order.year)
        if order.end < order.start:
            problems.append(doc.problem((*loc, "to"), f"{order.end} is before {order.start}"))
        elif not first <= order.start <= order.end <= last:
            problems.append(
                doc.problem(
                    (*loc, "from"),
                    f"{order.start} to {order.end} is not within {term.year_text(order.year)}",
                )
            )
    return problems


def group_orders_follow(spec: BuyerFile, orders: list[BuyerOrder], doc: Document) -> list[Problem]:
    """A group has at most one order per agreement year; its orders do not overlap, and one
    that follows a whole year's order starts the day after it ends (no gap)."""
    problems = []
    by_group: dict[str, list[tuple[int, BuyerOrder]]] = {}
    for index, order in enumerate(orders):
        by_group.setdefault(order.group, []).append((index, order))
    for entries in by_group.values():
        entries.sort(key=lambda e: (e[1].start, e[1].year_seq))
        for (_, before), (index, after) in pairwise(entries):
            loc = ("orders", index)
            if after.year == before.year:
                problems.append(
                    doc.problem(
                        (*loc, "group"),
                        f"group {after.group!r} already has order {before.number} for "
                        f"agreement year {after.year}",
                    )
                )
            elif after.start <= before.end:
                problems.append(
                    doc.problem(
                        (*loc, "from"),
                        f"{after.start} overlaps order {before.number} of the same group "
                        f"(to {before.end})",
                    )
                )
            elif (
                after.year == before.year + 1
                and before.end == spec.agreement.year_bounds(before.year)[1]
                and after.start != before.end + timedelta(days=1)
            ):
                problems.append(
                    doc.problem(
                        (*loc, "from"),
                        f"{after.start} leaves a gap after order {before.number} (to "
                        f"{before.end}): the next year's order starts on "
                        f"{before.end + timedelta(days=1)}",
                    )
                )
    return problems


ORDERS_RULES: tuple[OrdersRule, ...] = (
    order_numbers_continuous,
    order_references_known,
    order_status_consistent,
    order_history_in_order,
    order_periods_in_their_year,
    group_orders_follow,
)


# --- amounts ----------------------------------------------------------------------------------


def eur_text(value: Decimal) -> str:
    """``48000.00 EUR``: the amounts of messages."""
    return f"{value:.2f} EUR"


def committed(orders: list[BuyerOrder], lot: int | None, year: int) -> Decimal:
    """The amount HT of the active orders of agreement year ``year`` (of one lot, or all)."""
    return sum(
        (
            o.amount
            for o in orders
            if (lot is None or o.lot == lot)
            and o.year == year
            and o.active
            and o.amount is not None
        ),
        ZERO,
    )


def ceiling_problem(
    spec: BuyerFile, orders: list[BuyerOrder], lot: BuyerLot, year: int, amount: Decimal, what: str
) -> str | None:
    """Why an order of ``amount`` in agreement year ``year`` would break the lot's yearly
    maximum or the agreement's overall yearly maximum, or None."""
    span = spec.agreement.year_text(year)
    return yearly_ceiling_problem(
        committed(orders, lot.number, year),
        amount,
        lot.maximum_yearly,
        what,
        f"lot {lot.number}, {span}",
    ) or overall_ceiling_problem(
        committed(orders, None, year),
        amount,
        spec.agreement.maximum_yearly,
        what,
        f"all lots, {span}",
    )


def _share(amount: Decimal, whole: Decimal) -> Decimal:
    """``amount`` in percent of ``whole``, to one decimal (26.25 -> 26.3)."""
    if not whole:
        return Decimal("0.0")
    return (amount * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def estimate_warnings(
    spec: BuyerFile, orders: list[BuyerOrder], touched: set[tuple[int, int]]
) -> list[str]:
    """A warning for each (lot, agreement year) touched whose committed amount is past its
    estimate, and for each year touched past the agreement's overall estimate."""
    warnings = []
    term = spec.agreement
    for number, year in sorted(touched):
        lot = spec.lot(number)
        total = committed(orders, number, year)
        if estimate_passed(total, lot.estimated_yearly):
            warnings.append(
                f"lot {number}, {term.year_text(year)}: committed {eur_text(total)} HT is past "
                f"the yearly estimate {eur_text(lot.estimated_yearly)} HT "
                f"({_share(total, lot.estimated_yearly)} %); maximum "
                f"{eur_text(lot.maximum_yearly)} HT"
            )
    for year in sorted({year for _, year in touched}):
        total = committed(orders, None, year)
        if term.estimated_yearly is not None and estimate_passed(total, term.estimated_yearly):
            warnings.append(
                f"all lots, {term.year_text(year)}: committed {eur_text(total)} HT is past the "
                f"overall yearly estimate {eur_text(term.estimated_yearly)} HT "
                f"({_share(total, term.estimated_yearly)} %)"
            )
    return warnings


# --- choosing a holder ------------------------------------------------------------------------


def last_event(orders: list[BuyerOrder]) -> tuple[date, str] | None:
    """The latest date recorded in the orders' histories, and the order it concerns."""
    latest: tuple[date, str] | None = None
    for order in orders:
        for event in order.history:
            if latest is None or event.date >= latest[0]:
                latest = (event.date, order.number)
    return latest


def backwards_problem(orders: list[BuyerOrder], day: date) -> str | None:
    """The record's dates never go backwards: nothing is recorded before its latest date."""
    latest = last_event(orders)
    if latest is not None and day < latest[0]:
        return (
            f"{day} is before the latest date recorded ({latest[0]}, order {latest[1]}): "
            "the record's dates never go backwards; use that date or a later one"
        )
    return None


def next_number(orders: list[BuyerOrder], year: int) -> str:
    """The next number of ``year``'s series: BC-2025-0001, BC-2025-0002... (no gap)."""
    seq = next_in_series(seq for y, seq in (o.year_seq for o in orders) if y == year)
    return f"BC-{year}-{seq:04d}"


def _last_holder(orders: list[BuyerOrder], lot: int) -> str | None:
    """The holder of the last order issued in the lot (the last to decline it, if it has
    none): the rotation's turn, kept from one agreement year to the next."""
    for order in reversed(orders):
        if order.lot == lot:
            if order.holder is not None:
                return order.holder
            if order.declined_by:
                return order.declined_by[-1]
    return None


@dataclass(frozen=True)
class Choice:
    """Who takes an order, why, and why each holder asked before it was skipped."""

    holder: Holder | None
    skipped: list[tuple[Holder, str]]
    reason: str

    def events(self, day: date) -> list[OrderEvent]:
        """The history of this offer: each holder skipped, then the offer (or nobody)."""
        events = [
            OrderEvent(date=day, action="skipped", holder=h.id, reason=why)
            for h, why in self.skipped
        ]
        if self.holder is not None:
            events.append(
                OrderEvent(date=day, action="offered", holder=self.holder.id, reason=self.reason)
            )
        else:
            events.append(OrderEvent(date=day, action="unassigned", reason=self.reason))
        return events


def _exclusion(
    spec: BuyerFile,
    orders: list[BuyerOrder],
    lot: BuyerLot,
    holder: Holder,
    group: BuyerGroup,
    declined: set[str],
    span: tuple[date, date],
    number: str | None,
) -> str | None:
    """Why ``holder`` cannot take the order of ``group`` for ``span`` (``number``, when the
    order exists), or None. Only orders whose period overlaps ``span`` count."""
    if holder.id in declined:
        return "declined this order"
    groups = {g.id: g for g in spec.groups}
    start, end = span

    def serving(order: BuyerOrder) -> bool:
        other = groups.get(order.group)
        return (
            order.active
            and order.holder == holder.id
            and order.number != number
            and order.start <= end
            and start <= order.end
            and other is not None
            and not other.ended(start)
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
    span: tuple[date, date],
    declined: set[str],
    number: str | None = None,
    after: str | None = None,
    day: date | None = None,
) -> Choice:
    """The holder who takes the order of ``group`` by the lot's rule, with the reason.

    Rotation: in rank order, starting after ``after`` (default: the holder of the lot's last
    order), round robin. Cascade: in rank order from rank 1, or, after a decline by ``after``,
    from the rank below it (the cascade goes on down, never back up). Skipped: holders who
    declined the order, are at capacity, or (rotation) serve a group of the same team, over
    ``span`` from ``day`` on (the day of the decision).
    """
    holders = lot.holders
    ids = [h.id for h in holders]
    if day is not None:  # what serves until the decision no longer counts
        span = (max(span[0], day), span[1])
    if lot.allocation == "rotation":
        previous = after if after is not None else _last_holder(orders, lot.number)
        start = ids.index(previous) + 1 if previous in ids else 0
        sequence = holders[start:] + holders[:start]
        head = (
            f"rotation: after {previous}"
            if previous is not None
            else f"rotation: first order of lot {lot.number}"
        )
    elif after is not None and after in ids:
        rank = lot.holder(after).rank
        sequence = [h for h in holders if h.rank > rank]
        head = f"cascade after {after} (rank {rank}):"
    else:
        sequence = list(holders)
        head = "cascade:"
    skipped: list[tuple[Holder, str]] = []
    for holder in sequence:
        why = _exclusion(spec, orders, lot, holder, group, declined, span, number)
        if why is None:
            parts = [f"{h.id} skipped ({w})" for h, w in skipped]
            parts.append(f"{holder.id} (rank {holder.rank}) takes it")
            sep = " " if head.endswith(":") else ", "
            return Choice(holder, skipped, head + sep + ", ".join(parts))
        skipped.append((holder, why))
    if not sequence:
        return Choice(None, [], f"{head.rstrip(':')}: no holder is ranked below it")
    return Choice(
        None,
        skipped,
        f"{head.rstrip(':')}: no holder can take it: "
        + "; ".join(f"{h.id} {w}" for h, w in skipped),
    )


# --- allocation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A group left without an order in this run, and why (its index in buyer.yaml)."""

    group: BuyerGroup
    index: int
    reason: str
    order: BuyerOrder | None = None  # the declined order offered again, if any


@dataclass(frozen=True)
class HolderChange:
    """A group whose new order goes to another holder than its previous one."""

    group: BuyerGroup
    previous: BuyerOrder
    order: BuyerOrder

    def text(self) -> str:
        return (
            f"{self.group.id} changes holder: {self.previous.holder} ({self.previous.number}, "
            f"agreement year {self.previous.year}) -> {self.order.holder} "
            f"({self.order.number}, agreement year {self.order.year})"
        )


@dataclass
class AllocationOutcome:
    """What ``apptool allocate`` did (or would do, in a dry run)."""

    year: int
    first: date
    last: date
    orders: list[BuyerOrder]  # every order after the run
    issued: list[BuyerOrder] = field(default_factory=list)
    reoffered: list[BuyerOrder] = field(default_factory=list)
    lapsed: list[BuyerOrder] = field(default_factory=list)
    waiting: list[tuple[BuyerGroup, str]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    changes: list[HolderChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def assigned(self) -> list[BuyerOrder]:
        """Orders issued, and declined orders taken, in this run."""
        return [*self.issued, *self.reoffered]

    @property
    def changed(self) -> bool:
        return bool(self.issued or self.reoffered or self.lapsed)


def _scope(spec: BuyerFile, lot: int | None, group_id: str | None) -> list[tuple[int, BuyerGroup]]:
    """The groups ``allocate`` considers (``--lot``, ``--group``), with their index."""
    if lot is not None and lot not in {x.number for x in spec.lots}:
        known = ", ".join(str(x.number) for x in spec.lots)
        raise InvalidInput(f"unknown lot {lot} (known: {known})")
    if group_id is not None:
        if group_id not in {g.id for g in spec.groups}:
            raise InvalidInput(f"unknown group {group_id!r}: not in {BUYER}")
        group = spec.group(group_id)
        if lot is not None and group.lot != lot:
            raise InvalidInput(f"group {group_id!r} belongs to lot {group.lot}, not lot {lot}")
    return [
        (index, g)
        for index, g in enumerate(spec.groups)
        if (lot is None or g.lot == lot) and (group_id is None or g.id == group_id)
    ]


def _replace(orders: list[BuyerOrder], new: BuyerOrder) -> None:
    orders[next(i for i, o in enumerate(orders) if o.number == new.number)] = new


def allocate(
    spec: BuyerFile,
    orders: list[BuyerOrder],
    day: date,
    lot: int | None = None,
    group_id: str | None = None,
) -> AllocationOutcome:
    """Issue, dated ``day``, the order of the current agreement year for each group that
    has none, in file order (``lot``, ``group_id``: only those).

    A group's order of the next year starts the day after its order of the previous year
    ends; a first order starts on ``day``; every order ends with its agreement year (or the
    group's ``to``). A declined order of this year is offered again; a declined order of a
    past year lapses. A group nobody can take, or whose order would break a yearly maximum,
    is reported in ``refused`` while the others are allocated.
    """
    term = spec.agreement
    problem = term.period_problem(day)
    if problem is not None:
        raise RuleRefused(f"no order can be issued: {problem}")
    backwards = backwards_problem(orders, day)
    if backwards is not None:
        raise RuleRefused(f"no order can be issued: {backwards}")
    scope = _scope(spec, lot, group_id)
    year = term.year_of(day)
    first, last = term.year_bounds(year)
    last = min(last, term.active_until)
    current = list(orders)
    outcome = AllocationOutcome(year, first, last, current)
    touched: set[tuple[int, int]] = set()
    in_scope = {g.id for _, g in scope}
    for order in list(current):
        if order.status == "declined" and order.year < year and order.group in in_scope:
            lapsed = order.model_copy(
                update={
                    "status": "lapsed",
                    "history": [
                        *order.history,
                        OrderEvent(
                            date=day,
                            action="lapsed",
                            reason=f"{term.year_text(order.year)} ended without a holder",
                        ),
                    ],
                }
            )
            _replace(current, lapsed)
            outcome.lapsed.append(lapsed)
    for index, group in scope:
        the_lot = spec.lot(group.lot)
        chain = sorted(
            (o for o in current if o.group == group.id), key=lambda o: (o.start, o.year_seq)
        )
        latest = chain[-1] if chain else None
        if latest is not None and latest.year >= year:
            if latest.year == year and latest.status == "declined":
                _offer_again(spec, current, outcome, index, group, latest, day, touched)
            continue
        if not group.started(day):
            outcome.waiting.append((group, f"starts on {group.start}"))
            continue
        if group.ended(day):
            if not chain:
                outcome.waiting.append((group, f"ended on {group.end}"))
            continue
        continuing = latest is not None and latest.end + timedelta(days=1) == first
        span = (first if continuing else day, min(last, group.end or last))
        choice = choose_holder(spec, current, the_lot, group, span, set(), day=day)
        if choice.holder is None:
            outcome.refused.append(
                Refusal(
                    group,
                    index,
                    f"lot {the_lot.number}: no holder can take group {group.id} ({group.name}): "
                    + "; ".join(f"{h.id} {w}" for h, w in choice.skipped),
                )
            )
            continue
        amount = choice.holder.price * group.sessions
        over = ceiling_problem(
            spec,
            current,
            the_lot,
            year,
            amount,
            f"the order of group {group.id} to {choice.holder.id}",
        )
        if over is not None:
            outcome.refused.append(Refusal(group, index, over))
            continue
        previous = next((o for o in reversed(chain) if o.active), None)
        reason = choice.reason
        if previous is not None and previous.holder != choice.holder.id:
            reason += f"; previously {previous.holder} ({previous.number})"
        order = BuyerOrder(
            number=next_number(current, day.year),
            lot=the_lot.number,
            group=group.id,
            year=year,
            start=span[0],
            end=span[1],
            date=day,
            sessions=group.sessions,
            status="assigned",
            holder=choice.holder.id,
            unit_price=choice.holder.price,
            amount=amount,
            reason=reason,
            history=choice.events(day),
        )
        current.append(order)
        outcome.issued.append(order)
        touched.add((the_lot.number, year))
        if previous is not None and previous.holder != order.holder:
            outcome.changes.append(HolderChange(group, previous, order))
    outcome.warnings = estimate_warnings(spec, current, touched)
    return outcome


def _offer_again(
    spec: BuyerFile,
    current: list[BuyerOrder],
    outcome: AllocationOutcome,
    index: int,
    group: BuyerGroup,
    order: BuyerOrder,
    day: date,
    touched: set[tuple[int, int]],
) -> None:
    """Offer a declined order of this agreement year again, from the top of the lot's rule,
    every holder who declined it excluded; it then takes the date of its new offer."""
    lot = spec.lot(order.lot)
    choice = choose_holder(
        spec,
        current,
        lot,
        group,
        (order.start, order.end),
        set(order.declined_by),
        order.number,
        day=day,
    )
    if choice.holder is None:
        outcome.refused.append(
            Refusal(
                group,
                index,
                f"order {order.number} ({group.id}) stays unassigned: {choice.reason}",
                order,
            )
        )
        return
    amount = choice.holder.price * group.sessions
    over = ceiling_problem(
        spec, current, lot, order.year, amount, f"order {order.number} to {choice.holder.id}"
    )
    if over is not None:
        outcome.refused.append(Refusal(group, index, over, order))
        return
    new = order.model_copy(
        update={
            "status": "passed",
            "holder": choice.holder.id,
            "sessions": group.sessions,
            "unit_price": choice.holder.price,
            "amount": amount,
            "date": day,
            "reason": f"offered again on {day}: {choice.reason}",
            "history": [*order.history, *choice.events(day)],
        }
    )
    _replace(current, new)
    outcome.reoffered.append(new)
    touched.add((lot.number, order.year))


def refusal_problems(doc: Document, refusals: list[Refusal], suffix: str = "") -> list[Problem]:
    """Each group left without an order, at its line in ``buyer.yaml``."""
    return [doc.problem(("groups", r.index), r.reason + suffix) for r in refusals]


# --- decline ----------------------------------------------------------------------------------


@dataclass
class DeclineOutcome:
    """What ``apptool decline`` did: the order passed on, or left without holder."""

    orders: list[BuyerOrder]
    before: BuyerOrder
    order: BuyerOrder
    refusal: str | None = None  # why nobody took it: the order stays declined, unassigned
    warnings: list[str] = field(default_factory=list)


def find_order(orders: list[BuyerOrder], number: str) -> BuyerOrder:
    """The order of that number, or an error that lists the known ones."""
    order = next((o for o in orders if o.number == number), None)
    if order is None:
        known = ", ".join(o.number for o in orders) or "none"
        raise InvalidInput(f"unknown order {number!r} (orders: {known})")
    return order


def decline(
    spec: BuyerFile, orders: list[BuyerOrder], number: str, day: date, reason: str | None = None
) -> DeclineOutcome:
    """Record that the order's holder declined it on ``day`` and pass it on.

    Cascade: to the ranks below the one who declined; rotation: to the next in turn after
    the decliner, with the same exclusions as ``allocate``. When nobody is left (or the new
    price would break a yearly maximum), the order becomes ``declined`` without holder and
    ``refusal`` says why. A decline after the agreement's end, or after the end of the
    order's agreement year, is recorded with a warning and the order is not passed on.
    """
    order = next((o for o in orders if o.number == number), None)
    if order is None:
        known = ", ".join(o.number for o in orders if o.active) or "none"
        raise InvalidInput(f"unknown order {number!r} (orders with a holder: {known})")
    if order.holder is None:
        raise RuleRefused(
            f"order {number} has no holder to decline it ({order.status}): " + order.reason
        )
    if day < order.date:
        raise RuleRefused(f"{day} is before the order's date {order.date}")
    backwards = backwards_problem(orders, day)
    if backwards is not None:
        raise RuleRefused(f"the decline of {number} cannot be recorded: {backwards}")
    term = spec.agreement
    lot = spec.lot(order.lot)
    group = spec.group(order.group)
    decliner = order.holder
    history = [
        *order.history,
        OrderEvent(date=day, action="declined", holder=decliner, reason=reason),
    ]
    head = f"declined by {decliner} on {day}"
    unassigned = {
        "holder": None,
        "unit_price": None,
        "amount": None,
    }
    year_last = min(term.year_bounds(order.year)[1], term.active_until)
    if day > term.active_until or day > year_last:
        if day > term.active_until:
            why = f"the agreement ended on {term.active_until}: the order is not passed on"
            status: OrderStatus = "declined"
            events = [OrderEvent(date=day, action="unassigned", reason=why)]
        else:
            why = (
                f"{term.year_text(order.year)} is over: the order is not passed on (`apptool "
                f"allocate` issues the order of the current year)"
            )
            status = "lapsed"
            events = [OrderEvent(date=day, action="lapsed", reason=why)]
        new = order.model_copy(
            update={
                **unassigned,
                "status": status,
                "reason": f"{head}; {why}",
                "history": [*history, *events],
            }
        )
        current = [new if o.number == number else o for o in orders]
        return DeclineOutcome(current, order, new, None, [f"order {number}: {head}; {why}"])
    declined = set(order.declined_by) | {decliner}
    choice = choose_holder(
        spec,
        orders,
        lot,
        group,
        (order.start, order.end),
        declined,
        order.number,
        after=decliner,
        day=day,
    )
    refusal = None
    if choice.holder is not None:
        amount = choice.holder.price * order.sessions
        others = [o for o in orders if o.number != number]
        refusal = ceiling_problem(
            spec, others, lot, order.year, amount, f"passing order {number} to {choice.holder.id}"
        )
    if choice.holder is None or refusal is not None:
        refusal = refusal or choice.reason
        events = [
            *(
                OrderEvent(date=day, action="skipped", holder=h.id, reason=w)
                for h, w in choice.skipped
            ),
            OrderEvent(date=day, action="unassigned", reason=refusal),
        ]
        new = order.model_copy(
            update={
                **unassigned,
                "status": "declined",
                "reason": f"{head}; {refusal}",
                "history": [*history, *events],
            }
        )
    else:
        new = order.model_copy(
            update={
                "status": "passed",
                "holder": choice.holder.id,
                "unit_price": choice.holder.price,
                "amount": choice.holder.price * order.sessions,
                "date": day,
                "reason": f"{head}; {choice.reason}",
                "history": [*history, *choice.events(day)],
            }
        )
    current = [new if o.number == number else o for o in orders]
    warnings = [] if refusal else estimate_warnings(spec, current, {(lot.number, new.year)})
    return DeclineOutcome(current, order, new, refusal, warnings)


# --- reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HolderFigures:
    holder: Holder
    orders: int
    sessions: int
    amount: Decimal
    declines: int


@dataclass(frozen=True)
class LotFigures:
    """A lot in an agreement year: orders, amounts committed versus estimate and maximum,
    per holder."""

    lot: BuyerLot
    year: int
    first: date
    last: date
    orders: int
    committed: Decimal
    unassigned: int
    holders: list[HolderFigures]
    holders_expected: int | None = None

    @property
    def estimate_share(self) -> Decimal:
        return _share(self.committed, self.lot.estimated_yearly)

    @property
    def maximum_share(self) -> Decimal:
        return _share(self.committed, self.lot.maximum_yearly)


@dataclass(frozen=True)
class YearFigures:
    """An agreement year, every lot together, against the overall estimate and maximum."""

    year: int
    first: date
    last: date
    committed: Decimal
    estimated: Decimal | None
    maximum: Decimal | None
    lots: list[LotFigures]

    @property
    def estimate_share(self) -> Decimal | None:
        return None if self.estimated is None else _share(self.committed, self.estimated)

    @property
    def maximum_share(self) -> Decimal | None:
        return None if self.maximum is None else _share(self.committed, self.maximum)


def order_years(orders: list[BuyerOrder]) -> list[int]:
    """The agreement years that have orders."""
    return sorted({o.year for o in orders})


def resolve_year(spec: BuyerFile, value: int) -> int:
    """``--year``: an agreement year's number (1, 2...) or the calendar year it begins in
    (2025 -> the agreement year that begins in 2025)."""
    years = spec.agreement.years()
    if any(number == value for number, _, _ in years):
        return value
    for number, first, _ in years:
        if first.year == value:
            return number
    listed = ", ".join(f"{number} ({first} to {last})" for number, first, last in years)
    raise InvalidInput(
        f"--year {value}: not an agreement year; the agreement's years are {listed} "
        "(give the number, or the calendar year it begins in)"
    )


def default_years(spec: BuyerFile, orders: list[BuyerOrder], today: date) -> list[int]:
    """The years a report shows by default: those with orders, else the current one."""
    years = order_years(orders)
    if years:
        return years
    current = spec.agreement.year_of(today)
    known = [number for number, _, _ in spec.agreement.years()]
    return [min(max(current, known[0]), known[-1])]


def lot_figures(spec: BuyerFile, orders: list[BuyerOrder], years: list[int]) -> list[LotFigures]:
    """``apptool lots``: each lot, each agreement year, with each holder's count and amount."""
    return [lot for year in year_figures(spec, orders, years) for lot in year.lots]


def year_figures(spec: BuyerFile, orders: list[BuyerOrder], years: list[int]) -> list[YearFigures]:
    """``apptool lots``: each agreement year, every lot together and each lot."""
    figures = []
    term = spec.agreement
    for year in years:
        first, last = term.year_bounds(year)
        in_year = [o for o in orders if o.year == year]
        lots = []
        for lot in spec.lots:
            in_lot = [o for o in in_year if o.lot == lot.number]
            active = [o for o in in_lot if o.active]
            holders = [
                HolderFigures(
                    holder,
                    orders=sum(1 for o in active if o.holder == holder.id),
                    sessions=sum(o.sessions for o in active if o.holder == holder.id),
                    amount=sum((o.amount or ZERO for o in active if o.holder == holder.id), ZERO),
                    declines=sum(o.declined_by.count(holder.id) for o in in_lot),
                )
                for holder in lot.holders
            ]
            lots.append(
                LotFigures(
                    lot,
                    year,
                    first,
                    last,
                    len(active),
                    committed(orders, lot.number, year),
                    len(in_lot) - len(active),
                    holders,
                    spec.holders_expected(lot),
                )
            )
        figures.append(
            YearFigures(
                year,
                first,
                last,
                committed(orders, None, year),
                term.estimated_yearly,
                term.maximum_yearly,
                lots,
            )
        )
    return figures


def buyer_warnings(spec: BuyerFile, orders: list[BuyerOrder]) -> list[str]:
    """What is allowed but worth saying: fewer holders than the agreement provides (fewer
    offers were received), lots' maxima above the overall maximum, a ceiling already passed
    in the record (orders of an earlier version), declines after the agreement's end."""
    warnings = []
    term = spec.agreement
    for lot in spec.lots:
        expected = spec.holders_expected(lot)
        if expected is not None and len(lot.holders) < expected:
            warnings.append(
                f"lot {lot.number}: {len(lot.holders)} holder(s) where the agreement provides "
                f"{expected} (holders_per_lot): fewer offers were received, as the agreement "
                "allows (\"sous réserve d'un nombre suffisant d'offres\")"
            )
    if term.maximum_yearly is not None:
        total = sum((lot.maximum_yearly for lot in spec.lots), ZERO)
        if total > term.maximum_yearly:
            warnings.append(
                f"the lots' yearly maxima add up to {eur_text(total)} HT, over the agreement's "
                f"overall yearly maximum {eur_text(term.maximum_yearly)} HT, which applies"
            )
    for year in order_years(orders):
        for lot in spec.lots:
            total = committed(orders, lot.number, year)
            if total > lot.maximum_yearly:
                warnings.append(
                    f"lot {lot.number}, {term.year_text(year)}: the orders recorded commit "
                    f"{eur_text(total)} HT, over the yearly maximum "
                    f"{eur_text(lot.maximum_yearly)} HT: no new order fits this year"
                )
        total = committed(orders, None, year)
        if term.maximum_yearly is not None and total > term.maximum_yearly:
            warnings.append(
                f"all lots, {term.year_text(year)}: the orders recorded commit "
                f"{eur_text(total)} HT, over the overall yearly maximum "
                f"{eur_text(term.maximum_yearly)} HT"
            )
    for order in orders:
        for event in order.history:
            if event.action == "declined" and event.date > term.active_until:
                warnings.append(
                    f"order {order.number}: declined by {event.holder} on {event.date}, after "
                    f"the agreement's end ({term.active_until})"
                )
    return warnings


@dataclass(frozen=True)
class Commitment:
    """A line of ``apptool orders-export``: an order with a holder, for the finance system."""

    order: BuyerOrder
    lot: BuyerLot
    holder: Holder
    budget_line: str | None


def commitments(
    spec: BuyerFile, orders: list[BuyerOrder], years: list[int] | None = None
) -> list[Commitment]:
    """The orders with a holder (the amounts committed), in issue order."""
    lines = []
    for order in orders:
        if not order.active or order.holder is None:
            continue
        if years is not None and order.year not in years:
            continue
        lot = spec.lot(order.lot)
        lines.append(Commitment(order, lot, lot.holder(order.holder), spec.budget_line(lot)))
    return lines
