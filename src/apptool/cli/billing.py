"""Commands of billing: invoice, credit-note, invoices, paid, order add, orders."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from apptool.cli.common import (
    App,
    DocFormat,
    State,
    TableFormat,
    TodayOption,
    app,
    console,
    parse_date,
    parse_month,
    parse_today,
    pdf_ahead,
    print_table,
    progress,
)


class LedgerFormat(StrEnum):
    md = "md"
    csv = "csv"


class Method(StrEnum):
    virement = "virement"
    cheque = "chèque"
    especes = "espèces"
    carte = "carte"
    autre = "autre"


def _check_output_folder(out_dir: Path | None) -> None:
    """An --output folder that cannot be written is refused before anything is issued."""
    if out_dir is None:
        return
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise typer.BadParameter(
            f"{out_dir}: not a folder this user can write to", param_hint="--output"
        )


def _emit_document(outcome: Any, fmt: DocFormat, out_dir: Path | None) -> None:
    """Markdown or HTML to the terminal; a copy to --output (the issued files themselves, byte
    for byte, for an invoice already issued); a PDF without --output: where it is."""
    from apptool.services.common import write_output  # lazy: keeps `apptool --help` instant

    err = console(stderr=True)
    issued = outcome.issued_files.get(fmt.value) if outcome.status == "existing" else None
    if outcome.status == "issued":
        issued = next((p for p in outcome.written if p.suffix == f".{fmt.value}"), None)
    if out_dir is None:
        if fmt is DocFormat.pdf:
            if issued is not None:
                err.print(f"  PDF: {issued}", markup=False)
                return
            out_dir = Path(".")
        elif outcome.rendered is not None:
            sys.stdout.write(
                outcome.rendered.markdown if fmt is DocFormat.md else outcome.rendered.html
            )
            return
    if out_dir is None:
        return
    # a draft per convention, month and purchase order (two orders: two drafts, two files)
    name = outcome.document.number or "-".join(
        ["BROUILLON", outcome.convention, str(outcome.month)]
        + ([_file_part(outcome.order)] if outcome.order else [])
    )
    if issued is not None:
        content: str | bytes = issued.read_bytes()
    else:
        rendered = outcome.rendered
        content = {
            DocFormat.md: rendered.markdown,
            DocFormat.html: rendered.html,
            DocFormat.pdf: rendered.pdf,
        }[fmt] or b""
    path = write_output(out_dir, f"{name}.{fmt.value}", content)
    err.print(f"  copied to {path}", markup=False)


def _file_part(text: str) -> str:
    """A text as part of a file name: letters, digits, '-' and '_' kept, others '_'."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


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
        typer.Option("--output", file_okay=False, help="Also copy the document to this folder."),
    ] = None,
    today: TodayOption = None,
) -> None:
    """Issue the month's invoice for each convention: all or nothing, numbered without gaps.

    Only sessions that took place are billed: past, and in the calendar of record before
    their date or confirmed with `apptool held`. Every invoice of the month is checked (the
    buyer's requirements, an order's maximum, the calendar's hard rules, the e-invoice
    rules) before any is numbered: one problem issues nothing, and all are listed. An issued
    invoice is a write-once record in invoices/ (YAML, Markdown, HTML, XML and a Factur-X
    PDF/A-3). The same month again shows the existing invoice and what changed since;
    --output then copies its issued files.
    """
    from apptool.domain.billing import Month  # lazy: keeps `apptool --help` instant
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    try:
        period = Month.parse(parse_month(month) or month)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from None
    day = parse_today(today)
    _check_output_folder(out_dir)
    pdf_ahead(output is DocFormat.pdf or not draft, einvoice=not draft)
    with progress(
        f"{'Drafting' if draft else 'Checking and issuing'} the invoices of {period} "
        "(PDF/A-3 and e-invoice rules)…"
    ):
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
        elif outcome.status == "existing":
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
            err.print(f"  warning: {warning}", markup=False, soft_wrap=True)
        if outcome.status != "nothing":
            _emit_document(outcome, output, out_dir)


@app.command("credit-note")
def credit_note(
    number: Annotated[str, typer.Argument(help="Number of the invoice to cancel.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (printed on the credit note).")
    ] = None,
    refund: Annotated[
        bool,
        typer.Option("--refund", help="The invoice was paid: the money is paid back (recorded)."),
    ] = False,
    no_facturx: Annotated[
        bool, typer.Option("--no-facturx", help="A plain PDF/A without the embedded XML.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Issue a credit note (facture d'avoir) cancelling an invoice; the month can be invoiced again.

    It cites the invoice's number and date and the reason, carries positive amounts (type
    381 in the e-invoice), asks for no payment, and takes the next number of the credit-note
    series. A paid invoice is credited only with --refund. The month's new invoice says
    which invoice it replaces.
    """
    pdf_ahead(True, einvoice=True)
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    with progress(f"Issuing the credit note cancelling {number}…"):
        outcome = invoicing.credit_note(
            State.workspace, number, parse_today(today), reason, refund, facturx=not no_facturx
        )
    out = console()
    out.print(
        f"issued credit note {outcome.number} cancelling {number}"
        + (" (refund recorded)" if refund else ""),
        markup=False,
    )
    for path in outcome.written:
        out.print(f"  written to {path}", markup=False)


@app.command()
def interest(
    number: Annotated[str, typer.Argument(help="Number of the invoice paid late.")],
    no_facturx: Annotated[
        bool, typer.Option("--no-facturx", help="A plain PDF/A without the embedded XML.")
    ] = False,
    today: TodayOption = None,
) -> None:
    """Issue the claim of a late payment: moratorium interest and the 40 EUR indemnity.

    Art. L2192-13 and R2192-31 of the code de la commande publique: interest at the ECB
    rate in force on the first day of the half-year in which the lateness began, + 8
    points, for each day late (365-day year), and a fixed 40 EUR recovery indemnity, both
    owed of right. The claim is an invoice of its own (Factur-X), in the invoice series.
    """
    pdf_ahead(True, einvoice=True)
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    with progress(f"Issuing the late-payment claim of {number}…"):
        outcome = invoicing.interest_claim(
            State.workspace, number, parse_today(today), facturx=not no_facturx
        )
    out = console()
    out.print(
        f"issued {outcome.number}: late payment of {number}, "
        f"{outcome.record.amount if outcome.record else 0} EUR",
        markup=False,
    )
    for path in outcome.written:
        out.print(f"  written to {path}", markup=False)


def _standing_text(s: Any) -> str:
    if s.status in ("overdue", "paid late"):
        owed = (
            f"interest {s.interest} EUR ({s.rate} %) + indemnity {s.indemnity} EUR"
            if s.rate is not None
            else "interest unknown: add the ECB rate of its half-year to ecb-rates.yaml"
        )
        claimed = f", claimed by {s.claimed_by}" if s.claimed_by else ""
        what = "OVERDUE" if s.status == "overdue" else f"paid {s.paid_on}, LATE"
        return f"{what} {s.days_late} days: {owed}{claimed}"
    if s.status == "paid":
        return f"paid {s.paid_on}"
    return str(s.status)


@app.command()
def invoices(
    year: Annotated[int | None, typer.Option("--year", help="Only this year.")] = None,
    output: Annotated[
        TableFormat, typer.Option("--format", "-f", help="table or json.")
    ] = TableFormat.table,
    today: TodayOption = None,
) -> None:
    """The invoice register: number, date, buyer, amount, due date, status.

    Statuses: issued, deposited, paid, paid late, overdue, credited, credit-note. The due
    date runs from the deposit on Chorus Pro (`apptool deposited`), else from the issue
    date. A late invoice shows the days late, the moratorium interest (ECB rate of the
    half-year + 8 points) and the 40 EUR indemnity, owed even after a late payment until
    claimed (`apptool interest`); where a convention says so (its `clauses.payment`, the
    CCAS's art. 9.2), unpaid invoices may lead to suspending the interventions.
    """
    import json  # lazy: keeps `apptool --help` instant

    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    day = parse_today(today)
    standings = invoicing.list_invoices(State.workspace, day, year)
    if output is TableFormat.json:
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
                    "due": str(s.due) if s.due else None,
                    "paid_on": str(s.paid_on) if s.paid_on else None,
                    "days_late": s.days_late,
                    "rate": str(s.rate) if s.rate is not None else None,
                    "interest": str(s.interest),
                    "indemnity": str(s.indemnity),
                    "claimed_by": s.claimed_by,
                    "claims": s.record.claims,
                }
                for s in standings
            ]
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant

    table = Table(
        [
            Column("number"),
            Column("date", drop=2),
            Column("buyer", wrap=True, drop=3),
            Column("month"),
            Column("amount", right=True),
            Column("due", drop=1),
            Column("status", wrap=True),
        ]
    )
    for s in standings:
        table.add(
            s.record.number,
            str(s.record.issue_date),
            s.record.document.buyer.name,
            s.record.month,
            f"{s.record.amount} EUR",
            str(s.due) if s.due else "",
            _standing_text(s),
        )
    print_table(table)
    out = console()
    clauses = invoicing.payment_clauses(State.workspace)
    for conv_id in sorted({s.record.convention for s in standings if s.status == "overdue"}):
        if clauses.get(conv_id):
            out.print(
                f"{conv_id}: overdue invoices; per {clauses[conv_id]} of the convention, unpaid "
                "invoices may lead to the suspension of the interventions",
                markup=False,
                soft_wrap=True,
            )


@app.command()
def deposited(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    on: Annotated[
        str, typer.Option("--on", metavar="YYYY-MM-DD", help="Day it was deposited on Chorus Pro.")
    ],
    today: TodayOption = None,
) -> None:
    """Record the day an invoice was deposited on Chorus Pro: its payment period runs from it.

    Art. R2192-12 of the code de la commande publique: the period runs from the day the
    buyer receives the invoice, on Chorus Pro the day it is made available to the buyer.
    Without a recorded deposit, the issue date is taken.
    """
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    day = parse_date(on, "--on")
    assert day is not None
    record, already = invoicing.mark_deposited(State.workspace, number, day, parse_today(today))
    console().print(
        f"{record.number}: deposited on {day}" + (" (already recorded)" if already else ""),
        markup=False,
    )


@app.command()
def paid(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    on: Annotated[str, typer.Option("--on", metavar="YYYY-MM-DD", help="Day the payment arrived.")],
    method: Annotated[
        Method, typer.Option("--method", help="How it was paid (for the livre des recettes).")
    ] = Method.virement,
    today: TodayOption = None,
) -> None:
    """Record the payment of an invoice (the issued record itself is never rewritten).

    The day is never after today; the same payment recorded again writes nothing (exit 0).
    """
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    day = parse_date(on, "--on")
    assert day is not None
    record, already = invoicing.mark_paid(
        State.workspace, number, day, method.value, parse_today(today)
    )
    console().print(
        f"{record.number}: paid on {day} ({method.value})"
        + (" (already recorded)" if already else ""),
        markup=False,
    )


@app.command()
def ledger(
    year: Annotated[int, typer.Option("--year", help="The year of the receipts.")],
    output: Annotated[
        LedgerFormat, typer.Option("--format", "-f", help="md (default) or csv.")
    ] = LedgerFormat.md,
) -> None:
    """The livre des recettes of a year: each amount received, in date order.

    Date received, client, invoice, amount and payment method, as a micro-entrepreneur
    keeps them (refunds negative), with the year's total and a warning when it nears or
    passes the VAT franchise thresholds for services (billing.vat_franchise in
    practitioner.yaml; 37 500 EUR and 41 250 EUR by default).
    """
    from apptool.output.ledger import ledger_csv, ledger_markdown  # lazy: keeps `--help` fast
    from apptool.services import invoicing  # lazy: keeps `apptool --help` instant

    book = invoicing.ledger(State.workspace, year)
    sys.stdout.write(ledger_csv(book) if output is LedgerFormat.csv else ledger_markdown(book))
    if book.warning:
        console(stderr=True).print(f"warning: {book.warning}", markup=False)


order_app = App(
    help="Purchase orders of a framework agreement (bons de commande).", no_args_is_help=True
)


app.add_typer(order_app, name="order")


#: The options of `order add` not named after the field they give (the others: --FIELD).
_ORDER_OPTIONS = {"id": "--group"}


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

    from apptool.domain.models import Order  # lazy: keeps `apptool --help` instant
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
                "groups": [group_data],
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][-1])
        raise typer.BadParameter(
            str(first["msg"]).removeprefix("Value error, "),
            param_hint=_ORDER_OPTIONS.get(field, "--" + field.replace("_", "-")),
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
        TableFormat, typer.Option("--format", "-f", help="table or json.")
    ] = TableFormat.table,
    today: TodayOption = None,
) -> None:
    """Purchase orders: sessions ordered, planned, held, invoiced; amount used vs maximum."""
    import json  # lazy: keeps `apptool --help` instant

    # lazy: keeps `apptool --help` instant
    from apptool.services.orders import agreement_years, order_statuses

    statuses = order_statuses(State.workspace, parse_today(today), convention)
    if not statuses and output is TableFormat.table:
        console().print(
            "no purchase order: orders belong to framework agreements (kind: framework-agreement)",
            markup=False,
        )
        return
    if output is not TableFormat.table:
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
                    "agreement_year": s.agreement_year,
                }
                for s in statuses
            ]
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    from apptool.output.terminal import Column, Table  # lazy: keeps `apptool --help` instant

    table = Table(
        [
            Column("agreement", drop=2),
            Column("order"),
            Column("date", drop=1),
            *(Column(name, right=True) for name in ("ordered", "planned", "held", "invoiced")),
            *(Column(name, right=True) for name in ("consumed HT", "maximum HT", "%")),
        ]
    )
    for s in statuses:
        table.add(
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
    print_table(table)
    out = console()
    for line in agreement_years(State.workspace, convention):
        out.print(line.text(), markup=False, soft_wrap=True)
    for s in statuses:
        if s.warning:
            out.print(f"warning: {s.warning}", markup=False)  # it names the order
