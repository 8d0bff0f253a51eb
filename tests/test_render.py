"""A workspace's template override with a mistake is reported with its line, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from apptool.errors import InvalidInput
from apptool.output.render import render


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("# {{ title }\n", 1, "unexpected '}'"),
        ("x\n# {{ nothing.here }}\n", 2, "'nothing' is undefined"),
        ("x\ny\n{{ 3 | no_such_filter }}\n", 3, "no_such_filter"),
    ],
)
def test_template_mistakes_name_the_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "invoice.md.j2").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as failure:
        render("invoice.md.j2", {"title": "x"}, tmp_path)
    (problem,) = failure.value.problems
    assert problem.file.endswith("templates/invoice.md.j2")
    assert problem.line == line and message in problem.message


def test_workspace_template_overrides_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "invoice.md.j2").write_text("<{{ title }}>", encoding="utf-8")
    assert render("invoice.md.j2", {"title": "<b>"}, tmp_path) == "<<b>>"
    (tmp_path / "templates" / "invoice.html.j2").write_text("{{ title }}", encoding="utf-8")
    assert render("invoice.html.j2", {"title": "<b>"}, tmp_path) == "&lt;b&gt;"
