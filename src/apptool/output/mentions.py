"""The mandatory mentions of a French invoice to a public buyer: one place holds them all.

Code de commerce art. L441-9 and R123-237, CGI art. 242 nonies A (and art. 293 B for the
franchise mention), code de la commande publique art. R2192-10 to R2192-36 (30 days' payment
period, moratorium interest at the ECB rate + 8 points, 40 EUR recovery indemnity). The
templates print :func:`invoice_mentions`; the e-invoice carries the coded notes (PMT, PMD,
AAB) with the same texts; a test asserts that each mention appears in each rendering.
"""

from __future__ import annotations

from apptool.domain.billing import InvoiceDocument
from apptool.output.french import euros, number, short_date

CATEGORY = "Catégorie de l'opération : prestations de services"
LATE_PAYMENT = (
    "Pénalités de retard : en cas de retard de paiement, intérêts moratoires au taux "
    "d'intérêt appliqué par la Banque centrale européenne à ses opérations principales de "
    "refinancement les plus récentes, majoré de huit points de pourcentage"
)
RECOVERY_INDEMNITY = (
    "Indemnité forfaitaire pour frais de recouvrement due en cas de retard de paiement : "
    "40 € (quarante euros)"
)
NO_DISCOUNT = "Aucun escompte pour paiement anticipé"
PAYMENT_TERMS = "Paiement à {days} jours à compter de la réception de la facture, par virement"

#: Coded notes of the e-invoice (BG-1; subject codes UNTDID 4451, required by the French rules).
NOTES = (("PMT", RECOVERY_INDEMNITY), ("PMD", LATE_PAYMENT), ("AAB", NO_DISCOUNT))


def address_text(lines: tuple[str, ...], postcode: str, city: str) -> str:
    return ", ".join([*lines, f"{postcode} {city}"])


def invoice_mentions(doc: InvoiceDocument) -> dict[str, str]:
    """Every mention the invoice must show, keyed by what it is (order of printing)."""
    seller, buyer = doc.seller, doc.buyer
    credit = doc.kind == "credit-note"
    mentions = {
        "title": "Facture d'avoir" if credit else "Facture",
        "number": f"N° {doc.number}"
        if doc.number
        else "BROUILLON — non numérotée, sans valeur de facture",
        "issue_date": f"Date d'émission : {short_date(doc.issue_date)}",
        "seller": seller.name + (f" {seller.legal_form}" if seller.legal_form else ""),
        "seller_address": address_text(seller.address, seller.postcode, seller.city),
        "seller_siret": f"SIRET : {seller.siret}",
        "buyer": buyer.name,
        "buyer_address": address_text(buyer.address, buyer.postcode, buyer.city),
        "buyer_siret": f"SIRET : {buyer.siret}" if buyer.siret else "SIRET : non communiqué",
        "service_period": (
            f"Période de prestation : du {short_date(doc.period.first)} au "
            f"{short_date(doc.period.last)} (facture périodique mensuelle)"
        ),
        "category": CATEGORY,
        "total_net": f"Total HT : {euros(doc.totals.net)}",
        "vat": (
            f"TVA {number(doc.totals.vat_rate)} % : {euros(doc.totals.vat)}"
            if doc.totals.vat_rate
            else doc.vat_exemption or ""
        ),
        "total_gross": f"Total TTC : {euros(doc.totals.gross)}",
        "due_date": f"Date d'échéance : {short_date(doc.due_date)} — {doc.payment_terms}",
        "late_payment": LATE_PAYMENT,
        "recovery_indemnity": RECOVERY_INDEMNITY,
        "no_discount": NO_DISCOUNT,
        "bank": f"IBAN : {doc.iban} — BIC : {doc.bic}",
    }
    if doc.buyer_reference:
        mentions["service_code"] = f"Code service (Chorus Pro) : {doc.buyer_reference}"
    if doc.order_reference:
        mentions["order"] = f"N° d'engagement / bon de commande : {doc.order_reference}"
    if doc.contract_reference:
        mentions["contract"] = f"Convention : {doc.contract_reference}"
    if doc.preceding:
        mentions["preceding"] = (
            f"Avoir annulant la facture n° {doc.preceding[0]} du {short_date(doc.preceding[1])}"
        )
    if seller.vat_number:
        mentions["seller_vat"] = f"N° TVA intracommunautaire : {seller.vat_number}"
    return mentions
