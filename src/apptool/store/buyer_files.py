"""The buyer workspace's files: ``buyer.yaml`` and ``records/orders.yaml``.

A buyer workspace is a folder::

    buyer.yaml            the agreement, its lots and holders, the groups to serve
    records/orders.yaml   the purchase orders, written by the tool (atomically, under the lock)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from apptool.domain.procurement import (
    BUYER,
    BUYER_RULES,
    ORDERS_RULES,
    BuyerFile,
    BuyerOrder,
    LegacyOrdersFile,
    OrdersFile,
    migrate_legacy,
)
from apptool.domain.source import Document
from apptool.errors import InvalidInput, Problem
from apptool.store.files import lock, write_atomic
from apptool.store.loading import read_yaml, validate_document

RECORDS = "records"
ORDERS = "orders.yaml"
ORDERS_DISPLAY = f"{RECORDS}/{ORDERS}"


@dataclass
class BuyerWorkspace:
    root: Path
    spec: BuyerFile
    orders: list[BuyerOrder]
    doc: Document  # buyer.yaml, with the line of every key
    #: The orders file was written by the previous version (no history): it is read in
    #: today's shape and written so by the next command that records something.
    migrated: bool = False

    @property
    def orders_path(self) -> Path:
        return self.root / RECORDS / ORDERS


def find_buyer_root(path: Path) -> Path:
    """Check that ``path`` is a buyer workspace (it holds ``buyer.yaml``); say so otherwise."""
    root = path.resolve()
    if not root.is_dir():
        message = "workspace folder not found"
    elif (root / BUYER).is_file():
        return root
    elif (root / "practitioner.yaml").exists() or (root / "conventions").is_dir():
        message = (
            f"this is a practitioner workspace (practitioner.yaml, conventions/); "
            f"the buyer's commands (allocate, decline, lots, order-history, order-form, "
            f"orders-export) work on a buyer workspace ({BUYER}): create "
            f"one with `apptool init --buyer DIR` and choose it with --workspace"
        )
    else:
        message = (
            f"not a buyer workspace (no {BUYER}); create one with "
            f"`apptool init --buyer DIR` or choose one with --workspace"
        )
    raise InvalidInput(f"{path}: {message}", [Problem(str(path), None, "", message)])


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.field, p.message))


def is_buyer_workspace(path: Path) -> bool:
    """Whether ``path`` holds ``buyer.yaml`` and no practitioner's files."""
    root = path.resolve()
    return (
        (root / BUYER).is_file()
        and not (root / "practitioner.yaml").exists()
        and not (root / "conventions").is_dir()
    )


def _legacy_shape(data: object) -> bool:
    """An orders file of the previous version: orders, none of them with a history."""
    if not isinstance(data, dict) or not isinstance(data.get("orders"), list):
        return False
    entries = data["orders"]
    return bool(entries) and all(
        isinstance(entry, dict) and "history" not in entry for entry in entries
    )


def load_buyer(path: Path) -> BuyerWorkspace:
    """Load and validate ``buyer.yaml`` and ``records/orders.yaml``; every problem at once.

    An orders file of the previous version (one order per group, ``declines``, no history)
    is read and given today's shape (:func:`~apptool.domain.procurement.migrate_legacy`).
    """
    root = find_buyer_root(path)
    doc = read_yaml(root / BUYER, BUYER)
    spec, problems = validate_document(doc, BuyerFile)
    if spec is not None:
        problems += [problem for rule in BUYER_RULES for problem in rule(spec, doc)]
    if spec is None or problems:
        raise InvalidInput(f"{BUYER} has errors", _by_line(problems))
    orders_path = root / RECORDS / ORDERS
    if not orders_path.exists():
        return BuyerWorkspace(root, spec, [], doc)
    orders_doc = read_yaml(orders_path, ORDERS_DISPLAY)
    if orders_doc.data is None:
        return BuyerWorkspace(root, spec, [], doc)
    migrated = _legacy_shape(orders_doc.data)
    orders: list[BuyerOrder] | None = None
    if migrated:
        legacy, problems = validate_document(orders_doc, LegacyOrdersFile)
        if legacy is not None:
            orders = migrate_legacy(spec, list(legacy.orders))
    else:
        record, problems = validate_document(orders_doc, OrdersFile)
        if record is not None:
            orders = list(record.orders)
    if orders is not None:
        problems += [problem for rule in ORDERS_RULES for problem in rule(spec, orders, orders_doc)]
    if orders is None or problems:
        raise InvalidInput(f"{ORDERS_DISPLAY} has errors", _by_line(problems))
    return BuyerWorkspace(root, spec, orders, doc, migrated)


@contextlib.contextmanager
def buyer_locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Serialize the commands that change a buyer workspace (the same lock file as a
    practitioner's workspace)."""
    with lock(find_buyer_root(path), timeout):
        yield


class _Dumper(yaml.SafeDumper):
    """Dates unquoted, and never an anchor for a date shared by several orders."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


ORDERS_HEADER = (
    "# apptool records: the buyer's purchase orders, written by `apptool allocate` and\n"
    "# `apptool decline` in the order they were issued. Numbers run without gap per year;\n"
    "# each order keeps its history (offers, skips, declines); dates never go backwards.\n"
)


def orders_text(orders: list[BuyerOrder]) -> str:
    """The orders file: fields in the model's order (number first), deterministic."""
    data: dict[str, Any] = {
        "orders": [
            order.model_dump(mode="python", by_alias=True, exclude_none=True) for order in orders
        ]
    }
    return ORDERS_HEADER + yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def save_orders(workspace: BuyerWorkspace, orders: list[BuyerOrder]) -> Path:
    """Write ``records/orders.yaml`` atomically (the caller holds the lock)."""
    write_atomic(workspace.orders_path, orders_text(orders))
    return workspace.orders_path
