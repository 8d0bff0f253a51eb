"""Where a value was written: a parsed file's data with the line of every key and item.

The validation rules of the domain take a :class:`Document` to name the line of each problem;
the store builds it when it parses a file (``store/loading.py``). Pure data, no I/O.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apptool.errors import Path_, Problem, field_name


class Document:
    """A parsed YAML file: its data and the line of every key and item."""

    def __init__(
        self,
        path: Path,
        display: str,
        data: Any,
        lines: dict[Path_, int],
        problems: list[Problem] | None = None,
    ) -> None:
        self.path = path
        self.display = display
        self.data = data
        self.lines = lines
        #: Problems found while parsing (a key given twice), reported by :func:`validate`.
        self.problems = problems or []

    def line_of(self, loc: Path_) -> int | None:
        """The line of the deepest known prefix of ``loc`` (1-based)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def problem(self, loc: Path_, message: str) -> Problem:
        return Problem(self.display, self.line_of(loc), field_name(loc), message)


class MergedDocument(Document):
    """A convention's document plus the purchase orders recorded in another file.

    The convention's ``orders`` from index ``first`` on were recorded with ``apptool order
    add``: a problem about one of them names the records file and its line (``entries`` maps
    each to its index there, under ``orders[i].order``), never the convention's file.
    """

    def __init__(self, base: Document, records: Document, first: int, entries: list[int]) -> None:
        super().__init__(base.path, base.display, base.data, base.lines, base.problems)
        self.records = records
        self.first = first
        self.entries = entries

    def _recorded(self, loc: Path_) -> Path_ | None:
        if len(loc) >= 2 and loc[0] == "orders" and isinstance(loc[1], int):
            index = loc[1] - self.first
            if 0 <= index < len(self.entries):
                return ("orders", self.entries[index], "order", *loc[2:])
        return None

    def line_of(self, loc: Path_) -> int | None:
        recorded = self._recorded(loc)
        if recorded is not None:
            return self.records.line_of(recorded)
        return super().line_of(loc)

    def problem(self, loc: Path_, message: str) -> Problem:
        recorded = self._recorded(loc)
        if recorded is not None:
            return self.records.problem(recorded, message)
        return super().problem(loc, message)
