"""Use cases of the buyer side: allocate, decline, lots (a framework agreement's orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from apptool.domain import procurement
from apptool.domain.procurement import AllocationOutcome, DeclineOutcome, LotFigures
from apptool.store.buyer_files import buyer_locked, load_buyer, save_orders


@dataclass
class Written:
    """A buyer's use case outcome, and the file it wrote (None: nothing written)."""

    path: Path | None


@dataclass
class AllocateResult(Written):
    outcome: AllocationOutcome


@dataclass
class DeclineResult(Written):
    outcome: DeclineOutcome


def allocate(root: Path, day: date, dry_run: bool = False) -> AllocateResult:
    """``apptool allocate``: issue the orders of ``day`` and record them."""
    with buyer_locked(root):
        workspace = load_buyer(root)
        outcome = procurement.allocate(workspace.spec, workspace.orders, day)
        path = None
        if outcome.assigned and not dry_run:
            path = save_orders(workspace, outcome.orders)
        return AllocateResult(path, outcome)


def decline(root: Path, number: str, day: date, reason: str | None = None) -> DeclineResult:
    """``apptool decline``: record the decline and pass the order on (always recorded)."""
    with buyer_locked(root):
        workspace = load_buyer(root)
        outcome = procurement.decline(workspace.spec, workspace.orders, number, day, reason)
        return DeclineResult(save_orders(workspace, outcome.orders), outcome)


def lots(root: Path, today: date, year: int | None = None) -> list[LotFigures]:
    """``apptool lots``: per lot and year, the committed amounts (default: every order year)."""
    workspace = load_buyer(root)
    years = (
        [year] if year is not None else procurement.order_years(workspace.orders) or [today.year]
    )
    return procurement.lot_figures(workspace.spec, workspace.orders, years)
