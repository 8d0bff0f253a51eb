"""Undoing mistakes (issue 16.8), through the command line: ``individual remove`` takes out a
consultation entered by mistake, ``terminate`` asks before it cancels, and ``terminate
--undo`` withdraws a termination before its effective end and gives back its sessions.

Each test runs on a copy of the example workspace (CCAS de Dreux), planned for 2025 and 2026,
and ends with ``apptool check`` accepting what the commands left."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from apptool.cli import app
from apptool.store.workspace import init_workspace
from conftest import safe_load

runner = CliRunner()

CONVENTION = "ccas-dreux"
#: The first consultation recorded on 2025-05-14, and the second.
FIRST = f"{CONVENTION}/individual/2025-05-14/1"
SECOND = f"{CONVENTION}/individual/2025-05-14/2"
#: A termination notified on 2026-03-10 ends the convention on 2026-04-30 (art. 9.3).
NOTICE, END = "2026-03-10", "2026-04-30"


def run(root: Path, *args: str, input: str | None = None) -> Result:
    result = runner.invoke(app, ["-w", str(root), *args], input=input)
    assert "Traceback" not in result.output
    return result


def ok(root: Path, *args: str, input: str | None = None) -> str:
    result = run(root, *args, input=input)
    assert result.exit_code == 0, result.output
    return result.output


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the workspace (the lock aside): what a refusal must leave unchanged."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".apptool.lock"
    }


def check_accepts(root: Path) -> None:
    output = ok(root, "check")
    assert "no problem found" in output, output


def add(root: Path, day: str = "2025-05-14", duration: str = "1h30", *more: str) -> str:
    output = ok(
        root, "individual", "add", "--convention", CONVENTION, "--date", day,
        "--duration", duration, *more,
    )  # fmt: skip
    assert output.startswith("recorded "), output
    return output.split()[1].rstrip(":")


def individual_record(root: Path) -> dict[str, Any]:
    data = safe_load((root / "records" / "individual.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def listed(root: Path) -> list[str]:
    data = json.loads(ok(root, "individual", "list", "--format", "json"))
    return [c["id"] for c in data["consultations"]]


def sessions(root: Path, year: int = 2026) -> dict[str, dict[str, Any]]:
    data = safe_load((root / "calendars" / f"{year}.yaml").read_text(encoding="utf-8"))
    return {s["id"]: s for s in data["sessions"]}


def terminations(root: Path) -> list[dict[str, Any]]:
    path = root / "records" / "terminations.yaml"
    return list(safe_load(path.read_text(encoding="utf-8"))["terminations"])


@pytest.fixture(scope="module")
def planned_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("remove-undo") / "example"
    init_workspace(root)
    for year in ("2025", "2026"):
        ok(root, "plan", year, "--today", "2024-01-01")
    return root


@pytest.fixture
def planned(planned_base: Path, tmp_path: Path) -> Path:
    root = tmp_path / "example"
    shutil.copytree(planned_base, root)
    return root


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard input taken for a terminal: the question is asked (answered with ``input``)."""
    monkeypatch.setattr("apptool.cli.common.stdin_is_terminal", lambda: True)


# --- individual remove --------------------------------------------------------------------


def test_remove_keeps_a_trace_that_no_list_shows(planned: Path) -> None:
    assert add(planned) == FIRST
    assert add(planned, "2025-05-14", "1h", "--ref", "A-017") == SECOND
    output = ok(
        planned, "individual", "remove", FIRST, "--reason", "saisie en double",
        "--today", "2025-05-20", "--yes",
    )  # fmt: skip
    assert f"removed {FIRST}" in output
    record = individual_record(planned)
    assert [c["id"] for c in record["consultations"]] == [SECOND]
    [trace] = record["removed"]
    assert (trace["id"], trace["duration"], trace["date"]) == (FIRST, "1h30", "2025-05-14")
    assert (trace["removed_on"], trace["reason"]) == ("2025-05-20", "saisie en double")
    assert listed(planned) == [SECOND]
    assert FIRST not in ok(planned, "individual", "list")
    check_accepts(planned)
    before = snapshot(planned)  # run again (after an interruption, say): nothing changes
    output = ok(planned, "individual", "remove", FIRST, "--today", "2025-05-21", "--yes")
    assert "already removed on 2025-05-20" in output
    assert snapshot(planned) == before


def test_an_unknown_id_is_refused_with_the_closest_id(planned: Path) -> None:
    add(planned)
    add(planned, "2025-06-11", "1h")
    before = snapshot(planned)
    result = run(planned, "individual", "remove", f"{CONVENTION}/individual/2025-05-41/1", "--yes")
    assert result.exit_code == 2, result.output
    assert "unknown consultation" in result.output
    assert f"(did you mean {FIRST!r}" in result.output
    assert "apptool individual list" in result.output
    assert snapshot(planned) == before


@pytest.mark.usefixtures("quick_pdf")
def test_a_billed_consultation_is_refused_until_a_credit_note_cancels_its_invoice(
    planned: Path,
) -> None:
    add(planned)
    ok(planned, "invoice", "--month", "2025-05", "--today", "2025-06-02")
    before = snapshot(planned)
    result = run(planned, "individual", "remove", FIRST, "--today", "2025-06-03", "--yes")
    assert result.exit_code == 4, result.output
    assert "billed by invoice 2025-0001" in result.output
    assert "apptool credit-note 2025-0001" in result.output
    assert snapshot(planned) == before
    ok(planned, "credit-note", "2025-0001", "--reason", "erreur", "--today", "2025-06-03")
    ok(planned, "individual", "remove", FIRST, "--today", "2025-06-03", "--yes")
    ok(planned, "invoice", "--month", "2025-05", "--today", "2025-06-04")
    invoice = safe_load((planned / "invoices" / "2025-0002.yaml").read_text("utf-8"))
    sources = [line["source"] for line in invoice["document"]["lines"]]
    assert sources and FIRST not in sources  # the month billed again, without it
    check_accepts(planned)


def test_removed_consultations_are_not_counted_in_the_bilan(planned: Path) -> None:
    days = ["2025-05-14", "2025-05-15", "2025-06-11", "2025-06-12"]
    ids = [add(planned, day, "1h") for day in days]

    def counted() -> str:
        text = ok(planned, "bilan", "2025", "--convention", CONVENTION, "--today", "2025-12-31")
        return next(line for line in text.splitlines() if line.startswith("- Consultations"))

    assert counted() == "- Consultations : 4"
    ok(planned, "individual", "remove", ids[0], "--today", "2025-12-01", "--yes")
    assert counted() == "- Consultations : 3"
    check_accepts(planned)


def test_the_id_of_a_removed_consultation_is_never_given_again(planned: Path) -> None:
    add(planned)
    add(planned, "2025-05-14", "1h")
    ok(planned, "individual", "remove", SECOND, "--today", "2025-05-20", "--yes")
    again = add(planned, "2025-05-14", "1h")  # the same as the removed one: a new entry
    assert again == f"{CONVENTION}/individual/2025-05-14/3"
    assert listed(planned) == [FIRST, again]
    check_accepts(planned)


def test_declining_the_confirmation_writes_nothing(planned: Path, terminal: None) -> None:
    add(planned, "2025-05-14", "1h30", "--ref", "A-017")
    before = snapshot(planned)
    output = ok(planned, "individual", "remove", FIRST, input="n\n")
    assert f"to remove: {FIRST}: 2025-05-14, 1h30, ref A-017" in output
    assert "Remove this consultation? [y/N]" in output
    assert "nothing removed" in output
    assert snapshot(planned) == before
    ok(planned, "individual", "remove", FIRST, "--today", "2025-05-20", input="y\n")
    assert listed(planned) == []
    check_accepts(planned)


def test_out_of_a_terminal_without_yes_nothing_is_removed_or_terminated(planned: Path) -> None:
    add(planned)
    before = snapshot(planned)
    result = run(planned, "individual", "remove", FIRST)
    assert result.exit_code == 2, result.output
    assert "not a terminal" in result.output and "--yes" in result.output
    result = run(planned, "terminate", CONVENTION, "--notice-on", NOTICE)
    assert result.exit_code == 2, result.output
    assert f"cancels (not due) {CONVENTION}/seniors-1/2026-05" in result.output
    assert "--yes" in result.output
    assert snapshot(planned) == before
    check_accepts(planned)


# --- terminate: confirmation ----------------------------------------------------------------


def test_terminate_lists_what_it_cancels_and_asks_first(planned: Path, terminal: None) -> None:
    before = snapshot(planned)
    output = ok(planned, "terminate", CONVENTION, "--notice-on", NOTICE, input="n\n")
    assert f"effective end {END}" in output
    after_end = [s for s in sessions(planned).values() if s["date"] > END]
    assert after_end
    for s in after_end:
        assert f"cancels (not due) {s['id']}: {s['date']}" in output
    assert f"Terminate {CONVENTION} and cancel {len(after_end)} later session(s)?" in output
    assert "nothing terminated" in output
    assert snapshot(planned) == before
    output = ok(planned, "terminate", CONVENTION, "--notice-on", NOTICE, input="y\n")
    assert f"{len(after_end)} later session(s) cancelled" in output
    now = sessions(planned)
    assert all(now[s["id"]]["status"] == "cancelled" for s in after_end)
    assert [t["notice_on"] for t in terminations(planned)] == [NOTICE]
    check_accepts(planned)


def run_in_terminal(root: Path, answer: str, *args: str) -> tuple[int, str]:
    """Run apptool in a pseudo-terminal, answer its question, return its code and output."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "apptool", "-w", str(root), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    output, answered, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[y/N]" in output:
            os.write(leader, answer.encode())
            answered = True
    code = process.wait(timeout=60)
    os.close(leader)
    return code, output.decode("utf-8").replace("\r\n", "\n")


def test_in_a_real_terminal_the_question_is_asked_and_no_writes_nothing(planned: Path) -> None:
    before = snapshot(planned)
    code, output = run_in_terminal(planned, "n\n", "terminate", CONVENTION, "--notice-on", NOTICE)
    assert code == 0, output
    assert "later session(s)? [y/N]" in output and "nothing terminated" in output
    assert snapshot(planned) == before


# --- terminate --undo -----------------------------------------------------------------------


def test_undo_gives_back_the_sessions_keeps_the_history_and_the_termination(
    planned: Path,
) -> None:
    planned_before = sessions(planned)
    ok(planned, "terminate", CONVENTION, "--notice-on", NOTICE, "--by", "establishment", "--yes")
    assert ok(planned, "plan", "2027", "--format", "json", "--dry-run").count('"id"') == 0
    output = ok(
        planned, "terminate", CONVENTION, "--undo", "--by", "establishment",
        "--today", "2026-03-20", "--yes",
    )  # fmt: skip
    after_end = [sid for sid, s in planned_before.items() if s["date"] > END]
    assert f"{len(after_end)} session(s) restored, 0 left as they are" in output
    now = sessions(planned)
    for sid, before in planned_before.items():
        session = now[sid]
        assert (session["date"], session["start"]) == (before["date"], before["start"])
        assert session["status"] == before["status"] == "planned"
        if sid in after_end:
            assert f"restores {sid}: {before['date']}" in output
            history = session["history"]
            assert [c["action"] for c in history] == ["cancelled", "restored"]
            assert history[0]["reason"].startswith("résiliation de la convention")
            assert (history[1]["requested_on"], history[1]["by"]) == ("2026-03-20", "establishment")
            assert history[1]["status"] == "planned"
        else:
            assert session == before
    [termination] = terminations(planned)
    assert (termination["notice_on"], termination["effective_end"]) == (NOTICE, END)
    assert (termination["withdrawn_on"], termination["withdrawn_by"]) == (
        "2026-03-20",
        "establishment",
    )
    # the convention runs on as its file says: the next year is planned again
    assert json.loads(ok(planned, "plan", "2027", "--format", "json", "--dry-run"))["sessions"]
    feed = ok(planned, "sessions", "--format", "ics", "--today", "2026-03-20")
    assert f"UID:{CONVENTION}/seniors-1/2026-05@apptool" in feed and "SEQUENCE:2" in feed
    check_accepts(planned)
    before = snapshot(planned)  # run again: nothing changes
    output = ok(planned, "terminate", CONVENTION, "--undo", "--today", "2026-03-21", "--yes")
    assert "already withdrawn on 2026-03-20" in output
    assert snapshot(planned) == before
    # withdrawn, it no longer stands in the way of a new termination
    ok(planned, "terminate", CONVENTION, "--notice-on", "2026-03-25", "--yes")
    assert sessions(planned)[f"{CONVENTION}/seniors-1/2026-05"]["status"] == "cancelled"
    check_accepts(planned)


def test_undo_leaves_the_sessions_changed_since_and_says_why(planned: Path) -> None:
    moved = f"{CONVENTION}/seniors-1/2026-05"
    ok(planned, "terminate", CONVENTION, "--notice-on", NOTICE, "--yes")
    ok(
        planned, "reschedule", moved, "--to", "2026-04-27", "--slot", "09:00", "--by",
        "practitioner", "--requested-on", "2026-03-25", "--allow-move-out",
        "--today", "2026-03-25",
    )  # fmt: skip
    # an absence on the day of a cancelled session: the sessions of that day cannot come back
    day = sessions(planned)[f"{CONVENTION}/seniors-2/2026-06"]["date"]
    profile = planned / "practitioner.yaml"
    profile.write_text(
        profile.read_text(encoding="utf-8").replace(
            "unavailability:\n", f"unavailability:\n  - {{from: {day}, reason: formation}}\n"
        ),
        encoding="utf-8",
    )
    output = ok(planned, "terminate", CONVENTION, "--undo", "--today", "2026-03-26", "--yes")
    assert f"leaves {moved}: 2026-04-27 09:00: changed since the termination (moved)" in output
    now = sessions(planned)
    assert (now[moved]["status"], now[moved]["date"]) == ("moved", "2026-04-27")
    absent = [sid for sid, s in now.items() if s["date"] == day]
    assert absent
    for sid in absent:
        assert f"leaves {sid}: {day}" in output and "unavailab" in output
        assert now[sid]["status"] == "cancelled"
    assert f"{len(absent) + 1} left as they are" in output
    restored = [sid for sid, s in now.items() if s["date"] > END and s["status"] == "planned"]
    assert restored and all(now[sid]["history"][-1]["action"] == "restored" for sid in restored)
    assert len(restored) + len(absent) == sum(1 for s in now.values() if s["date"] > END)
    check_accepts(planned)


def test_undo_is_refused_from_the_effective_end(planned: Path) -> None:
    ok(planned, "terminate", CONVENTION, "--notice-on", NOTICE, "--yes")
    before = snapshot(planned)
    result = run(planned, "terminate", CONVENTION, "--undo", "--today", END, "--yes")
    assert result.exit_code == 4, result.output
    assert "can be withdrawn only before its effective end" in result.output
    assert snapshot(planned) == before
    ok(planned, "terminate", CONVENTION, "--undo", "--today", "2026-04-29", "--yes")
    assert terminations(planned)[0]["withdrawn_on"] == "2026-04-29"
    check_accepts(planned)


def test_undo_is_refused_before_the_notice(planned: Path) -> None:
    """A withdrawal dated before the notice would make the history run backwards."""
    ok(planned, "terminate", CONVENTION, "--notice-on", NOTICE, "--yes")
    before = snapshot(planned)
    day_before = (date.fromisoformat(NOTICE) - timedelta(days=1)).isoformat()
    result = run(planned, "terminate", CONVENTION, "--undo", "--today", day_before, "--yes")
    assert result.exit_code == 4, result.output
    assert f"notified on {NOTICE}, after today ({day_before})" in result.output
    assert snapshot(planned) == before


def test_undo_without_a_recorded_termination_is_refused(planned: Path) -> None:
    before = snapshot(planned)
    result = run(planned, "terminate", CONVENTION, "--undo", "--today", "2026-03-20", "--yes")
    assert result.exit_code == 4, result.output
    assert "no recorded termination to withdraw" in result.output
    assert snapshot(planned) == before


def test_undo_asks_first_and_a_no_writes_nothing(planned: Path, terminal: None) -> None:
    ok(planned, "terminate", CONVENTION, "--notice-on", NOTICE, "--yes")
    before = snapshot(planned)
    output = ok(planned, "terminate", CONVENTION, "--undo", "--today", "2026-03-20", input="n\n")
    assert f"restores {CONVENTION}/seniors-1/2026-05" in output
    assert "Withdraw the termination of ccas-dreux" in output
    assert "the termination stands" in output
    assert snapshot(planned) == before


def test_check_refuses_a_removed_id_that_is_also_recorded(planned: Path) -> None:
    add(planned)
    ok(planned, "individual", "remove", FIRST, "--today", "2025-05-20", "--yes")
    path = planned / "records" / "individual.yaml"
    data = individual_record(planned)
    trace = {k: v for k, v in data["removed"][0].items() if k not in ("removed_on", "reason")}
    data["consultations"] = [trace]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run(planned, "check")
    assert result.exit_code == 2, result.output
    assert "is both removed and recorded" in result.output
