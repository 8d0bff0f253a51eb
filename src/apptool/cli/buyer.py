"""The buyer's commands: allocate, decline, lots, order-history, order-form, orders-export
(a framework agreement's purchase orders).

The use cases are in :mod:`apptool.services.buyer`, imported inside the commands so that
``apptool --help`` stays instant.
"""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apptool.cli.common import (
    DocFormat,
    OutputFormat,
    State,
    app,
    console,
    parse_date,
    pdf_ahead,
    print_table,
    progress,
)
from apptool.errors import RuleRefused

if TYPE_CHECKING:
    from apptool.domain.procurement import BuyerOrder, YearFigures

DateOption = Annotated[
    str | None,
    typer.Option("--date", metavar="YYYY-MM-DD", help="Date of the orders (default: today)."),
]
YearOption = Annotated[
    int | None,
    typer.Option(
        "--year",
        help="Only this agreement year: its number (1, 2...) or the calendar year it begins "
        "in (2025).",
    ),
]


def _day(value: str | None) -> date:
    return parse_date(value, "--date") or date.today()


def _warn(text: str) -> None:
    console(stderr=True).print(f"warning: {text}", markup=False, soft_wrap=True)


def _print_orders(title: str, orders: list[BuyerOrder]) -> None:
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant

    table = Table(
        [
            Column("order"),
            Column("lot", right=True),
            Column("group", wrap=True),
            Column("holder", wrap=True),
            Column("sessions", right=True, drop=1),
            Column("amount HT", right=True),
            Column("period", drop=2),
            Column("reason", wrap=True),
        ],
        title=title,
    )
    for order in orders:
        table.add(
            order.number,
            str(order.lot),
            order.group,
            order.holder or "-",
            str(order.sessions),
            f"{order.amount or 0:.2f}",
            f"{order.start} to {order.end}",
            order.reason,
        )
    print_table(table)


@app.command()
def allocate(
    on: DateOption = None,
    lot: Annotated[int | None, typer.Option("--lot", help="Only the groups of this lot.")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Only this group (its id).")] = None,
    all_or_nothing: Annotated[
        bool,
        typer.Option(
            "--all-or-nothing",
            help="Write nothing at all if one group cannot get its order.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the orders without writing them.")
    ] = False,
) -> None:
    """Issue the orders of the agreement year: one for each group of buyer.yaml without one.

    Buyer workspace. Agreement years run 12 months from the agreement's start; each active
    group gets an order per year, the next year's following the last without gap. Rotation
    lots: in turn after the holder of the lot's last order (across years), skipping a holder
    at capacity or serving a group of the same team. Cascade lots: holders asked in rank
    order, skips recorded. A declined order of the year is offered again. A group nobody can
    take, or whose order would pass a yearly maximum, is reported (exit 4) while the others
    are written, unless --all-or-nothing.
    """
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    day = _day(on)
    result = buyer.allocate(State.workspace, day, dry_run, lot, group, all_or_nothing)
    outcome, path = result.outcome, result.path
    out = console()
    span = f"agreement year {outcome.year}: {outcome.first} to {outcome.last}"
    if outcome.assigned:
        _print_orders(f"Orders of {day} ({span})", outcome.assigned)
    elif not outcome.refused:
        out.print(
            f"every group active on {day} has its order for {span}: nothing to allocate",
            markup=False,
        )
    for change in outcome.changes:
        out.print(change.text(), markup=False, soft_wrap=True)
    for order in outcome.lapsed:
        out.print(
            f"lapsed: {order.number} ({order.group}), agreement year {order.year} ended "
            "without a holder",
            markup=False,
        )
    for waiting, why in outcome.waiting:
        out.print(f"not allocated: {waiting.id} ({why})", markup=False)
    for warning in outcome.warnings:
        _warn(warning)
    if dry_run:
        out.print("dry run: nothing written", markup=False)
    elif path is not None:
        out.print(
            f"{len(outcome.issued)} order(s) issued, {len(outcome.reoffered)} offered again"
            + (f", {len(outcome.lapsed)} lapsed" if outcome.lapsed else "")
            + f": written to {path}",
            markup=False,
        )
    if result.problems:
        raise RuleRefused(f"{len(result.problems)} group(s) without an order", result.problems)


@app.command()
def decline(
    number: Annotated[str, typer.Argument(help="Order number, e.g. BC-2025-0003.")],
    on: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="When the holder declined (default: today)."
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, recorded with the decline.")
    ] = None,
) -> None:
    """Record that an order's holder declined it, and pass the order on.

    Buyer workspace. Cascade: to the ranks below the one who declined, in rank order;
    rotation: to the next in turn, with the same exclusions as allocate. The order then
    takes the date of its new offer. If nobody is left, the decline is recorded, the order
    stays declined without holder, and the command fails (exit 4); allocate offers it again
    later. A decline after the agreement's end (or its year's end) is recorded with a warning.
    """
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    day = _day(on)
    result = buyer.decline(State.workspace, number, day, reason)
    outcome, path = result.outcome, result.path
    out = console()
    before, order = outcome.before, outcome.order
    out.print(f"{number}: declined by {before.holder} on {day}", markup=False)
    for warning in outcome.warnings:
        _warn(warning)
    if outcome.refusal is not None:
        out.print(f"written to {path}", markup=False)
        raise RuleRefused(
            f"order {number} ({order.group}) stays declined and unassigned: "
            f"{outcome.refusal}; `apptool allocate` offers it again"
        )
    if order.holder is not None:
        out.print(
            f"{number}: passed to {order.holder} ({order.amount or 0:.2f} EUR HT): {order.reason}",
            markup=False,
            soft_wrap=True,
        )
    out.print(f"written to {path}", markup=False)


def _share(value: object) -> str | None:
    return None if value is None else str(value)


def _lots_json(years: list[YearFigures], warnings: list[str]) -> str:
    import json  # lazy: keeps `apptool --help` instant

    payload = {
        "years": [
            {
                "year": y.year,
                "from": str(y.first),
                "to": str(y.last),
                "committed": str(y.committed),
                "estimated": _share(y.estimated),
                "estimated_share": _share(y.estimate_share),
                "maximum": _share(y.maximum),
                "maximum_share": _share(y.maximum_share),
            }
            for y in years
        ],
        "lots": [
            {
                "lot": f.lot.number,
                "title": f.lot.title,
                "allocation": f.lot.allocation,
                "year": f.year,
                "from": str(f.first),
                "to": str(f.last),
                "orders": f.orders,
                "unassigned": f.unassigned,
                "committed": str(f.committed),
                "estimated": str(f.lot.estimated_yearly),
                "estimated_share": str(f.estimate_share),
                "maximum": str(f.lot.maximum_yearly),
                "maximum_share": str(f.maximum_share),
                "holders_expected": f.holders_expected,
                "holders": [
                    {
                        "rank": h.holder.rank,
                        "id": h.holder.id,
                        "name": h.holder.name,
                        "capacity": h.holder.capacity,
                        "orders": h.orders,
                        "sessions": h.sessions,
                        "amount": str(h.amount),
                        "declines": h.declines,
                    }
                    for h in f.holders
                ],
            }
            for y in years
            for f in y.lots
        ],
        "warnings": warnings,
    }
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


@app.command()
def lots(
    year: YearOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Per agreement year and lot: orders, amount committed versus estimate and maximum.

    Buyer workspace. An agreement year runs 12 months from the agreement's start (renewal
    years included); default: every agreement year with orders. Each holder's orders,
    sessions, amount and declines show whether the allocation is fair.
    """
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    if output is OutputFormat.ics:
        raise typer.BadParameter("choose table or json", param_hint="--format")
    report = buyer.lots(State.workspace, date.today(), year)
    if output is OutputFormat.json:
        sys.stdout.write(_lots_json(report.years, report.warnings))
        return
    out = console()
    for y in report.years:
        line = (
            f"Agreement year {y.year} ({y.first} to {y.last}): committed {y.committed:.2f} EUR HT"
        )
        if y.estimated is not None:
            line += f", {y.estimate_share} % of the overall estimate {y.estimated:.2f}"
        if y.maximum is not None:
            line += f", {y.maximum_share} % of the overall maximum {y.maximum:.2f}"
        out.print(line, markup=False, soft_wrap=True)
        for f in y.lots:
            lot = f.lot
            out.print(
                f"Lot {lot.number} ({lot.allocation}), agreement year {f.year}: {lot.title}",
                markup=False,
                soft_wrap=True,
            )
            out.print(
                f"  {f.orders} order(s), committed {f.committed:.2f} EUR HT: "
                f"{f.estimate_share} % of the estimate {lot.estimated_yearly:.2f}, "
                f"{f.maximum_share} % of the maximum {lot.maximum_yearly:.2f}",
                markup=False,
                soft_wrap=True,
            )
            table = Table(
                [
                    Column("rank", right=True),
                    Column("holder", wrap=True),
                    *(
                        Column(name, right=True)
                        for name in ("capacity", "orders", "sessions", "amount HT", "declines")
                    ),
                ]
            )
            for h in f.holders:
                table.add(
                    str(h.holder.rank),
                    h.holder.id,
                    str(h.holder.capacity),
                    str(h.orders),
                    str(h.sessions),
                    f"{h.amount:.2f}",
                    str(h.declines),
                )
            print_table(table)
            if f.unassigned:
                out.print(
                    f"  {f.unassigned} order(s) without holder (declined by every holder they "
                    "reached, or lapsed)",
                    markup=False,
                )
            if f.committed > lot.estimated_yearly:
                out.print(
                    f"  warning: past the yearly estimate ({f.estimate_share} %)", markup=False
                )
    for warning in report.warnings:
        _warn(warning)


class HistoryFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("order-history")
def order_history(
    number: Annotated[str, typer.Argument(help="Order number, e.g. BC-2025-0003.")],
    output: Annotated[
        HistoryFormat, typer.Option("--format", "-f", help="table or json.")
    ] = HistoryFormat.table,
) -> None:
    """An order's history: each offer, skipped holder (and why), decline and new offer.

    Buyer workspace. The history is appended to, never rewritten: who held the order
    before, when, and why each holder was skipped.
    """
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    order = buyer.order_history(State.workspace, number).order
    if output is HistoryFormat.json:
        import json  # lazy: keeps `apptool --help` instant

        payload = order.model_dump(mode="json", by_alias=True)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant

    out = console()
    out.print(
        f"{order.number}: lot {order.lot}, group {order.group}, agreement year {order.year} "
        f"({order.start} to {order.end}), {order.sessions} session(s); {order.status}"
        + (f", holder {order.holder} ({order.amount or 0:.2f} EUR HT)" if order.holder else "")
        + f", dated {order.date}",
        markup=False,
        soft_wrap=True,
    )
    table = Table(
        [Column("date"), Column("event"), Column("holder", wrap=True), Column("reason", wrap=True)]
    )
    for event in order.history:
        table.add(str(event.date), event.action, event.holder or "-", event.reason or "")
    print_table(table)


@app.command("order-form")
def order_form(
    number: Annotated[str, typer.Argument(help="Order number, e.g. BC-2025-0003.")],
    output: Annotated[
        DocFormat, typer.Option("--format", "-f", help="md (default), html or pdf.")
    ] = DocFormat.md,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            file_okay=False,
            help="Folder to write the form to (a PDF without it: the current folder).",
        ),
    ] = None,
) -> None:
    """The order form (bon de commande) to send to the order's holder, in French.

    Buyer workspace. Buyer, holder, lot, agreement reference, group, sessions, unit price,
    amount, period, budget line and signature block. Markdown and HTML go to the terminal,
    or to --output; a PDF (PDF/A) goes to --output, else to the current folder. A form
    already written is never replaced by a different one.
    """
    pdf_ahead(output is DocFormat.pdf)
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    form = buyer.order_form(State.workspace, number)
    if out_dir is None and output is not DocFormat.pdf:
        sys.stdout.write(form.markdown if output is DocFormat.md else form.html)
        return
    folder = out_dir if out_dir is not None else Path.cwd()
    with progress(f"Writing the order form {number}…"):
        path, written = buyer.write_order_form(form, output.value, folder)
    message = "written to" if written else "already written, unchanged:"
    console().print(f"{number}: order form {message} {path}", markup=False)


class ExportFormat(StrEnum):
    csv = "csv"


@app.command("orders-export")
def orders_export(
    output: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="csv (the only format).")
    ] = ExportFormat.csv,
    year: YearOption = None,
) -> None:
    """The orders with a holder, for the buyer's finance system: commitment number, budget
    line, amounts (CSV to standard output).

    Buyer workspace. One line per order that commits an amount (assigned or passed), in
    issue order: commitment number (the order's), date, agreement, lot, agreement year,
    period, group, holder, sessions, unit price and amount HT (a dot for decimals), budget
    line, status.
    """
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    text, warnings = buyer.orders_export(State.workspace, year)
    for warning in warnings:
        _warn(warning)
    sys.stdout.write(text)
