"""The calendars of record: ``calendars/YEAR.yaml``, read, checked against the conventions,
and written back; :class:`Calendars` holds every year of a workspace at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from apptool.domain.models import MAX_YEAR, MIN_YEAR
from apptool.domain.schedule import (
    CalendarFile,
    Period,
    Session,
    calendar_of,
    calendar_to_data,
    session_id,
)
from apptool.domain.source import Document
from apptool.errors import InvalidInput, Problem, did_you_mean
from apptool.store.files import dump_yaml, read_regular_file, write_atomic
from apptool.store.load_cache import remembered
from apptool.store.loading import decode_text, parse_yaml, read_file_bytes, validate_document
from apptool.store.workspace import CALENDARS, Workspace, load_workspace


def calendar_year(path: Path) -> int | None:
    """The year of a calendar file (``calendars/2025.yaml``), or None for another name."""
    match = re.fullmatch(r"([0-9]{4})\.yaml", path.name)
    if match is None or not MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        return None
    return int(match[1])


def load_calendar(workspace: Workspace, year: int) -> tuple[CalendarFile, Document | None]:
    """The calendar of record of ``year`` (empty if none yet), checked against the conventions."""
    path = workspace.calendar_path(year)
    if not path.exists():
        return calendar_of(year), None
    display = workspace.display(path)
    data = read_file_bytes(path, display)  # parsed from these very bytes, the key of the cache
    doc, calendar, problems, as_written = remembered(
        f"calendar {path} {display}",
        [data],
        lambda: _read_calendar(path, display, data),
        _is_read_calendar,
    )
    if doc.data is None:
        return calendar_of(year), doc
    if calendar is not None:
        problems = problems + calendar_problems(workspace, calendar, doc, year)
    if problems or calendar is None:
        raise InvalidInput(
            f"{doc.display} has errors", sorted(problems, key=lambda p: (p.line or 0, p.field))
        )
    if as_written:
        _AS_WRITTEN[path] = (data, calendar)
    return calendar, doc


#: The calendars loaded by this process whose file holds exactly the bytes the tool writes
#: for them, with those bytes: saving one of them unchanged, over the same bytes, writes
#: nothing.
_AS_WRITTEN: dict[Path, tuple[bytes, CalendarFile]] = {}


def _read_calendar(
    path: Path, display: str, data: bytes
) -> tuple[Document, CalendarFile | None, list[Problem], bool]:
    """A calendar file's bytes parsed and validated (the rules against the conventions
    aside): its document, the calendar, the problems, and whether the bytes are exactly what
    the tool writes for it."""
    doc = parse_yaml(decode_text(data, display), path, display)
    if doc.data is None:
        return doc, None, [], False
    calendar, problems = validate_document(doc, CalendarFile)
    as_written = (
        calendar is not None and not problems and calendar_text(calendar).encode("utf-8") == data
    )
    return doc, calendar, problems, as_written


def _is_read_calendar(value: object) -> bool:
    """Whether a remembered value has the shape :func:`_read_calendar` gives."""
    return (
        isinstance(value, tuple)
        and len(value) == 4
        and isinstance(value[0], Document)
        and (value[1] is None or isinstance(value[1], CalendarFile))
        and isinstance(value[2], list)
        and isinstance(value[3], bool)
    )


def calendar_problems(
    workspace: Workspace, calendar: CalendarFile, doc: Document, year: int
) -> list[Problem]:
    """A plan file names known conventions and groups, with ids that match their parts."""
    problems = []
    if calendar.year != year:
        problems.append(doc.problem(("year",), f"this file is for {year}, not {calendar.year}"))
    seen: set[str] = set()
    for index, session in enumerate(calendar.sessions):
        loc = ("sessions", index)
        convention = workspace.conventions.get(session.convention)
        if convention is None:
            problems.append(
                doc.problem(
                    (*loc, "convention"),
                    f"unknown convention {session.convention!r}"
                    + did_you_mean(session.convention, workspace.conventions),
                )
            )
            continue
        if session.group not in {g.id for g in convention.groups}:
            problems.append(
                doc.problem(
                    (*loc, "group"),
                    f"unknown group {session.group!r} in convention {session.convention!r}"
                    + did_you_mean(session.group, [g.id for g in convention.groups]),
                )
            )
            continue
        if session.location not in {loc_.id for loc_ in convention.locations}:
            problems.append(
                doc.problem(
                    (*loc, "location"),
                    f"unknown location {session.location!r}"
                    + did_you_mean(session.location, [loc_.id for loc_ in convention.locations]),
                )
            )
        try:
            period = Period.parse(session.period)
        except ValueError as exc:
            problems.append(doc.problem((*loc, "period"), str(exc)))
            continue
        cadence = convention.group(session.group).cadence
        if period.cadence != cadence or period.year != year:
            problems.append(
                doc.problem(
                    (*loc, "period"), f"{session.period} is not a {cadence} period of {year}"
                )
            )
        expected = session_id(session.convention, session.group, session.period)
        if session.id != expected:
            problems.append(doc.problem((*loc, "id"), f"{session.id!r} should be {expected!r}"))
        if session.id in seen:
            problems.append(doc.problem((*loc, "id"), f"duplicate session {session.id!r}"))
        seen.add(session.id)
        if session.end <= session.start:
            problems.append(doc.problem((*loc, "end"), "the session ends before it starts"))
    return problems


CALENDAR_HEADER = (
    "# apptool calendar of record for {year}: written by `apptool plan`, `reschedule`, `cancel`.\n"
    "# Sessions already here stay where they are when `apptool plan` runs again.\n"
    "# Hand edits are allowed; `apptool check` verifies them against the hard rules.\n"
)


def calendar_text(calendar: CalendarFile) -> str:
    """The plan file's text: the year first, then the sessions in date order."""
    data = calendar_to_data(calendar)
    return dump_yaml(
        {"year": data.pop("year")}, CALENDAR_HEADER.format(year=calendar.year)
    ) + dump_yaml(data)


def save_calendar(workspace: Workspace, calendar: CalendarFile) -> Path:
    """Write the calendar of record atomically (caller holds the lock)."""
    path = workspace.calendar_path(calendar.year)
    loaded = _AS_WRITTEN.get(path)
    if (
        loaded is not None
        and loaded[1] == calendar
        and read_regular_file(path, len(loaded[0])) == loaded[0]
    ):
        return path  # the file already holds this calendar's text: nothing to write
    write_atomic(path, calendar_text(calendar))
    return path


@dataclass
class Calendars:
    """Every calendar of record of the workspace, loaded and validated."""

    workspace: Workspace
    calendars: dict[int, CalendarFile]

    @property
    def sessions(self) -> list[Session]:
        return [s for year in sorted(self.calendars) for s in self.calendars[year].sessions]

    def find(self, session_id: str) -> Session:
        """The session with this id, or an error that says how to find the ids."""
        for session in self.sessions:
            if session.id == session_id:
                return session
        ids = [s.id for s in self.sessions]
        hint = did_you_mean(session_id, ids)
        if not hint.startswith(" (did you mean"):
            hint = " (ids are CONVENTION/GROUP/PERIOD: see `apptool sessions`)"
        raise InvalidInput(f"unknown session {session_id!r}{hint}")

    def others(self, session: Session) -> list[Session]:
        return [s for s in self.sessions if s.id != session.id]

    def replace(self, *updated: Session) -> list[int]:
        """Put updated sessions in their calendars; the years whose file changed."""
        years = set()
        for session in updated:
            year = int(session.period[:4])
            calendar = self.calendars[year]
            sessions = [session if s.id == session.id else s for s in calendar.sessions]
            self.calendars[year] = calendar_of(year, sessions)
            years.add(year)
        return sorted(years)

    def save(self, years: list[int]) -> list[Path]:
        return [save_calendar(self.workspace, self.calendars[year]) for year in years]


def load_calendars(root: Path) -> Calendars:
    """The workspace and every calendar of record it holds."""
    workspace = load_workspace(root)
    calendars = {}
    for path in sorted((workspace.root / CALENDARS).glob("*.yaml")):
        year = calendar_year(path)
        if year is not None:
            calendars[year] = load_calendar(workspace, year)[0]
    return Calendars(workspace, calendars)
