"""PDF/A-3b by WeasyPrint, deterministic: the same HTML and date give the same bytes.

WeasyPrint is imported only when a PDF is made: ``apptool --help`` and every command that
makes no PDF never pay for it. Two costs of WeasyPrint that change nothing in the PDF are cut
(each measured with cProfile on the invoice of the example; the PDF's bytes are the same):

* its import looks for each native library (Pango, HarfBuzz...) under up to six names through
  ``ctypes.util.find_library``, which on Linux runs ``ldconfig -p``, then ``gcc`` and ``ld``,
  for every name it does not find: about 26 programs started, a third to half a second.
  :func:`_libraries_from_ldconfig` answers those lookups from one reading of ``ldconfig -p``
  (the names WeasyPrint finds this way are the ones ``find_library`` finds there first; the
  ``.so.N`` names it also tries are loaded directly by the dynamic linker, whatever the
  answer);
* fontTools (which subsets the fonts when HarfBuzz-Subset is not installed) decodes the GSUB
  and GPOS tables of each font into compact layouts before subsetting, although WeasyPrint's
  options drop both tables: for DejaVu Sans, about half of the subsetting time.
  :func:`_no_layout_compaction_of_dropped_tables` leaves them alone.

A command run from the console script that will make a PDF starts the document helper first
(:mod:`apptool.output.helper`): a child process, forked then, imports WeasyPrint on the other
core while the command loads the workspace and builds the document, then renders each PDF
asked of it with the same function (:func:`_pdf_here`), so the same bytes.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from apptool.output import helper

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


#: The ABI tag of ``ldconfig -p`` lines, as ``ctypes.util`` reads it on Linux.
_LDCONFIG_ABI = {
    "x86_64-64": "libc6,x86-64",
    "ppc64-64": "libc6,64bit",
    "sparc64-64": "libc6,64bit",
    "s390x-64": "libc6,64bit",
    "ia64-64": "libc6,IA-64",
}


@contextmanager
def _libraries_from_ldconfig() -> Iterator[None]:
    """For the duration, ``ctypes.util.find_library`` answers from one run of ``ldconfig -p``
    (Linux only), as its own first step does, without its ``gcc`` and ``ld`` fallbacks."""
    import ctypes.util

    listing: bytes | None = None
    if sys.platform.startswith("linux"):
        try:
            listing = subprocess.run(
                ["/sbin/ldconfig", "-p"],
                stdin=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                env={"LC_ALL": "C", "LANG": "C"},
                check=False,
            ).stdout
        except OSError:
            listing = None
    if not listing:
        yield
        return
    bits = "-32" if struct.calcsize("l") == 4 else "-64"
    abi = os.fsencode(_LDCONFIG_ABI.get(os.uname().machine + bits, "libc6"))
    # ctypes.util searches r"\s+(lib%s\.[^\s]+)\s+\(%s" % (name, abi) in the listing for
    # each name: the same, on the listing's entries read once.
    entries = re.findall(rb"\s+(lib[^\s]+)\s+\(([^\s]+)", listing)

    def find_library(name: str) -> str | None:
        prefix = os.fsencode(f"lib{name}.")
        for soname, tag in entries:
            if soname.startswith(prefix) and len(soname) > len(prefix) and tag.startswith(abi):
                return os.fsdecode(soname)
        return None

    original = ctypes.util.find_library
    ctypes.util.find_library = find_library
    try:
        yield
    finally:
        ctypes.util.find_library = original


def _weasyprint() -> Any:
    """WeasyPrint, imported with :func:`_libraries_from_ldconfig`; if that fails to find a
    library, imported again with the standard lookup."""
    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    try:
        with _libraries_from_ldconfig():
            import weasyprint  # lazy: a heavy import, only when a PDF is made
    except OSError:
        for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
            del sys.modules[name]
        import weasyprint  # lazy: a heavy import, only when a PDF is made
    return weasyprint


class _WithoutTables:
    """A font seen without some of its tables (for fontTools' layout compaction)."""

    def __init__(self, font: Any, hidden: tuple[str, ...]) -> None:
        self._font = font
        self._hidden = hidden

    def __contains__(self, tag: str) -> bool:
        return tag not in self._hidden and tag in self._font

    def __getitem__(self, tag: str) -> Any:
        return self._font[tag]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._font, name)


@contextmanager
def _no_layout_compaction_of_dropped_tables() -> Iterator[None]:
    """For the duration, fontTools' subsetter compacts the font's GDEF table as it does, but
    not GSUB and GPOS, which WeasyPrint's subsetting options drop (``drop_tables``) before
    they are used: the subset font is the same, byte for byte."""
    try:
        import fontTools.subset as subsetting  # lazy: with WeasyPrint only
    except ImportError:
        yield
        return
    original = getattr(subsetting, "_compact_layout_tables", None)
    if original is None:  # a fontTools without the compaction: nothing to skip
        yield
        return

    @contextmanager
    def compact_kept_tables(font: Any, *args: Any, **kwargs: Any) -> Iterator[None]:
        with original(_WithoutTables(font, ("GSUB", "GPOS")), *args, **kwargs):
            yield

    subsetting._compact_layout_tables = compact_kept_tables
    try:
        yield
    finally:
        subsetting._compact_layout_tables = original


def pdf_from_html(html: str, created: date, base_url: str | None = None) -> bytes:
    """A PDF/A-3b of ``html`` by WeasyPrint, dated ``created``: the same bytes every time.

    PDF/A-3 so that an e-invoice XML can be embedded. The document dates are ``created`` at
    noon UTC, and so is the time fontTools writes into each embedded font subset.

    Rendered by the document helper when one was started (:mod:`apptool.output.helper`), else
    (or when it cannot answer) in this process.
    """
    made = helper.run("pdf", html, created, base_url)
    return made if isinstance(made, bytes) else _pdf_here(html, created, base_url)


def _pdf_here(html: str, created: date, base_url: str | None) -> bytes:
    """:func:`pdf_from_html` in this process."""
    weasyprint = _weasyprint()
    instant = pdf_instant(created)
    with PDF_LOCK, _source_date(instant), _no_layout_compaction_of_dropped_tables():
        document = weasyprint.HTML(string=html, base_url=base_url).render()
        document.metadata.created = instant.isoformat()
        document.metadata.modified = instant.isoformat()
        return bytes(document.write_pdf(pdf_variant="pdf/a-3b"))
