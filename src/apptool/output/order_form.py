"""The buyer's documents: the order form (bon de commande) in French, and the export of the
amounts committed for the finance system (CSV).

The order form is rendered from ``order-form.md.j2`` / ``order-form.html.j2`` (overridable in
the workspace's ``templates/``); the same record gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apptool.domain.models import split_address
from apptool.domain.procurement import BuyerFile, BuyerOrder, Commitment
from apptool.errors import RuleRefused
from apptool.output import french

ALLOCATION_TEXT = {
    "rotation": "bons de commande attribués à tour de rôle",
    "cascade": "bons de commande attribués en cascade",
}


def year_ordinal(year: int) -> str:
    """``1re``, ``2e``: the agreement year in French."""
    return "1re" if year == 1 else f"{year}e"


def period_text(first: date, last: date) -> str:
    """``du lundi 3 mars 2025 au mercredi 18 février 2026``."""
    return f"du {french.long_date(first)} au {french.long_date(last)}"


@dataclass(frozen=True)
class OrderFormDocument:
    """The data of ``order-form.md.j2`` / ``order-form.html.j2``."""

    number: str
    date_text: str
    buyer: str
    buyer_lines: list[str]
    buyer_siret: str
    holder: str
    holder_lines: list[str]
    holder_siret: str | None
    agreement_reference: str
    agreement_title: str | None
    agreement_term: str
    lot: str
    agreement_year: str
    group: str
    designation: str
    sessions: int
    unit_price: Decimal
    amount: Decimal
    period: str
    budget_line: str | None
    clauses: list[str]
    place_date: str
    on_behalf: str
    signatory: str | None
    created: date
    file_stem: str


def order_form_document(spec: BuyerFile, order: BuyerOrder) -> OrderFormDocument:
    """The order form of an order with a holder, for that holder."""
    if order.holder is None or order.unit_price is None or order.amount is None:
        raise RuleRefused(
            f"order {order.number} has no holder ({order.status}): there is no order form to "
            "send; `apptool order-history` shows why"
        )
    term = spec.agreement
    lot = spec.lot(order.lot)
    holder = lot.holder(order.holder)
    group = spec.group(order.group)
    first, last = term.year_bounds(order.year)
    address = split_address(spec.buyer.address)
    place = f"Fait à {address[2]}, le " if address else "Fait le "
    renewal = (
        f", reconductible jusqu'au {french.long_date(term.renewal_end)}"
        if term.renewal_end is not None
        else ""
    )
    clauses = [
        f"Le présent bon de commande est émis en application de l'accord-cadre "
        f"{term.reference}, lot {lot.number}. Il vaut engagement de la dépense à hauteur de "
        f"son montant.",
        f"Les prestations sont exécutées {period_text(order.start, order.end)}, aux prix "
        f"unitaires de l'accord-cadre.",
        f"Les factures, déposées sur Chorus Pro, rappellent le numéro du présent bon de "
        f"commande ({order.number}).",
    ]
    return OrderFormDocument(
        number=order.number,
        date_text=french.long_date(order.date),
        buyer=spec.buyer.name,
        buyer_lines=list(spec.buyer.address),
        buyer_siret=spec.buyer.siret,
        holder=holder.name,
        holder_lines=list(holder.address),
        holder_siret=holder.siret,
        agreement_reference=term.reference,
        agreement_title=term.title,
        agreement_term=period_text(term.start, term.end) + renewal,
        lot=f"Lot {lot.number} — {lot.title} ({ALLOCATION_TEXT[lot.allocation]})",
        agreement_year=f"{year_ordinal(order.year)} année de l'accord-cadre, "
        + period_text(first, last),
        group=group.name,
        designation=f"Séances d'analyse de pratiques professionnelles — {group.name}",
        sessions=order.sessions,
        unit_price=order.unit_price,
        amount=order.amount,
        period=period_text(order.start, order.end),
        budget_line=spec.budget_line(lot),
        clauses=clauses,
        place_date=place + french.long_date(order.date),
        on_behalf=f"Pour l'acheteur, {spec.buyer.name}",
        signatory=spec.buyer.signatory,
        created=order.date,
        file_stem=f"bon-de-commande-{order.number}-{holder.id}",
    )


#: Columns of ``apptool orders-export --format csv`` (a public interface: add only).
CSV_COLUMNS = (
    "commitment_number",
    "order_date",
    "agreement",
    "lot",
    "agreement_year",
    "period_from",
    "period_to",
    "group",
    "holder",
    "holder_name",
    "holder_siret",
    "sessions",
    "unit_price_ht",
    "amount_ht",
    "budget_line",
    "status",
)


def commitment_record(spec: BuyerFile, line: Commitment) -> dict[str, str]:
    """One order with a holder, as the finance system reads it (amounts with a dot)."""
    order = line.order
    return {
        "commitment_number": order.number,
        "order_date": order.date.isoformat(),
        "agreement": spec.agreement.reference,
        "lot": str(line.lot.number),
        "agreement_year": str(order.year),
        "period_from": order.start.isoformat(),
        "period_to": order.end.isoformat(),
        "group": order.group,
        "holder": line.holder.id,
        "holder_name": line.holder.name,
        "holder_siret": line.holder.siret or "",
        "sessions": str(order.sessions),
        "unit_price_ht": f"{order.unit_price:.2f}",
        "amount_ht": f"{order.amount:.2f}",
        "budget_line": line.budget_line or "",
        "status": order.status,
    }


def commitments_csv(spec: BuyerFile, lines: list[Commitment]) -> str:
    """``apptool orders-export --format csv``: a header, then one line per order (RFC 4180,
    comma-separated, ``\\n`` line ends, UTF-8)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(commitment_record(spec, line))
    return out.getvalue()
