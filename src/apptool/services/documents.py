"""Use cases of the documents for the establishment: calendar, notice, bilan, note.

They load the files, ask :mod:`apptool.output.documents` for the data of each document,
render the templates and write the records (under the workspace lock); they print nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from apptool.domain.models import Contact
from apptool.domain.records import (
    Distribution,
    Distributions,
    IndividualConsultations,
    Notes,
    SessionNote,
)
from apptool.domain.schedule import Session, sort_key
from apptool.errors import InvalidInput, Problem, RuleRefused
from apptool.output.documents import (
    CANCELLED,
    BilanDocument,
    NoticeDocument,
    Release,
    bilan_document,
    calendar_document,
    notice_document,
    release,
    snapshot,
)
from apptool.output.export import sessions_ics
from apptool.output.mail import calendar_invitations, message, notice_invitation
from apptool.output.pdf import pdf_from_html
from apptool.output.render import render
from apptool.services.common import known_convention
from apptool.store.calendars import Calendars, load_calendars
from apptool.store.records import (
    DISTRIBUTIONS,
    INDIVIDUAL,
    NOTES,
    load_records,
    load_themes,
    write_records,
)
from apptool.store.workspace import Workspace, locked


@dataclass
class RenderedDocument:
    """A document rendered: its file name (without extension), Markdown and HTML."""

    stem: str
    markdown: str
    html: str
    created: date  # the date the PDF carries
    ics: str | None = None
    eml: bytes | None = None

    def pdf(self) -> bytes:
        return pdf_from_html(self.html, created=self.created)


def _render(name: str, root: Path, stem: str, created: date, **context: Any) -> RenderedDocument:
    return RenderedDocument(
        stem,
        render(f"{name}.md.j2", context, root),
        render(f"{name}.html.j2", context, root),
        created,
    )


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _year_sessions(record: Calendars, year: int) -> list[Session]:
    if year not in record.calendars:
        raise InvalidInput(
            f"no calendar for {year} (calendars/{year}.yaml): run `apptool plan {year}` first"
        )
    return list(record.calendars[year].sessions)


@dataclass
class CalendarOutcome:
    convention: str
    year: int
    rendered: RenderedDocument
    release: Release
    changes: list[str]
    recorded: Path | None = None
    #: The last version rendered again differs from the one distributed (templates changed).
    differs: bool = False
    warnings: list[str] = field(default_factory=list)


def calendars(
    root: Path,
    year: int,
    today: date,
    convention: str | None = None,
    draft: bool = False,
    ics: bool = False,
    eml: bool = False,
) -> list[CalendarOutcome]:
    """``apptool calendar YEAR``: one document per convention; each new version recorded.

    A distribution (not a draft) whose sessions changed since the last version is recorded in
    ``records/distributions.yaml``; unchanged, the last version is rendered again.
    """
    with locked(root):
        record = load_calendars(root)
        workspace = record.workspace
        if convention is not None:
            known_convention(workspace, convention)
        sessions = _year_sessions(record, year)
        wanted = [
            c
            for c in workspace.conventions
            if (convention is None or c == convention) and any(s.convention == c for s in sessions)
        ]
        if not wanted:
            raise InvalidInput(f"{convention or 'no convention'} has no session in {year}")
        distributions = load_records(root, DISTRIBUTIONS, Distributions)
        recorded = list(distributions.distributions)
        outcomes = []
        for conv_id in wanted:
            mine = [s for s in sessions if s.convention == conv_id]
            current = snapshot(mine)
            versions = distributions.versions(conv_id, year)
            rel = release(versions, current, today, draft)
            doc = calendar_document(
                conv_id,
                workspace.conventions[conv_id],
                workspace.practitioner,
                year,
                mine,
                rel,
                current,
            )
            rendered = _render("calendar", workspace.root, doc.file_stem, rel.date, doc=doc)
            if ics:
                rendered.ics = sessions_ics(
                    sorted(mine, key=sort_key), workspace.conventions, rel.date
                )
            if eml:
                organizer, contacts = _sender(workspace), _recipients(workspace, conv_id)
                rendered.eml = message(
                    subject=f"Calendrier {year} des séances d'analyse de pratiques "
                    f"professionnelles — {doc.version_label}",
                    sender=organizer,
                    recipients=contacts,
                    day=rel.date,
                    stem=rendered.stem,
                    text=rendered.markdown,
                    pdf=rendered.pdf(),
                    invitations=calendar_invitations(
                        sorted(mine, key=sort_key),
                        workspace.conventions,
                        rel.date,
                        organizer,
                        contacts,
                    ),
                )
            outcome = CalendarOutcome(conv_id, year, rendered, rel, doc.changes)
            sha = content_sha256(rendered.markdown)
            if rel.new:
                assert rel.version is not None
                recorded.append(
                    Distribution(
                        convention=conv_id,
                        year=year,
                        version=rel.version,
                        date=rel.date,
                        sha256=sha,
                        sessions=current,
                    )
                )
                outcome.recorded = root / "records" / DISTRIBUTIONS
            elif rel.version is not None:
                outcome.differs = versions[-1].sha256 != sha
            outcomes.append(outcome)
        if any(o.recorded for o in outcomes):
            write_records(
                root,
                DISTRIBUTIONS,
                Distributions(
                    distributions=sorted(recorded, key=lambda d: (d.convention, d.year, d.version))
                ),
            )
        return outcomes


@dataclass
class NoticeOutcome:
    session: Session
    document: NoticeDocument
    rendered: RenderedDocument


def _sender(workspace: Workspace) -> tuple[str, str]:
    """Who sends the e-mails: the practitioner, at the profile's ``billing.email``."""
    billing = workspace.practitioner.billing
    if billing is None or not billing.email:
        raise InvalidInput(
            "an e-mail needs a sender: give billing.email in practitioner.yaml",
            [
                Problem(
                    "practitioner.yaml",
                    None,
                    "billing.email",
                    "missing: the address the e-mails are sent from",
                )
            ],
        )
    return workspace.practitioner.name, billing.email


def _recipients(workspace: Workspace, convention_id: str) -> list[Contact]:
    """Who receives the e-mails: the establishment's ``contacts``."""
    contacts = workspace.conventions[convention_id].establishment.contacts
    if not contacts:
        doc = workspace.documents[convention_id]
        raise InvalidInput(
            f"no recipient for {convention_id}",
            [
                doc.problem(
                    ("establishment", "contacts"),
                    "missing: give the establishment's contacts, e.g. contacts: "
                    "[{name: Direction, email: direction@example.fr}]",
                )
            ],
        )
    return contacts


def notice(root: Path, session_id: str, eml: bool = False) -> NoticeOutcome:
    """``apptool notice SESSION``: the letter for the session's last change; with ``eml``,
    a ready-to-send e-mail carrying the PDF and the invitation that updates the event."""
    record = load_calendars(root)
    session = record.find(session_id)
    workspace = record.workspace
    doc = notice_document(
        workspace.conventions[session.convention], workspace.practitioner, session
    )
    rendered = _render("notice", workspace.root, doc.file_stem, doc.created, doc=doc)
    if eml:
        organizer = _sender(workspace)
        contacts = _recipients(workspace, session.convention)
        rendered.eml = message(
            subject=doc.subject,
            sender=organizer,
            recipients=contacts,
            day=doc.created,
            stem=doc.file_stem,
            text=rendered.markdown,
            pdf=rendered.pdf(),
            invitations=[
                notice_invitation(session, workspace.conventions, doc.created, organizer, contacts)
            ],
        )
    return NoticeOutcome(session, doc, rendered)


@dataclass
class BilanOutcome:
    document: BilanDocument
    rendered: RenderedDocument


def bilan(root: Path, year: int, convention: str, today: date) -> BilanOutcome:
    """``apptool bilan YEAR --convention ID``: the annual report (art. 2.3)."""
    record = load_calendars(root)
    known_convention(record.workspace, convention)
    sessions = _year_sessions(record, year)
    if not any(s.convention == convention for s in sessions):
        raise InvalidInput(f"{convention} has no session in {year}")
    notes = load_records(root, NOTES, Notes).notes
    consultations = load_records(root, INDIVIDUAL, IndividualConsultations).consultations
    workspace = record.workspace
    doc = bilan_document(
        convention,
        workspace.conventions[convention],
        workspace.practitioner,
        year,
        sessions,
        notes,
        load_themes(root),
        consultations,
        today,
    )
    return BilanOutcome(doc, _render("bilan", record.workspace.root, doc.file_stem, today, doc=doc))


def record_note(
    root: Path,
    session_id: str,
    today: date,
    themes: list[str] | None = None,
    attendance: int | None = None,
    text: str | None = None,
) -> SessionNote:
    """``apptool note SESSION``: record (or complete) the notes of a session that took place.

    Given options replace the recorded ones; the others are kept.
    """
    with locked(root):
        record = load_calendars(root)
        session = record.find(session_id)
        known = load_themes(root)
        if themes:
            if not known.themes:
                raise InvalidInput(
                    "no theme is defined: list them in themes.yaml at the "
                    "workspace root (see README, `themes.yaml`)"
                )
            ids = [t.id for t in known.themes]
            unknown = [t for t in themes if t not in ids]
            if unknown:
                raise InvalidInput(
                    f"unknown theme(s) {', '.join(map(repr, unknown))} (known: {', '.join(ids)})"
                )
        if session.status in CANCELLED:
            raise RuleRefused(
                f"{session.id} was {session.status}: a note records a session that took place"
            )
        if session.date > today:
            raise RuleRefused(
                f"{session.id} takes place on {session.date}, after {today}: "
                "record its note once it has taken place"
            )
        recorded = load_records(root, NOTES, Notes)
        previous = next((n for n in recorded.notes if n.session == session.id), None)
        try:
            note = _note(session, today, themes, attendance, text, previous)
        except ValidationError as exc:
            raise InvalidInput(
                "invalid note",
                [
                    Problem("note", None, "--" + str(e["loc"][0]), str(e["msg"]))
                    for e in exc.errors()
                ],
            ) from None
        notes = sorted(
            [*(n for n in recorded.notes if n.session != session.id), note], key=lambda n: n.session
        )
        write_records(root, NOTES, Notes(notes=notes))
        return note


def _note(
    session: Session,
    today: date,
    themes: list[str] | None,
    attendance: int | None,
    text: str | None,
    previous: SessionNote | None,
) -> SessionNote:
    """The note of a session: the options given, the previous note's for the others."""
    return SessionNote(
        session=session.id,
        convention=session.convention,
        recorded_on=today,
        themes=list(dict.fromkeys(themes))
        if themes is not None
        else (previous.themes if previous else []),
        attendance=attendance
        if attendance is not None
        else (previous.attendance if previous else None),
        text=text if text is not None else (previous.text if previous else None),
    )
