from pathlib import Path

from apptool.services import planning
from conftest import TODAY


def test_example_2025_has_52_sessions(example: Path) -> None:
    outcome = planning.plan(example, 2025, TODAY)
    assert len(outcome.plan.sessions) == 52


def test_small_workspace_plans(workspace: Path) -> None:
    outcome = planning.plan(workspace, 2025, TODAY)
    assert len(outcome.plan.sessions) == 2 * 7 + 3
