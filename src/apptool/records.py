"""What the tool records besides the calendars: terminations and individual consultations.

Both live in ``records/`` as YAML written by the tool (atomically, under the lock) and are
validated on load like every other file. The user's convention files are never rewritten:
a termination is recorded here and applied to the convention when the workspace loads.

Individual consultations are confidential (art. 1.2, 2.2, 6): there is no name field; ``ref``
is an opaque code chosen by the practitioner, and nothing meant for the establishment shows
more than the date, the duration and the amount.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import PlainValidator

from .errors import InvalidInput
from .loading import read_yaml, validate
from .models import Day, Duration, Identifier, Strict
from .schedule import Party

RECORDS = "records"
TERMINATIONS = "terminations.yaml"
INDIVIDUAL = "individual.yaml"

R = TypeVar("R", bound=Strict)


def _opaque_ref(value: Any) -> str:
    """An opaque code (``A-017``): letters, digits, '-' and '_', at least one digit.

    Requiring a digit keeps names out of the records (art. 2.2: strictly confidential).
    """
    if (not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", value)
            or not re.search(r"\d", value)):
        raise ValueError(f"{value!r} is not an opaque code: use up to 20 letters, digits, "
                         "'-' or '_' with at least one digit (e.g. A-017), never a name "
                         "(art. 2.2)")
    return value


OpaqueRef = Annotated[str, PlainValidator(_opaque_ref)]


class Termination(Strict):
    """A recorded termination of a convention (art. 9.3)."""

    convention: Identifier
    notice_on: Day
    force_majeure: bool = False
    by: Party | None = None
    effective_end: Day


class Terminations(Strict):
    terminations: list[Termination] = []


class IndividualConsultation(Strict):
    """An individual consultation (art. 1.2, 2.2): no name, only an optional opaque code."""

    id: str
    convention: Identifier
    date: Day
    duration: Duration
    ref: OpaqueRef | None = None
    requested_by: Literal["agent", "manager", "practitioner"] | None = None


class IndividualConsultations(Strict):
    consultations: list[IndividualConsultation] = []


def records_path(root: Path, name: str) -> Path:
    return root / RECORDS / name


def load_records(root: Path, name: str, model: type[R]) -> R:
    """A records file, validated; an empty model when the file does not exist yet."""
    path = records_path(root, name)
    if not path.exists():
        return model()
    doc = read_yaml(path, f"{RECORDS}/{name}")
    if doc.data is None:
        return model()
    record, problems = validate(doc, model)
    if record is None:
        raise InvalidInput(f"{doc.display} has errors", problems)
    return record
