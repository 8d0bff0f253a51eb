"""The command line, through typer's CliRunner: help, init, plan (table, json, ics), check,
determinism, the calendar of record kept across runs, and clean refusals (exit 2)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from icalendar import Calendar
from typer.testing import CliRunner

from apptool.cli import app
from apptool.output.export import JSON_KEYS
from apptool.store.workspace import init_workspace
from conftest import CONVENTION, safe_load, write_workspace

runner = CliRunner()
TODAY = "2024-01-01"


# --- helpers ------------------------------------------------------------------------------


def run(root: Path, *args: str, code: int = 0) -> Any:
    """Invoke ``apptool -w ROOT ARGS``, expect exit ``code`` and never a traceback."""
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    if code in (0, 2):
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
    assert result.exit_code == code, result.output
    return result


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes (the lock file is not data)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".apptool.lock"
    }


def calendar(root: Path, year: int = 2025) -> str:
    return (root / "calendars" / f"{year}.yaml").read_text(encoding="utf-8")


def sessions_by_id(root: Path, year: int = 2025) -> dict[str, dict[str, Any]]:
    data = safe_load(calendar(root, year))
    return {s["id"]: s for s in data["sessions"]}


def session_line(text: str, sid: str) -> tuple[int, int]:
    """(1-based line, index) of the session item with id ``sid`` in a plan file's text."""
    lines = text.splitlines()
    id_line = next(n for n, line in enumerate(lines) if line.strip() == f"id: {sid}")
    start = next(n for n in range(id_line, -1, -1) if lines[n].startswith("- "))
    index = sum(1 for line in lines[:start] if line.startswith("- "))
    return start + 1, index


def move(root: Path, sid: str, to: str) -> str:
    """Change the date of session ``sid`` in the 2025 plan file by hand; the new text."""
    old = sessions_by_id(root)[sid]["date"]
    lines = calendar(root).splitlines(keepends=True)
    first, _ = session_line("".join(lines), sid)
    for number in range(first - 1, len(lines)):
        if lines[number].strip() == f"date: '{old}'":
            lines[number] = lines[number].replace(old, to)
            break
    else:
        raise AssertionError(f"no date line for {sid}")
    text = "".join(lines)
    (root / "calendars" / "2025.yaml").write_text(text, encoding="utf-8")
    assert sessions_by_id(root)[sid]["date"] == to
    return text


def plan_json(root: Path, year: int = 2025, *args: str) -> dict[str, Any]:
    result = run(root, "plan", str(year), "--today", TODAY, "--format", "json", *args)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def planned(tmp_path: Path) -> Path:
    """The small test workspace, planned for 2025 as of 2024-01-01."""
    root = write_workspace(tmp_path / "ws")
    run(root, "plan", "2025", "--today", TODAY)
    return root


# --- help ---------------------------------------------------------------------------------


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield (*path, name), sub
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_listed() -> None:
    names = {path for path, _ in COMMANDS}
    for expected in (
        "init",
        "plan",
        "check",
        "reschedule",
        "cancel",
        "sessions",
        "terminate",
        "individual",
        "individual add",
        "individual list",
        "individual remove",
    ):
        assert tuple(expected.split()) in names


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    command = dict(COMMANDS)[path]
    description = (command.help or "").strip()
    assert description, f"apptool {' '.join(path)} has no description"
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    first = description.splitlines()[0]
    assert " ".join(first.split()) in " ".join(result.output.split())
    for param in command.params:
        assert getattr(param, "help", None), f"apptool {' '.join(path)}: {param.name} has no help"


def test_top_level_help_lists_commands_and_workspace_option() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "plan", "check", "--workspace", "APPTOOL_WORKSPACE"):
        assert name in result.output


# --- init ---------------------------------------------------------------------------------


def test_init_creates_a_workspace_that_plan_can_use(tmp_path: Path) -> None:
    target = tmp_path / "new"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "practitioner.yaml").is_file()
    assert (target / "conventions" / "ccas-dreux.yaml").is_file()
    assert (target / "calendars").is_dir()
    assert f"created {target / 'practitioner.yaml'}" in result.output
    result = run(target, "plan", "2025", "--today", TODAY)
    assert "52 sessions" in result.stdout
    assert (target / "calendars" / "2025.yaml").is_file()
    run(target, "check")


def test_init_refuses_to_overwrite_and_writes_nothing(example: Path) -> None:
    practitioner = example / "practitioner.yaml"
    practitioner.write_text(
        practitioner.read_text(encoding="utf-8").replace("Alain Frison", "Someone Else"),
        encoding="utf-8",
    )
    before = snapshot(example)
    result = runner.invoke(app, ["init", str(example)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "nothing was written" in result.output
    assert snapshot(example) == before


def test_init_refuses_a_partial_clash_without_writing_the_other_files(tmp_path: Path) -> None:
    target = tmp_path / "partial"
    target.mkdir()
    (target / "practitioner.yaml").write_text("name: Mine\n", encoding="utf-8")
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 2
    assert "practitioner.yaml" in result.output
    assert not (target / "conventions").exists()
    assert (target / "practitioner.yaml").read_text(encoding="utf-8") == "name: Mine\n"


# --- plan: table --------------------------------------------------------------------------


def test_plan_prints_a_table_and_the_summary_and_writes_the_calendar(example: Path) -> None:
    result = run(example, "plan", "2025", "--today", TODAY)
    out = result.stdout
    assert "April 2025" in out and "December 2025" in out
    assert "ccas-dreux/action-sociale/2025-04" in out
    assert re.search(r"^52 sessions, \d+ days, \d+ trips", out, re.MULTILINE)
    path = example / "calendars" / "2025.yaml"
    assert f"52 placed, 0 kept; written to {path}" in " ".join(out.split())
    assert len(sessions_by_id(example)) == 52
    assert safe_load(calendar(example))["year"] == 2025


def test_plan_accepts_the_workspace_from_the_environment(example: Path) -> None:
    result = runner.invoke(
        app,
        ["plan", "2025", "--today", TODAY, "-f", "json"],
        env={"APPTOOL_WORKSPACE": str(example)},
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["sessions"]) == 52


def test_plan_uses_the_current_folder_by_default(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(example)
    monkeypatch.delenv("APPTOOL_WORKSPACE", raising=False)
    result = runner.invoke(app, ["plan", "2025", "--today", TODAY, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "52 sessions" in result.stdout


# --- plan: json ---------------------------------------------------------------------------


def test_plan_json_has_the_public_format(example: Path) -> None:
    data = plan_json(example)
    assert set(data) == {"year", "sessions"}
    assert data["year"] == 2025
    sessions = data["sessions"]
    assert len(sessions) == 52
    for s in sessions:
        assert set(s) == {
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
        }
        assert s["id"] == f"{s['convention']}/{s['group']}/{s['period']}"
        pattern = r"2025-(0[1-9]|1[0-2])" if s["cadence"] == "monthly" else r"2025-Q[1-4]"
        assert re.fullmatch(pattern, s["period"]), s["period"]
        assert date.fromisoformat(s["date"]).isoformat() == s["date"]
        assert re.fullmatch(r"\d{2}:\d{2}", s["start"]) and re.fullmatch(r"\d{2}:\d{2}", s["end"])
        assert s["start"] < s["end"]
        assert s["status"] == "planned"
        assert s["convention"] == "ccas-dreux"
    assert set(JSON_KEYS) == set(sessions[0])
    ids = [s["id"] for s in sessions]
    assert len(set(ids)) == len(ids)
    assert sum(s["cadence"] == "quarterly" for s in sessions) == 3  # Q2, Q3, Q4
    assert "ccas-dreux/administratifs/2025-Q2" in ids


def test_plan_json_sessions_fall_in_their_period(example: Path) -> None:
    for s in plan_json(example)["sessions"]:
        day = date.fromisoformat(s["date"])
        if s["cadence"] == "monthly":
            assert f"{day:%Y-%m}" == s["period"]
        else:
            assert f"{day.year}-Q{(day.month - 1) // 3 + 1}" == s["period"]
        assert day.weekday() < 5
        assert day.month not in (7, 8)


def test_example_plans_52_sessions_in_2025_and_74_in_2026(example: Path) -> None:
    assert len(plan_json(example, 2025)["sessions"]) == 52
    data = plan_json(example, 2026)
    assert data["year"] == 2026
    assert len(data["sessions"]) == 74
    assert len(sessions_by_id(example, 2026)) == 74


def test_plan_json_goes_to_stdout_and_nothing_else(example: Path) -> None:
    result = run(example, "plan", "2025", "--today", TODAY, "--format", "json")
    json.loads(result.stdout)  # the whole of stdout is the JSON document
    assert result.stderr == ""


# --- plan: ics ----------------------------------------------------------------------------


def ics_events(root: Path) -> list[Any]:
    result = run(root, "plan", "2025", "--today", TODAY, "--format", "ics")
    cal = Calendar.from_ical(result.stdout)
    return list(cal.walk("VEVENT"))


def test_plan_ics_has_one_event_per_session_in_paris_time(example: Path) -> None:
    sessions = {s["id"]: s for s in plan_json(example, 2025, "--dry-run")["sessions"]}
    events = ics_events(example)
    assert len(events) == 52
    assert {str(e["uid"]) for e in events} == {f"{sid}@apptool" for sid in sessions}
    for event in events:
        s = sessions[str(event["uid"]).removesuffix("@apptool")]
        start, end = event["dtstart"], event["dtend"]
        assert start.params["TZID"] == "Europe/Paris"
        assert str(start.dt.tzinfo) == "Europe/Paris"
        assert start.dt.replace(tzinfo=None) == datetime.fromisoformat(f"{s['date']}T{s['start']}")
        assert end.dt.replace(tzinfo=None) == datetime.fromisoformat(f"{s['date']}T{s['end']}")
        assert str(event["status"]) == "CONFIRMED"
    cal = Calendar.from_ical(run(example, "plan", "2025", "--today", TODAY, "-f", "ics").stdout)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_plan_ics_uids_are_stable_across_runs(example: Path, tmp_path: Path) -> None:
    first = [str(e["uid"]) for e in ics_events(example)]
    again = [str(e["uid"]) for e in ics_events(example)]  # second run: sessions kept
    other = tmp_path / "other"
    init_workspace(other)
    elsewhere = [str(e["uid"]) for e in ics_events(other)]
    assert first == again == elsewhere
    assert len(set(first)) == 52


# --- determinism, dry run, the calendar of record ----------------------------------------


def test_plan_is_deterministic_in_two_fresh_copies(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        root = tmp_path / name
        init_workspace(root)
        result = run(root, "plan", "2025", "--today", TODAY, "--format", "json")
        outputs.append((result.stdout, (root / "calendars" / "2025.yaml").read_bytes()))
    assert outputs[0] == outputs[1]


def test_plan_twice_gives_the_same_file(planned: Path) -> None:
    first = calendar(planned)
    result = run(planned, "plan", "2025", "--today", TODAY)
    assert "0 placed, 17 kept" in result.stdout
    assert calendar(planned) == first


def test_dry_run_writes_nothing(example: Path) -> None:
    before = snapshot(example)
    result = run(example, "plan", "2025", "--today", TODAY, "--dry-run")
    assert "52 sessions" in result.stdout
    assert "not written (dry run)" in result.stdout
    assert snapshot(example) == before
    assert not (example / "calendars" / "2025.yaml").exists()


def test_dry_run_leaves_an_existing_calendar_unchanged(planned: Path) -> None:
    before = snapshot(planned)
    run(planned, "plan", "2025", "--today", "2025-07-15", "--fresh", "--dry-run", "-f", "json")
    assert snapshot(planned) == before


def test_second_plan_keeps_a_session_moved_by_hand(planned: Path) -> None:
    sid = "test/alpha/2025-05"
    assert sessions_by_id(planned)[sid]["date"] == "2025-05-06"
    move(planned, sid, "2025-05-13")  # another free Tuesday of May
    run(planned, "check")  # the edit is valid
    result = run(planned, "plan", "2025", "--today", TODAY)
    assert "0 placed, 17 kept" in result.stdout
    assert sessions_by_id(planned)[sid]["date"] == "2025-05-13"
    assert len(sessions_by_id(planned)) == 17


def test_plan_fills_in_a_session_removed_from_the_file(planned: Path) -> None:
    sessions = sessions_by_id(planned)
    del sessions["test/beta/2025-11"]
    (planned / "calendars" / "2025.yaml").write_text(
        yaml.safe_dump({"year": 2025, "sessions": list(sessions.values())}), encoding="utf-8"
    )
    result = run(planned, "plan", "2025", "--today", TODAY)
    assert "1 placed, 16 kept" in result.stdout
    assert "test/beta/2025-11" in sessions_by_id(planned)


def test_fresh_replans_only_future_sessions(planned: Path) -> None:
    original = sessions_by_id(planned)
    move(planned, "test/alpha/2025-05", "2025-05-13")  # past on 2025-07-15: stays
    move(planned, "test/alpha/2025-10", "2025-10-09")  # future: re-planned
    run(planned, "check")
    edited = sessions_by_id(planned)
    result = run(planned, "plan", "2025", "--today", "2025-07-15", "--fresh")
    after = sessions_by_id(planned)
    past = [sid for sid, s in edited.items() if s["date"] <= "2025-07-15"]
    future = [sid for sid in edited if sid not in past]
    assert len(past) == 7 and len(future) == 10
    assert all(after[sid] == edited[sid] for sid in past)
    assert after["test/alpha/2025-05"]["date"] == "2025-05-13"
    assert after["test/alpha/2025-10"]["date"] == original["test/alpha/2025-10"]["date"]
    assert all(after[sid]["date"] > "2025-07-15" for sid in future)
    assert "10 placed, 7 kept" in result.stdout


def test_fresh_moves_nothing_inside_the_notice_and_records_each_move(planned: Path) -> None:
    """Art. 2.1: a session moves only with the notice (15 days here): --fresh leaves the
    sessions inside it where they are; one it places elsewhere is a move by the
    practitioner, in its history, with the notice given."""
    near = date.fromisoformat(str(sessions_by_id(planned)["test/alpha/2025-09"]["date"]))
    near_hand = near + timedelta(days=1 if near.weekday() < 4 else -1)
    move(planned, "test/alpha/2025-09", near_hand.isoformat())  # a re-plan would move it back
    today = near_hand - timedelta(days=7)  # but it is inside the notice: it stays
    far = date.fromisoformat(str(sessions_by_id(planned)["test/alpha/2025-11"]["date"]))
    hand = far + timedelta(days=7)
    move(planned, "test/alpha/2025-11", hand.isoformat())  # far enough: re-planned
    edited = sessions_by_id(planned)
    run(planned, "plan", "2025", "--today", today.isoformat(), "--fresh")
    after = sessions_by_id(planned)
    assert after["test/alpha/2025-09"] == edited["test/alpha/2025-09"]
    moved = after["test/alpha/2025-11"]
    assert str(moved["date"]) == far.isoformat() and moved["status"] == "moved"
    [change] = moved["history"]
    assert (change["action"], change["by"], str(change["requested_on"])) == (
        "moved",
        "practitioner",
        today.isoformat(),
    )
    assert (str(change["previous_date"]), change["notice_days"]) == (
        hand.isoformat(),
        (hand - today).days,
    )
    unchanged = [sid for sid, s in after.items() if s["date"] == edited[sid]["date"]]
    assert all(not after[sid].get("history") for sid in unchanged)
    run(planned, "check")


def test_check_never_asks_to_plan_what_plan_does_not_place(planned: Path) -> None:
    """A group added in July: its sessions of April to June are over, plan places none of
    them, and check says so instead of asking to run plan again."""
    path = planned / "conventions" / "test.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "  - {id: delta, name: Delta, cadence: monthly, location: office}\n",
        encoding="utf-8",
    )
    run(planned, "plan", "2025", "--today", "2025-07-15")
    notes = run(planned, "check", "--today", "2025-07-15").stdout
    assert "run `apptool plan 2025`" not in notes
    assert (
        "3 required session(s) of periods already over were never planned (`apptool plan` "
        "does not rewrite the past" in notes
    )
    assert "test/delta/2025-04, test/delta/2025-05, test/delta/2025-06" in notes
    earlier = run(planned, "check", "--today", "2025-01-15").stdout
    assert "3 required session(s) not planned yet (run `apptool plan 2025`)" in earlier


def test_check_notes_a_preference_for_a_day_never_worked(tmp_path: Path) -> None:
    text = CONVENTION.replace(
        "{id: alpha, name: Alpha, cadence: monthly, location: office}",
        "{id: alpha, name: Alpha, cadence: monthly, location: office,"
        " preferences: {weekdays: [sunday]}}",
    )
    root = write_workspace(tmp_path / "ws", {"test": text})
    out = run(root, "check", "--today", TODAY).stdout
    assert (
        "note: conventions/test.yaml: group alpha prefers sunday, never a day the practitioner "
        "works" in out
    )
    path = root / "conventions" / "test.yaml"
    path.write_text(text.replace("weekdays: [sunday]", "weekdays: [sunday, tuesday]"), "utf-8")
    assert "cannot be met" not in run(root, "check", "--today", TODAY).stdout  # tuesday can


def test_without_fresh_a_future_hand_edit_stays(planned: Path) -> None:
    move(planned, "test/alpha/2025-10", "2025-10-09")
    run(planned, "plan", "2025", "--today", "2025-07-15")
    assert sessions_by_id(planned)["test/alpha/2025-10"]["date"] == "2025-10-09"


# --- check --------------------------------------------------------------------------------


def test_check_ok_on_a_valid_workspace(example: Path) -> None:
    result = run(example, "check")
    assert "ok: 3 file(s) checked, no problem found" in result.stdout
    run(example, "plan", "2025", "--today", TODAY)
    result = run(example, "check")
    assert "ok: 4 file(s) checked, no problem found" in result.stdout


def test_check_lists_every_problem_with_exit_2(tmp_path: Path) -> None:
    text = CONVENTION.replace("location: home}", "location: garage}").replace(
        "id: gamma", "id: alpha"
    )
    root = write_workspace(
        tmp_path / "ws", {"test": text}, practitioner="name: X\nworking_weekdays: [someday]\n"
    )
    result = run(root, "check", code=2)
    lines = result.output.splitlines()
    assert lines[-1] == "3 problem(s) found"
    assert lines[0].startswith("practitioner.yaml:2: working_weekdays[0]: ")
    assert any(line.startswith("conventions/test.yaml:") and "garage" in line for line in lines)
    assert any("duplicate group id 'alpha'" in line for line in lines)
    assert result.stdout == ""  # problems go to stderr


def check_violation(root: Path, sid: str, text: str) -> str:
    """Run check on a hand-edited plan file: exit 2 and the line of session ``sid``."""
    result = run(root, "check", code=2)
    line, index = session_line(text, sid)
    prefix = f"calendars/2025.yaml:{line}: sessions[{index}]: {sid}: "
    found = [x for x in result.output.splitlines() if x.startswith(prefix)]
    assert found, result.output
    return str(found[0]).removeprefix(prefix)


def test_check_reports_a_session_moved_onto_a_public_holiday(planned: Path) -> None:
    sid = "test/alpha/2025-05"
    text = move(planned, sid, "2025-05-01")
    assert "public holiday" in check_violation(planned, sid, text)


def test_check_reports_two_sessions_at_the_same_time(planned: Path) -> None:
    # alpha is on 2025-05-06 at 09:00; put beta (09:00 too) on the same day
    assert sessions_by_id(planned)["test/alpha/2025-05"]["start"] == "09:00"
    sid = "test/beta/2025-05"
    text = move(planned, sid, "2025-05-06")
    message = check_violation(planned, sid, text)
    assert message == "2025-05-06 09:00: overlaps with test/alpha/2025-05"


def test_check_reports_a_session_on_a_saturday(planned: Path) -> None:
    sid = "test/alpha/2025-05"
    text = move(planned, sid, "2025-05-10")
    assert check_violation(planned, sid, text) == "2025-05-10: not a working day (saturday)"


def test_check_notes_missing_sessions_without_failing(planned: Path) -> None:
    sessions = sessions_by_id(planned)
    del sessions["test/gamma/2025-Q3"]
    (planned / "calendars" / "2025.yaml").write_text(
        yaml.safe_dump({"year": 2025, "sessions": list(sessions.values())}), encoding="utf-8"
    )
    result = run(planned, "check", "--today", TODAY)
    assert "1 required session(s) not planned yet" in result.stdout
    assert "test/gamma/2025-Q3" in result.stdout


def test_plan_warns_about_a_kept_session_that_breaks_a_rule(planned: Path) -> None:
    move(planned, "test/alpha/2025-05", "2025-05-01")
    result = run(planned, "plan", "2025", "--today", TODAY)
    assert "warning: calendars/2025.yaml:" in result.stderr
    assert "public holiday" in result.stderr


# --- refusals -----------------------------------------------------------------------------


def test_non_workspace_folder_refused_with_a_clear_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(empty, "plan", "2025", "--today", TODAY, code=2)
    assert "not an apptool workspace" in result.stderr
    assert "apptool init DIR" in result.stderr
    assert list(empty.iterdir()) == []
    result = run(empty, "check", code=2)
    assert "not an apptool workspace" in result.output


def test_missing_workspace_folder_named_once(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run(missing, "check", code=2)
    assert result.output.splitlines()[0] == f"{missing}: workspace folder not found"
    result = run(missing, "plan", "2025", code=2)
    assert result.output.splitlines() == [f"error: {missing}: workspace folder not found"]


def test_today_that_is_not_a_date_is_a_usage_error(example: Path) -> None:
    before = snapshot(example)
    result = run(example, "plan", "2025", "--today", "notadate", code=2)
    assert "is not a date" in result.output
    assert "Usage:" in result.output
    assert snapshot(example) == before


def test_unknown_format_is_a_usage_error(example: Path) -> None:
    result = run(example, "plan", "2025", "--today", TODAY, "--format", "xml", code=2)
    assert "xml" in result.output
    assert not (example / "calendars" / "2025.yaml").exists()


def test_year_that_is_not_a_number_is_a_usage_error(example: Path) -> None:
    result = run(example, "plan", "twenty", code=2)
    assert "Invalid value for 'YEAR'" in " ".join(result.output.split())
    assert list((example / "calendars").glob("*.yaml")) == []


def test_errors_go_to_stderr_with_the_error_prefix(tmp_path: Path) -> None:
    text = CONVENTION.replace("notice_days: 15", 'notice_days: "fifteen"')
    root = write_workspace(tmp_path / "ws", {"test": text})
    result = run(root, "plan", "2025", "--today", TODAY, "-f", "json", code=2)
    assert result.stdout == ""
    assert result.stderr == (
        "error: conventions/test.yaml:17: notice_days: expected a whole number "
        "(e.g. 12), got `fifteen`\n"
    )


def test_bad_input_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    text = CONVENTION.replace("cadence: quarterly", "cadence: weekly")
    root = write_workspace(tmp_path / "ws", {"test": text})
    env = {k: v for k, v in os.environ.items() if k not in ("APPTOOL_DEBUG", "APPTOOL_WORKSPACE")}
    for args in (
        ["plan", "2025", "--today", TODAY],
        ["check"],
        ["plan", "2025", "--today", "notadate"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "apptool", "-w", str(root), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        if args[-1] != "notadate":
            line = next(n for n, row in enumerate(text.splitlines(), 1) if "weekly" in row)
            assert f"conventions/test.yaml:{line}: groups[2].cadence: " in done.stderr
    assert not (root / "calendars" / "2025.yaml").exists()


def test_a_reader_that_stops_reading_is_not_an_error(tmp_path: Path) -> None:
    """`apptool plan 2025 | head -1`: the plan is written, the command ends with exit 0 and
    says nothing, though the pipe closed before its output."""
    root = write_workspace(tmp_path / "ws")
    env = {k: v for k, v in os.environ.items() if k not in ("APPTOOL_DEBUG", "APPTOOL_WORKSPACE")}
    process = subprocess.Popen(
        [sys.executable, "-m", "apptool", "-w", str(root), "plan", "2025", "--today", TODAY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line
    errors = process.stderr.read()
    assert (process.wait(timeout=120), errors) == (0, b"")
    assert (root / "calendars" / "2025.yaml").exists()


def test_copied_workspace_plans_the_same(example: Path, tmp_path: Path) -> None:
    run(example, "plan", "2025", "--today", TODAY)
    copy = tmp_path / "copy"
    shutil.copytree(example, copy)
    run(copy, "plan", "2025", "--today", TODAY)
    assert calendar(copy) == calendar(example)
