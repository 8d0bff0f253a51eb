"""Which days are workable: French public holidays, school holidays, closures, absences.

Each rule is one function returning the reason a day is blocked, or ``None``.

The holidays themselves are data the domain is given, not files it reads: public holidays
come from the ``holidays`` package and school holidays (zones A, B, C) from
``vacances-scolaires-france``, computed once per version of those libraries and kept in the
user's cache folder by :mod:`apptool.store.holiday_cache`, which the use cases install here
with :func:`use_holidays` (any :class:`HolidaySource` will do, e.g. in tests).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

from apptool.domain.models import WEEKDAYS, Convention, DayRange, Practitioner

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class HolidaySource(Protocol):
    """Where the holidays come from: French public holidays, and school holidays by zone."""

    def public_holidays(self, year: int) -> dict[date, str]:
        """The public holidays of ``year`` (metropolitan France), with their names."""
        ...

    def school_years(self) -> tuple[int, int]:
        """The first and last year the school-holiday data covers."""
        ...

    def school_holidays(self, zone: str, year: int) -> dict[date, str]:
        """The school-holiday days of ``zone`` in ``year`` (covered), with their names."""
        ...


_source: list[HolidaySource] = []


def use_holidays(source: HolidaySource) -> None:
    """Take the holidays from ``source`` from now on (the use cases install the cached data)."""
    _source[:] = [source]


def holiday_source() -> HolidaySource:
    """The installed source of holidays."""
    if not _source:
        raise RuntimeError(
            "no holiday data installed: call apptool.domain.calendar_fr.use_holidays() "
            "(apptool.services installs apptool.store.holiday_cache)"
        )
    return _source[0]


def public_holidays(year: int) -> dict[date, str]:
    """French public holidays of a year (metropolitan France), with their names."""
    return holiday_source().public_holidays(year)


def school_holiday_years() -> tuple[int, int]:
    """The first and last year the school-holiday data covers."""
    return holiday_source().school_years()


def school_holidays(zone: str, year: int) -> dict[date, str]:
    """School-holiday days of a zone in a year, with the holiday's name.

    Raises ``LookupError`` when the data does not cover the year.
    """
    source = holiday_source()
    first, last = source.school_years()
    if not first <= year <= last:
        raise LookupError(
            f"the school-holiday data (vacances-scolaires-france) covers {first}-{last}, not {year}"
        )
    return source.school_holidays(zone, year)


def days_of_month(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [first + timedelta(days=n) for n in range(calendar.monthrange(year, month)[1])]


def _in_ranges(day: date, ranges: Iterable[DayRange]) -> DayRange | None:
    return next((r for r in ranges if r.contains(day)), None)


def non_working_weekday(day: date, practitioner: Practitioner) -> str | None:
    """Sessions only on the practitioner's working weekdays (default Monday-Friday)."""
    if day.weekday() not in practitioner.weekday_numbers:
        return f"not a working day ({WEEKDAYS[day.weekday()]})"
    return None


def public_holiday(day: date) -> str | None:
    """Never on a French public holiday."""
    name = public_holidays(day.year).get(day)
    return f"public holiday ({name})" if name else None


def practitioner_unavailable(day: date, practitioner: Practitioner) -> str | None:
    """Never on a day the practitioner declared unavailable (holidays, training...)."""
    found = _in_ranges(day, practitioner.unavailability)
    if found is None:
        return None
    return "practitioner unavailable" + (f" ({found.reason})" if found.reason else "")


def establishment_closed(day: date, convention: Convention) -> str | None:
    """Never on a closure day of the establishment."""
    found = _in_ranges(day, convention.closures)
    if found is None:
        return None
    return "establishment closed" + (f" ({found.reason})" if found.reason else "")


def school_holiday(day: date, convention: Convention) -> str | None:
    """The school-holiday name if ``day`` is in the convention's zone's holidays (art. 2.1).

    A year the school-holiday data does not cover cannot be checked: its days count as
    holidays (never used under ``avoid``), with the reason.
    """
    if convention.school_holidays.policy == "ignore":
        return None
    zone = convention.school_holidays.zone
    try:
        name = school_holidays(zone, day.year).get(day)
    except LookupError as exc:
        return f"school holidays zone {zone} unknown: {exc} (or set policy: ignore)"
    return f"school holidays zone {zone} ({name})" if name else None


def hard_blocker(day: date, convention: Convention, practitioner: Practitioner) -> str | None:
    """The first hard rule that forbids any session of ``convention`` on ``day``, if any."""
    reason = (
        non_working_weekday(day, practitioner)
        or public_holiday(day)
        or practitioner_unavailable(day, practitioner)
        or establishment_closed(day, convention)
    )
    if reason is None and convention.school_holidays.policy == "avoid":
        reason = school_holiday(day, convention)
    return reason


def describe_ranges(days: Iterable[date]) -> str:
    """``[5..21 April]`` -> ``"5-21 April"``: consecutive days folded into ranges."""
    ordered = sorted(set(days))
    parts: list[str] = []
    run: list[date] = []
    for day in ordered:
        if run and (day - run[-1]).days == 1:
            run.append(day)
            continue
        if run:
            parts.append(_range_text(run[0], run[-1]))
        run = [day]
    if run:
        parts.append(_range_text(run[0], run[-1]))
    return ", ".join(parts)


def _range_text(first: date, last: date) -> str:
    if first == last:
        return f"{first.day} {MONTHS_EN[first.month - 1]}"
    if first.month == last.month:
        return f"{first.day}-{last.day} {MONTHS_EN[first.month - 1]}"
    return f"{first.day} {MONTHS_EN[first.month - 1]}-{last.day} {MONTHS_EN[last.month - 1]}"
