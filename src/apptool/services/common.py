"""Helpers every use case shares."""

from __future__ import annotations

from pathlib import Path

from apptool.domain.models import Convention
from apptool.errors import InvalidInput, did_you_mean
from apptool.store.files import write_atomic
from apptool.store.workspace import Workspace


def known_convention(workspace: Workspace, convention_id: str) -> Convention:
    """The convention with this id, or an error that lists the workspace's conventions."""
    convention = workspace.conventions.get(convention_id)
    if convention is None:
        raise InvalidInput(
            f"unknown convention {convention_id!r}"
            + did_you_mean(convention_id, workspace.conventions, "conventions")
        )
    return convention


def write_output(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a copy of a document the user asked for (``--output``), atomically."""
    path = folder / name
    write_atomic(path, content)
    return path
