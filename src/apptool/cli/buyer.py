"""The buyer's commands: allocate, decline, lots (a framework agreement's purchase orders).

The use cases are in :mod:`apptool.services.buyer`, imported inside the commands so that
``apptool --help`` stays instant.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from apptool.cli.common import OutputFormat, State, app, console, parse_date
from apptool.errors import RuleRefused

if TYPE_CHECKING:
    from apptool.domain.procurement import BuyerOrder, LotFigures

DateOption = Annotated[
    str | None,
    typer.Option("--date", metavar="YYYY-MM-DD", help="Date of the orders (default: today)."),
]


def _day(value: str | None) -> date:
    return parse_date(value, "--date") or date.today()


def _print_orders(title: str, orders: list[BuyerOrder]) -> None:
    from rich.table import Table  # lazy: keeps `apptool --help` instant

    table = Table(title=title, title_justify="left")
    for column in ("order", "lot", "group", "holder", "sessions", "amount HT", "reason"):
        table.add_column(
            column,
            no_wrap=column in ("order", "amount HT"),
            justify="right" if column in ("sessions", "amount HT") else "left",
        )
    for order in orders:
        table.add_row(
            order.number,
            str(order.lot),
            order.group,
            order.holder or "-",
            str(order.sessions),
            f"{order.amount or 0:.2f}",
            order.reason,
        )
    console().print(table)


@app.command()
def allocate(
    on: DateOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the orders without writing them.")
    ] = False,
) -> None:
    """Issue a purchase order for each group of buyer.yaml without a provider.

    Buyer workspace. Rotation lots: in turn after the holder of the lot's last order,
    skipping a holder at capacity or serving a group of the same team. Cascade lots: the
    first-ranked holder with capacity. All or nothing: a group nobody can take, an order over
    the lot's yearly maximum, or a date outside the agreement is refused (exit 4) and nothing
    is written.
    """
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    day = _day(on)
    result = buyer.allocate(State.workspace, day, dry_run)
    outcome, path = result.outcome, result.path
    out = console()
    err = console(stderr=True)
    if outcome.assigned:
        _print_orders(f"Orders of {day}", outcome.assigned)
    else:
        out.print("every group that has started has a provider: nothing to allocate", markup=False)
    for group, why in outcome.waiting:
        out.print(f"not allocated: {group.id} ({why})", markup=False)
    for order, why in outcome.unassigned:
        err.print(
            f"warning: order {order.number} ({order.group}) stays unassigned: {why}",
            markup=False,
            soft_wrap=True,
        )
    for warning in outcome.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    if dry_run:
        out.print("dry run: nothing written", markup=False)
    elif path is not None:
        out.print(f"{len(outcome.assigned)} order(s) written to {path}", markup=False)


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

    Buyer workspace. Cascade: to the next ranked holder with capacity that has not declined
    it; rotation: to the next in turn, with the same exclusions as allocate. If nobody is
    left, the decline is recorded, the order stays declined without holder, and the command
    fails (exit 4); allocate offers it again later.
    """
    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    day = _day(on)
    result = buyer.decline(State.workspace, number, day, reason)
    outcome, path = result.outcome, result.path
    out = console()
    before, order = outcome.before, outcome.order
    out.print(f"{number}: declined by {before.holder} on {day}", markup=False)
    if outcome.refusal is not None:
        out.print(f"written to {path}", markup=False)
        raise RuleRefused(
            f"order {number} ({order.group}) stays declined and unassigned: "
            f"{outcome.refusal}; `apptool allocate` offers it again"
        )
    out.print(
        f"{number}: passed to {order.holder} ({order.amount:.2f} EUR HT): {order.reason}",
        markup=False,
        soft_wrap=True,
    )
    for warning in outcome.warnings:
        console(stderr=True).print(f"warning: {warning}", markup=False, soft_wrap=True)
    out.print(f"written to {path}", markup=False)


def _lots_json(figures: list[LotFigures]) -> str:
    import json  # lazy: keeps `apptool --help` instant

    payload = {
        "lots": [
            {
                "lot": f.lot.number,
                "title": f.lot.title,
                "allocation": f.lot.allocation,
                "year": f.year,
                "orders": f.orders,
                "unassigned": f.unassigned,
                "committed": str(f.committed),
                "estimated": str(f.lot.estimated_yearly),
                "estimated_share": str(f.estimate_share),
                "maximum": str(f.lot.maximum_yearly),
                "maximum_share": str(f.maximum_share),
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
            for f in figures
        ]
    }
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


@app.command()
def lots(
    year: Annotated[int | None, typer.Option("--year", help="Only this year.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Per lot and year: orders, amount committed versus estimate and maximum, per holder.

    Buyer workspace. Years are those of the orders' dates (default: every year with orders).
    """
    from rich.table import Table  # lazy: keeps `apptool --help` instant

    from apptool.services import buyer  # lazy: keeps `apptool --help` instant

    if output is OutputFormat.ics:
        raise typer.BadParameter("choose table or json", param_hint="--format")
    figures = buyer.lots(State.workspace, date.today(), year)
    if output is OutputFormat.json:
        sys.stdout.write(_lots_json(figures))
        return
    out = console()
    for f in figures:
        lot = f.lot
        out.print(
            f"Lot {lot.number} ({lot.allocation}), {f.year}: {lot.title}",
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
        table = Table()
        for column in ("rank", "holder", "capacity", "orders", "sessions", "amount HT", "declines"):
            table.add_column(column, justify="left" if column == "holder" else "right")
        for h in f.holders:
            table.add_row(
                str(h.holder.rank),
                h.holder.id,
                str(h.holder.capacity),
                str(h.orders),
                str(h.sessions),
                f"{h.amount:.2f}",
                str(h.declines),
            )
        out.print(table)
        if f.unassigned:
            out.print(
                f"  {f.unassigned} order(s) without holder (declined by every holder they reached)",
                markup=False,
            )
        if f.committed > lot.estimated_yearly:
            out.print(f"  warning: past the yearly estimate ({f.estimate_share} %)", markup=False)
