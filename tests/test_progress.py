"""Progress on standard error for slow commands (issue 16.5): a spinner saying what the
command is doing, only in a terminal, only when it takes a while, erased when done."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apptool.cli import app
from apptool.cli.common import progress
from apptool.store.workspace import init_workspace
from conftest import TODAY


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_slow_step_shows_its_message_in_a_terminal() -> None:
    stream = Terminal()
    with progress("Issuing the invoices of 2025-05…", stream=stream, delay=0):
        time.sleep(0.3)
    assert "Issuing the invoices of 2025-05…" in stream.getvalue()


def test_a_quick_step_shows_nothing() -> None:
    stream = Terminal()
    with progress("Planning 2025…", stream=stream, delay=5):
        pass
    assert stream.getvalue() == ""


def test_nothing_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with progress("Planning 2025…", stream=stream, delay=0):
        time.sleep(0.2)
    assert stream.getvalue() == ""


def test_nothing_on_a_dumb_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    stream = Terminal()
    with progress("Planning 2025…", stream=stream, delay=0):
        time.sleep(0.2)
    assert stream.getvalue() == ""


def test_an_error_stops_the_spinner_before_it_is_reported() -> None:
    stream = Terminal()
    with pytest.raises(RuntimeError), progress("Planning…", stream=stream, delay=0):
        time.sleep(0.2)
        raise RuntimeError("boom")
    shown = len(stream.getvalue())
    time.sleep(0.3)
    assert len(stream.getvalue()) == shown  # stopped: nothing more is drawn


def run_with_stderr_in_a_terminal(root: Path, *args: str) -> tuple[str, str, int]:
    """Run apptool with standard error in a pseudo-terminal and standard output in a pipe."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)}
    env |= {"TERM": "xterm", "APPTOOL_PROGRESS_DELAY": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "apptool", "-w", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    out, _ = process.communicate(timeout=60)
    os.close(leader)
    return out.decode("utf-8"), b"".join(chunks).decode("utf-8"), process.returncode


def test_plan_shows_progress_on_a_terminal_and_keeps_stdout_clean(tmp_path: Path) -> None:
    root = tmp_path / "example"
    init_workspace(root)
    out, err, code = run_with_stderr_in_a_terminal(
        root, "plan", "2025", "--today", str(TODAY), "--format", "json"
    )
    assert code == 0, err
    assert "Planning 2025…" in err
    assert "Planning" not in out and out.startswith("{")


def test_no_progress_when_piped(tmp_path: Path) -> None:
    root = tmp_path / "example"
    init_workspace(root)
    result = CliRunner().invoke(app, ["-w", str(root), "plan", "2025", "--today", str(TODAY)])
    assert result.exit_code == 0
    assert "Planning 2025" not in result.output


@pytest.mark.parametrize("value", ["nan", "-3", "abc", "1e400"])
def test_a_wrong_delay_in_the_environment_is_the_default(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("APPTOOL_PROGRESS_DELAY", value)
    stream = Terminal()
    with progress("Planning 2025…", stream=stream):
        pass  # quicker than the default 0.4 s: nothing shown, and no error
    assert stream.getvalue() == ""


def test_no_progress_without_a_standard_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A program run without standard error (``sys.stderr`` is None: closed, or pythonw)
    shows no spinner and runs the step."""
    monkeypatch.setattr(sys, "stderr", None)
    ran = []
    with progress("Planning"):
        ran.append(True)
    assert ran == [True]
