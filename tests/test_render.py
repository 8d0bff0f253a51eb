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


def test_nobreak_keeps_slots_durations_and_articles_on_one_line(tmp_path: Path) -> None:
    """What a printed line never splits is wrapped in a nowrap span; the rest is escaped."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "invoice.html.j2").write_text(
        "{{ text | nobreak }}", encoding="utf-8"
    )
    text = "<b> mardi 6 mai 2025, 9h00–10h30 — 1 h 30, 2 h, 45 min, 15 minutes, due (art. 4)"
    assert render("invoice.html.j2", {"text": text}, tmp_path) == (
        '&lt;b&gt; mardi 6 mai 2025, <span class="nobr">9h00–10h30</span> — '
        '<span class="nobr">1 h 30</span>, <span class="nobr">2 h</span>, '
        '<span class="nobr">45 min</span>, 15 minutes, due <span class="nobr">(art. 4)</span>'
    )


def test_nobreak_ties_a_short_last_word_to_the_one_before(tmp_path: Path) -> None:
    """A heading never ends with "1" alone on its line: "Pôle seniors&#160;1"."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "invoice.html.j2").write_text(
        "{{ text | nobreak }}", encoding="utf-8"
    )
    assert render("invoice.html.j2", {"text": "séance — Pôle seniors 1"}, tmp_path) == (
        "séance — Pôle seniors&#160;1"
    )
    assert render("invoice.html.j2", {"text": "due (art. 4)"}, tmp_path) == (
        'due <span class="nobr">(art. 4)</span>'
    )
