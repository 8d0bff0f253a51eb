"""Use cases of purchase orders, the practitioner's side: ``order add`` and ``orders``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from apptool.domain.billing import is_billable_session
from apptool.domain.contract import agreement_year
from apptool.domain.models import Order
from apptool.domain.orders import (
    AgreementYearOrders,
    OrderStatus,
    RecordedOrder,
    RecordedOrders,
    agreement_year_orders,
    new_order_problems,
    order_text,
    sessions_ordered,
)
from apptool.errors import RuleRefused
from apptool.services.common import known_convention
from apptool.store.calendars import load_calendars
from apptool.store.files import dump_yaml, write_atomic
from apptool.store.records import PURCHASE_ORDERS, load_records, records_path
from apptool.store.register import load_register
from apptool.store.workspace import load_workspace, locked


def add_order(root: Path, convention_id: str, order: Order) -> Order:
    """``apptool order add``: record a purchase order after checking it fits the agreement.

    The same order already recorded (the command run again, e.g. after an interruption) is
    not recorded twice.
    """
    with locked(root):
        workspace = load_workspace(root)
        convention = known_convention(workspace, convention_id)
        recorded = load_records(root, PURCHASE_ORDERS, RecordedOrders)
        mine = RecordedOrder(convention=convention_id, order=order).model_dump(mode="json")
        if any(entry.model_dump(mode="json") == mine for entry in recorded.orders):
            return order
        problems = new_order_problems(convention, order)
        if problems:
            raise RuleRefused(f"order {order.number} refused: " + "; ".join(problems))
        entries = [*recorded.orders, RecordedOrder(convention=convention_id, order=order)]
        data = {
            "orders": [
                {"convention": entry.convention, "order": order_text(entry.order)}
                for entry in entries
            ]
        }
        write_atomic(
            records_path(root, PURCHASE_ORDERS),
            dump_yaml(data, "# apptool records: purchase orders added with `apptool order add`.\n"),
        )
        return order


def agreement_years(root: Path, convention: str | None = None) -> list[AgreementYearOrders]:
    """``apptool orders``: per agreement and agreement year, the orders against the lot."""
    workspace = load_workspace(root)
    return [
        line
        for conv_id, agreement in workspace.conventions.items()
        if convention is None or conv_id == convention
        for line in agreement_year_orders(conv_id, agreement)
    ]


def order_statuses(
    root: Path,
    today: date,
    convention: str | None = None,
) -> list[OrderStatus]:
    """``apptool orders``: every purchase order with its consumption."""
    record = load_calendars(root)
    workspace = record.workspace
    register = load_register(root)
    statuses = []
    for conv_id, agreement in workspace.conventions.items():
        if convention is not None and conv_id != convention:
            continue
        for order in agreement.orders:
            groups = [g for g in agreement.groups if g.order == order.number]
            ids = {g.id for g in groups}
            sessions = [s for s in record.sessions if s.convention == conv_id and s.group in ids]
            invoices = register.order_invoices(conv_id, order.number)
            statuses.append(
                OrderStatus(
                    conv_id,
                    order,
                    ordered=sum(sessions_ordered(agreement, g) for g in groups),
                    planned=sum(1 for s in sessions if s.occupies_time),
                    held=sum(1 for s in sessions if is_billable_session(s, today)),
                    invoiced=sum(len(r.document.lines) for r in invoices),
                    consumed=register.order_consumption(conv_id, order.number),
                    agreement_year=agreement_year(agreement.period.start, order.date),
                )
            )
    return statuses
