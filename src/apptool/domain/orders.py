"""Framework agreements, the practitioner's side: purchase orders and their consumption.

A practitioner holding a lot has no fixed list of groups: each purchase order (bon de
commande) brings groups, a number of sessions and a unit price, and caps the amount. Orders
are written in the agreement's YAML, or recorded with ``apptool order add`` into
``records/purchase-orders.yaml`` (the user's file is never rewritten) and merged on load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apptool.domain.contract import (
    FAR_FUTURE,
    ORDER_WARNING_SHARE,
    active_until,
    agreement_year,
    agreement_year_bounds,
    order_warning,
    ordered_group_start_problem,
    periods_due,
    window_months,
    yearly_ceiling_problem,
)
from apptool.domain.models import Convention, Group, Order, Strict
from apptool.errors import did_you_mean


class RecordedOrder(Strict):
    """A purchase order recorded with ``apptool order add``, for one agreement."""

    convention: str
    order: Order


class RecordedOrders(Strict):
    """``records/purchase-orders.yaml``."""

    orders: list[RecordedOrder] = []


def with_orders(convention: Convention, orders: list[Order]) -> Convention:
    """The convention with more purchase orders (validated again as a whole); only the keys
    given are carried over, so that the rules see what was written."""
    data = convention.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["orders"] = [
        *data.get("orders", []),
        *(o.model_dump(mode="json", by_alias=True, exclude_unset=True) for o in orders),
    ]
    return Convention.model_validate(data)


def recorded_order(order: Order) -> Order:
    """An order as read from ``records/purchase-orders.yaml``: a group with a number of
    sessions drops the ``cadence: monthly`` that earlier versions wrote next to it."""
    groups = [
        Group.model_validate(
            group.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"cadence"})
        )
        if group.sessions is not None
        else group
        for group in order.groups
    ]
    return order.model_copy(update={"groups": groups})


def order_text(order: Order) -> dict[str, object]:
    """What ``apptool order add`` writes of an order: the keys given, nothing empty."""
    return order.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


def new_order_problems(convention: Convention, order: Order) -> list[str]:
    """Why a new order cannot join the agreement: kind, number, period, groups, sites."""
    problems = []
    if convention.kind != "framework-agreement":
        problems.append(
            "purchase orders belong to a framework agreement (kind: framework-agreement)"
        )
    if any(o.number == order.number for o in convention.orders):
        problems.append(f"order {order.number!r} already exists")
    if not convention.period.start <= order.date <= active_until(convention):
        problems.append(
            f"{order.date} is outside the agreement's period "
            f"({convention.period.start} to {active_until(convention)})"
        )
    known = {g.id for g in convention.groups}
    sites = {loc.id for loc in convention.locations}
    for group in order.groups:
        if group.id in known:
            problems.append(f"group id {group.id!r} is already used")
        if group.location not in sites:
            problems.append(
                f"unknown location {group.location!r}" + did_you_mean(group.location, sites)
            )
        if group.sessions is not None and group.end is None:
            problems.append("a number of sessions needs --to")
        if (problem := ordered_group_start_problem(order.date, group)) is not None:
            problems.append(problem)
        if group.end is not None and group.end > active_until(convention):
            problems.append(
                f"group {group.id}: {group.end} is after the agreement's end "
                f"({active_until(convention)}): no session can take place after it"
            )
    if order.maximum < order.unit_price:
        problems.append("the maximum is below one session's price")
    if convention.kind != "framework-agreement":
        return problems
    problems += order_fit_problems(convention, order)
    ceiling = order_ceiling_problem(convention, order)
    if ceiling is not None:
        problems.append(ceiling)
    return problems


def _placed(order: Order, group: Group) -> Group:
    """An ordered group with its first day: its ``from``, else the order's date."""
    return group.model_copy(update={"start": group.start or order.date})


def order_fit_problems(convention: Convention, order: Order) -> list[str]:
    """Why the order's sessions cannot all take place: more sessions than eligible months in
    a group's window (one a month, excluded months and the agreement's term counted), or
    more than its maximum pays for; each says how many can."""
    problems = []
    total = 0
    for group in order.groups:
        placed = _placed(order, group)
        if group.sessions is not None and group.end is not None:
            months = len(window_months(convention, placed))
            if group.sessions > months:
                problems.append(
                    f"group {group.id}: {group.sessions} sessions cannot fit between "
                    f"{placed.start} and {group.end}: one a month in the eligible months "
                    f"(excluded months and the agreement's term counted), there are "
                    f"{months}: at most {months} can be ordered"
                )
            total += min(group.sessions, months)
        elif group.sessions is None:
            if group.end is None and active_until(convention) == FAR_FUTURE:
                continue  # renewed tacitly, without an end: no count to check
            count = sessions_ordered(convention, placed)
            if count == 0:
                problems.append(
                    f"group {group.id}: no eligible {group.cadence} period between "
                    f"{placed.start} and {group.end or active_until(convention)}"
                )
            total += count
    if order.unit_price and total * order.unit_price > order.maximum:
        fits = int(order.maximum // order.unit_price)
        problems.append(
            f"{total} session(s) x {order.unit_price} EUR = {total * order.unit_price} EUR HT "
            f"exceed the order's maximum of {order.maximum} EUR HT: at most {fits} "
            f"session(s) fit"
        )
    return problems


def order_ceiling_problem(convention: Convention, order: Order) -> str | None:
    """The lot's yearly maximum holds per agreement year: the maxima of this holder's orders
    of the order's agreement year cannot exceed what the whole lot may be ordered."""
    if convention.lot is None:
        return None
    start = convention.period.start
    year = agreement_year(start, order.date)
    same_year = [o for o in convention.orders if agreement_year(start, o.date) == year]
    first, last = agreement_year_bounds(start, year)
    return yearly_ceiling_problem(
        sum((o.maximum for o in same_year), Decimal("0.00")),
        order.maximum,
        convention.lot.maximum_yearly,
        f"order {order.number}",
        f"lot {convention.lot.number}, agreement year {year} ({first} to {last})",
    )


def sessions_ordered(convention: Convention, group: Group) -> int:
    """Sessions an ordered group is due: its number, or one per period of its window."""
    if group.sessions is not None:
        return group.sessions
    start = group.start or convention.period.start
    end = min(group.end or active_until(convention), active_until(convention))
    return sum(
        len(periods_due(convention, group, year)) for year in range(start.year, end.year + 1)
    )


@dataclass(frozen=True)
class OrderStatus:
    """Where a purchase order stands: sessions ordered, planned, held, invoiced; amounts."""

    convention: str
    order: Order
    ordered: int
    planned: int
    held: int
    invoiced: int
    consumed: Decimal
    agreement_year: int = 0  # the agreement year of the order's date (12 months from start)

    @property
    def share(self) -> Decimal:
        return (self.consumed * 100 / self.order.maximum).quantize(Decimal("0.1"))

    @property
    def warning(self) -> str | None:
        """From :data:`ORDER_WARNING_SHARE` of the maximum invoiced (:func:`order_warning`)."""
        return order_warning(self.order.number, self.consumed, self.order.maximum)


@dataclass(frozen=True)
class AgreementYearOrders:
    """A holder's orders of one agreement year against the lot's yearly amounts."""

    convention: str
    year: int
    first: date
    last: date
    ordered: Decimal  # the orders' maxima
    estimated: Decimal
    maximum: Decimal

    def text(self) -> str:
        share = (self.ordered * 100 / self.maximum).quantize(Decimal("0.1"))
        return (
            f"{self.convention}, agreement year {self.year} ({self.first} to {self.last}): "
            f"orders {self.ordered} EUR HT (their maxima), {share} % of the lot's yearly "
            f"maximum {self.maximum} EUR HT (estimate {self.estimated})"
        )


def agreement_year_orders(convention_id: str, convention: Convention) -> list[AgreementYearOrders]:
    """Per agreement year, the maxima of the agreement's orders against its lot's amounts."""
    if convention.lot is None:
        return []
    start = convention.period.start
    totals: dict[int, Decimal] = {}
    for order in convention.orders:
        year = agreement_year(start, order.date)
        totals[year] = totals.get(year, Decimal("0.00")) + order.maximum
    lines = []
    for year, total in sorted(totals.items()):
        first, last = agreement_year_bounds(start, year)
        lines.append(
            AgreementYearOrders(
                convention_id,
                year,
                first,
                last,
                total,
                convention.lot.estimated_yearly,
                convention.lot.maximum_yearly,
            )
        )
    return lines


__all__ = [
    "ORDER_WARNING_SHARE",
    "AgreementYearOrders",
    "OrderStatus",
    "RecordedOrder",
    "RecordedOrders",
    "agreement_year_orders",
    "new_order_problems",
    "order_ceiling_problem",
    "order_fit_problems",
    "order_text",
    "recorded_order",
    "sessions_ordered",
    "with_orders",
]
