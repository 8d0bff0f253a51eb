"""Commands of billing: invoice, credit-note, invoices, paid, order add, orders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from apptool.cli.common import (
    App,
    DocFormat,
    OutputFormat,
    State,
    TodayOption,
    app,
    console,
    parse_date,
    parse_month,
    parse_today,
)


def _print_document(outcome: Any, output: DocFormat, out_dir: Path | None) -> None:
    """Markdown to the terminal; HTML or PDF copied to --output."""
    out = console()
    rendered = outcome.rendered
    if rendered is None:
        return
    if output is DocFormat.md and out_dir is None:
        sys.stdout.write(rendered.markdown)
        return
    if out_dir is None:
        if output is DocFormat.html:
            sys.stdout.write(rendered.html)
            return
        raise typer.BadParameter("a PDF needs a folder to go to", param_hint="--output")
    from apptool.services.common import write_output  # lazy: keeps `apptool --help` instant

    name = outcome.document.number or f"BROUILLON-{outcome.convention}-{outcome.month}"
    content = {
        DocFormat.md: rendered.markdown,
        DocFormat.html: rendered.html,
        DocFormat.pdf: rendered.pdf,
    }[output]
    if content is None:
        from apptool.output.pdf import pdf_from_html  # lazy: keeps `apptool --help` instant

        content = pdf_from_html(rendered.html, outcome.document.issue_date)
    path = write_output(out_dir, f"{name}.{output.value}", content)
    out.print(f"written to {path}", markup=False)


@app.command()
def invoice(
    month: Annotated[str, typer.Option("--month", metavar="YYYY-MM", help="Month to invoice.")],
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this convention.")
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Render without a number; write nothing.")
    ] = False,
    output: Annotated[
        DocFormat, typer.Option("--format", "-f", help="md (terminal), html or pdf.")
    ] = DocFormat.md,
    no_facturx: Annotated[
        bool, typer.Option("--no-facturx", help="A plain PDF/A without the embedded XML.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--output", file_okay=False, help="Also copy the rendering to this folder."),
    ] = None,
    today: TodayOption = None,
) -> None:
    """Issue the month's invoice for each convention, numbered without gaps.

    An issued invoice is an immutable record in invoices/ (YAML, Markdown, HTML, XML and a
    Factur-X PDF/A-3). Running the same month again shows the existing invoice and what
    changed since; a month with nothing billable issues nothing.
    """
    from apptool.domain.billing import Month  # lazy: keeps `apptool --help` instant
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    try:
        period = Month.parse(parse_month(month) or month)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from None
    day = parse_today(today)
    outcomes = invoicing.invoice_month(
        State.workspace,
        period,
        day,
        convention,
        draft,
        pdf=output is DocFormat.pdf or not draft,
        facturx=not no_facturx,
    )
    err = console(stderr=True)
    for outcome in outcomes:
        who = outcome.convention + (f" (order {outcome.order})" if outcome.order else "")
        if outcome.status == "nothing":
            err.print(f"{who}: nothing billable in {period}; no invoice issued", markup=False)
            continue
        if outcome.status == "existing":
            err.print(
                f"{who}: {period} is already invoiced: {outcome.number} of "
                f"{outcome.issued_on} (no second invoice is issued)",
                markup=False,
            )
            for change in outcome.changes:
                err.print(f"  changed since: {change}", markup=False)
            if outcome.changes:
                err.print(
                    f"  to correct it: apptool credit-note {outcome.number} --reason "
                    f'"...", then apptool invoice --month {period}',
                    markup=False,
                )
        elif outcome.status == "draft":
            err.print(f"{who}: DRAFT for {period} (no number, nothing written)", markup=False)
        else:
            err.print(f"{who}: issued {outcome.number} for {period}", markup=False)
            for path in outcome.written:
                err.print(f"  written to {path}", markup=False)
        for warning in outcome.warnings:
            err.print(f"  warning: {warning}", markup=False)
        _print_document(outcome, output, out_dir)


@app.command("credit-note")
def credit_note(
    number: Annotated[str, typer.Argument(help="Number of the invoice to cancel.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the record).")
    ] = None,
    no_facturx: Annotated[
        bool, typer.Option("--no-facturx", help="A plain PDF/A without the embedded XML.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Issue a credit note (facture d'avoir) cancelling an invoice; the month can be invoiced again.

    It cites the original number and date, carries positive amounts (type 381 in the
    e-invoice) and takes the next number of the credit-note series.
    """
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    outcome = invoicing.credit_note(
        State.workspace, number, parse_today(today), reason, facturx=not no_facturx
    )
    out = console()
    out.print(f"issued credit note {outcome.number} cancelling {number}", markup=False)
    for path in outcome.written:
        out.print(f"  written to {path}", markup=False)


@app.command()
def invoices(
    year: Annotated[int | None, typer.Option("--year", help="Only this year.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    today: TodayOption = None,
) -> None:
    """The invoice register: number, date, buyer, amount, status (issued, paid, overdue, credited).

    Overdue invoices show the days late, the moratorium interest (ECB rate + 8 points) and
    the 40 EUR recovery indemnity owed, and that interventions may be suspended (art. 9.2).
    """
    import json  # lazy: keeps `apptool --help` instant

    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    day = parse_today(today)
    standings = invoicing.list_invoices(State.workspace, day, year)
    if output is not OutputFormat.table:
        payload = {
            "invoices": [
                {
                    "number": s.record.number,
                    "kind": s.record.kind,
                    "date": str(s.record.issue_date),
                    "convention": s.record.convention,
                    "month": s.record.month,
                    "buyer": s.record.document.buyer.name,
                    "amount": str(s.record.amount),
                    "status": s.status,
                    "days_late": s.days_late,
                    "interest": str(s.interest),
                    "indemnity": str(s.indemnity),
                }
                for s in standings
            ]
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    from rich.table import Table  # lazy: keeps `apptool --help` instant

    table = Table()
    for column in ("number", "date", "buyer", "month", "amount", "status"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for s in standings:
        status: str = s.status
        if s.status == "overdue":
            status = (
                f"OVERDUE {s.days_late} days: interest {s.interest} EUR + indemnity "
                f"{s.indemnity} EUR"
            )
        table.add_row(
            s.record.number,
            str(s.record.issue_date),
            s.record.document.buyer.name,
            s.record.month,
            f"{s.record.amount} EUR",
            status,
        )
    out = console()
    out.print(table)
    if any(s.status == "overdue" for s in standings):
        out.print(
            "overdue invoices: per art. 9.2 of the convention, unpaid invoices may "
            "lead to the suspension of the interventions",
            markup=False,
        )


@app.command()
def paid(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    on: Annotated[str, typer.Option("--on", metavar="YYYY-MM-DD", help="Day the payment arrived.")],
) -> None:
    """Record the payment of an invoice (the issued record itself is never rewritten)."""
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    day = parse_date(on, "--on")
    assert day is not None
    record = invoicing.mark_paid(State.workspace, number, day)
    console().print(f"{record.number}: paid on {day}", markup=False)


order_app = App(
    help="Purchase orders of a framework agreement (bons de commande).", no_args_is_help=True
)


app.add_typer(order_app, name="order")


@order_app.command("add")
def order_add(
    convention: Annotated[str, typer.Argument(help="The framework agreement's id.")],
    number: Annotated[str, typer.Option("--number", help="The order's number.")],
    on: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="The order's date.")],
    unit_price: Annotated[str, typer.Option("--unit-price", help="Price of a session, HT.")],
    maximum: Annotated[str, typer.Option("--maximum", help="Maximum amount of the order, HT.")],
    group_id: Annotated[str, typer.Option("--group", help="Id of the ordered group.")],
    name: Annotated[str, typer.Option("--name", help="Name of the group.")],
    location: Annotated[str, typer.Option("--location", help="Location id.")],
    cadence: Annotated[str | None, typer.Option("--cadence", help="monthly or quarterly.")] = None,
    sessions: Annotated[
        int | None, typer.Option("--sessions", min=1, help="Or a number of sessions.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First day.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last day.")] = None,
) -> None:
    """Record a purchase order with one group (more groups: write the order in the YAML)."""
    from pydantic import ValidationError  # lazy: keeps `apptool --help` instant

    from apptool.domain.models import Group, Order  # lazy: keeps `apptool --help` instant
    from apptool.services.orders import add_order  # lazy: keeps `apptool --help` instant

    if (cadence is None) == (sessions is None):
        raise typer.BadParameter("give either --cadence or --sessions", param_hint="--cadence")
    group_data: dict[str, Any] = {
        "id": group_id,
        "name": name,
        "location": location,
        "from": start,
        "to": end,
    }
    if cadence is not None:
        group_data["cadence"] = cadence
    else:
        group_data["sessions"] = sessions
    try:
        order = Order.model_validate(
            {
                "number": number,
                "date": on,
                "unit_price": unit_price,
                "maximum": maximum,
                "groups": [Group.model_validate(group_data).model_dump(by_alias=True)],
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(
            str(first["msg"]).removeprefix("Value error, "),
            param_hint="--" + str(first["loc"][-1]).replace("_", "-"),
        ) from None
    add_order(State.workspace, convention, order)
    console().print(
        f"recorded order {order.number} for {convention}: group {group_id}", markup=False
    )


@app.command()
def orders(
    convention: Annotated[
        str | None, typer.Option("--convention", help="Only this agreement.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    today: TodayOption = None,
) -> None:
    """Purchase orders: sessions ordered, planned, held, invoiced; amount used vs maximum."""
    import json  # lazy: keeps `apptool --help` instant

    from apptool.services.orders import order_statuses  # lazy: keeps `apptool --help` instant

    statuses = order_statuses(State.workspace, parse_today(today), convention)
    if not statuses and output is OutputFormat.table:
        console().print(
            "no purchase order: orders belong to framework agreements (kind: framework-agreement)",
            markup=False,
        )
        return
    if output is not OutputFormat.table:
        payload = {
            "orders": [
                {
                    "convention": s.convention,
                    "number": s.order.number,
                    "date": str(s.order.date),
                    "ordered": s.ordered,
                    "planned": s.planned,
                    "held": s.held,
                    "invoiced": s.invoiced,
                    "consumed": str(s.consumed),
                    "maximum": str(s.order.maximum),
                    "share": str(s.share),
                }
                for s in statuses
            ]
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    from rich.table import Table  # lazy: keeps `apptool --help` instant

    table = Table()
    for column in (
        "agreement",
        "order",
        "date",
        "ordered",
        "planned",
        "held",
        "invoiced",
        "consumed HT",
        "maximum HT",
        "%",
    ):
        table.add_column(column)
    for s in statuses:
        table.add_row(
            s.convention,
            s.order.number,
            str(s.order.date),
            str(s.ordered),
            str(s.planned),
            str(s.held),
            str(s.invoiced),
            str(s.consumed),
            str(s.order.maximum),
            str(s.share),
        )
    out = console()
    out.print(table)
    for s in statuses:
        if s.warning:
            out.print(f"warning: order {s.order.number}: {s.warning}", markup=False)
