"""Command-line conventions (issue 16.2): --version, -h, shell completion, whole command
descriptions and arguments named in capitals."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import apptool
from apptool.cli import app
from apptool.cli.common import first_paragraph

runner = CliRunner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def program(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """apptool as a program (the lazy command group the console script runs)."""
    return subprocess.run(
        [sys.executable, "-m", "apptool", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def commands() -> list[tuple[str, Any]]:
    """Every command and group, with its click object (``individual add`` included)."""
    group: Any = typer.main.get_command(app)
    found = []
    for name, command in group.commands.items():
        found.append((name, command))
        for sub_name, sub in getattr(command, "commands", {}).items():
            found.append((f"{name} {sub_name}", sub))
    return found


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    result = program(flag)
    assert result.returncode == 0
    assert result.stdout == f"apptool {apptool.__version__}\n"


def test_the_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    assert version("apptool") == apptool.__version__


@pytest.mark.parametrize("args", [["-h"], ["plan", "-h"], ["individual", "add", "-h"]])
def test_dash_h_is_help(args: list[str]) -> None:
    result = program(*args)
    assert result.returncode == 0 and result.stdout.startswith("Usage: apptool")
    assert "-h, --help" in result.stdout


def test_the_list_of_commands_shows_each_description_whole() -> None:
    result = program("--help", COLUMNS="100")
    listing = result.stdout.split("Commands:")[1]
    text = " ".join(listing.split())
    assert "..." not in listing
    for name, command in commands():
        if " " in name:
            continue
        assert first_paragraph(command.help) in text, name


def test_a_group_lists_its_commands_whole() -> None:
    result = program("individual", "--help", COLUMNS="80")
    listing = result.stdout.split("Commands:")[1]
    text = " ".join(listing.split())
    assert "Record an individual consultation (no name is ever recorded, art. 2.2)." in text
    assert "..." not in listing


@pytest.mark.parametrize("lazy", [True, False])
def test_arguments_are_named_in_capitals(lazy: bool) -> None:
    if lazy:
        usage = program("init", "--help").stdout
        missing = program("init").stderr
    else:
        usage = invoke("init", "--help").output
        missing = invoke("init").output
    assert "Usage: apptool init [OPTIONS] DIRECTORY\n" in usage
    assert "  DIRECTORY <path>" in usage
    assert "{" not in usage
    assert "Missing argument 'DIRECTORY'" in missing
    held = invoke("held", "--help").output
    assert "Usage: apptool held [OPTIONS] SESSION_IDS..." in held


def test_every_command_and_argument_has_help() -> None:
    for name, command in commands():
        assert (command.help or "").strip(), f"{name} has no help"
        for param in command.params:
            if param.param_type_name == "argument":
                assert getattr(param, "help", None), f"{name}: {param.name} has no help"


def test_shell_completion_script_and_answers() -> None:
    script = program("--show-completion", "bash", _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert script.returncode == 0
    assert "complete -o default -F _apptool_completion apptool" in script.stdout
    names = program(_APPTOOL_COMPLETE="complete_bash", COMP_WORDS="apptool pl", COMP_CWORD="1")
    assert names.stdout.split() == ["plan"]
    options = program(
        _APPTOOL_COMPLETE="complete_bash", COMP_WORDS="apptool invoice --mo", COMP_CWORD="2"
    )
    assert options.stdout.split() == ["--month"]
    formats = program(
        _APPTOOL_COMPLETE="complete_bash", COMP_WORDS="apptool notice x -f ", COMP_CWORD="4"
    )
    assert formats.stdout.split() == ["md", "html", "pdf", "eml"]
