"""PDF/A-3b by WeasyPrint, deterministic: the same HTML and date give the same bytes.

WeasyPrint is imported only when a PDF is made (about 0.7 s): ``apptool --help`` and every
command that makes no PDF never pay for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

#: PDF making patches process-wide state (environment, facturx's clock): one at a time.
PDF_LOCK = threading.Lock()


def pdf_instant(day: date) -> datetime:
    """The instant a document's PDF carries: its date at noon UTC (never "now")."""
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


@contextmanager
def _source_date(instant: datetime) -> Iterator[None]:
    """SOURCE_DATE_EPOCH for the duration: fontTools stamps the fonts it subsets with it."""
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(instant.timestamp()))
    try:
        yield
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


def pdf_from_html(html: str, created: date, base_url: str | None = None) -> bytes:
    """A PDF/A-3b of ``html`` by WeasyPrint, dated ``created``: the same bytes every time.

    PDF/A-3 so that an e-invoice XML can be embedded. The document dates are ``created`` at
    noon UTC, and so is the time fontTools writes into each embedded font subset.
    """
    import weasyprint  # lazy: a heavy import, only when a PDF is made

    instant = pdf_instant(created)
    with PDF_LOCK, _source_date(instant):
        document = weasyprint.HTML(string=html, base_url=base_url).render()
        document.metadata.created = instant.isoformat()
        document.metadata.modified = instant.isoformat()
        return bytes(document.write_pdf(pdf_variant="pdf/a-3b"))
