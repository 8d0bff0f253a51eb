"""The agenda as text for the terminal (day by day, wrapped to its width) and as JSON.

One block per day, headed ``Tuesday 2026-06-02``, then what to know about the day and its
items in the order of the day: the slot, then what and where. Between two items at different
sites, a line in the slot column gives the time between them, the travel and the time left.
In a terminal, lines are wrapped on spaces to its width, never inside a word (an id); below
60 columns an item's next lines start under its slot. Piped (no width), each line is
printed whole.
"""

from __future__ import annotations

import json
import textwrap
from datetime import time
from typing import Any

from apptool.domain.agenda import Agenda, Item, Travel
from apptool.domain.hard_rules import OFFICE
from apptool.domain.models import WEEKDAYS, format_duration, format_time

#: The slot column: ``09:00-10:30``.
SLOT = 11
INDENT = "  "
#: Where an item's text starts, and its next lines.
TEXT = " " * (len(INDENT) + SLOT + 2)
#: Below this width, an item's next lines start under its slot, not under its text.
NARROW = 60


def weekday(day: Any) -> str:
    """``Tuesday``: English, whatever the locale."""
    return WEEKDAYS[day.weekday()].capitalize()


def _hhmm(minutes: int) -> str:
    return format_time(time(*divmod(minutes % (24 * 60), 60)))


def slot_text(item: Item) -> str:
    if item.start is None or item.end is None:
        return "(no time)"
    return f"{format_time(item.start)}-{format_time(item.end)}"


def place_name(item: Item) -> str:
    """The name of where an item takes place (``your office`` for the practitioner's)."""
    return "your office" if item.kind == "consultation" and item.location == OFFICE else item.place


def place_text(item: Item) -> str:
    """Where: the location's name and address, or the practitioner's office."""
    return ", ".join(filter(None, [place_name(item), item.address]))


def what_text(item: Item) -> str:
    """What: a session's group and id (which names the convention), and where it was before
    its last move; a consultation's duration, id and opaque code, never more (art. 2.2)."""
    if item.kind == "session":
        text = f"{item.group_name} ({item.id})"
        if item.moved_from is not None:
            day, start = item.moved_from
            text += f", moved from {day} {format_time(start)}"
        return text
    text = f"individual consultation, {format_duration(item.minutes)} ({item.id}"
    text += f", ref {item.ref})" if item.ref else ")"
    return text + (", time not recorded" if item.start is None else "")


def travel_line(before: Item, item: Item, travel: Travel) -> tuple[str, str]:
    """The slot column (the time between the two items) and the text of a change of site."""
    assert before.end_minutes is not None and item.start_minutes is not None
    gap = ""
    if item.start_minutes > before.end_minutes:
        gap = f"{_hhmm(before.end_minutes)}-{_hhmm(item.start_minutes)}"
    warning = f"warning: {travel.problem}" if travel.problem else ""
    if travel.origin == travel.destination:  # one site: only a clash brings a line
        return gap, warning
    if travel.minutes is None:
        return gap, f"to {place_name(item)}: {warning}"
    text = (
        f"travel {format_duration(travel.minutes)} to {place_name(item)}"
        if travel.minutes
        else f"to {place_name(item)}, no travel time"
    )
    if warning:
        return gap, f"{text}; {warning}"
    assert travel.free is not None
    return gap, text + (
        f", {format_duration(travel.free)} free" if travel.free else ", no time to spare"
    )


def _wrapped(first: str, rest: str, text: str, width: int | None) -> list[str]:
    """``text`` on lines of at most ``width`` columns, broken on spaces: a word longer than
    a line (an id) is never cut, it has a line of its own."""
    if width is None:
        return [first + text]
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [first.rstrip()]


def summary_text(agenda: Agenda) -> str:
    items = agenda.items
    sessions = sum(1 for i in items if i.kind == "session")
    consultations = len(items) - sessions
    return (
        f"{sessions} session(s), {consultations} consultation(s): "
        f"{format_duration(agenda.minutes) if agenda.minutes else '0h'} in total, "
        f"{format_duration(agenda.travel_minutes) if agenda.travel_minutes else 'no'} travel "
        f"between sites ({agenda.first} to {agenda.last})"
    )


def agenda_text(agenda: Agenda, width: int | None) -> str:
    """The agenda day by day for a terminal ``width`` columns wide (None: piped, whole
    lines), then a summary line."""
    lines: list[str] = []
    for day in agenda.days:
        if lines:
            lines.append("")
        lines.append(f"{weekday(day.date)} {day.date.isoformat()}")
        for note in day.notes:
            lines += _wrapped(INDENT, INDENT + "  ", note, width)
        before: Item | None = None
        rest = TEXT if width is None or width >= NARROW else INDENT + "  "
        for item in day.items:
            if item.travel is not None and before is not None:
                gap, text = travel_line(before, item, item.travel)
                lines += _wrapped(f"{INDENT}{gap:<{SLOT}}  ", rest, text, width)
            lines += _wrapped(f"{INDENT}{slot_text(item):<{SLOT}}  ", rest, what_text(item), width)
            lines += _wrapped(rest, rest, place_text(item), width)
            before = item
    if not agenda.items:
        lines += ([""] if lines else []) + [f"nothing planned from {agenda.first} to {agenda.last}"]
    lines += ["", *_wrapped("", "", summary_text(agenda), width)]
    return "\n".join(lines) + "\n"


def _travel_record(travel: Travel | None) -> dict[str, Any] | None:
    if travel is None:
        return None
    return {
        "from": travel.origin,
        "to": travel.destination,
        "minutes": travel.minutes,
        "free_minutes": travel.free,
        "problem": travel.problem,
    }


def item_record(item: Item) -> dict[str, Any]:
    """One item in ``--format json``: a session or a consultation (no name: art. 2.2)."""
    record: dict[str, Any] = {
        "kind": item.kind,
        "id": item.id,
        "convention": item.convention,
        "start": format_time(item.start) if item.start is not None else None,
        "end": format_time(item.end) if item.end is not None else None,
        "minutes": item.minutes,
        "location": item.location,
        "place": item.place,
        "address": item.address,
        "travel": _travel_record(item.travel),
    }
    if item.kind == "session":
        moved = item.moved_from
        record |= {
            "group": item.group,
            "group_name": item.group_name,
            "period": item.period,
            "status": item.status,
            "moved_from": (
                {"date": moved[0].isoformat(), "start": format_time(moved[1])} if moved else None
            ),
        }
    else:
        record["ref"] = item.ref
    return record


def agenda_json(agenda: Agenda) -> str:
    """``{"agenda": [...days], "from", "to", "summary"}``, keys sorted, dates ISO."""
    items = agenda.items
    sessions = sum(1 for i in items if i.kind == "session")
    payload = {
        "agenda": [
            {
                "date": day.date.isoformat(),
                "weekday": WEEKDAYS[day.date.weekday()],
                "notes": day.notes,
                "items": [item_record(item) for item in day.items],
            }
            for day in agenda.days
        ],
        "from": agenda.first.isoformat(),
        "to": agenda.last.isoformat(),
        "summary": {
            "sessions": sessions,
            "consultations": len(items) - sessions,
            "minutes": agenda.minutes,
            "travel_minutes": agenda.travel_minutes,
        },
    }
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
