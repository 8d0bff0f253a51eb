"""An independent checker of the hard rules, written from the contracts' text for the tests.

It reads the workspace's YAML as plain strings (``yaml.BaseLoader``) and the public and school
holidays straight from their libraries; it shares no code with ``apptool.domain``, so a bug
in the tool's own rules cannot hide from the property tests that use it.

The rules (CCAS de Dreux convention, art. 2.1, 3, 9; the practitioner's profile):

* a session takes place while the convention runs: from its start to its termination, or its
  end unless renewed tacitly every year (art. 9.1, 9.3);
* never in an excluded month ("aucun groupe ... durant les mois de juillet et août");
* in its own period: the month of a monthly group, the quarter of a quarterly one;
* at one of the convention's slots, lasting the session duration (art. 2.1, "horaires");
* on a working weekday of the practitioner, never on a French public holiday, a day of the
  practitioner's unavailability or of the establishment's closures, nor in the school
  holidays of the convention's zone when its policy is ``avoid``;
* one practitioner: sessions never overlap; between two sites the travel time is left; at
  most ``max_sessions_per_day`` a day;
* each group meets once in each period of the year in which the convention runs for part of
  a month that is not excluded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import holidays
import yaml
from vacances_scolaires_france import SchoolHolidayDates

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


#: Every scalar as text (the oracle reads the contract itself); libyaml's parser when PyYAML has
#: it, which gives the same values.
_TEXT_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def _raw(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TEXT_LOADER)


def _minutes(text: str) -> int:
    hours, mins = text.strip().split(":")
    return int(hours) * 60 + int(mins)


def _duration(text: str) -> int:
    text = text.replace(" ", "")
    if text.endswith("min"):
        return int(text[:-3])
    if "h" in text:
        hours, _, mins = text.partition("h")
        return int(hours) * 60 + int(mins or 0)
    return int(text)


def _ranges(items: list[dict[str, str]] | None) -> list[tuple[date, date]]:
    found = []
    for item in items or []:
        first = date.fromisoformat(item["from"])
        found.append((first, date.fromisoformat(item.get("to", item["from"]))))
    return found


@cache
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


@cache
def _school() -> SchoolHolidayDates:
    return SchoolHolidayDates()


@dataclass
class Contract:
    """What the checker needs of one convention, read from its YAML."""

    start: date
    last: date
    excluded: set[int]
    slots: set[int]
    duration: int
    zone: str
    policy: str
    closures: list[tuple[date, date]]
    cadences: dict[str, str]

    def runs_on(self, day: date) -> bool:
        return self.start <= day <= self.last


def read_contract(path: Path) -> Contract:
    data = _raw(path)
    period = data["period"]
    if "termination" in period:
        last = date.fromisoformat(period["termination"])
    elif period.get("renewal") == "tacit-yearly":
        last = date.max
    else:
        last = date.fromisoformat(period["end"])
    school = data.get("school_holidays", {})
    return Contract(
        start=date.fromisoformat(period["start"]),
        last=last,
        excluded={int(m) for m in data.get("excluded_months", [])},
        slots={_minutes(slot.split("-")[0]) for slot in data["slots"]},
        duration=_duration(data["session_duration"]),
        zone=school.get("zone", "A"),
        policy=school.get("policy", "avoid"),
        closures=_ranges(data.get("closures")),
        cadences={g["id"]: g.get("cadence", "monthly") for g in data.get("groups", [])},
    )


@dataclass
class Profile:
    weekdays: set[int]
    away: list[tuple[date, date]]
    travel: int
    per_day: int | None


def read_profile(path: Path) -> Profile:
    data = _raw(path)
    weekdays = data.get("working_weekdays", WEEKDAYS[:5])
    return Profile(
        weekdays={WEEKDAYS.index(day) for day in weekdays},
        away=_ranges(data.get("unavailability")),
        travel=int(data.get("travel_minutes", 0)),
        per_day=int(data["max_sessions_per_day"]) if "max_sessions_per_day" in data else None,
    )


def _months_of(cadence: str, period: str) -> tuple[int, list[int]]:
    year, _, rest = period.partition("-")
    if cadence == "quarterly":
        quarter = int(rest.removeprefix("Q"))
        return int(year), [3 * quarter - 2, 3 * quarter - 1, 3 * quarter]
    return int(year), [int(rest)]


def _runs_in_month(contract: Contract, year: int, month: int) -> bool:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return month not in contract.excluded and contract.start <= last and first <= contract.last


def required_periods(contracts: dict[str, Contract], year: int) -> set[str]:
    """Every session id the conventions require in ``year``."""
    required = set()
    for conv_id, contract in contracts.items():
        for group, cadence in contract.cadences.items():
            if cadence == "quarterly":
                for quarter in range(1, 5):
                    months = [3 * quarter - 2, 3 * quarter - 1, 3 * quarter]
                    if any(_runs_in_month(contract, year, m) for m in months):
                        required.add(f"{conv_id}/{group}/{year}-Q{quarter}")
            else:
                for month in range(1, 13):
                    if _runs_in_month(contract, year, month):
                        required.add(f"{conv_id}/{group}/{year}-{month:02d}")
    return required


def violations(root: Path, sessions: list[Any], year: int) -> list[str]:
    """Every hard rule the sessions break, and every required session missing or doubled."""
    contracts = {p.stem: read_contract(p) for p in sorted((root / "conventions").glob("*.yaml"))}
    profile = read_profile(root / "practitioner.yaml")
    found: list[str] = []
    by_day: dict[date, list[tuple[int, int, str, str]]] = defaultdict(list)
    seen: defaultdict[str, int] = defaultdict(int)
    for s in sessions:
        if s.status not in ("planned", "moved"):
            continue
        seen[s.id] += 1
        contract = contracts[s.convention]
        day, start, end = s.date, _minutes(f"{s.start:%H:%M}"), _minutes(f"{s.end:%H:%M}")
        where = f"{s.id} on {day}"
        if not contract.runs_on(day):
            found.append(f"{where}: outside the convention's term")
        if day.month in contract.excluded:
            found.append(f"{where}: excluded month")
        period_year, months = _months_of(contract.cadences[s.group], s.period)
        if (day.year, day.month) not in {(period_year, m) for m in months}:
            found.append(f"{where}: outside its period {s.period}")
        if start not in contract.slots or end - start != contract.duration:
            found.append(f"{where}: not a slot of the convention")
        if day.weekday() not in profile.weekdays:
            found.append(f"{where}: not a working day")
        if day in _public_holidays(day.year):
            found.append(f"{where}: public holiday")
        if any(a <= day <= b for a, b in profile.away):
            found.append(f"{where}: practitioner unavailable")
        if any(a <= day <= b for a, b in contract.closures):
            found.append(f"{where}: establishment closed")
        if contract.policy == "avoid" and _school().is_holiday_for_zone(day, contract.zone):
            found.append(f"{where}: school holidays")
        by_day[day].append((start, end, f"{s.convention}/{s.location}", s.id))
    for day, booked in by_day.items():
        if profile.per_day is not None and len(booked) > profile.per_day:
            found.append(f"{day}: {len(booked)} sessions, more than {profile.per_day}")
        for i, (start_a, end_a, site_a, id_a) in enumerate(booked):
            for start_b, end_b, site_b, id_b in booked[i + 1 :]:
                gap = max(start_a, start_b) - min(end_a, end_b)
                if gap < 0:
                    found.append(f"{day}: {id_a} and {id_b} overlap")
                elif site_a != site_b and gap < profile.travel:
                    found.append(f"{day}: {id_a} and {id_b} leave {gap} min to travel")
    required = required_periods(contracts, year)
    present = {sid for sid in seen if sid.endswith(tuple(f"/{year}-{p}" for p in _suffixes()))}
    found += [f"{sid}: missing" for sid in sorted(required - present)]
    found += [f"{sid}: not required" for sid in sorted(present - required)]
    found += [f"{sid}: {count} times" for sid, count in sorted(seen.items()) if count > 1]
    return found


def _suffixes() -> list[str]:
    return [f"{m:02d}" for m in range(1, 13)] + [f"Q{q}" for q in range(1, 5)]
