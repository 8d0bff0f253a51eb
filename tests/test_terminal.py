"""Terminal output that fits (issue 16.1): tables laid out for 60, 80 and 120 columns in a
real terminal (a pseudo-terminal of that size), plain and never width-forced when piped."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from apptool.output.terminal import Column, Table, cell_width, render_table
from apptool.store.workspace import init_workspace
from conftest import TODAY

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def sessions_table() -> Table:
    table = Table(
        [
            Column("date"),
            Column("day", drop=3),
            Column("slot"),
            Column("group", wrap=True, drop=2),
            Column("status", wrap=True),
            Column("id"),
        ]
    )
    for day, group, status in [
        ("2026-06-02", "Chef(fe)s de service du pôle autonomie", "cancelled (due)"),
        ("2026-06-09", "Pôle seniors 1", "report pending"),
        ("2026-06-16", "Équipe de nuit", "planned"),
    ]:
        table.add(
            day,
            "Tue",
            "09:00-10:30",
            group,
            status,
            f"ehpad-les-tilleuls/{group[:5].lower()}/2026-06",
            notes=["moved on 2026-05-02 by establishment (was 2026-06-23 09:00): réunion"],
        )
    return table


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_table_fits_its_width_and_never_cuts_a_value(width: int) -> None:
    text = render_table(sessions_table(), width)
    lines = text.splitlines()
    assert all(cell_width(line) <= width for line in lines), text
    words = " ".join(lines)
    for value in ("cancelled (due)", "report pending", "ehpad-les-tilleuls/pôle /2026-06"):
        assert all(part in words for part in value.split()), (value, text)
    assert "…" not in text
    assert "réunion" in text  # the history under its row
    if width == 120:
        assert "Chef(fe)s de service du pôle autonomie" in text  # every column, unwrapped
        assert "not shown" not in text
    else:
        assert "not shown at" in text  # the columns left out are named


def test_a_narrow_terminal_gets_one_block_per_row() -> None:
    text = render_table(sessions_table(), 40)
    assert text.splitlines()[0].startswith("2026-06-02  09:00-10:30")
    assert "  status: cancelled (due)" in text


def test_piped_output_is_whole_lines_without_styles() -> None:
    text = render_table(sessions_table(), None)
    assert max(len(line) for line in text.splitlines()) > 110  # the width is never forced
    assert "Chef(fe)s de service du pôle autonomie" in text
    assert not ANSI.search(text)
    assert "\x1b[1m" in render_table(sessions_table(), 80, fancy=True)


def run_in_terminal(root: Path, width: int, *args: str) -> str:
    """Run apptool with its output in a pseudo-terminal ``width`` columns wide."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, width, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm"
    process = subprocess.Popen(
        [sys.executable, "-m", "apptool", "-w", str(root), *args],
        stdout=follower,
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
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example workspace (long group names and ids), planned, with a moved session."""
    from typer.testing import CliRunner

    from apptool.cli import app

    root = tmp_path_factory.mktemp("terminal") / "example"
    init_workspace(root)
    for args in (
        ["plan", "2025", "--today", str(TODAY)],
        [
            "reschedule",
            "ccas-dreux/seniors-1/2025-05",
            "--to",
            "2025-05-20",
            "--slot",
            "15:00",
            "--by",
            "establishment",
            "--requested-on",
            "2025-05-12",
            "--today",
            str(TODAY),
        ],
    ):
        result = CliRunner().invoke(app, ["-w", str(root), *args])
        assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize("width", [60, 80, 120])
def test_sessions_in_a_real_terminal_fit_its_width(planned: Path, width: int) -> None:
    text = ANSI.sub(
        "",
        run_in_terminal(planned, width, "sessions", "--month", "2025-05", "--today", str(TODAY)),
    )
    lines = text.splitlines()
    assert all(cell_width(line) <= width for line in lines), text
    assert "ccas-dreux/chefs-de-service/2025-05" in text and "planned" in text
    assert "moved on 2025-05-12 by establishment (was 2025-05-27 09:00)" in " ".join(
        line.strip() for line in lines
    )
    assert "7 session(s)" in text
    assert ("Chef(fe)s de service" in text) is (width >= 100)


def test_sessions_piped_are_plain_and_not_cut(planned: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "apptool",
            "-w",
            str(planned),
            "sessions",
            "--month",
            "2025-05",
            "--today",
            str(TODAY),
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
        check=True,
    )
    assert not ANSI.search(result.stdout)
    header = result.stdout.splitlines()[0].split()
    assert header == ["date", "day", "slot", "group", "status", "id"]


def test_no_character_before_the_first_wide_or_combining_one_is_either() -> None:
    """The one-column shortcut of ``cell_width`` holds for every character it covers."""
    import unicodedata

    from apptool.output import terminal

    first = ord(terminal._FIRST_WIDE_OR_COMBINING)
    assert unicodedata.combining(chr(first))  # the first combining mark
    assert all(
        not unicodedata.combining(chr(code)) and unicodedata.east_asian_width(chr(code)) not in "WF"
        for code in range(first)
    )
    assert cell_width("Pôle seniors à Dreux") == 20
    assert cell_width("e\u0301t\u00e9") == 3  # a combining accent takes no column
    assert cell_width("日本") == 4
