"""Nothing is ever lost: atomic writes, the workspace lock, concurrent commands."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from apptool.cli import app
from apptool.errors import WorkspaceBusy
from apptool.services import planning
from apptool.services import sessions as use_cases
from apptool.store.files import write_atomic
from apptool.store.workspace import locked
from conftest import TODAY, write_workspace

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
    data = yaml.safe_load((root / "calendars" / "2025.yaml").read_text())
    cancelled = {s["id"] for s in data["sessions"] if s["status"] == "cancelled"}
    assert cancelled == set(ids)
