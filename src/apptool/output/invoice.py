"""An invoice or credit note rendered: Markdown and HTML from the templates, the checked
Factur-X XML, and the PDF/A-3b that carries it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apptool.domain.billing import InvoiceDocument
from apptool.errors import InvalidInput, Problem
from apptool.output.einvoice import cii_xml, facturx_pdf
from apptool.output.einvoice_checks import BackgroundChecks, RuleFailure, check_einvoice
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
    doc: InvoiceDocument,
    root: Path,
    pdf: bool,
    facturx: bool,
    einvoice: bool = True,
    checks: BackgroundChecks | None = None,
) -> RenderedInvoice:
    """Markdown and HTML always; the CII XML (checked) of a numbered invoice unless
    ``einvoice`` is false (an issued invoice shown again: its XML is on file); the PDF when
    asked. With ``checks``, the XML is checked in that helper process while the PDF renders
    (in the document helper when one runs); either way, a blocking failure refuses the
    invoice."""
    context: dict[str, Any] = {"doc": doc, "m": invoice_mentions(doc)}
    rendered = RenderedInvoice(
        render("invoice.md.j2", context, root), render("invoice.html.j2", context, root)
    )
    failures: Callable[[], list[RuleFailure]] | None = None
    if doc.number is not None and einvoice:
        rendered.xml = cii_xml(doc)
        xml = rendered.xml
        failures = checks.submit(xml) if checks is not None else lambda: check_einvoice(xml)
    if pdf:  # while Saxon checks the XML
        rendered.pdf = pdf_from_html(rendered.html, doc.issue_date)
    if failures is not None:
        refuse_blocking(doc, failures())
    if rendered.pdf is not None and facturx and rendered.xml is not None:
        rendered.pdf = facturx_pdf(rendered.pdf, rendered.xml)
    return rendered


def refuse_blocking(doc: InvoiceDocument, failures: list[RuleFailure]) -> None:
    """Refuse the e-invoice if the XSD or a schematron rule fails (nothing is written)."""
    blocking = [f for f in failures if f.blocking]
    if blocking:
        raise InvalidInput(
            f"the e-invoice {doc.number} breaks {len(blocking)} rule(s); nothing was issued",
            [Problem(f"invoices/{doc.number}", None, f.rule, f.message) for f in blocking],
        )
