"""The README cannot drift from the code: its generated blocks (command reference, exit codes,
the modules of each layer, where each contract clause lives) are made again from the code
and compared. Rewrite them with ``APPTOOL_UPDATE_README=1 pytest tests/test_readme.py``."""

from __future__ import annotations

import ast
import importlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import typer

from apptool import errors
from apptool.cli import app

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
PACKAGE = ROOT / "src" / "apptool"
LAYERS = ("cli", "services", "output", "store", "domain")


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield (*path, name), sub
        yield from commands(sub, (*path, name))


def markdown(text: str) -> str:
    """reStructuredText roles and literals of docstrings as Markdown code spans."""
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([^`.]+)`", r"`\1`", text)
    return text.replace("``", "`").replace("|", "\\|")


def first_line(text: str | None) -> str:
    return markdown(" ".join((text or "").strip().split("\n\n")[0].split()))


def command_reference() -> str:
    root = typer.main.get_command(app)
    rows = ["| command | what it does |", "| --- | --- |"]
    for path, command in commands(root):
        if isinstance(command, click.Group):
            continue
        ctx = click.Context(command, info_name=" ".join(path))
        usage = " ".join(command.collect_usage_pieces(ctx))
        rows.append(f"| `apptool {' '.join(path)} {usage}` | {first_line(command.help)} |")
    return "\n".join(rows)


def exit_codes() -> str:
    rows = ["| code | meaning |", "| --- | --- |"]
    rows += [f"| {code} | {meaning} |" for code, meaning in sorted(errors.EXIT_MEANINGS.items())]
    return "\n".join(rows)


def module_doc(path: Path) -> str:
    return first_line(ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))))


def modules() -> str:
    rows = ["| module | what it holds |", "| --- | --- |"]
    rows.append(f"| `errors.py` | {module_doc(PACKAGE / 'errors.py')} |")
    for layer in LAYERS:
        rows.append(f"| **`{layer}/`** | {module_doc(PACKAGE / layer / '__init__.py')} |")
        for path in sorted((PACKAGE / layer).glob("*.py")):
            if path.name != "__init__.py":
                rows.append(f"| `{layer}/{path.name}` | {module_doc(path)} |")
    return "\n".join(rows)


def clauses() -> str:
    module = importlib.import_module("apptool.domain.contract")
    rows = ["| rule | function in `domain/contract.py` |", "| --- | --- |"]
    for name, value in vars(module).items():
        if callable(value) and not name.startswith("_") and value.__module__ == module.__name__:
            rows.append(f"| {first_line(value.__doc__)} | `{name}` |")
    return "\n".join(rows)


BLOCKS: dict[str, Callable[[], str]] = {
    "commands": command_reference,
    "exit-codes": exit_codes,
    "modules": modules,
    "clauses": clauses,
}


def block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated:{name} -->\n)(.*?)(\n<!-- /generated:{name} -->)", re.S)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_generated_block_of_the_readme_matches_the_code(name: str) -> None:
    text = README.read_text(encoding="utf-8")
    pattern = block_pattern(name)
    match = pattern.search(text)
    assert match, f"README.md has no <!-- generated:{name} --> block"
    expected = BLOCKS[name]()
    if os.environ.get("APPTOOL_UPDATE_README") == "1":
        README.write_text(pattern.sub(lambda m: m[1] + expected + m[3], text), encoding="utf-8")
        text = README.read_text(encoding="utf-8")
        match = pattern.search(text)
        assert match
    assert match[2] == expected, (
        f"README.md's {name} block is out of date: rerun with APPTOOL_UPDATE_README=1"
    )


def test_every_command_has_a_section_or_a_paragraph_in_the_readme() -> None:
    """Beyond the reference table: each command is explained somewhere in prose."""
    text = README.read_text(encoding="utf-8")
    prose = block_pattern("commands").sub("", text)
    for path, command in commands(typer.main.get_command(app)):
        if not isinstance(command, click.Group):
            assert f"apptool {' '.join(path)}" in prose, f"apptool {' '.join(path)}"


def test_every_exit_code_the_tool_raises_is_documented() -> None:
    raised = {cls.exit_code for cls in (errors.AppToolError, *all_subclasses())}
    assert raised <= set(errors.EXIT_MEANINGS)


def all_subclasses() -> list[type[errors.AppToolError]]:
    importlib.import_module("apptool.output.einvoice")  # its own error classes
    found, todo = [], [errors.AppToolError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found
