"""Framework agreements, the practitioner's side: purchase orders and their consumption.

A practitioner holding a lot has no fixed list of groups: each purchase order (bon de
commande) brings groups, a number of sessions and a unit price, and caps the amount. Orders
are written in the agreement's YAML, or recorded with ``apptool order add`` into
``records/purchase-orders.yaml`` (the user's file is never rewritten) and merged on load.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apptool.domain.contract import (
    ORDER_WARNING_SHARE,
    active_until,
    order_warning,
    periods_due,
)
from apptool.domain.models import Convention, Group, Order, Strict


class RecordedOrder(Strict):
    """A purchase order recorded with ``apptool order add``, for one agreement."""

    convention: str
    order: Order


class RecordedOrders(Strict):
    """``records/purchase-orders.yaml``."""

    orders: list[RecordedOrder] = []


def with_orders(convention: Convention, orders: list[Order]) -> Convention:
    """The convention with more purchase orders (validated again as a whole)."""
    data = convention.model_dump(mode="json", by_alias=True)
    data["orders"] = [*data["orders"], *(o.model_dump(mode="json", by_alias=True) for o in orders)]
    return Convention.model_validate(data)


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
                f"unknown location {group.location!r} (known: {', '.join(sorted(sites))})"
            )
        if group.sessions is not None and group.end is None:
            problems.append("a number of sessions needs --to")
    if order.maximum < order.unit_price:
        problems.append("the maximum is below one session's price")
    return problems


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

    @property
    def share(self) -> Decimal:
        return (self.consumed * 100 / self.order.maximum).quantize(Decimal("0.1"))

    @property
    def warning(self) -> str | None:
        """From :data:`ORDER_WARNING_SHARE` of the maximum invoiced (:func:`order_warning`)."""
        return order_warning(self.order.number, self.consumed, self.order.maximum)


__all__ = [
    "ORDER_WARNING_SHARE",
    "OrderStatus",
    "RecordedOrder",
    "RecordedOrders",
    "new_order_problems",
    "sessions_ordered",
    "with_orders",
]
