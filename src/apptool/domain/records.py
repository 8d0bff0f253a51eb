"""What the tool records besides the calendars: terminations, individual consultations, the
calendars distributed to the establishments and the practitioner's notes on sessions.

They live in ``records/`` as YAML written by the tool (atomically, under the lock) and are
validated on load like every other file. The user's convention files are never rewritten:
a termination is recorded here and applied to the convention when the workspace loads.

Individual consultations are confidential (art. 1.2, 2.2, 6): there is no name field; ``ref``
is an opaque code chosen by the practitioner, and nothing meant for the establishment shows
more than the date, the duration and the amount; the annual report (bilan) shows only their
count and total hours, and "moins de 3" below three consultations.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator

from apptool.domain.models import Day, Duration, Identifier, Strict, TimeOfDay
from apptool.domain.schedule import Party, SessionStatus

#: The longest run of letters an opaque code may hold: a name, or a word, always has more.
MAX_LETTERS_IN_A_ROW = 2
#: The most participants a group session's note may give.
MAX_ATTENDANCE = 200


def _opaque_ref(value: Any) -> str:
    """An opaque code (``A-017``): up to 20 letters, digits, '-' and '_', with at least one
    digit and never more than two letters in a row.

    Art. 2.2 (strictly confidential): a code must not carry a name. A name, a nickname or a
    word has three letters in a row (``Martin7``, ``Jo-Dupont``, ``Eva1``); an opaque code never
    needs them (``A-017``, ``AB12``, ``2025-C3``), so the rule refuses every name without a
    list of names.
    """
    if (
        not isinstance(value, str)
        or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", value)
        or not re.search(r"[0-9]", value)
        or re.search(rf"[A-Za-z]{{{MAX_LETTERS_IN_A_ROW + 1}}}", value)
    ):
        raise ValueError(
            f"{value!r} is not an opaque code: use up to 20 letters, digits, '-' or '_', with "
            f"at least one digit and at most {MAX_LETTERS_IN_A_ROW} letters in a row (e.g. "
            "A-017), never a name or a word (art. 2.2)"
        )
    return value


OpaqueRef = Annotated[str, PlainValidator(_opaque_ref)]


class Termination(Strict):
    """A recorded termination of a convention (art. 9.3).

    A termination withdrawn before its effective end (``apptool terminate --undo``) stays
    here, with the day it was withdrawn (and by whom): it no longer ends the convention.
    """

    convention: Identifier
    notice_on: Day
    force_majeure: bool = False
    by: Party | None = None
    effective_end: Day
    withdrawn_on: Day | None = None
    withdrawn_by: Party | None = None

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None


def withdrawal_record_problems(termination: Termination) -> list[tuple[str, str]]:
    """What is wrong with a recorded withdrawal, as ``(field, message)`` pairs: it comes
    before the effective end (art. 9.3), and ``withdrawn_by`` needs ``withdrawn_on``."""
    if termination.withdrawn_on is None:
        if termination.withdrawn_by is not None:
            return [("withdrawn_by", "withdrawn_by without withdrawn_on")]
        return []
    if termination.withdrawn_on < termination.notice_on:
        return [
            (
                "withdrawn_on",
                f"{termination.withdrawn_on}: a termination is withdrawn after its notice "
                f"({termination.notice_on})",
            )
        ]
    if termination.withdrawn_on >= termination.effective_end:
        return [
            (
                "withdrawn_on",
                f"{termination.withdrawn_on}: a termination is withdrawn before its effective "
                f"end ({termination.effective_end})",
            )
        ]
    return []


class Terminations(Strict):
    terminations: list[Termination] = []

    def active(self, convention: str) -> list[Termination]:
        """The convention's terminations in force (recorded and not withdrawn)."""
        return [t for t in self.terminations if t.convention == convention and t.active]


class IndividualConsultation(Strict):
    """An individual consultation (art. 1.2, 2.2): no name, only an optional opaque code."""

    id: str
    convention: Identifier
    date: Day
    duration: Duration
    ref: OpaqueRef | None = None
    requested_by: Literal["agent", "manager", "practitioner"] | None = None
    #: When and where it takes place (optional): ``office`` (the practitioner's, art. 2.2:
    #: "au cabinet du praticien"), or one of the convention's locations.
    start: TimeOfDay | None = None
    place: Identifier = "office"


class RemovedConsultation(IndividualConsultation):
    """A consultation removed from the record (``apptool individual remove``: an entry made
    by mistake), kept with the day it was removed and why. It is no longer listed, billed
    or counted, and its id is never given again."""

    removed_on: Day
    reason: str | None = None


class IndividualConsultations(Strict):
    consultations: list[IndividualConsultation] = []
    removed: list[RemovedConsultation] = []

    def find(self, consultation_id: str) -> IndividualConsultation | None:
        """The recorded consultation with this id (None when absent or removed)."""
        return next((c for c in self.consultations if c.id == consultation_id), None)

    def find_removed(self, consultation_id: str) -> RemovedConsultation | None:
        return next((c for c in self.removed if c.id == consultation_id), None)

    def ids(self) -> list[str]:
        """Every id ever given, removed ones included: an id is never given twice."""
        return [c.id for c in [*self.consultations, *self.removed]]

    def without(
        self, consultation_id: str, removed_on: date, reason: str | None = None
    ) -> IndividualConsultations:
        """The record with a consultation moved to ``removed`` (kept as a trace, with the day
        and the reason), so that nothing lists, bills or counts it again."""
        found = self.find(consultation_id)
        if found is None:
            raise KeyError(consultation_id)
        trace = RemovedConsultation(**dict(found), removed_on=removed_on, reason=reason)
        return IndividualConsultations(
            consultations=[c for c in self.consultations if c.id != consultation_id],
            removed=sorted([*self.removed, trace], key=lambda c: (c.date, c.id)),
        )


def _sha256(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError(f"{value!r} is not a SHA-256 (64 lowercase hexadecimal digits)")
    return value


Sha256 = Annotated[str, PlainValidator(_sha256)]


class DistributedSession(Strict):
    """A session as a distributed calendar showed it."""

    date: Day
    start: TimeOfDay
    end: TimeOfDay
    location: Identifier
    status: SessionStatus


class Distribution(Strict):
    """One distributed version of a convention's calendar of a year (art. 2.1, art. 3).

    ``sha256`` is the hash of the Markdown distributed; ``sessions`` what it showed, so that
    the next version lists what changed since.
    """

    convention: Identifier
    year: int = Field(ge=1900, le=2999)
    version: int = Field(ge=1)
    date: Day
    sha256: Sha256
    sessions: dict[str, DistributedSession] = {}


class Distributions(Strict):
    distributions: list[Distribution] = []

    def versions(self, convention: str, year: int) -> list[Distribution]:
        """The versions of one calendar, oldest first."""
        return sorted(
            (d for d in self.distributions if (d.convention, d.year) == (convention, year)),
            key=lambda d: d.version,
        )


class SessionNote(Strict):
    """The practitioner's anonymous, group-level observations on one session (art. 2.3).

    ``themes`` are ids of ``themes.yaml``; ``text`` stays with the practitioner: no document
    the tool produces shows it.
    """

    session: str
    convention: Identifier
    recorded_on: Day
    themes: list[Identifier] = []
    attendance: int | None = Field(default=None, ge=0, le=MAX_ATTENDANCE)
    text: str | None = None


class Notes(Strict):
    notes: list[SessionNote] = []


class Theme(Strict):
    """A theme the practitioner may note for a session (``themes.yaml``)."""

    id: Identifier
    label: str = Field(min_length=1)


class Themes(Strict):
    themes: list[Theme] = []

    def label(self, theme_id: str) -> str:
        return next((t.label for t in self.themes if t.id == theme_id), theme_id)
