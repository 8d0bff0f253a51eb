"""Tables for the terminal, laid out for the width they are shown in.

The command line gives the columns, the rows and the width (the terminal's, or ``None`` when
the output goes to a file or a pipe: then every cell is printed whole, one line per row, for
``grep`` and ``cut``). In a terminal the table is narrowed step by step, never by cutting a
value: text columns wrap on words, then the columns that repeat another one are dropped
(named in a last line), and when even the essential columns do not fit side by side each row
becomes a short block, its first line the essential values and one ``name: value`` line for
each other column.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

GAP = "  "


@dataclass(frozen=True)
class Column:
    """A column: its header, whether its text may wrap onto several lines, and when it may be
    left out of a narrow terminal (``drop``: 0 never; the highest numbers go first)."""

    header: str
    wrap: bool = False
    drop: int = 0
    right: bool = False


@dataclass
class Table:
    """A titled table; ``notes`` are lines printed under a row (its history, say)."""

    columns: Sequence[Column]
    rows: list[Sequence[str]] = field(default_factory=list)
    notes: list[list[str]] = field(default_factory=list)
    title: str | None = None

    def add(self, *cells: str, notes: Sequence[str] = ()) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)
        self.notes.append([n for n in notes if n])


#: Below this character (Latin letters with their accents: "Pôle", "Séverine"), none is wide
#: or combining: a text of them takes one column a character.
_FIRST_WIDE_OR_COMBINING = "\u0300"


def cell_width(text: str) -> int:
    """Columns a text takes in a terminal (wide East Asian characters take two, combining
    marks none)."""
    if text.isascii() or max(text) < _FIRST_WIDE_OR_COMBINING:  # one column each
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - cell_width(text))
    return space + text if right else text + space


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns, broken on spaces (a longer word is split)."""
    if cell_width(text) <= width:
        return [text]
    return textwrap.wrap(text, max(width, 1), break_on_hyphens=False) or [""]


def _natural(table: Table, index: int) -> int:
    column = table.columns[index]
    return max([cell_width(column.header)] + [cell_width(row[index]) for row in table.rows])


def _least(table: Table, index: int) -> int:
    """The narrowest a wrapping column may get: 16 columns (a text squeezed further reads
    worse than a column left out), its header and its longest word (a word longer than 20
    columns may be split)."""
    column = table.columns[index]
    natural = _natural(table, index)
    words = [min(cell_width(w), 20) for row in table.rows for w in row[index].split()]
    return min(natural, max([cell_width(column.header), 16, *words]))


def _fit(table: Table, shown: list[int], width: int) -> dict[int, int] | None:
    """Column widths that fit in ``width`` by wrapping text columns, or None."""
    widths = {i: _natural(table, i) for i in shown}
    excess = sum(widths.values()) + len(GAP) * (len(shown) - 1) - width
    wrapping = sorted((i for i in shown if table.columns[i].wrap), key=lambda i: -widths[i])
    for i in wrapping:
        if excess <= 0:
            break
        give = min(excess, widths[i] - _least(table, i))
        if give > 0:
            widths[i] -= give
            excess -= give
    return widths if excess <= 0 else None


def _rule(widths: list[int], fancy: bool) -> str:
    return GAP.join(("─" if fancy else "-") * w for w in widths)


def _note_lines(notes: list[str], width: int | None) -> list[str]:
    lines: list[str] = []
    for note in notes:
        if width is None:
            lines.append("    " + note)
        else:
            lines += textwrap.wrap(
                note,
                max(width, 20),
                initial_indent="    ",
                subsequent_indent="      ",
                break_on_hyphens=False,
            )
    return lines


def _side_by_side(
    table: Table, shown: list[int], widths: dict[int, int], fancy: bool, width: int | None
) -> list[str]:
    bold = ("\x1b[1m", "\x1b[0m") if fancy else ("", "")
    header = GAP.join(
        _pad(table.columns[i].header, widths[i], table.columns[i].right) for i in shown
    ).rstrip()
    lines = [bold[0] + header + bold[1], _rule([widths[i] for i in shown], fancy)]
    for row, notes in zip(table.rows, table.notes, strict=True):
        cells = {i: _wrap(row[i], widths[i]) if table.columns[i].wrap else [row[i]] for i in shown}
        for k in range(max(len(c) for c in cells.values())):
            lines.append(
                GAP.join(
                    _pad(
                        cells[i][k] if k < len(cells[i]) else "", widths[i], table.columns[i].right
                    )
                    for i in shown
                ).rstrip()
            )
        lines += _note_lines(notes, width)
    return lines


def _stacked(table: Table, width: int) -> list[str]:
    """One block per row: the essential values on its first line, then ``name: value`` for
    each essential text column (the droppable columns are left out)."""
    key = [i for i, c in enumerate(table.columns) if c.drop == 0 and not c.wrap]
    lines: list[str] = []
    for row, notes in zip(table.rows, table.notes, strict=True):
        first = GAP.join(row[i] for i in key if row[i])
        lines += textwrap.wrap(first, width, subsequent_indent="  ", break_on_hyphens=False)
        for i, column in enumerate(table.columns):
            if i in key or column.drop > 0 or not row[i]:
                continue
            lines += textwrap.wrap(
                f"{column.header}: {row[i]}",
                max(width, 20),
                initial_indent="  ",
                subsequent_indent="    ",
                break_on_hyphens=False,
            )
        lines += _note_lines(notes, width)
    return lines


def render_table(table: Table, width: int | None, fancy: bool = False) -> str:
    """The table as text for a terminal ``width`` columns wide (``None``: not a terminal,
    nothing wrapped). ``fancy``: a bold header and a drawn rule, for a colour terminal."""
    lines = [table.title] if table.title else []
    every = list(range(len(table.columns)))
    if width is None:
        widths = {i: _natural(table, i) for i in every}
        return "\n".join(lines + _side_by_side(table, every, widths, fancy, None)) + "\n"
    shown = every
    while True:
        widths_or_none = _fit(table, shown, width)
        if widths_or_none is not None:
            lines += _side_by_side(table, shown, widths_or_none, fancy, width)
            break
        droppable = [i for i in shown if table.columns[i].drop > 0]
        if not droppable:
            lines += _stacked(table, width)
            shown = [i for i in every if table.columns[i].drop == 0]
            break
        worst = max(droppable, key=lambda i: (table.columns[i].drop, i))
        shown = [i for i in shown if i != worst]
    hidden = [table.columns[i].header for i in every if i not in shown]
    if hidden and table.rows:
        lines += textwrap.wrap(
            f"({', '.join(hidden)} not shown at {width} columns: widen the terminal, "
            "or use --format json)",
            width,
        )
    return "\n".join(lines) + "\n"
