"""The example's PDFs as a reader sees them: every page rendered to an image (pypdfium2) and
read back as text.

The shipped example (CCAS de Dreux) planned for 2025, with a move and a due cancellation in
May and two individual consultations: its calendar, the two notices, the bilan, the May invoice
and the credit note that cancels it. For each page: A4 portrait, ink on it, no ink in the
outer margins (nothing runs off or is cut at an edge) but the page number centred in the
footer, the page number in the text ("page 2/5"), one time format, one parenthesis for an
article. For the calendar: each month's and each group's table on one page, with its heading.
For the invoice: the IBAN in groups of four.

Rendered at 72 dpi (scale 1: a point is a pixel, a millimetre about 2.8 pixels); the PDFs are
made once for the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from typer.testing import CliRunner

from apptool.cli import app
from apptool.store.workspace import init_workspace

runner = CliRunner()

#: Pages each document of the example takes (a template change may change them: look at the
#: pages, then update).
PAGES = {
    "calendar": 5,
    "notice-moved": 1,
    "notice-cancelled": 1,
    "bilan": 2,
    "invoice": 1,
    "credit-note": 1,
}
A4 = (595.28, 841.89)  # points
MM = 72 / 25.4  # pixels per millimetre at scale 1
#: Bands along the edges where nothing is printed: the templates' margins are 14 to 20 mm at
#: the sides and 16 to 20 mm at the top and bottom.
SIDE_BAND, TOP_BAND, BOTTOM_BAND = 12, 12, 5
#: Between the bottom band and this height (mm from the bottom edge), only the page number.
FOOTER_TOP = 14
#: A pixel darker than this is ink (white is 255; the lightest ink, the table rules, is 187).
INK = 245
IBAN = "FR76 3000 6000 0112 3456 7890 189"


def run(root: Path, *args: str) -> Any:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert result.exit_code == 0, result.output
    return result


@dataclass
class Page:
    number: int  # from 1
    size: tuple[float, float]
    text: str  # whitespace runs as one space
    image: Any  # PIL image, grey levels


@dataclass
class Printed:
    pdf: Path
    pages: list[Page]


def read(path: Path) -> Printed:
    document = pdfium.PdfDocument(path)
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            text = page.get_textpage().get_text_range()
            image = page.render(scale=1, grayscale=True).to_pil().convert("L")
            pages.append(Page(index + 1, page.get_size(), " ".join(text.split()), image))
        return Printed(path, pages)
    finally:
        document.close()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example planned for 2025, a move and a due cancellation in May, two consultations."""
    root = tmp_path_factory.mktemp("pages") / "example"
    init_workspace(root)
    run(root, "plan", "2025", "--today", "2024-01-01")
    run(root, "reschedule", "ccas-dreux/seniors-1/2025-05", "--to", "2025-05-20", "--slot",
        "15:00", "--by", "establishment", "--requested-on", "2025-05-12", "--reason",
        "réunion de service", "--today", "2024-01-01")  # fmt: skip
    run(root, "cancel", "ccas-dreux/seniors-2/2025-05", "--by", "establishment",
        "--requested-on", "2025-05-20", "--reason", "grève", "--today", "2024-01-01")  # fmt: skip
    for day, duration in (("2025-05-14", "1h30"), ("2025-05-15", "45min")):
        run(root, "individual", "add", "--convention", "ccas-dreux", "--date", day,
            "--duration", duration, "--requested-by", "agent")  # fmt: skip
    return root


@pytest.fixture(scope="module")
def printed(example: Path) -> dict[str, Printed]:
    """Each PDF kind of the example, read back page by page."""
    out = example.parent / "pdf"
    run(example, "calendar", "2025", "--format", "pdf", "--output", str(out), "--today",
        "2025-05-21")  # fmt: skip
    for session in ("seniors-1", "seniors-2"):
        run(example, "notice", f"ccas-dreux/{session}/2025-05", "--format", "pdf", "--output",
            str(out))  # fmt: skip
    run(example, "bilan", "2025", "--convention", "ccas-dreux", "--format", "pdf", "--output",
        str(out), "--today", "2025-12-31")  # fmt: skip
    run(example, "invoice", "--month", "2025-05", "--format", "pdf", "--output", str(out),
        "--today", "2025-06-02")  # fmt: skip
    run(example, "credit-note", "2025-0001", "--reason", "erreur de groupe", "--today",
        "2025-06-10")  # fmt: skip
    files = {
        "calendar": out / "calendrier-ccas-dreux-2025-v1.pdf",
        "notice-moved": out / "avis-ccas-dreux-seniors-1-2025-05-1.pdf",
        "notice-cancelled": out / "avis-ccas-dreux-seniors-2-2025-05-1.pdf",
        "bilan": out / "bilan-ccas-dreux-2025.pdf",
        "invoice": out / "2025-0001.pdf",
        "credit-note": example / "invoices" / "AV-2025-0001.pdf",
    }
    return {kind: read(path) for kind, path in files.items()}


def pages_of(printed: dict[str, Printed]) -> Iterator[tuple[str, Page]]:
    for kind, document in printed.items():
        for page in document.pages:
            yield f"{kind} page {page.number}", page


def ink(image: Any, left: float, top: float, right: float, bottom: float) -> Any:
    """The box of the ink in a region given in millimetres from the top left corner, or None."""
    box = tuple(round(v * MM) for v in (left, top, right, bottom))
    return image.crop(box).point(lambda v: 255 if v < INK else 0).getbbox()


# --- every page ---------------------------------------------------------------------------------


def test_each_document_has_its_pages_in_a4_portrait(printed: dict[str, Printed]) -> None:
    assert {kind: len(document.pages) for kind, document in printed.items()} == PAGES
    for where, page in pages_of(printed):
        assert page.size == pytest.approx(A4, abs=0.5), where


def test_every_page_has_ink_and_none_in_the_outer_margins(printed: dict[str, Printed]) -> None:
    for where, page in pages_of(printed):
        width, height = (v / MM for v in page.image.size)
        bands = {
            "left": (0, 0, SIDE_BAND, height),
            "right": (width - SIDE_BAND, 0, width, height),
            "top": (0, 0, width, TOP_BAND),
            "bottom": (0, height - BOTTOM_BAND, width, height),
        }
        for edge, region in bands.items():
            assert ink(page.image, *region) is None, f"{where}: ink in the {edge} margin"
        body = ink(page.image, SIDE_BAND, TOP_BAND, width - SIDE_BAND, height - FOOTER_TOP)
        assert body is not None and body[3] - body[1] > 20 * MM, f"{where}: blank"
        footer = ink(page.image, 0, height - FOOTER_TOP, width, height - BOTTOM_BAND)
        assert footer is not None, f"{where}: no page number"
        middle = (footer[0] + footer[2]) / 2 / MM
        assert abs(middle - width / 2) < 3, f"{where}: something else than the page number"


def test_every_page_is_numbered(printed: dict[str, Printed]) -> None:
    for kind, document in printed.items():
        total = len(document.pages)
        for page in document.pages:
            assert f"page {page.number}/{total}" in page.text, f"{kind} page {page.number}"


def test_one_time_format_and_one_parenthesis(printed: dict[str, Printed]) -> None:
    """``9h00–10h30`` and ``1 h 30``, never ``09:00-10:30``, ``1h30`` or ``45min``; an article
    cited after a parenthesis goes inside it, never ``(zone A) (art. 2.1)``."""
    slot = re.compile(r"\b\d{1,2}h\d\d–\d{1,2}h\d\d\b")
    for where, page in pages_of(printed):
        split = re.search(r"\dh\d\d– \d", page.text)
        assert not split, f"{where}: a slot split at the end of a line: {split}"
        other = re.search(r"\d:\d\d|\dmin\b|\dh\d\d|\dh\b", slot.sub("", page.text))
        assert not other, f"{where}: another time format: {other}"
        double = re.search(r"\)\s*\(", page.text)
        assert not double, f"{where}: two parentheses in a row: {double}"
    invoice = printed["invoice"].pages[0].text
    assert "9h00–10h30" in invoice and "— 1 h 30" in invoice and "— 45 min" in invoice


# --- the calendar: a table is never split across pages -----------------------------------------


def calendar_tables(markdown: str) -> dict[str, dict[str, tuple[str, list[str]]]]:
    """From the calendar's Markdown: per part (``mois``, ``groupe``), each table's heading ->
    (the line under it, or ``""``; each row's ``date slot``)."""
    tables: dict[str, dict[str, tuple[str, list[str]]]] = {"mois": {}, "groupe": {}}
    part = heading = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            part = "mois" if "par mois" in line else "groupe" if "par groupe" in line else None
            heading = None
        elif line.startswith("### ") and part is not None:
            heading = line[4:]
            tables[part][heading] = ("", [])
        elif part is not None and heading is not None:
            rows = tables[part][heading][1]
            if line.startswith("| ") and not line.startswith(("| Date", "| ---")):
                day, slot = line.split(" | ")[:2]
                rows.append(f"{day[2:]} {slot}")
            elif line and not line.startswith("|") and not rows:
                tables[part][heading] = (line, rows)
    return tables


def test_no_table_of_the_calendar_is_split_across_pages(
    example: Path, printed: dict[str, Printed]
) -> None:
    """Each month's table (then each group's) is on one page with its heading: the heading and
    every row ``date slot`` on the same page, in the part of the page for that table."""
    markdown = run(example, "calendar", "2025", "--today", "2025-05-21").stdout
    tables = calendar_tables(markdown)
    assert len(tables["mois"]) == 7 and len(tables["groupe"]) == 8
    texts = [page.text for page in printed["calendar"].pages]
    (split,) = [i for i, text in enumerate(texts) if "Séances par groupe" in text]
    parts = {
        "mois": [*texts[:split], texts[split].split("Séances par groupe")[0]],
        "groupe": [""] * split + [texts[split].split("Séances par groupe")[1], *texts[split + 1 :]],
    }
    columns = {"mois": "Date Horaire Groupe Lieu Statut", "groupe": "Date Horaire Lieu Statut"}
    for part, found in tables.items():
        for heading, (under, rows) in found.items():
            opening = " ".join(filter(None, [heading, under, columns[part]]))
            on = [i for i, text in enumerate(parts[part]) if opening in text]
            assert len(on) == 1, f"{heading}: heading on pages {[i + 1 for i in on]}"
            for row in rows:
                holding = [i for i, text in enumerate(parts[part]) if row in text]
                assert holding == on, f"{heading}: {row} on pages {[i + 1 for i in holding]}"


# --- the invoice --------------------------------------------------------------------------------


def test_the_iban_is_printed_in_groups_of_four(printed: dict[str, Printed]) -> None:
    text = " ".join(page.text for page in printed["invoice"].pages)
    assert f"IBAN : {IBAN} — BIC : AGRIFRPP882" in text
    assert IBAN.replace(" ", "") not in text
    credit = " ".join(page.text for page in printed["credit-note"].pages)
    assert "IBAN" not in credit  # a credit note asks for no payment
