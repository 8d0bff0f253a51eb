"""The files of ``records/``, written by the tool (atomically, under the lock) and validated on
load like every other file, and ``themes.yaml`` (written by the user).

The models of what they hold are in :mod:`apptool.domain.records`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from apptool.domain.models import Strict
from apptool.domain.orders import RecordedOrders
from apptool.domain.records import (
    Distributions,
    IndividualConsultations,
    Notes,
    Terminations,
    Themes,
)
from apptool.domain.source import Document
from apptool.errors import InvalidInput
from apptool.store.files import dump_yaml, write_atomic
from apptool.store.loading import read_yaml, validate_document

RECORDS = "records"
TERMINATIONS = "terminations.yaml"
INDIVIDUAL = "individual.yaml"
DISTRIBUTIONS = "distributions.yaml"
NOTES = "notes.yaml"
PURCHASE_ORDERS = "purchase-orders.yaml"
#: The workspace's list of themes (optional, at the workspace root, written by the user).
THEMES = "themes.yaml"

R = TypeVar("R", bound=Strict)

#: Every file of ``records/`` the tool reads, and its model (``apptool check`` reads them all).
RECORD_MODELS: dict[str, type[Strict]] = {
    TERMINATIONS: Terminations,
    PURCHASE_ORDERS: RecordedOrders,
    INDIVIDUAL: IndividualConsultations,
    NOTES: Notes,
    DISTRIBUTIONS: Distributions,
}


def records_path(root: Path, name: str) -> Path:
    return root / RECORDS / name


def load_records(root: Path, name: str, model: type[R]) -> R:
    """A records file, validated; an empty model when the file does not exist yet."""
    return load_records_document(root, name, model)[0]


def load_records_document(root: Path, name: str, model: type[R]) -> tuple[R, Document | None]:
    """A records file, validated, and its document (the line of every entry); an empty model
    and no document when the file does not exist yet."""
    path = records_path(root, name)
    if not path.exists():
        return model(), None
    doc = read_yaml(path, f"{RECORDS}/{name}")
    if doc.data is None:
        return model(), doc
    record, problems = validate_document(doc, model)
    if record is None:
        raise InvalidInput(f"{doc.display} has errors", problems)
    return record, doc


def write_records(root: Path, name: str, record: Strict) -> Path:
    """Write a records file atomically (caller holds the lock)."""
    path = records_path(root, name)
    write_atomic(
        path,
        dump_yaml(
            record.model_dump(mode="json", by_alias=True, exclude_defaults=False),
            f"# apptool records: {name}, written by the tool.\n",
        ),
    )
    return path


def load_themes(root: Path) -> Themes:
    """``themes.yaml`` at the workspace root, validated (ids unique); empty when absent."""
    path = root / THEMES
    if not path.exists():
        return Themes()
    doc = read_yaml(path, THEMES)
    if doc.data is None:
        return Themes()
    themes, problems = validate_document(doc, Themes)
    items = doc.data.get("themes") if isinstance(doc.data, dict) else None
    seen: set[str] = set()
    for index, item in enumerate(items if isinstance(items, list) else []):
        theme_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(theme_id, str) and theme_id in seen:
            problems.append(
                doc.problem(("themes", index, "id"), f"theme {theme_id!r} defined twice")
            )
        if isinstance(theme_id, str):
            seen.add(theme_id)
    problems.sort(key=lambda p: (p.line or 0, p.field, p.message))
    if problems or themes is None:
        raise InvalidInput(f"{doc.display} has errors", problems)
    return themes
