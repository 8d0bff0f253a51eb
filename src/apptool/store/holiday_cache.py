"""The French public and school holidays, computed once per library version and cached.

The ``holidays`` package takes a tenth of a second to import (it loads every country) and
``vacances-scolaires-france`` parses its CSV of 14 000 rows with ``strptime`` each time it
is created: for a command that runs in a fraction of a second, more than the command itself.
Their results only change with their versions, so they are computed once and kept in the
user's cache folder (``platformdirs.user_cache_dir("apptool")``, or ``APPTOOL_CACHE_DIR``):

* ``public-holidays-<holidays version>.json``: the public holidays of the years asked so far,
  named in French (a missing year is computed with the ten around it, and added);
* ``school-holidays-<vacances-scolaires-france version>.json``: every year and zone the
  library covers, as runs of consecutive days.

Each file starts with a header line (format, library, version, SHA-256 of the rest). A file
that is missing, of another version or format, unreadable, altered or corrupt is ignored and
rebuilt from the libraries; one that cannot be written is simply not kept. The cache never
changes a result: what it returns is what the libraries return. Deleting the folder is
always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from apptool.store.files import private_folder, read_regular_file, write_atomic

#: Where the cache lives instead of the user's cache folder (tests point it at a temp dir).
CACHE_ENV = "APPTOOL_CACHE_DIR"
#: The layout of the cache files; a file of another format is rebuilt.
FORMAT = 1
ZONES = ("A", "B", "C")
PUBLIC = "holidays"
SCHOOL = "vacances-scolaires-france"
#: The largest cache file read (the school holidays are about 40 kB).
MAX_CACHE_BYTES = 16 * 1024 * 1024
#: Years computed around a missing year of public holidays.
PUBLIC_WINDOW = 5
#: The language of the public holidays' names, given explicitly: left unset, the ``holidays``
#: package takes it from the environment (``LANGUAGE``, ``LC_ALL``, ``LANG``...), and the same
#: workspace would give "Jour de l'an" on one machine and "New Year's Day" on another.
LANGUAGE = "fr"


def cache_dir() -> Path:
    """The folder of apptool's cache: ``APPTOOL_CACHE_DIR``, else the user's cache folder."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir  # lazy: only when the holidays are needed

    return Path(user_cache_dir("apptool", appauthor=False))


def library_version(distribution: str, package: str) -> str:
    """The installed version of ``distribution`` (import name ``package``), without importing
    it: read from the name of its ``.dist-info`` folder next to the package, else from its
    metadata."""
    from importlib.util import find_spec  # lazy: importlib.util is light, but only here

    spec = find_spec(package)
    if spec is not None and spec.origin:
        found = _installed(str(Path(spec.origin).parent.parent)).get(_normalized(distribution))
        if found is not None and len(found) == 1:
            return found[0]
    from importlib import metadata  # lazy: slower, for unusual installations

    return metadata.version(distribution)


def _normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "_", distribution).lower()


@functools.cache
def _installed(folder: str) -> dict[str, list[str]]:
    """The versions of each distribution a folder of packages holds, by the names of their
    ``.dist-info`` folders (read once a process: the folder holds every library)."""
    found: dict[str, list[str]] = {}
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            name, dot, version = entry.name.removesuffix(".dist-info").partition("-")
            if dot and entry.name.endswith(".dist-info"):
                found.setdefault(_normalized(name), []).append(version)
    return found


# --- the cache files ------------------------------------------------------------------------


def _path(kind: str, version: str) -> Path | None:
    """The cache file of ``kind`` for ``version``; ``None`` when no cache folder can be named
    (then the holidays are computed each time)."""
    try:
        return cache_dir() / f"{kind}-{version}.json"
    except Exception:  # platformdirs without a home folder...: no cache, same results
        return None


def _read(path: Path | None, library: str, version: str) -> Any:
    """The payload of a cache file, or ``None`` if it is missing, stale or corrupt."""
    if path is None:
        return None
    raw = read_regular_file(path, MAX_CACHE_BYTES, private=True)  # it decides the plans
    if raw is None:
        return None
    try:
        head, _, body = raw.partition(b"\n")
        header = json.loads(head)
        if header != {
            "format": FORMAT,
            "library": library,
            "version": version,
            "sha256": hashlib.sha256(body).hexdigest(),
        }:
            return None
        return json.loads(body)
    except (OSError, ValueError, RecursionError):
        return None


def _write(path: Path | None, library: str, version: str, payload: Any, stale: str) -> None:
    """Keep ``payload`` in ``path`` (atomically) and remove older versions' files; a cache
    that cannot be written is not an error."""
    if path is None:
        return
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header = {
        "format": FORMAT,
        "library": library,
        "version": version,
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    private_folder(path.parent)
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps(header).encode("utf-8") + b"\n" + body, private=True)
        for old in path.parent.glob(stale):
            if old != path:
                old.unlink(missing_ok=True)


# --- computing from the libraries -----------------------------------------------------------


def compute_public_holidays(years: range) -> dict[int, dict[date, str]]:
    """The public holidays of ``years`` by the ``holidays`` package, each year on its own,
    named in French (:data:`LANGUAGE`)."""
    import holidays  # lazy: the holidays package only when the cache lacks a year

    return {
        year: {
            day: str(name)
            for day, name in holidays.country_holidays("FR", years=year, language=LANGUAGE).items()
        }
        for year in years
    }


def compute_school_holidays() -> tuple[tuple[int, int], dict[str, dict[int, dict[date, str]]]]:
    """Every year and zone of ``vacances-scolaires-france``: (first, last year), and by zone
    and year the holiday days with their names."""
    # lazy: the school-holiday data only when the cache lacks it
    from vacances_scolaires_france import SchoolHolidayDates

    data = SchoolHolidayDates()
    first, last = int(data.min_year), int(data.max_year)
    zones = {
        zone: {
            year: {
                day: str(row["nom_vacances"])
                for day, row in data.holidays_for_year_and_zone(year, zone).items()
            }
            for year in range(first, last + 1)
        }
        for zone in ZONES
    }
    return (first, last), zones


def _runs(days: dict[date, str]) -> list[list[str]]:
    """``{day: name}`` as runs of consecutive days with one name: ``[first, last, name]``."""
    runs: list[list[str]] = []
    previous: date | None = None
    for day, name in days.items():
        if runs and previous is not None and day - previous == timedelta(1) and runs[-1][2] == name:
            runs[-1][1] = day.isoformat()
        else:
            runs.append([day.isoformat(), day.isoformat(), name])
        previous = day
    return runs


def _days(runs: list[list[str]]) -> dict[date, str]:
    days: dict[date, str] = {}
    for first, last, name in runs:
        day, end = date.fromisoformat(first), date.fromisoformat(last)
        while day <= end:
            days[day] = str(name)
            day += timedelta(1)
    return days


# --- the source the domain is given ---------------------------------------------------------


class CachedHolidays:
    """The holidays for :mod:`apptool.domain.calendar_fr`, read from the cache files and
    computed (then kept) when they are missing; each file is read at most once a process."""

    def __init__(self) -> None:
        self._public: dict[int, dict[date, str]] = {}
        self._public_stored: dict[str, list[list[str]]] | None = None
        self._school: tuple[list[int], dict[str, dict[str, list[list[str]]]]] | None = None
        self._school_days: dict[tuple[str, int], dict[date, str]] = {}

    # public holidays

    def public_holidays(self, year: int) -> dict[date, str]:
        if year in self._public:
            return self._public[year]
        version = library_version(PUBLIC, "holidays")
        path = _path("public-holidays", version)
        if self._public_stored is None:
            stored = _read(path, f"{PUBLIC}/{LANGUAGE}", version)
            self._public_stored = stored if _valid_public(stored) else {}
        runs = self._public_stored.get(str(year))
        if runs is None:
            computed = compute_public_holidays(
                range(max(1, year - PUBLIC_WINDOW), min(9999, year + PUBLIC_WINDOW) + 1)
            )
            for number, days in computed.items():
                self._public_stored.setdefault(str(number), _runs(days))
            _write(
                path, f"{PUBLIC}/{LANGUAGE}", version, self._public_stored, "public-holidays-*.json"
            )
            self._public.update(computed)
            return self._public[year]
        self._public[year] = _days(runs)
        return self._public[year]

    # school holidays

    def _school_data(self) -> tuple[list[int], dict[str, dict[str, list[list[str]]]]]:
        if self._school is None:
            version = library_version(SCHOOL, "vacances_scolaires_france")
            path = _path("school-holidays", version)
            stored = _read(path, SCHOOL, version)
            if not _valid_school(stored):
                (first, last), zones = compute_school_holidays()
                stored = {
                    "years": [first, last],
                    "zones": {
                        zone: {str(year): _runs(days) for year, days in by_year.items()}
                        for zone, by_year in zones.items()
                    },
                }
                _write(path, SCHOOL, version, stored, "school-holidays-*.json")
                self._school_days.update(
                    ((zone, year), days)
                    for zone, by_year in zones.items()
                    for year, days in by_year.items()
                )
            self._school = (stored["years"], stored["zones"])
        return self._school

    def school_years(self) -> tuple[int, int]:
        first, last = self._school_data()[0]
        return first, last

    def school_holidays(self, zone: str, year: int) -> dict[date, str]:
        key = (zone, year)
        if key not in self._school_days:
            zones = self._school_data()[1]
            self._school_days[key] = _days(zones[zone][str(year)])
        return self._school_days[key]


def _valid_runs(runs: Any) -> bool:
    if not isinstance(runs, list):
        return False
    try:
        for first, last, name in runs:
            if not isinstance(name, str) or date.fromisoformat(first) > date.fromisoformat(last):
                return False
    except (TypeError, ValueError):
        return False
    return True


def _valid_public(stored: Any) -> bool:
    return isinstance(stored, dict) and all(
        key.isdigit() and _valid_runs(runs) for key, runs in stored.items()
    )


def _valid_school(stored: Any) -> bool:
    if not isinstance(stored, dict) or set(stored) != {"years", "zones"}:
        return False
    years, zones = stored["years"], stored["zones"]
    if not (
        isinstance(years, list)
        and len(years) == 2
        and all(type(y) is int for y in years)
        and isinstance(zones, dict)
        and set(zones) == set(ZONES)
    ):
        return False
    expected = {str(year) for year in range(years[0], years[1] + 1)}
    return all(
        isinstance(by_year, dict)
        and set(by_year) == expected
        and all(_valid_runs(runs) for runs in by_year.values())
        for by_year in zones.values()
    )
