"""The holiday cache: the libraries' answers, computed once per version, kept in the cache
folder; a missing, stale, corrupt or unwritable cache never changes a result."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from datetime import date
from importlib import metadata
from pathlib import Path

import holidays
import pytest
from vacances_scolaires_france import SchoolHolidayDates

from apptool.domain import calendar_fr
from apptool.store import holiday_cache
from apptool.store.holiday_cache import CACHE_ENV, CachedHolidays

_COMPUTE_SCHOOL = holiday_cache.compute_school_holidays
_COMPUTE_PUBLIC = holiday_cache.compute_public_holidays


@functools.cache
def _school_once() -> tuple[tuple[int, int], dict[str, dict[int, dict[date, str]]]]:
    return _COMPUTE_SCHOOL()


@functools.cache
def _public_once(years: range) -> dict[int, dict[date, str]]:
    return _COMPUTE_PUBLIC(years)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own; the libraries are asked once a module (the
    first test compares the cache with them directly)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    monkeypatch.setattr(holiday_cache, "compute_school_holidays", _school_once)
    monkeypatch.setattr(holiday_cache, "compute_public_holidays", _public_once)
    return folder


def no_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, asking the libraries fails: answers must come from the cache files."""

    def fail(*args: object) -> None:
        raise AssertionError("computed instead of read from the cache")

    monkeypatch.setattr(holiday_cache, "compute_public_holidays", fail)
    monkeypatch.setattr(holiday_cache, "compute_school_holidays", fail)


def test_the_cache_gives_what_the_libraries_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    source = CachedHolidays()
    school = SchoolHolidayDates()
    assert source.school_years() == (school.min_year, school.max_year)
    for zone in "ABC":
        for year in range(school.min_year, school.max_year + 1):
            expected = {
                day: row["nom_vacances"]
                for day, row in school.holidays_for_year_and_zone(year, zone).items()
            }
            assert source.school_holidays(zone, year) == expected
    for year in range(2015, 2036):
        expected = dict(holidays.country_holidays("FR", years=year, language="fr").items())
        assert list(source.public_holidays(year).items()) == list(expected.items())
    # ...and so does a new process reading the files
    assert list(CachedHolidays().public_holidays(2025).items()) == list(
        holidays.country_holidays("FR", years=2025, language="fr").items()
    )


def test_names_do_not_depend_on_the_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("LANGUAGE", "en")
    assert CachedHolidays().public_holidays(2025)[date(2025, 1, 1)] == "Jour de l'an"


def test_computed_once_per_library_version_then_read(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = CachedHolidays()
    public = first.public_holidays(2025)
    school = first.school_holidays("B", 2025)
    files = sorted(path.name for path in cache.iterdir())
    assert files == [
        f"public-holidays-{metadata.version('holidays')}.json",
        f"school-holidays-{metadata.version('vacances-scolaires-france')}.json",
    ]
    no_computing(monkeypatch)
    again = CachedHolidays()
    assert again.public_holidays(2025) == public
    assert again.public_holidays(2030) == first.public_holidays(2030)  # in the computed window
    assert again.school_holidays("B", 2025) == school


def test_a_year_outside_the_window_is_added(cache: Path) -> None:
    CachedHolidays().public_holidays(2025)
    CachedHolidays().public_holidays(2060)
    (path,) = cache.glob("public-holidays-*.json")
    years = json.loads(path.read_bytes().partition(b"\n")[2])
    assert {"2025", "2060", "2020", "2065"} <= set(years)


def test_a_new_library_version_rebuilds_and_removes_the_old_file(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = CachedHolidays().school_holidays("A", 2025)
    monkeypatch.setattr(holiday_cache, "library_version", lambda *names: "99.0")
    assert CachedHolidays().school_holidays("A", 2025) == expected
    assert sorted(path.name for path in cache.glob("school-holidays-*")) == [
        "school-holidays-99.0.json"
    ]


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: b"",
        lambda raw: b"not json at all",
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: raw.replace(b"2025-", b"2024-", 1),  # altered: the checksum differs
        lambda raw: raw.replace(b'"format": 1', b'"format": 0', 1),  # another format
        lambda raw: b"[" * 100_000,
        lambda raw: b"\xff\xfe\x00garbage\n\x00",
    ],
)
def test_a_corrupt_cache_is_rebuilt_and_changes_nothing(cache: Path, damage: object) -> None:
    source = CachedHolidays()
    expected = (source.public_holidays(2025), source.school_holidays("C", 2026))
    for path in cache.iterdir():
        path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    rebuilt = CachedHolidays()
    assert (rebuilt.public_holidays(2025), rebuilt.school_holidays("C", 2026)) == expected
    no_computing_again = CachedHolidays()  # the files were written back, whole
    for path in cache.iterdir():
        header, _, body = path.read_bytes().partition(b"\n")
        assert json.loads(header)["format"] == 1 and json.loads(body)
    assert no_computing_again.public_holidays(2025) == expected[0]


def test_well_formed_but_wrong_content_is_rebuilt(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = CachedHolidays().school_holidays("B", 2025)
    (path,) = cache.glob("school-holidays-*.json")
    header = json.loads(path.read_bytes().partition(b"\n")[0])
    body = json.dumps({"years": [2025, 2025], "zones": {"B": {}}}).encode()
    header["sha256"] = holiday_cache.hashlib.sha256(body).hexdigest()
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert CachedHolidays().school_holidays("B", 2025) == expected


def test_an_unwritable_cache_folder_changes_nothing(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))  # cannot be created
    source = CachedHolidays()
    assert source.public_holidays(2025)[date(2025, 7, 14)] == "Fête nationale"
    assert date(2025, 4, 14) in source.school_holidays("B", 2025)


def test_the_library_version_is_read_without_importing_the_library() -> None:
    code = (
        "import sys; from apptool.store.holiday_cache import library_version as v; "
        "print(v('holidays', 'holidays'), v('vacances-scolaires-france', "
        "'vacances_scolaires_france'), 'holidays' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        metadata.version("holidays"),
        metadata.version("vacances-scolaires-france"),
        "False",
    ]


def test_the_domain_uses_the_source_it_is_given() -> None:
    class Fixed:
        def public_holidays(self, year: int) -> dict[date, str]:
            return {date(year, 3, 3): "Made up"}

        def school_years(self) -> tuple[int, int]:
            return 2025, 2025

        def school_holidays(self, zone: str, year: int) -> dict[date, str]:
            return {}

    installed = calendar_fr.holiday_source()
    try:
        calendar_fr.use_holidays(Fixed())
        assert calendar_fr.public_holiday(date(2025, 3, 3)) == "public holiday (Made up)"
        with pytest.raises(LookupError, match="covers 2025-2025, not 2026"):
            calendar_fr.school_holidays("B", 2026)
    finally:
        calendar_fr.use_holidays(installed)


def test_a_command_with_a_broken_cache_plans_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apptool.services import planning
    from conftest import TODAY, write_workspace

    expected = planning.plan(write_workspace(tmp_path / "one"), 2025, TODAY, dry_run=True)
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_bytes(b"\x00garbage")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    calendar_fr.use_holidays(CachedHolidays())  # a process that starts with this cache
    try:
        again = planning.plan(write_workspace(tmp_path / "two"), 2025, TODAY, dry_run=True)
    finally:
        calendar_fr.use_holidays(holiday_cache.CachedHolidays())
    assert again.plan.sessions == expected.plan.sessions
