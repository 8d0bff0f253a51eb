"""Nothing is ever lost: atomic writes, the workspace lock, concurrent commands."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from apptool.cli import app
from apptool.errors import WorkspaceBusy
from apptool.services import planning
from apptool.services import sessions as use_cases
from apptool.store.files import write_atomic
from apptool.store.workspace import locked
from conftest import TODAY, safe_load, write_workspace

runner = CliRunner()


def test_write_atomic_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    write_atomic(path, "one\n")
    write_atomic(path, "two\n")
    assert path.read_text() == "two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_write_killed_midway_leaves_the_previous_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "f.yaml"
    write_atomic(path, "previous\n")

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError):
        write_atomic(path, "new content that must never be half-written\n")
    monkeypatch.undo()
    assert path.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]  # no temp file left behind


def test_a_failing_write_during_a_command_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_workspace(tmp_path / "ws")
    planning.plan(root, 2025, TODAY)
    path = root / "calendars" / "2025.yaml"
    before = path.read_bytes()

    def boom(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", boom)
    result = runner.invoke(
        app,
        [
            "-w",
            str(root),
            "cancel",
            "test/alpha/2025-05",
            "--by",
            "practitioner",
            "--requested-on",
            "2025-04-01",
        ],
    )
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "Input/output error" in result.output and "Traceback" not in result.output
    assert path.read_bytes() == before


def test_a_second_command_fails_cleanly_while_the_lock_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_workspace(tmp_path / "ws")
    planning.plan(root, 2025, TODAY)
    before = (root / "calendars" / "2025.yaml").read_bytes()
    monkeypatch.setenv("APPTOOL_LOCK_TIMEOUT", "0.2")  # not the default 10 s wait
    with locked(root):
        with pytest.raises(WorkspaceBusy):
            use_cases.cancel(root, "test/alpha/2025-05", "practitioner", date(2025, 4, 1))
        env = {**os.environ, "APPTOOL_LOCK_TIMEOUT": "0.2"}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "apptool",
                "-w",
                str(root),
                "cancel",
                "test/alpha/2025-05",
                "--by",
                "practitioner",
                "--requested-on",
                "2025-04-01",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    assert result.returncode == 5
    assert "another apptool command" in result.stderr
    assert (root / "calendars" / "2025.yaml").read_bytes() == before


def test_two_processes_changing_the_plan_at_once_lose_nothing(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    planning.plan(root, 2025, TODAY)
    ids = [f"test/{group}/2025-{month:02d}" for group in ("alpha", "beta") for month in (5, 6)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apptool",
                "-w",
                str(root),
                "cancel",
                sid,
                "--by",
                "practitioner",
                "--requested-on",
                "2025-04-01",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for sid in ids
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    data = safe_load((root / "calendars" / "2025.yaml").read_text())
    cancelled = {s["id"] for s in data["sessions"] if s["status"] == "cancelled"}
    assert cancelled == set(ids)


# --- killed at any point, then run again: as if it had run once ------------------------------
#
# Every state-changing command is interrupted before each of its file operations in turn
# (create the temp file, fsync it, link or rename it into place, remove the temp name, fsync
# the folder), as ``kill -9`` would: no clean-up runs, the temp file stays. Right after the
# kill every file holds its old or its new content; the same command run again then leaves
# the workspace byte for byte as one uninterrupted run does (no history entry, consultation,
# note, distribution, order or termination twice), and no temp file. A few real ``kill -9``
# of a subprocess at a random moment complete it (``APPTOOL_KILL_RUNS`` for more).

KILL_RUNS = int(os.environ.get("APPTOOL_KILL_RUNS", "2"))
AGREEMENT = """\
kind: framework-agreement
title: Accord-cadre de test
establishment: {name: Département de Test, address: [1 avenue de la Préfecture, 35000 Rennes]}
lot: {number: 3, title: Équipes, estimated_yearly: 100000, maximum_yearly: 200000}
period: {start: 2025-01-01, end: 2026-12-31}
fees: {group_session: {amount: 320, per: session}}
session_duration: 2h
slots: ["09:30-11:30", "14:00-16:00"]
excluded_months: [8]
notice_days: 15
school_holidays: {zone: B, policy: ignore}
locations: [{id: nord, name: Nord}, {id: sud, name: Sud}]
orders:
  - number: BC-1
    date: 2025-01-10
    unit_price: 320
    maximum: 6400
    groups:
      - {id: comptes, name: Comptés, location: sud, sessions: 5, from: 2025-03-01,
         to: 2025-12-31}
"""
THEMES = "themes:\n  - {id: charge, label: charge de travail}\n"

#: Each command that changes the workspace, as run on a planned workspace.
STATE_CHANGING = {
    "plan": ["plan", "2026", "--today", "2025-01-01"],
    "reschedule": [
        "reschedule", "test/alpha/2025-11", "--to", "2025-11-25", "--slot", "09:00",
        "--by", "establishment", "--requested-on", "2025-06-02", "--reason", "réunion",
    ],
    "cancel": [
        "cancel", "test/beta/2025-10", "--by", "establishment", "--requested-on", "2025-10-01",
        "--reason", "grève",
    ],
    "terminate": [
        "terminate", "accord", "--notice-on", "2025-09-10", "--by", "establishment", "--yes",
    ],
    "individual remove": [
        "individual", "remove", "test/individual/2025-06-11/1", "--reason", "erreur",
        "--today", "2025-06-20", "--yes",
    ],
    "terminate --undo": [
        "terminate", "test", "--undo", "--by", "establishment", "--today", "2025-11-03", "--yes",
    ],
    "individual add": [
        "individual", "add", "--convention", "test", "--date", "2025-05-14", "--duration",
        "1h30", "--ref", "A-017",
    ],
    "note": [
        "note", "test/alpha/2025-05", "--themes", "charge", "--attendance", "6", "--text", "ok",
        "--today", "2025-06-02",
    ],
    "calendar": ["calendar", "2025", "--convention", "test", "--today", "2025-06-02"],
    "order add": [
        "order", "add", "accord", "--number", "BC-2", "--date", "2025-02-10", "--unit-price",
        "320", "--maximum", "3200", "--group", "equipe", "--name", "Équipe", "--location",
        "nord", "--cadence", "monthly", "--from", "2025-03-01", "--to", "2025-12-31",
    ],
}  # fmt: skip


#: What a command needs done first (on a copy of the planned workspace): a consultation to
#: remove, a termination to withdraw.
PREPARED = {
    "individual remove": [
        [
            "individual", "add", "--convention", "test", "--date", "2025-06-11", "--duration",
            "1h",
        ],
    ],
    "terminate --undo": [["terminate", "test", "--notice-on", "2025-10-15", "--yes"]],
}  # fmt: skip


class Killed(BaseException):
    """The process was killed (``kill -9``): nothing after this point runs, no clean-up."""


@pytest.fixture(scope="module")
def kill_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import CONVENTION

    root = write_workspace(
        tmp_path_factory.mktemp("kill") / "ws", {"test": CONVENTION, "accord": AGREEMENT}
    )
    (root / "themes.yaml").write_text(THEMES, encoding="utf-8")
    planning.plan(root, 2025, TODAY)
    return root


@pytest.fixture(scope="module")
def kill_bases(kill_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The workspace a command starts from: the planned one, prepared (:data:`PREPARED`)."""
    made: dict[str, Path] = {}

    def base(command: str) -> Path:
        if command not in PREPARED:
            return kill_base
        if command not in made:
            root = tmp_path_factory.mktemp("prepared") / "ws"
            shutil.copytree(kill_base, root)
            for args in PREPARED[command]:
                result = runner.invoke(app, ["-w", str(root), *args])
                assert result.exit_code == 0, result.output
            made[command] = root
        return made[command]

    return base


def workspace_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".apptool.lock"
    }


def run_killed(monkeypatch: pytest.MonkeyPatch, root: Path, args: list[str], at: int) -> int:
    """Run ``args`` in-process, killed before its ``at``-th file operation (0: never).
    Returns how many file operations it made."""
    calls = 0
    dead = False

    def killing(real: Any) -> Any:
        def operation(*a: Any, **kw: Any) -> Any:
            nonlocal calls, dead
            if dead:  # a killed process runs no clean-up
                raise Killed
            calls += 1
            if calls == at:
                dead = True
                raise Killed
            return real(*a, **kw)

        return operation

    for name in ("fchmod", "fsync", "link", "replace", "unlink"):
        monkeypatch.setattr(os, name, killing(getattr(os, name)))
    try:
        result = runner.invoke(app, ["-w", str(root), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    except Killed:
        assert at
    finally:
        monkeypatch.undo()
    return calls


@pytest.mark.parametrize("command", sorted(STATE_CHANGING))
def test_a_command_killed_at_any_point_and_run_again_is_as_if_run_once(
    kill_bases: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    args = STATE_CHANGING[command]
    kill_base = kill_bases(command)
    before = workspace_files(kill_base)
    reference = tmp_path / "reference"
    shutil.copytree(kill_base, reference)
    operations = run_killed(monkeypatch, reference, args, at=0)
    expected = workspace_files(reference)
    assert expected != before and operations >= 4
    for at in range(1, operations + 1):
        root = tmp_path / f"killed-{at}"
        shutil.copytree(kill_base, root)
        run_killed(monkeypatch, root, args, at)
        after_kill = workspace_files(root)
        for name, content in after_kill.items():  # every file: old or new, never half
            if ".tmp" not in name:
                assert content in (before.get(name), expected.get(name)), (at, name)
        result = runner.invoke(app, ["-w", str(root), *args])
        assert result.exit_code == 0, (at, result.output)
        assert workspace_files(root) == expected, f"killed before file operation {at}"


def test_a_command_killed_by_signal_at_a_random_moment_then_run_again(
    kill_bases: Callable[[str], Path], tmp_path: Path
) -> None:
    rnd = random.Random(os.environ.get("APPTOOL_KILL_SEED", "12"))
    for run_ in range(KILL_RUNS):
        command = rnd.choice(sorted(STATE_CHANGING))
        args = STATE_CHANGING[command]
        kill_base = kill_bases(command)
        reference = tmp_path / f"reference-{run_}"
        shutil.copytree(kill_base, reference)
        assert runner.invoke(app, ["-w", str(reference), *args]).exit_code == 0
        root = tmp_path / f"killed-{run_}"
        shutil.copytree(kill_base, root)
        process = subprocess.Popen(
            [sys.executable, "-m", "apptool", "-w", str(root), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            process.wait(timeout=rnd.uniform(0.3, 3.0))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        result = runner.invoke(app, ["-w", str(root), *args])
        assert result.exit_code == 0, (command, result.output)
        assert workspace_files(root) == workspace_files(reference), command
