"""The mandatory mentions of a French invoice to a public buyer: one place holds them all.

Code de commerce art. L441-9 and R123-237, CGI art. 242 nonies A (and art. 293 B for the
franchise mention), code de la commande publique art. L2192-13, R2192-10 to R2192-36 (30
days' payment period from receipt, 50 for a public health establishment; moratorium interest
at the ECB rate in force on the first day of the half-year + 8 points; 40 EUR recovery
indemnity). The templates print :func:`invoice_mentions`; the e-invoice carries the coded
notes (PMT, PMD, AAB) with the same texts; a test asserts that each mention appears in each
rendering.

A credit note (facture d'avoir) asks for no payment: it shows no due date, no payment terms,
no bank details and no penalty mention, but the invoice it cancels, its reason, and whether
the money was refunded. (Its e-invoice still carries the coded notes: the French rules
BR-FR-05 require them on every document.)
"""

from __future__ import annotations

from apptool.domain.billing import InvoiceDocument
from apptool.output.french import euros, iban, number, short_date

CATEGORY = "Catégorie de l'opération : prestations de services"
LATE_PAYMENT = (
    "Pénalités de retard (art. L2192-13 et R2192-31 du code de la commande publique) : "
    "intérêts moratoires, dus de plein droit dès le lendemain de l'échéance, au taux "
    "d'intérêt appliqué par la Banque centrale européenne à ses opérations principales de "
    "refinancement en vigueur au premier jour du semestre au cours duquel ils ont commencé à "
    "courir, majoré de huit points de pourcentage"
)
RECOVERY_INDEMNITY = (
    "Indemnité forfaitaire pour frais de recouvrement due en cas de retard de paiement : "
    "40 € (quarante euros), art. D2192-35 du code de la commande publique"
)
NO_DISCOUNT = "Aucun escompte pour paiement anticipé"
PAYMENT_TERMS = (
    "Paiement à {days} jours à compter de la réception de la facture (art. {article} du code "
    "de la commande publique), par virement"
)
#: When the convention sets the payment period itself (within the legal one).
CONTRACT_PAYMENT_TERMS = (
    "Paiement à {days} jours à compter de la réception de la facture (délai fixé par la "
    "convention, dans la limite de l'art. {article} du code de la commande publique), par "
    "virement"
)
CREDIT_TERMS = "Avoir : aucun paiement n'est dû à ce titre"
REFUND_TERMS = "Avoir : le montant déjà réglé est remboursé par virement"

#: Coded notes of the e-invoice (BG-1; subject codes UNTDID 4451, required by the French rules).
NOTES = (("PMT", RECOVERY_INDEMNITY), ("PMD", LATE_PAYMENT), ("AAB", NO_DISCOUNT))


def payment_terms(days: int, article: str, by_contract: bool) -> str:
    """The payment terms printed on an invoice: the period and the article that sets it."""
    return (CONTRACT_PAYMENT_TERMS if by_contract else PAYMENT_TERMS).format(
        days=days, article=article
    )


def address_text(lines: tuple[str, ...], postcode: str, city: str) -> str:
    return ", ".join([*lines, f"{postcode} {city}"])


def _title(doc: InvoiceDocument) -> str:
    if doc.kind == "credit-note":
        return "Facture d'avoir"
    if doc.subject == "late-payment":
        return "Facture d'intérêts moratoires et d'indemnité forfaitaire"
    return "Facture"


def invoice_mentions(doc: InvoiceDocument) -> dict[str, str]:
    """Every mention the document must show, keyed by what it is (order of printing)."""
    seller, buyer = doc.seller, doc.buyer
    credit = doc.kind == "credit-note"
    mentions = {
        "title": _title(doc),
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
    }
    if doc.subject == "late-payment":
        del mentions["service_period"]  # the lines give the days late
    if credit:
        mentions["settlement"] = doc.payment_terms or CREDIT_TERMS
        if doc.reason:
            mentions["reason"] = f"Motif : {doc.reason}"
    else:
        due = short_date(doc.due_date) if doc.due_date else "à réception"
        mentions["due_date"] = f"Date d'échéance : {due} — {doc.payment_terms}"
        mentions["late_payment"] = LATE_PAYMENT
        mentions["recovery_indemnity"] = RECOVERY_INDEMNITY
        mentions["no_discount"] = NO_DISCOUNT
        if doc.iban:
            mentions["bank"] = f"IBAN : {iban(doc.iban)} — BIC : {doc.bic}"
    if doc.buyer_reference:
        mentions["service_code"] = f"Code service (Chorus Pro) : {doc.buyer_reference}"
    if doc.order_reference:
        label = (
            "N° de bon de commande"
            if doc.contract_kind == "framework-agreement"
            else "N° d'engagement / bon de commande"
        )
        mentions["order"] = f"{label} : {doc.order_reference}"
    if doc.engagement_reference:
        mentions["engagement"] = f"N° d'engagement : {doc.engagement_reference}"
    if doc.contract_reference:
        label = "Accord-cadre" if doc.contract_kind == "framework-agreement" else "Convention"
        mentions["contract"] = f"{label} : {doc.contract_reference}"
    if doc.preceding:
        invoice = f"la facture N° {doc.preceding[0]} du {short_date(doc.preceding[1])}"
        if credit:
            mentions["preceding"] = f"Avoir sur {invoice}"
        elif doc.subject == "late-payment":
            mentions["preceding"] = f"Retard de paiement de {invoice}"
        else:
            mentions["preceding"] = f"Annule et remplace {invoice}"
    if seller.vat_number:
        mentions["seller_vat"] = f"N° TVA intracommunautaire : {seller.vat_number}"
    if seller.tax_registration:
        mentions["seller_tax"] = f"N° d'identification fiscale : {seller.tax_registration}"
    return mentions
