"""Factur-X files, by the ``factur-x`` library: the CII XML from EN 16931 terms, the XML
embedded into a PDF/A-3b, and read back.

It works on the terms and bytes only, and imports neither the domain nor the templates:
:mod:`apptool.output.einvoice` maps an invoice to the terms (and names the type code of a
credit note); factur-x (with lxml and pypdf) is imported on first use.
"""

from __future__ import annotations

import copy
import re
import sys
import types
from datetime import datetime
from html import escape
from typing import Any

from apptool import errors
from apptool.output.einvoice_checks import RuleFailure
from apptool.output.pdf import PDF_LOCK, pdf_instant

#: The producer both PDF metadata (information dictionary and XMP) name.
PRODUCER = "apptool (WeasyPrint, factur-x)"
#: Factur-X profile: EN 16931 ("comfort").
LEVEL = "en16931"


class EInvoiceInvalid(errors.AppToolError):
    """The e-invoice breaks blocking rules (one problem per failed rule), or is missing."""

    exit_code = errors.EXIT_INVALID

    def __init__(self, message: str, failures: list[RuleFailure] | None = None) -> None:
        self.failures = failures or []
        super().__init__(message, [f.problem() for f in self.failures])


class _RequestsOnUse(types.ModuleType):
    """Stands for ``requests`` until something uses it: then imports it for real (and takes
    its place in ``sys.modules``) and answers from it."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get("requests") is self:
            del sys.modules["requests"]
        import requests  # lazy: only if factur-x's online check were ever called

        return getattr(requests, name)


def _facturx() -> Any:
    """The ``facturx`` package, imported on first use (with pypdf and lxml), without
    ``requests``: factur-x imports it at its top for the online Schematron server that
    apptool never calls, and it costs a tenth of a second. Until something uses it,
    ``requests`` is a stand-in that imports it then (:class:`_RequestsOnUse`)."""
    if "facturx.facturx" not in sys.modules:
        stand_in = "requests" not in sys.modules
        if stand_in:
            sys.modules["requests"] = _RequestsOnUse("requests")
        try:
            import facturx.facturx  # lazy: factur-x (and pypdf) only for e-invoices
        finally:
            if stand_in and isinstance(sys.modules.get("requests"), _RequestsOnUse):
                del sys.modules["requests"]  # facturx keeps its stand-in; nobody else
    import facturx  # lazy: factur-x (and pypdf) only for e-invoices

    return facturx


def cii_xml_from_terms(terms: dict[str, Any]) -> bytes:
    """The CII XML (Factur-X EN 16931) of EN 16931 business terms in factur-x's
    ``data_dict`` format, made by ``facturx.generate_cii_xml`` (not checked here)."""
    data = copy.deepcopy(terms)  # facturx rewrites the dict it is given
    xml = _facturx().generate_cii_xml(data, level=LEVEL, check_xsd=False, check_schematron=False)
    return bytes(xml)


# --- the PDF -------------------------------------------------------------------------------


_XPATHS = {
    "number": "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID",
    "type": "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode",
    "date": "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString",
    "seller": "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/"
    "ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty/ram:Name",
}


def _header(xml: bytes) -> dict[str, str]:
    from lxml import etree  # lazy: lxml only when an e-invoice is checked

    root = etree.fromstring(xml)
    namespaces = _facturx().get_xml_namespaces("factur-x")
    found = {
        key: root.xpath(f"string({path})", namespaces=namespaces) for key, path in _XPATHS.items()
    }
    return {key: str(value).strip() for key, value in found.items()}


def embed_xml(pdf: bytes, xml: bytes, credit_note_code: str) -> bytes:
    """Embed ``xml`` as ``factur-x.xml`` into ``pdf`` (a PDF/A-3b): a Factur-X EN 16931 PDF,
    titled "Avoir" when the XML's type code (BT-3) is ``credit_note_code``, else "Facture".

    Deterministic: the dates facturx writes (XMP, document info, embedded file) are the
    invoice's issue date (BT-2) at noon UTC instead of now. The XSD is checked again here;
    the Schematrons are checked by :mod:`apptool.output.einvoice_checks`.
    """
    facturx = _facturx()
    facturx_module = facturx.facturx

    try:
        header = _header(xml)
        issued = datetime.strptime(header["date"], "%Y%m%d").date()
    except Exception as exc:  # not XML, or no issue date (BT-2): not a Factur-X invoice
        raise EInvoiceInvalid(f"cannot make the Factur-X PDF: {exc}") from exc
    title = "Avoir" if header["type"] == credit_note_code else "Facture"
    metadata = {
        "author": header["seller"],
        "keywords": "Factur-X, EN 16931, " + title,
        "title": f"{header['seller']} : {title} {header['number']}",
        "subject": f"{title} {header['number']} du {issued:%d/%m/%Y}, émise par {header['seller']}",
    }
    instant = pdf_instant(issued)

    def pdf_timestamp(date: datetime | None = None) -> str:
        return instant.strftime("D:%Y%m%d%H%M%S+00'00'")

    def metadata_timestamp() -> str:
        return instant.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    original_xmp = facturx_module.generate_xmp_bytes
    original_info = facturx_module._prepare_pdf_metadata_txt

    def xmp_bytes(*args: Any) -> bytes:
        """factur-x's XMP, with the producer and keywords of the information dictionary
        (PDF/A: the two must agree, veraPDF rule 6.6.2.3.1)."""
        xml = bytes(original_xmp(*args))
        producer = f"<pdf:Producer>{escape(PRODUCER)}</pdf:Producer>"
        keywords = f"<pdf:Keywords>{escape(metadata['keywords'])}</pdf:Keywords>"
        fixed = re.sub(
            rb"<pdf:Producer>[^<]*</pdf:Producer>",
            (producer + keywords).encode("utf-8"),
            xml,
            count=1,
        )
        if fixed == xml:
            raise EInvoiceInvalid("cannot align the PDF/A metadata: factur-x changed its XMP")
        return fixed

    def info_dict(pdf_metadata: dict[str, str]) -> dict[str, str]:
        return {**original_info(pdf_metadata), "/Producer": PRODUCER}

    patches = {
        "_get_pdf_timestamp": pdf_timestamp,
        "_get_metadata_timestamp": metadata_timestamp,
        "generate_xmp_bytes": xmp_bytes,
        "_prepare_pdf_metadata_txt": info_dict,
    }
    saved = {name: getattr(facturx_module, name, None) for name in patches}
    with PDF_LOCK:  # the patch is process-wide: one embedding at a time
        for name, patch in patches.items():
            if saved[name] is not None:  # else: a factur-x without it, dates stay "now"
                setattr(facturx_module, name, patch)
        try:
            result = facturx.generate_from_binary(
                pdf,
                xml,
                flavor="factur-x",
                level=LEVEL,
                check_xsd=True,
                check_schematron=False,
                pdf_metadata=metadata,
                lang="fr-FR",
            )
        except Exception as exc:
            raise EInvoiceInvalid(f"cannot make the Factur-X PDF: {exc}") from exc
        finally:
            for name, original in saved.items():
                if original is not None:
                    setattr(facturx_module, name, original)
    return bytes(result)


def xml_from_pdf(pdf: bytes) -> bytes:
    """The Factur-X XML embedded in ``pdf`` (raises :class:`EInvoiceInvalid` if none)."""
    try:
        _, xml = _facturx().get_xml_from_pdf(pdf, check_xsd=False, filenames=["factur-x.xml"])
    except Exception as exc:
        raise EInvoiceInvalid(f"cannot read the PDF: {exc}") from exc
    if not xml:
        raise EInvoiceInvalid("the PDF carries no factur-x.xml")
    return bytes(xml)
