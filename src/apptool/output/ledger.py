"""The livre des recettes, as a micro-entrepreneur keeps it: Markdown to read, CSV to file."""

from __future__ import annotations

import csv
import io

from apptool.domain.register import Ledger
from apptool.output.french import euros, short_date

HEADER = ("Date d'encaissement", "Client", "Pièce", "Montant", "Mode de règlement")


def _rows(book: Ledger) -> list[tuple[str, str, str, str, str]]:
    return [
        (short_date(day), record.document.buyer.name, record.number, euros(amount), method)
        for day, record, amount, method in book.entries
    ]


def ledger_markdown(book: Ledger) -> str:
    """The year's receipts as a Markdown table, with the total."""
    lines = [f"# Livre des recettes {book.year}", ""]
    lines += ["| " + " | ".join(HEADER) + " |", "| --- | --- | --- | ---: | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(book)]
    lines += ["", f"**Total encaissé en {book.year} : {euros(book.turnover)}**", ""]
    return "\n".join(lines)


def ledger_csv(book: Ledger) -> str:
    """The year's receipts as CSV (semicolon-separated, amounts with a decimal point)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(("date", "client", "invoice", "amount", "method"))
    for day, record, amount, method in book.entries:
        writer.writerow(
            (day.isoformat(), record.document.buyer.name, record.number, f"{amount:.2f}", method)
        )
    return buffer.getvalue()
