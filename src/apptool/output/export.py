"""Machine-readable views of sessions: the public JSON format and the RFC 5545 feed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apptool.domain.agenda import consultation_item
from apptool.domain.hard_rules import OFFICE
from apptool.domain.models import Convention, format_duration, format_time
from apptool.domain.records import IndividualConsultation
from apptool.domain.schedule import Session

PARIS = ZoneInfo("Europe/Paris")

#: Keys of one session in ``--format json`` (a public interface: keep stable, add only).
JSON_KEYS = (
    "id",
    "convention",
    "group",
    "group_name",
    "cadence",
    "period",
    "date",
    "start",
    "end",
    "location",
    "status",
)


def session_record(
    session: Session, conventions: dict[str, Convention], today: date
) -> dict[str, Any]:
    """One session as the public JSON format describes it."""
    group = conventions[session.convention].group(session.group)
    return {
        "id": session.id,
        "convention": session.convention,
        "group": session.group,
        "group_name": group.name,
        "cadence": group.cadence,
        "period": session.period,
        "date": session.date.isoformat(),
        "start": format_time(session.start),
        "end": format_time(session.end),
        "location": session.location,
        "status": session.display_status(today),
    }


def sessions_json(
    year: int, sessions: list[Session], conventions: dict[str, Convention], today: date
) -> str:
    """``{"year": Y, "sessions": [...]}``, keys sorted, UTF-8 kept readable."""
    payload = {"year": year, "sessions": [session_record(s, conventions, today) for s in sessions]}
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def sessions_ics(
    sessions: list[Session],
    conventions: dict[str, Convention],
    today: date,
    method: str | None = None,
    organizer: tuple[str, str] | None = None,
    attendees: list[tuple[str | None, str]] | None = None,
) -> str:
    """An RFC 5545 calendar: Europe/Paris times, one stable UID per session.

    A moved session keeps its UID with a higher SEQUENCE; a cancelled one is
    ``STATUS:CANCELLED``, so calendar clients update the event instead of duplicating it.
    With ``method`` (``REQUEST``, ``CANCEL``, ``PUBLISH``) it is an iTIP message (RFC 5546):
    each event names its ``organizer`` (name, e-mail) and ``attendees``.
    """
    calendar = _calendar(method)
    for session in sessions:
        calendar.add_component(
            _session_event(session, conventions, today, organizer, attendees or [])
        )
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode("utf-8"))


def _calendar(method: str | None = None) -> Any:
    from icalendar import Calendar  # lazy: icalendar only for ICS

    calendar = Calendar()
    calendar.add("prodid", "-//apptool//calendrier APP//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    return calendar


def _stamp(today: date) -> datetime:
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def _session_event(
    session: Session,
    conventions: dict[str, Convention],
    today: date,
    organizer: tuple[str, str] | None,
    attendees: list[tuple[str | None, str]],
) -> Any:
    """One session as an event: UID ``<session id>@apptool``, SEQUENCE its changes."""
    from icalendar import Event, vCalAddress  # lazy: icalendar only for ICS

    convention = conventions[session.convention]
    group = convention.group(session.group)
    location = convention.location(session.location)
    event = Event()
    event.add("uid", f"{session.id}@apptool")
    event.add("dtstamp", _stamp(today))
    event.add("dtstart", datetime.combine(session.date, session.start, tzinfo=PARIS))
    event.add("dtend", datetime.combine(session.date, session.end, tzinfo=PARIS))
    event.add("summary", f"APP {group.name} ({convention.establishment.name})")
    event.add("location", ", ".join(filter(None, [location.name, location.address])))
    event.add("description", f"Séance {session.period} — {session.id}")
    event.add("sequence", len(session.history))
    event.add("status", "CANCELLED" if not session.occupies_time else "CONFIRMED")
    if organizer is not None:
        who = vCalAddress(f"mailto:{organizer[1]}")
        who.params["cn"] = organizer[0]
        event.add("organizer", who)
    for name, email in attendees:
        guest = vCalAddress(f"mailto:{email}")
        if name:
            guest.params["cn"] = name
        guest.params["role"] = "REQ-PARTICIPANT"
        event.add("attendee", guest)
    return event


def _consultation_event(
    consultation: IndividualConsultation, conventions: dict[str, Convention], today: date
) -> Any:
    """One individual consultation as an event, without a name (art. 2.2, 6): its id (the
    UID ``<id>@apptool``), opaque code, duration and place. Without its time, an all-day
    event that does not block the day."""
    from icalendar import Event  # lazy: icalendar only for ICS

    convention = conventions.get(consultation.convention)
    establishment = convention.establishment.name if convention else consultation.convention
    event = Event()
    event.add("uid", f"{consultation.id}@apptool")
    event.add("dtstamp", _stamp(today))
    if consultation.start is None:
        event.add("dtstart", consultation.date)
        event.add("transp", "TRANSPARENT")
    else:
        start = datetime.combine(consultation.date, consultation.start, tzinfo=PARIS)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=consultation.duration))
    event.add("summary", f"Consultation individuelle ({establishment})")
    item = consultation_item(consultation, conventions)
    place = "Cabinet" if item.location == OFFICE else item.place
    event.add("location", ", ".join(filter(None, [place, item.address])))
    event.add(
        "description",
        f"Consultation individuelle, {format_duration(consultation.duration)} — {consultation.id}"
        + (f" — réf. {consultation.ref}" if consultation.ref else ""),
    )
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    return event


def agenda_ics(
    sessions: list[Session],
    consultations: list[IndividualConsultation],
    conventions: dict[str, Convention],
    today: date,
) -> str:
    """The sessions as :func:`sessions_ics` gives them (same UIDs and SEQUENCE), and the
    individual consultations, without a name."""
    calendar = _calendar()
    for session in sessions:
        calendar.add_component(_session_event(session, conventions, today, None, []))
    for consultation in consultations:
        calendar.add_component(_consultation_event(consultation, conventions, today))
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode("utf-8"))


def session_history_record(
    session: Session, conventions: dict[str, Convention], today: date
) -> dict[str, Any]:
    """A session in the public format, with ``moved_out_of_period`` and its ``history``."""
    record = session_record(session, conventions, today)
    record["moved_out_of_period"] = session.moved_out_of_period
    record["history"] = [change.model_dump(mode="json") for change in session.history]
    return record


def sessions_history_json(
    sessions: list[Session], conventions: dict[str, Convention], today: date
) -> str:
    """``{"sessions": [...]}`` for ``apptool sessions --format json``."""
    payload = {"sessions": [session_history_record(s, conventions, today) for s in sessions]}
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
