"""The one exception hierarchy of apptool, and the problems it carries.

Every user mistake becomes a :class:`Problem` (file, line, field, message). Loading collects
*all* problems before failing, so a user fixes a file in one pass. The CLI turns an
:class:`AppToolError` into its exit code in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Where a value sits in a file: ``("groups", 3, "cadence")``.
Path_ = tuple[str | int, ...]


def field_name(loc: Path_) -> str:
    """``("groups", 3, "cadence")`` -> ``groups[3].cadence``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def field_path(name: str) -> Path_:
    """``groups[3].cadence`` -> ``("groups", 3, "cadence")`` (the inverse of field_name)."""
    return tuple(
        int(part[1:-1]) if part.startswith("[") else part
        for part in re.findall(r"\[\d+\]|[^.\[\]]+", name)
    )


def did_you_mean(name: object, known: Iterable[str], what: str = "") -> str:
    """What to type instead of an unknown ``name``: `` (did you mean 'x'?)`` from the closest
    of ``known``, else the list of known names when it is short (`` (known: a, b)``)."""
    import difflib

    choices = sorted({k for k in known if isinstance(k, str)})
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.6)
    if close:
        shown = [repr(c) for c in close]
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
        return f" (did you mean {listed}?)"
    if choices and len(choices) <= 12:
        return f" (known{' ' + what if what else ''}: " + ", ".join(choices) + ")"
    return ""


# Exit codes: the README's table ("Exit codes") is generated from EXIT_MEANINGS by a test.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_NO_PLAN = 3
EXIT_REFUSED = 4
EXIT_BUSY = 5
EXIT_INTERRUPTED = 130

EXIT_MEANINGS = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "a file could not be written (disk full, permissions: nothing was "
    "half-written), or an internal error (a bug: set `APPTOOL_DEBUG=1` for the traceback and "
    "report it)",
    EXIT_INVALID: "invalid input: YAML syntax, wrong type, unknown key, unknown group, "
    "impossible date, a broken rule in a file, a bad command-line argument",
    EXIT_NO_PLAN: "no valid plan: the message says what cannot be placed and why",
    EXIT_REFUSED: "a change refused by a rule of the convention (notice, period, an order's "
    "maximum...)",
    EXIT_BUSY: "the workspace is busy: another apptool command held its lock for 10 s "
    "(`APPTOOL_LOCK_TIMEOUT` to change the wait)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's input, located as precisely as possible."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class AppToolError(Exception):
    """Base of every error the tool reports to the user (never a traceback)."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def lines(self) -> list[str]:
        """The lines to print: the problems one per line, or the message."""
        if self.problems:
            return [str(p) for p in self.problems]
        return [self.message]


class InvalidInput(AppToolError):
    """The workspace's files are wrong (syntax, type, unknown key, broken rule)."""

    exit_code = EXIT_INVALID


class NoValidPlan(AppToolError):
    """No calendar can satisfy every hard rule; the message says what blocks it."""

    exit_code = EXIT_NO_PLAN


class RuleRefused(AppToolError):
    """A requested change breaks a rule of the convention (notice, period...)."""

    exit_code = EXIT_REFUSED


class WorkspaceBusy(AppToolError):
    """Another apptool command holds the workspace lock."""

    exit_code = EXIT_BUSY
