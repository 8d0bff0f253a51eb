"""An invoice or credit note rendered: Markdown and HTML from the templates, the checked
Factur-X XML, and the PDF/A-3b that carries it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apptool.domain.billing import InvoiceDocument
from apptool.errors import InvalidInput, Problem
from apptool.output.einvoice import check_einvoice, cii_xml, facturx_pdf
from apptool.output.mentions import invoice_mentions
from apptool.output.pdf import pdf_from_html
from apptool.output.render import render


@dataclass
class RenderedInvoice:
    """The renderings of one invoice document."""

    markdown: str
    html: str
    xml: bytes | None = None
    pdf: bytes | None = None

    def files(self, number: str) -> dict[str, bytes]:
        """The files the register keeps, by name."""
        outputs = {
            f"{number}.md": self.markdown.encode("utf-8"),
            f"{number}.html": self.html.encode("utf-8"),
        }
        if self.xml is not None:
            outputs[f"{number}.xml"] = self.xml
        if self.pdf is not None:
            outputs[f"{number}.pdf"] = self.pdf
        return outputs


def render_invoice(
    doc: InvoiceDocument, root: Path, pdf: bool, facturx: bool, einvoice: bool = True
) -> RenderedInvoice:
    """Markdown and HTML always; the CII XML (checked) of a numbered invoice unless
    ``einvoice`` is false (an issued invoice shown again: its XML is on file); the PDF when
    asked."""
    context: dict[str, Any] = {"doc": doc, "m": invoice_mentions(doc)}
    rendered = RenderedInvoice(
        render("invoice.md.j2", context, root), render("invoice.html.j2", context, root)
    )
    if doc.number is not None and einvoice:
        rendered.xml = checked_xml(doc)
    if pdf:
        rendered.pdf = pdf_from_html(rendered.html, doc.issue_date)
        if facturx and rendered.xml is not None:
            rendered.pdf = facturx_pdf(rendered.pdf, rendered.xml)
    return rendered


def checked_xml(doc: InvoiceDocument) -> bytes:
    """The e-invoice XML, refused if the XSD or a schematron rule fails (nothing is written)."""
    xml = cii_xml(doc)
    failures = [f for f in check_einvoice(xml) if f.blocking]
    if failures:
        raise InvalidInput(
            f"the e-invoice {doc.number} breaks {len(failures)} rule(s); nothing was issued",
            [Problem(f"invoices/{doc.number}", None, f.rule, f.message) for f in failures],
        )
    return xml
