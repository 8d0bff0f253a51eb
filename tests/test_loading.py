"""Bad input never crashes: every mistake is one line ``file:line: field: message``, exit 2,
no traceback, nothing written; all the problems of a workspace are reported at once."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from apptool.cli import app
from apptool.errors import InvalidInput, Problem, field_name
from apptool.services import planning
from apptool.store.loading import parse_yaml
from apptool.store.workspace import load_workspace
from conftest import CONVENTION, PRACTITIONER, TODAY, write_workspace

runner = CliRunner()
CONV_FILE = "conventions/test.yaml"


# --- helpers ------------------------------------------------------------------------------


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the ``occurrence``-th match of ``needle``."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) >= occurrence, f"{needle!r} not in the text"
    return found[occurrence - 1]


def changed(old: str, new: str, text: str = CONVENTION) -> str:
    """``text`` with ``old`` replaced once; fails loudly if ``old`` is not there."""
    assert old in text, old
    return text.replace(old, new, 1)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the workspace and its bytes (the lock file is not data)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".apptool.lock"
    }


def rejected(root: Path, *args: str) -> list[str]:
    """Run a command that must refuse the workspace: exit 2, no traceback, nothing written.

    Returns the lines printed, without the ``error: `` prefix.
    """
    before = snapshot(root)
    result = runner.invoke(app, ["-w", str(root), *args])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert snapshot(root) == before, "a refused command wrote a file"
    return [line.removeprefix("error: ") for line in result.output.splitlines()]


def plan_rejected(root: Path) -> list[str]:
    lines = rejected(root, "plan", "2025", "--today", "2024-01-01")
    assert not (root / "calendars" / "2025.yaml").exists()
    return lines


def problems_of(root: Path) -> list[str]:
    """The problems ``load_workspace`` raises, as printed."""
    with pytest.raises(InvalidInput) as info:
        load_workspace(root)
    return [str(p) for p in info.value.problems]


def convention_rejected(tmp_path: Path, text: str) -> list[str]:
    """Write ``text`` as the test convention, check that ``plan`` and ``check`` refuse it
    with the same problem lines; return those lines."""
    root = write_workspace(tmp_path / "ws", {"test": text})
    lines = plan_rejected(root)
    check_lines = rejected(root, "check")
    assert lines == problems_of(root)
    assert check_lines == [*lines, f"{len(lines)} problem(s) found"]
    return lines


# --- the problem line ---------------------------------------------------------------------


def test_problem_line_names_file_line_and_field() -> None:
    problem = Problem("conventions/ccas-dreux.yaml", 42, "groups[3].cadence", "bad cadence")
    assert str(problem) == "conventions/ccas-dreux.yaml:42: groups[3].cadence: bad cadence"
    assert str(Problem("practitioner.yaml", None, "", "missing")) == "practitioner.yaml: missing"


def test_field_name_writes_indexes_in_brackets() -> None:
    assert field_name(("groups", 3, "cadence")) == "groups[3].cadence"
    assert field_name(("slots", 0)) == "slots[0]"
    assert field_name(()) == ""


# --- one kind of mistake a test -----------------------------------------------------------


def test_yaml_syntax_error_reported_with_line(tmp_path: Path) -> None:
    text = changed("title: Test convention", "title: Test: convention")
    lines = convention_rejected(tmp_path, text)
    (line,) = lines
    assert line.startswith(
        f"{CONV_FILE}:{line_of(text, 'title:')}: "
        "YAML syntax error: a value containing ': ' must be written in quotes"
    )


def test_tab_indentation_reported_as_syntax_error_with_line(tmp_path: Path) -> None:
    text = changed("  name: CCAS de Test", "\tname: CCAS de Test")
    lines = convention_rejected(tmp_path, text)
    assert len(lines) == 1
    assert lines[0].startswith(f"{CONV_FILE}:{line_of(text, 'CCAS de Test')}: YAML syntax error")


#: One mistake, one problem line: (what is changed, the line it names, field, message).
SIRET = "  chorus_service_code: TEST1\n  siret: "
ONE_PROBLEM = {
    "wrong type": (
        ("notice_days: 15", 'notice_days: "fifteen"'),
        ("notice_days", 1),
        "notice_days",
        "expected a whole number (e.g. 12), got `fifteen`",
    ),
    "boolean for a number": (
        ("notice_days: 15", "notice_days: yes"),
        ("notice_days", 1),
        "notice_days",
        "expected a whole number (e.g. 12), got true",
    ),
    "missing key of a group": (
        ("cadence: quarterly, ", ""),
        ("id: gamma", 1),
        "groups[2].cadence",
        "missing: this key is required",
    ),
    "unknown key": (
        ("notice_days: 15\n", "notice_days: 15\nnotice_dayz: 3\n"),
        ("notice_dayz", 1),
        "notice_dayz",
        "unknown key (did you mean 'notice_days'?)",
    ),
    "unknown nested key": (
        ("location: home}", "location: home, colour: blue}"),
        ("colour", 1),
        "groups[1].colour",
        "unknown key (known: cadence, composition, from, id, location, name, order, "
        "preferences, sessions, to)",
    ),
    "unknown location": (
        ("location: home}", "location: garage}"),
        ("garage", 1),
        "groups[1].location",
        "unknown location 'garage' (known: home, office)",
    ),
    "duplicate group id": (
        ("id: beta", "id: alpha"),
        ("id: alpha", 2),
        "groups[1].id",
        "duplicate group id 'alpha' (first at groups[0])",
    ),
    "slot shorter than the session": (
        ('"09:00-10:30"', '"09:00-10:00"'),
        ("slots:", 1),
        "slots[0]",
        "slot 09:00-10:00 lasts 1h, shorter than the session duration 1h30",
    ),
    "period ending before it starts": (
        ("end: 2025-12-31", "end: 2025-03-31"),
        ("end: 2025-03-31", 1),
        "period.end",
        "end 2025-03-31 is before start 2025-04-01",
    ),
    "invalid SIRET": (
        ("  chorus_service_code: TEST1", SIRET + "'26280110300018'"),
        ("siret", 1),
        "establishment.siret",
        "'26280110300018' is not a valid SIRET (14 digits, Luhn checksum)",
    ),
    "SIRET written as a number": (
        ("  chorus_service_code: TEST1", SIRET + "26280110300017"),
        ("siret", 1),
        "establishment.siret",
        'expected text, got the number 26280110300017: write it in quotes ("26280110300017")',
    ),
    "unknown cadence": (
        ("cadence: quarterly", "cadence: weekly"),
        ("weekly", 1),
        "groups[2].cadence",
        "expected one of monthly, quarterly, got `weekly`",
    ),
    "excluded month out of range": (
        ("excluded_months: [7, 8]", "excluded_months: [7, 13]"),
        ("excluded_months", 1),
        "excluded_months[1]",
        "must be at most 12, got `13`",
    ),
}


@pytest.mark.parametrize("mistake", list(ONE_PROBLEM))
def test_one_mistake_is_one_problem_line_with_file_line_and_field(
    tmp_path: Path, mistake: str
) -> None:
    (old, new), (needle, occurrence), field, message = ONE_PROBLEM[mistake]
    text = changed(old, new)
    assert convention_rejected(tmp_path, text) == [
        f"{CONV_FILE}:{line_of(text, needle, occurrence)}: {field}: {message}"
    ]


def test_missing_required_key_reported(tmp_path: Path) -> None:
    text = changed("notice_days: 15\n", "")
    lines = convention_rejected(tmp_path, text)
    assert lines == [f"{CONV_FILE}:1: notice_days: missing: this key is required"]


def test_key_given_twice_reported_with_both_lines(tmp_path: Path) -> None:
    text = changed("notice_days: 15\n", "notice_days: 15\nnotice_days: 30\n")
    lines = convention_rejected(tmp_path, text)
    first = line_of(text, "notice_days")
    assert lines == [
        f"{CONV_FILE}:{first + 1}: notice_days: key given twice (first at line {first})"
    ]


def test_duplicate_location_id_reported_with_line(tmp_path: Path) -> None:
    text = changed("{id: home, name: Residence}", "{id: office, name: Residence}")
    lines = convention_rejected(tmp_path, text)
    assert lines[0] == (
        f"{CONV_FILE}:{line_of(text, 'name: Residence')}: locations[1].id: "
        "duplicate location id 'office' (first at locations[0])"
    )
    # the group that met at the renamed location is reported too
    assert lines[1].startswith(
        f"{CONV_FILE}:{line_of(text, 'location: home')}: "
        "groups[1].location: unknown location 'home'"
    )
    assert len(lines) == 2


def test_slot_ending_before_it_starts_reported_with_line(tmp_path: Path) -> None:
    text = changed('"15:00-16:30"', '"16:30-15:00"')
    lines = convention_rejected(tmp_path, text)
    assert len(lines) == 1
    assert lines[0].startswith(f"{CONV_FILE}:{line_of(text, 'slots:')}: slots[3]: ")
    assert "ends before it starts" in lines[0]


def test_impossible_date_reported_with_line(tmp_path: Path) -> None:
    text = changed("end: 2025-12-31", "end: 2025-02-30")
    lines = convention_rejected(tmp_path, text)
    assert len(lines) == 1
    assert lines[0].startswith(f"{CONV_FILE}:{line_of(text, '2025-02-30')}: period.end: ")
    assert "expected a date written YYYY-MM-DD" in lines[0]


def test_valid_siret_accepted(tmp_path: Path) -> None:
    text = changed(
        "  chorus_service_code: TEST1", "  chorus_service_code: TEST1\n  siret: '26280110300017'"
    )
    root = write_workspace(tmp_path / "ws", {"test": text})
    workspace = load_workspace(root)
    assert workspace.conventions["test"].establishment.siren == "262801103"


def test_amount_with_three_decimals_reported_with_line(tmp_path: Path) -> None:
    text = changed("amount: 150,", "amount: 150.555,")
    lines = convention_rejected(tmp_path, text)
    assert len(lines) == 1
    assert lines[0].startswith(
        f"{CONV_FILE}:{line_of(text, '150.555')}: fees.group_session.amount: "
    )
    assert "at most two decimals" in lines[0]


def test_unknown_weekday_in_practitioner_reported_with_line(tmp_path: Path) -> None:
    text = PRACTITIONER.replace("friday]", "fryday]")
    root = write_workspace(tmp_path / "ws", practitioner=text)
    lines = plan_rejected(root)
    assert lines == [
        f"practitioner.yaml:{line_of(text, 'fryday')}: working_weekdays[4]: "
        "expected one of monday, tuesday, wednesday, thursday, friday, saturday, sunday, "
        "got `fryday` (did you mean 'friday'?)"
    ]


def test_unavailability_ending_before_it_starts_reported_with_line(tmp_path: Path) -> None:
    text = PRACTITIONER.replace(
        "unavailability: []", "unavailability:\n  - {from: 2025-05-10, to: 2025-05-01}"
    )
    root = write_workspace(tmp_path / "ws", practitioner=text)
    assert plan_rejected(root) == [
        f"practitioner.yaml:{line_of(text, '2025-05-10')}: unavailability[0].to: "
        "2025-05-01 is before 2025-05-10"
    ]


def test_missing_practitioner_profile_reported(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    (root / "practitioner.yaml").unlink()
    assert plan_rejected(root) == ["practitioner.yaml: missing practitioner profile"]


def test_empty_convention_file_reported_on_line_1(tmp_path: Path) -> None:
    assert convention_rejected(tmp_path, "") == [
        f"{CONV_FILE}:1: expected a mapping of keys at the top of the file"
    ]


def test_list_at_top_of_file_reported_with_line(tmp_path: Path) -> None:
    assert convention_rejected(tmp_path, "- a\n- b\n") == [
        f"{CONV_FILE}:1: expected a mapping of keys at the top of the file"
    ]


def test_file_not_in_utf8_reported_with_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    text = CONVENTION.replace("CCAS de Test", "CCAS de Séné")
    (root / "conventions" / "test.yaml").write_bytes(text.encode("latin-1"))
    lines = plan_rejected(root)
    line = line_of(text, "Séné")
    assert lines == [
        f"{CONV_FILE}:{line}: not UTF-8 text: byte 0xe9 at line {line}; save the file as UTF-8"
    ]


def test_python_tag_refused_not_executed(tmp_path: Path) -> None:
    text = changed("title: Test convention", "title: !!python/object/apply:os.getcwd []")
    lines = convention_rejected(tmp_path, text)
    assert lines == [
        f"{CONV_FILE}:{line_of(text, 'title')}: YAML tag !!python/object/apply:os.getcwd "
        "is not supported: write a plain value"
    ]


def test_convention_file_name_that_is_not_an_id_reported(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"CCAS Dreux": CONVENTION})
    lines = plan_rejected(root)
    assert lines == [
        "conventions/CCAS Dreux.yaml: file name 'CCAS Dreux' is not a valid "
        "convention id: use lowercase letters, digits, '-' and '_'"
    ]


def test_workspace_without_convention_reported(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {})
    assert plan_rejected(root) == ["conventions/: no convention file (*.yaml)"]


# --- the YAML dialect ---------------------------------------------------------------------


def test_unquoted_times_stay_strings() -> None:
    doc = parse_yaml("start: 09:00\nend: 10:30\nslots: [13:30-15:00]\n", Path("x.yaml"), "x")
    assert doc.data == {"start": "09:00", "end": "10:30", "slots": ["13:30-15:00"]}
    # Plain YAML 1.1 reads 10:30 as the sexagesimal number 630: the trap this loader avoids.
    assert yaml.safe_load("end: 10:30") == {"end": 630}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: &x 2\n", 2, "YAML anchor &x is not supported"),
        ("a: 1\n&x b: 2\n", 2, "YAML anchor &x is not supported"),  # on a key
        ("a: 1\n!!python/name:os.getcwd b: 2\n", 2, "YAML tag !!python/name:os.getcwd"),
        ("a: 1\nb: &x {c: 1}\n", 2, "YAML anchor &x is not supported"),
        ("a: 1\nb: !!python/tuple [1]\n", 2, "YAML tag !!python/tuple is not supported"),
        ("a: 1\nb:\n  - &x 3\n", 3, "YAML anchor &x is not supported"),
        ("a: 1\nb: *x\n", 2, "YAML alias *x is not supported"),
    ],
)
def test_anchors_aliases_and_tags_are_refused_wherever_they_stand(
    text: str, line: int, message: str
) -> None:
    """On a value, a key, a mapping, a list or an item: each refused with its line."""
    with pytest.raises(InvalidInput) as caught:
        parse_yaml(text, Path("x.yaml"), "x")
    [problem] = caught.value.problems
    assert problem.line == line and message in problem.message, problem


def test_plain_tags_of_text_and_collections_are_read_as_without_them() -> None:
    text = 'a: !!str 12\nb: !!map {c: !!seq [1]}\nd: ! 3\n"e": "4"\n'
    doc = parse_yaml(text, Path("x.yaml"), "x")
    assert doc.data == {"a": "12", "b": {"c": [1]}, "d": 3, "e": "4"}


def test_dates_stay_strings_and_decimals_are_exact() -> None:
    doc = parse_yaml("day: 2025-02-30\namount: 80.10\ncount: 3\n", Path("x.yaml"), "x")
    assert doc.data == {"day": "2025-02-30", "amount": Decimal("80.10"), "count": 3}


def test_unquoted_times_work_in_a_convention(tmp_path: Path) -> None:
    text = changed(
        'slots: ["09:00-10:30", "10:30-12:00", "13:30-15:00", "15:00-16:30"]',
        "slots: [09:00-10:30, 10:30-12:00, 13:30-15:00, 15:00-16:30]",
    )
    text = changed("location: office}", "location: office, preferences: {slots: [10:30]}}", text)
    root = write_workspace(tmp_path / "ws", {"test": text})
    workspace = load_workspace(root)
    convention = workspace.conventions["test"]
    assert [slot.label for slot in convention.slots] == [
        "09:00-10:30",
        "10:30-12:00",
        "13:30-15:00",
        "15:00-16:30",
    ]
    outcome = planning.plan(root, 2025, TODAY)
    alpha = [s for s in outcome.plan.sessions if s.group == "alpha"]
    assert alpha and all(f"{s.start:%H:%M}" == "10:30" for s in alpha)


def test_lines_of_nested_keys_and_items() -> None:
    text = "a:\n  b:\n    - x\n    - {c: 1}\n"
    doc = parse_yaml(text, Path("x.yaml"), "x")
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("a", "b")) == 2
    assert doc.line_of(("a", "b", 0)) == 3
    assert doc.line_of(("a", "b", 1, "c")) == 4
    # an unknown tail falls back to its deepest known prefix
    assert doc.line_of(("a", "b", 1, "missing")) == 4


# --- all the problems at once -------------------------------------------------------------


def test_several_problems_in_one_file_all_reported(tmp_path: Path) -> None:
    text = changed("notice_days: 15", 'notice_days: "fifteen"')
    text = changed("end: 2025-12-31", "end: 2025-02-30", text)
    text = changed("cadence: quarterly", "cadence: weekly", text)
    text = changed("excluded_months: [7, 8]", "excluded_months: [7, 8]\nlunch: true", text)
    text = changed("  individual: {amount: 80, per: hour}\n", "", text).replace(
        "fees:\n  group_session: {amount: 150, per: session}",
        "fees:\n  group_session: {amount: 150}",
    )
    lines = convention_rejected(tmp_path, text)
    assert lines == [
        f"{CONV_FILE}:{line_of(text, '2025-02-30')}: period.end: "
        "expected a date written YYYY-MM-DD (e.g. 2026-03-15), got `2025-02-30`",
        f"{CONV_FILE}:{line_of(text, 'group_session')}: fees.group_session.per: "
        "missing: this key is required",
        f"{CONV_FILE}:{line_of(text, 'lunch')}: lunch: unknown key",
        f"{CONV_FILE}:{line_of(text, 'notice_days')}: notice_days: "
        "expected a whole number (e.g. 12), got `fifteen`",
        f"{CONV_FILE}:{line_of(text, 'weekly')}: groups[2].cadence: "
        "expected one of monthly, quarterly, got `weekly`",
    ]


def test_several_rule_problems_in_one_file_all_reported(tmp_path: Path) -> None:
    text = changed("location: home}", "location: garage}")
    text = changed("id: gamma", "id: alpha", text)
    text = changed('"09:00-10:30"', '"09:00-10:00"', text)
    text = changed("end: 2025-12-31", "end: 2025-03-31", text)
    text = changed(
        "  chorus_service_code: TEST1",
        "  chorus_service_code: TEST1\n  siret: '12345678901234'",
        text,
    )
    lines = convention_rejected(tmp_path, text)
    assert set(lines) == {
        f"{CONV_FILE}:{line_of(text, 'id: alpha', 2)}: groups[2].id: "
        "duplicate group id 'alpha' (first at groups[0])",
        f"{CONV_FILE}:{line_of(text, 'garage')}: groups[1].location: "
        "unknown location 'garage' (known: home, office)",
        f"{CONV_FILE}:{line_of(text, 'slots:')}: slots[0]: slot 09:00-10:00 lasts 1h, "
        "shorter than the session duration 1h30",
        f"{CONV_FILE}:{line_of(text, 'end: 2025-03-31')}: period.end: "
        "end 2025-03-31 is before start 2025-04-01",
        f"{CONV_FILE}:{line_of(text, 'siret')}: establishment.siret: "
        "'12345678901234' is not a valid SIRET (14 digits, Luhn checksum)",
    }
    assert len(lines) == 5


def test_problems_in_several_files_all_reported(tmp_path: Path) -> None:
    practitioner = PRACTITIONER.replace("friday]", "fryday]")
    broken_type = changed("notice_days: 15", "notice_days: soon")
    broken_syntax = changed("title: Test convention", "title: [Test convention")
    root = write_workspace(
        tmp_path / "ws",
        {"a-type": broken_type, "b-syntax": broken_syntax, "c-ok": CONVENTION},
        practitioner,
    )
    lines = plan_rejected(root)
    assert len(lines) == 3
    assert lines[0].startswith(
        f"practitioner.yaml:{line_of(practitioner, 'fryday')}: working_weekdays[4]: "
    )
    assert lines[1] == (
        f"conventions/a-type.yaml:{line_of(broken_type, 'notice_days')}: "
        "notice_days: expected a whole number (e.g. 12), got `soon`"
    )
    assert lines[2].startswith("conventions/b-syntax.yaml:")
    assert "YAML syntax error" in lines[2]


# --- the calendar of record, edited by hand -----------------------------------------------


@pytest.fixture
def planned(tmp_path: Path) -> Path:
    """The small workspace with its 2025 calendar of record."""
    root = write_workspace(tmp_path / "ws")
    planning.plan(root, 2025, TODAY)
    return root


def edit_calendar(root: Path, old: str, new: str) -> str:
    path = root / "calendars" / "2025.yaml"
    text = changed(old, new, path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    return text


def test_calendar_unknown_group_reported_with_line(planned: Path) -> None:
    text = edit_calendar(planned, "group: alpha", "group: omega")
    expected = (
        f"calendars/2025.yaml:{line_of(text, 'group: omega')}: sessions[0].group: "
        "unknown group 'omega' in convention 'test' (known: alpha, beta, gamma)"
    )
    assert rejected(planned, "plan", "2025", "--today", "2024-01-01") == [expected]
    assert rejected(planned, "check") == [expected, "1 problem(s) found"]


def test_calendar_bad_session_id_reported_with_line(planned: Path) -> None:
    text = edit_calendar(planned, "id: test/alpha/2025-04", "id: test/alpha/april")
    expected = (
        f"calendars/2025.yaml:{line_of(text, 'test/alpha/april')}: sessions[0].id: "
        "'test/alpha/april' should be 'test/alpha/2025-04'"
    )
    assert rejected(planned, "plan", "2025", "--today", "2024-01-01") == [expected]
    assert rejected(planned, "check") == [expected, "1 problem(s) found"]


def test_calendar_unknown_convention_reported_with_line(planned: Path) -> None:
    text = edit_calendar(planned, "convention: test", "convention: other")
    assert rejected(planned, "check") == [
        f"calendars/2025.yaml:{line_of(text, 'convention: other')}: sessions[0].convention: "
        "unknown convention 'other' (known: test)",
        "1 problem(s) found",
    ]


def test_calendar_syntax_error_reported_with_line(planned: Path) -> None:
    text = edit_calendar(planned, "status: planned", "status: planned: yes")
    lines = rejected(planned, "plan", "2025", "--today", "2024-01-01")
    (line,) = lines
    assert line.startswith(
        f"calendars/2025.yaml:{line_of(text, 'planned: yes')}: "
        "YAML syntax error: a value containing ': ' must be written in quotes"
    )


def test_calendar_impossible_date_and_unknown_key_both_reported(planned: Path) -> None:
    text = edit_calendar(planned, "date: '2025-04-01'", "date: '2025-02-30'\n  room: 12")
    lines = rejected(planned, "check")
    assert lines[0].startswith(
        f"calendars/2025.yaml:{line_of(text, '2025-02-30')}: sessions[0].date: "
    )
    assert lines[1] == f"calendars/2025.yaml:{line_of(text, 'room')}: sessions[0].room: unknown key"
    assert lines[2] == "2 problem(s) found"


def test_calendar_of_another_year_reported_with_line(planned: Path) -> None:
    text = edit_calendar(planned, "year: 2025", "year: 2026")
    assert rejected(planned, "plan", "2025", "--today", "2024-01-01") == [
        f"calendars/2025.yaml:{line_of(text, 'year: 2026')}: year: this file is for 2025, not 2026"
    ]


def test_broken_calendar_is_not_overwritten_by_plan(planned: Path, tmp_path: Path) -> None:
    edit_calendar(planned, "group: alpha", "group: omega")
    copy = tmp_path / "copy"
    shutil.copytree(planned, copy)
    rejected(planned, "plan", "2025", "--today", "2024-01-01", "--fresh")
    assert (planned / "calendars" / "2025.yaml").read_bytes() == (
        copy / "calendars" / "2025.yaml"
    ).read_bytes()


# --- a folder or a pipe where a file is expected ------------------------------------------


PLAN = ["plan", "2025", "--today", str(TODAY)]


@pytest.mark.parametrize(
    ("name", "command"),
    [
        *(
            (name, command)
            for name in ("practitioner.yaml", CONV_FILE, "calendars/2025.yaml")
            for command in (["check"], PLAN)
        ),
        ("records/notes.yaml", ["check"]),  # read by check (plan has no use for notes)
    ],
)
def test_a_folder_where_a_file_is_expected_is_named(
    workspace: Path, name: str, command: list[str]
) -> None:
    runner.invoke(app, ["-w", str(workspace), *PLAN])
    path = workspace / name
    path.unlink(missing_ok=True)
    path.mkdir(parents=True)
    result = runner.invoke(app, ["-w", str(workspace), *command])
    assert result.exit_code == 2, result.output
    assert f"{name}: a folder, not a file" in result.output
    assert "Errno" not in result.output and "Traceback" not in result.output


def test_a_named_pipe_where_a_file_is_expected_is_named(workspace: Path) -> None:
    path = workspace / CONV_FILE
    path.unlink()
    os.mkfifo(path)
    result = runner.invoke(app, ["-w", str(workspace), "check"])
    assert result.exit_code == 2, result.output
    assert f"{CONV_FILE}: not a regular file" in result.output


# --- texts printed on documents, numbers as written --------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("  name: CCAS de Test", '  name: "  "', "establishment.name", "holds only spaces"),
        ("{id: office, name: Office}", '{id: office, name: ""}', "locations[0].name", "is empty"),
    ],
)
def test_a_name_printed_on_documents_is_never_blank(
    workspace: Path, old: str, new: str, field: str, message: str
) -> None:
    """An invoice to a buyer without a name is rejected (EN 16931 BR-7): a blank name is
    refused at its line, by check as by every command."""
    path = workspace / CONV_FILE
    text = changed(old, new, path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["-w", str(workspace), "check"])
    assert result.exit_code == 2, result.output
    line = line_of(text, new)
    assert f"{CONV_FILE}:{line}: {field}: {message}: write it as it should read" in result.output


def test_numbers_in_messages_are_as_written(workspace: Path) -> None:
    path = workspace / CONV_FILE
    text = path.read_text(encoding="utf-8")
    text = changed("{amount: 150, per: session}", "{amount: 237.505, per: session}", text)
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["-w", str(workspace), "check"])
    assert "amount: 237.505: an amount has at most two decimals" in result.output
    assert "Decimal(" not in result.output


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "notice_days: 15",
            "notice_days: 99999999999999999999",
            "notice_days: must be at most 365",
        ),
        ("travel_minutes: 30", "travel_minutes: 100000", "travel_minutes: must be at most 600"),
    ],
)
def test_durations_past_any_contract_are_refused(
    workspace: Path, old: str, new: str, message: str
) -> None:
    """A notice of more than a year, or a journey of more than ten hours, is a typo: refused at
    its line (a huge number would also overflow the date arithmetic)."""
    for path in (workspace / CONV_FILE, workspace / "practitioner.yaml"):
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, new), encoding="utf-8")
    result = runner.invoke(app, ["-w", str(workspace), "check"])
    assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"  "', "holds only spaces"),
        ('"TEST\\t1"', "holds a tab or a line break: write the reference on one line"),
    ],
)
def test_a_reference_the_e_invoice_carries_is_one_line_of_text(
    workspace: Path, value: str, message: str
) -> None:
    path = workspace / CONV_FILE
    text = changed(
        "chorus_service_code: TEST1",
        f"chorus_service_code: {value}",
        path.read_text(encoding="utf-8"),
    )
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["-w", str(workspace), "check"])
    line = line_of(text, "chorus_service_code")
    assert f"{CONV_FILE}:{line}: establishment.chorus_service_code: {message}" in result.output


@pytest.mark.parametrize("written", ["1e3", "1_000", "٣٢٠", "0x10"])
def test_an_amount_given_as_text_is_written_with_digits(written: str) -> None:
    from apptool.domain.models import parse_money

    with pytest.raises(ValueError, match=r"is not an amount: write e\.g\. 150 or 80\.50"):
        parse_money(written)
    assert parse_money(" 320.5 ") == Decimal("320.50")


def test_a_fee_of_nothing_is_refused(workspace: Path) -> None:
    path = workspace / CONV_FILE
    text = changed(
        "{amount: 150, per: session}", "{amount: 0, per: session}", path.read_text(encoding="utf-8")
    )
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["-w", str(workspace), "check"])
    assert "fees.group_session.amount: a price of 0 EUR" in result.output


def test_the_characters_refused_before_parsing_are_those_yaml_refuses() -> None:
    """The class of refused characters, written as its complement to compile faster, is
    PyYAML's own "not printable" class, over every code point."""
    import yaml.reader

    from apptool.store import loading

    ours, pyyaml = loading._NOT_PRINTABLE, yaml.reader.Reader.NON_PRINTABLE
    differ = [
        code
        for code in range(0x110000)
        if (ours.match(chr(code)) is None) != (pyyaml.match(chr(code)) is None)
    ]
    assert differ == []
