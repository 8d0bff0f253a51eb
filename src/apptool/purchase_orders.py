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
from pathlib import Path

from .billing import is_billable_session
from .errors import InvalidInput, Problem, RuleRefused
from .models import Convention, Group, Order, Strict
from .records import load_records, records_path
from .register import load_register
from .rules import active_until, periods_due

PURCHASE_ORDERS = "purchase-orders.yaml"
WARNING_SHARE = Decimal("0.8")


class RecordedOrder(Strict):
    convention: str
    order: Order


class RecordedOrders(Strict):
    orders: list[RecordedOrder] = []


def with_orders(convention: Convention, orders: list[Order]) -> Convention:
    """The convention with more purchase orders (validated again as a whole)."""
    data = convention.model_dump(mode="json", by_alias=True)
    data["orders"] = [*data["orders"], *(o.model_dump(mode="json", by_alias=True)
                                         for o in orders)]
    return Convention.model_validate(data)


def apply_recorded_orders(root: Path, conventions: dict[str, Convention]) -> list[Problem]:
    """Merge the orders recorded with ``apptool order add`` into their agreements."""
    try:
        recorded = load_records(root, PURCHASE_ORDERS, RecordedOrders)
    except InvalidInput as exc:
        return exc.problems
    problems = []
    by_convention: dict[str, list[Order]] = {}
    for index, entry in enumerate(recorded.orders):
        if entry.convention not in conventions:
            problems.append(Problem(f"records/{PURCHASE_ORDERS}", None,
                                    f"orders[{index}].convention",
                                    f"unknown convention {entry.convention!r}"))
            continue
        by_convention.setdefault(entry.convention, []).append(entry.order)
    for conv_id, orders in by_convention.items():
        conventions[conv_id] = with_orders(conventions[conv_id], orders)
    return problems


def order_problems(convention: Convention, order: Order) -> list[str]:
    """Why a new order cannot join the agreement: kind, number, period, groups, sites."""
    problems = []
    if convention.kind != "framework-agreement":
        problems.append("purchase orders belong to a framework agreement "
                        "(kind: framework-agreement)")
    if any(o.number == order.number for o in convention.orders):
        problems.append(f"order {order.number!r} already exists")
    if not convention.period.start <= order.date <= active_until(convention):
        problems.append(f"{order.date} is outside the agreement's period "
                        f"({convention.period.start} to {active_until(convention)})")
    known = {g.id for g in convention.groups}
    sites = {loc.id for loc in convention.locations}
    for group in order.groups:
        if group.id in known:
            problems.append(f"group id {group.id!r} is already used")
        if group.location not in sites:
            problems.append(f"unknown location {group.location!r} (known: "
                            f"{', '.join(sorted(sites))})")
        if group.sessions is not None and group.end is None:
            problems.append("a number of sessions needs --to")
    if order.maximum < order.unit_price:
        problems.append("the maximum is below one session's price")
    return problems


def add_order(root: Path, convention_id: str, order: Order) -> Order:
    """``apptool order add``: record a purchase order after checking it fits the agreement."""
    from .workspace import dump_yaml, load_workspace, locked, write_atomic

    with locked(root):
        workspace = load_workspace(root)
        convention = workspace.conventions.get(convention_id)
        if convention is None:
            raise InvalidInput(f"unknown convention {convention_id!r} (known: "
                               f"{', '.join(workspace.conventions)})")
        problems = order_problems(convention, order)
        if problems:
            raise RuleRefused(f"order {order.number} refused: " + "; ".join(problems))
        recorded = load_records(root, PURCHASE_ORDERS, RecordedOrders)
        entries = [*recorded.orders, RecordedOrder(convention=convention_id, order=order)]
        data = RecordedOrders(orders=entries).model_dump(mode="json", by_alias=True)
        write_atomic(records_path(root, PURCHASE_ORDERS),
                     dump_yaml(data, "# apptool records: purchase orders added with "
                               "`apptool order add`.\n"))
        return order


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
        if self.consumed >= self.order.maximum * WARNING_SHARE:
            return (f"{self.share} % of the order's maximum is invoiced "
                    f"({self.consumed} / {self.order.maximum} EUR HT)")
        return None


def sessions_ordered(convention: Convention, group: Group) -> int:
    """Sessions an ordered group is due: its number, or one per period of its window."""
    if group.sessions is not None:
        return group.sessions
    start = group.start or convention.period.start
    end = min(group.end or active_until(convention), active_until(convention))
    return sum(len(periods_due(convention, group, year))
               for year in range(start.year, end.year + 1))


def order_statuses(root: Path, today: date, convention: str | None = None,
                   ) -> list[OrderStatus]:
    """``apptool orders``: every purchase order with its consumption."""
    from .app import load_record

    record = load_record(root)
    workspace = record.workspace
    register = load_register(root)
    credited = register.credited()
    statuses = []
    for conv_id, agreement in workspace.conventions.items():
        if convention is not None and conv_id != convention:
            continue
        for order in agreement.orders:
            groups = [g for g in agreement.groups if g.order == order.number]
            ids = {g.id for g in groups}
            sessions = [s for s in record.sessions
                        if s.convention == conv_id and s.group in ids]
            invoices = [r for r in register.records
                        if r.series == "invoice" and r.convention == conv_id
                        and r.order == order.number and r.number not in credited]
            statuses.append(OrderStatus(
                conv_id, order,
                ordered=sum(sessions_ordered(agreement, g) for g in groups),
                planned=sum(1 for s in sessions if s.occupies_time),
                held=sum(1 for s in sessions if is_billable_session(s, today)),
                invoiced=sum(len(r.document["lines"]) for r in invoices),
                consumed=sum((Decimal(r.document["totals"]["net"]) for r in invoices),
                             Decimal("0.00")),
            ))
    return statuses
