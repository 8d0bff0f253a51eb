"""Use cases of the buyer side: allocate, decline, lots, order-history, order-form,
orders-export and check (a framework agreement's purchase orders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from apptool.domain import procurement
from apptool.domain.procurement import (
    BUYER,
    AllocationOutcome,
    BuyerOrder,
    DeclineOutcome,
    YearFigures,
    refusal_problems,
)
from apptool.errors import InvalidInput, Problem, RuleRefused
from apptool.output.order_form import OrderFormDocument, commitments_csv, order_form_document
from apptool.output.pdf import pdf_from_html
from apptool.output.render import render
from apptool.store.buyer_files import (
    ORDERS_DISPLAY,
    BuyerWorkspace,
    buyer_locked,
    is_buyer_workspace,
    load_buyer,
    save_orders,
)
from apptool.store.files import write_once

__all__ = ["is_buyer_workspace"]


@dataclass
class Written:
    """A buyer's use case outcome, and the file it wrote (None: nothing written)."""

    path: Path | None


@dataclass
class AllocateResult(Written):
    outcome: AllocationOutcome
    #: The groups left without an order, each at its line in buyer.yaml (exit 4).
    problems: list[Problem] = field(default_factory=list)


@dataclass
class DeclineResult(Written):
    outcome: DeclineOutcome


def allocate(
    root: Path,
    day: date,
    dry_run: bool = False,
    lot: int | None = None,
    group: str | None = None,
    all_or_nothing: bool = False,
) -> AllocateResult:
    """``apptool allocate``: issue the orders of ``day``'s agreement year and record them.

    The groups nobody can take are returned as problems (the caller fails with exit 4 after
    saying what was written); with ``all_or_nothing`` one such group refuses the whole run.
    """
    with buyer_locked(root):
        workspace = load_buyer(root)
        outcome = procurement.allocate(workspace.spec, workspace.orders, day, lot, group)
        if all_or_nothing and outcome.refused:
            raise RuleRefused(
                "nothing was assigned",
                refusal_problems(workspace.doc, outcome.refused, "; nothing was assigned"),
            )
        path = None
        if outcome.changed and not dry_run:
            path = save_orders(workspace, outcome.orders)
        return AllocateResult(path, outcome, refusal_problems(workspace.doc, outcome.refused))


def decline(root: Path, number: str, day: date, reason: str | None = None) -> DeclineResult:
    """``apptool decline``: record the decline and pass the order on (always recorded)."""
    with buyer_locked(root):
        workspace = load_buyer(root)
        outcome = procurement.decline(workspace.spec, workspace.orders, number, day, reason)
        return DeclineResult(save_orders(workspace, outcome.orders), outcome)


@dataclass
class LotsReport:
    years: list[YearFigures]
    warnings: list[str]


def lots(root: Path, today: date, year: int | None = None) -> LotsReport:
    """``apptool lots``: per agreement year and lot, the committed amounts (default: every
    agreement year with orders)."""
    workspace = load_buyer(root)
    spec = workspace.spec
    years = (
        [procurement.resolve_year(spec, year)]
        if year is not None
        else procurement.default_years(spec, workspace.orders, today)
    )
    return LotsReport(
        procurement.year_figures(spec, workspace.orders, years),
        procurement.buyer_warnings(spec, workspace.orders),
    )


@dataclass
class HistoryResult:
    workspace: BuyerWorkspace
    order: BuyerOrder


def order_history(root: Path, number: str) -> HistoryResult:
    """``apptool order-history``: the order and its history."""
    workspace = load_buyer(root)
    return HistoryResult(workspace, procurement.find_order(workspace.orders, number))


@dataclass
class OrderForm:
    """An order form rendered: Markdown, HTML, and the PDF on demand."""

    document: OrderFormDocument
    markdown: str
    html: str

    def pdf(self) -> bytes:
        return pdf_from_html(self.html, created=self.document.created)

    def content(self, fmt: str) -> str | bytes:
        return {"md": self.markdown, "html": self.html}.get(fmt) or self.pdf()


def order_form(root: Path, number: str) -> OrderForm:
    """``apptool order-form``: the order form (bon de commande) of an order with a holder."""
    workspace = load_buyer(root)
    order = procurement.find_order(workspace.orders, number)
    doc = order_form_document(workspace.spec, order)
    context = {"doc": doc}
    return OrderForm(
        doc,
        render("order-form.md.j2", context, workspace.root),
        render("order-form.html.j2", context, workspace.root),
    )


def write_order_form(form: OrderForm, fmt: str, folder: Path) -> tuple[Path, bool]:
    """Write the order form once: (path, True) when written; (path, False) when the same
    file is already there. An issued order form is never replaced by a different one."""
    path = folder / f"{form.document.file_stem}.{fmt}"
    content = form.content(fmt)
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.exists():
        if path.is_file() and path.read_bytes() == data:
            return path, False
        raise RuleRefused(
            f"{path} exists and differs from the order form of {form.document.number}: an "
            "order form sent is never replaced; move it away or choose another --output"
        )
    try:
        write_once(path, data)
    except FileExistsError:  # written meanwhile by another command
        raise RuleRefused(f"{path} was written meanwhile; run the command again") from None
    return path, True


def orders_export(root: Path, year: int | None = None) -> tuple[str, list[str]]:
    """``apptool orders-export --format csv``: the orders with a holder, and warnings."""
    workspace = load_buyer(root)
    spec = workspace.spec
    years = None if year is None else [procurement.resolve_year(spec, year)]
    lines = procurement.commitments(spec, workspace.orders, years)
    warnings = sorted(
        {
            f"lot {line.lot.number}: no budget line (give agreement.budget_line or "
            f"lots[].budget_line in {BUYER}, e.g. 11/0201/6184)"
            for line in lines
            if line.budget_line is None
        }
    )
    return commitments_csv(spec, lines), warnings


@dataclass
class BuyerCheck:
    """``apptool check`` on a buyer workspace."""

    problems: list[Problem]
    warnings: list[str]
    checked: list[str]


def check(root: Path) -> BuyerCheck:
    """``apptool check`` on a buyer workspace: buyer.yaml and records/orders.yaml."""
    try:
        workspace = load_buyer(root)
    except InvalidInput as exc:
        return BuyerCheck(exc.problems or [Problem(str(root), None, "", exc.message)], [], [])
    checked = [BUYER]
    if workspace.orders_path.exists():
        checked.append(ORDERS_DISPLAY)
    warnings = procurement.buyer_warnings(workspace.spec, workspace.orders)
    if workspace.migrated:
        warnings.append(
            f"{ORDERS_DISPLAY} was written by an earlier version: it is read with a history "
            "rebuilt from its declines, and written in the new shape by the next allocate or "
            "decline"
        )
    return BuyerCheck([], warnings, checked)
