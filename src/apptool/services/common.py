"""Helpers every use case shares."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from apptool.domain.models import Convention
from apptool.errors import InvalidInput
from apptool.store.files import write_atomic
from apptool.store.workspace import Workspace


def known_convention(workspace: Workspace, convention_id: str) -> Convention:
    """The convention with this id, or an error that lists the workspace's conventions."""
    convention = workspace.conventions.get(convention_id)
    if convention is None:
        raise InvalidInput(
            f"unknown convention {convention_id!r} (known: {', '.join(workspace.conventions)})"
        )
    return convention


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` with the closest of ``known``, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def write_output(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a copy of a document the user asked for (``--output``), atomically."""
    path = folder / name
    write_atomic(path, content)
    return path
