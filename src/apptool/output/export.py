"""Machine-readable views of sessions: the public JSON format and the RFC 5545 feed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apptool.domain.models import Convention, format_time
from apptool.domain.schedule import Session

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
    from icalendar import Calendar, Event, vCalAddress  # lazy: icalendar only for ICS

    paris = ZoneInfo("Europe/Paris")
    stamp = datetime(today.year, today.month, today.day, tzinfo=UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//apptool//calendrier APP//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    for session in sessions:
        convention = conventions[session.convention]
        group = convention.group(session.group)
        location = convention.location(session.location)
        event = Event()
        event.add("uid", f"{session.id}@apptool")
        event.add("dtstamp", stamp)
        event.add("dtstart", datetime.combine(session.date, session.start, tzinfo=paris))
        event.add("dtend", datetime.combine(session.date, session.end, tzinfo=paris))
        event.add("summary", f"APP {group.name} ({convention.establishment.name})")
        event.add("location", ", ".join(filter(None, [location.name, location.address])))
        event.add("description", f"Séance {session.period} — {session.id}")
        event.add("sequence", len(session.history))
        event.add("status", "CANCELLED" if not session.occupies_time else "CONFIRMED")
        if organizer is not None:
            who = vCalAddress(f"mailto:{organizer[1]}")
            who.params["cn"] = organizer[0]
            event.add("organizer", who)
        for name, email in attendees or []:
            guest = vCalAddress(f"mailto:{email}")
            if name:
                guest.params["cn"] = name
            guest.params["role"] = "REQ-PARTICIPANT"
            event.add("attendee", guest)
        calendar.add_component(event)
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
