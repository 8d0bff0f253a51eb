"""The machine-readable outputs of the example, pinned by golden files: the public JSON format
(``plan --format json``, ``sessions --format json``) and the iCalendar feed (``--format ics``)
after a move and a cancellation. Any change to them is a change of a public interface."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from apptool.cli import app
from conftest import check_golden

runner = CliRunner()
TODAY = "2025-03-01"


def run(root: Path, *args: str) -> str:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_plan_json_of_the_example_matches_the_golden_file(example: Path) -> None:
    check_golden("plan-2025.json", run(example, "plan", "2025", "-f", "json", "--today", TODAY))


def test_plan_ics_of_the_example_matches_the_golden_file(example: Path) -> None:
    check_golden("plan-2025.ics", run(example, "plan", "2025", "-f", "ics", "--today", TODAY))


def test_sessions_json_and_ics_after_a_move_and_a_cancellation(example: Path) -> None:
    run(example, "plan", "2025", "--today", TODAY)
    may = "ccas-dreux/seniors-1/2025-05"
    june = "ccas-dreux/seniors-2/2025-06"
    run(
        example,
        "reschedule",
        may,
        "--to",
        "2025-05-22",
        "--by",
        "establishment",
        "--requested-on",
        "2025-04-10",
        "--reason",
        "formation",
        "--today",
        TODAY,
    )
    run(
        example,
        "cancel",
        june,
        "--by",
        "establishment",
        "--requested-on",
        "2025-06-02",
        "--today",
        TODAY,
    )
    check_golden(
        "sessions-2025-05-06.json",
        run(
            example,
            "sessions",
            "--year",
            "2025",
            "--convention",
            "ccas-dreux",
            "-f",
            "json",
            "--today",
            TODAY,
        ),
    )
    check_golden(
        "sessions-2025.ics",
        run(example, "sessions", "--year", "2025", "-f", "ics", "--today", TODAY),
    )
