"""Issue 12: never hang, never hide where the problem is, no internal error reachable from input.

Each message of the issue's list is driven here through the command line and checked for its
exit code and its location (``file:line``). The hypothesis tests build a hostile corpus of
their own (mutated workspace files, hostile command-line values): whatever the input, a command
exits 0, 2, 3 or 4, never 1 ("internal error"), and writes nothing when it refuses.
``APPTOOL_HOSTILE_EXAMPLES=300 pytest tests/test_hostile.py`` searches deeper.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from apptool.cli import app
from apptool.domain.models import MAX_YEAR, MIN_YEAR
from apptool.services import planning
from apptool.store.loading import MAX_FILE_BYTES
from apptool.store.workspace import init_workspace
from conftest import CONVENTION, safe_load, write_workspace

runner = CliRunner()
AGREEMENT = "ille-et-vilaine-lot3"
EXAMPLES = int(os.environ.get("APPTOOL_HOSTILE_EXAMPLES", "12"))
HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# --- helpers ------------------------------------------------------------------------------


def run(root: Path, *args: str) -> tuple[int, str]:
    """``apptool -w ROOT ARGS``: exit code and output; never a traceback, never exit 1."""
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    assert "internal error" not in result.output, result.output
    assert result.exit_code != 1, result.output
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".apptool.lock"
    }


def refused(root: Path, *args: str, code: int = 2) -> str:
    """Run a command that must be refused with ``code``, writing nothing; its output."""
    before = snapshot(root)
    exit_code, output = run(root, *args)
    assert exit_code == code, output
    assert snapshot(root) == before, "a refused command wrote a file"
    return output


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def planned_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with the lot 3 agreement, planned for 2025, with a consultation."""
    root = tmp_path_factory.mktemp("hostile") / "ws"
    init_workspace(root)
    shutil.copy(root / "agreements" / f"{AGREEMENT}.yaml", root / "conventions")
    planning.plan(root, 2025, date(2024, 1, 1))
    code, output = run(
        root,
        *("individual", "add", "--convention", "ccas-dreux", "--date", "2025-05-14"),
        *("--duration", "1h30", "--ref", "A-017"),
    )
    assert code == 0, output
    return root


@pytest.fixture
def example(planned_example: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(planned_example, root)
    return root


# --- the list, message by message --------------------------------------------------


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["unknown_key:", "  a: &a [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_its_first_anchor(example: Path) -> None:
    path = example / "practitioner.yaml"
    text = path.read_text(encoding="utf-8") + alias_bomb()
    path.write_text(text, encoding="utf-8")
    output = refused(example, "check")
    line = line_of(text, "a: &a")
    assert f"practitioner.yaml:{line}: YAML anchor &a is not supported" in output


def test_an_alias_is_refused_with_its_line(example: Path) -> None:
    path = example / "conventions" / "ccas-dreux.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "notice_days: 15", "notice_days: 15\nclosures_copy: *nothing"
    )
    path.write_text(text, encoding="utf-8")
    output = refused(example, "plan", "2025", "--today", "2024-01-01")
    line = line_of(text, "*nothing")
    assert f"conventions/ccas-dreux.yaml:{line}: YAML alias *nothing is not supported" in output


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(example: Path) -> None:
    big = example / "conventions" / "big.yaml"
    with open(big, "wb") as handle:  # 50 MB, sparse: the size alone refuses it
        handle.truncate(50 * 1024 * 1024)
    output = refused(example, "check")
    assert f"conventions/big.yaml: file too large ({50 * 1024 * 1024} bytes)" in output
    assert MAX_FILE_BYTES == 5 * 1024 * 1024  # the limit the README documents


def test_control_character_in_a_name_is_refused_with_its_line(example: Path) -> None:
    path = example / "practitioner.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "legal_name: Alain Frison", 'legal_name: "Alain\\u0000Frison"'
    )
    path.write_text(text, encoding="utf-8")
    where = f"practitioner.yaml:{line_of(text, 'legal_name')}: billing.legal_name: "
    message = "control character U+0000 is not allowed in a text"
    assert f"{where}{message}" in refused(example, "check")
    assert f"{where}{message}" in refused(example, "plan", "2025", "--today", "2024-01-01")
    output = refused(example, "invoice", "--month", "2025-05", "--today", "2025-06-02")
    assert f"{where}{message}" in output


def test_control_character_in_a_list_item_names_the_item(example: Path) -> None:
    path = example / "conventions" / "ccas-dreux.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    - 28100 Dreux\n", '    - "28100\\x07Dreux"\n', 1
    )
    assert "\\x07" in text
    path.write_text(text, encoding="utf-8")
    output = refused(example, "check")
    assert (
        f"conventions/ccas-dreux.yaml:{line_of(text, 'x07')}: establishment.address[1]: "
        "control character U+0007" in output
    )


def test_template_runtime_error_is_exit_2_with_the_template_line(example: Path) -> None:
    (example / "templates" / "invoice.md.j2").write_text("# Facture\n{{ 1/0 }}\n")
    output = refused(example, "invoice", "--month", "2025-05", "--draft", "--today", "2025-06-02")
    assert "templates/invoice.md.j2:2: template error: ZeroDivisionError" in output
    output = refused(example, "check")
    assert "templates/invoice.md.j2:2: template error: ZeroDivisionError" in output


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"])
def test_today_outside_the_years_the_tool_handles_is_refused(example: Path, value: str) -> None:
    output = refused(example, "plan", "2025", "--today", value)
    assert "--today" in output and f"outside the years {MIN_YEAR}-{MAX_YEAR}" in output


@pytest.mark.parametrize(
    "args",
    [
        ("invoice", "--month", "0000-01"),
        ("invoice", "--month", "9999-12"),
        ("sessions", "--month", "0000-01"),
        ("cancel", "ccas-dreux/seniors-1/2025-05", "--by", "practitioner", "--requested-on",
         "9999-01-01"),
        ("reschedule", "ccas-dreux/seniors-1/2025-05", "--to", "9999-12-31", "--by",
         "practitioner"),
        ("terminate", "ccas-dreux", "--notice-on", "9999-12-15"),
        ("individual", "add", "--convention", "ccas-dreux", "--date", "0900-01-01",
         "--duration", "1h"),
        ("plan", "99999"),
        ("calendar", "1"),
    ],
)  # fmt: skip
def test_every_date_the_cli_takes_is_within_the_years_the_tool_handles(
    example: Path, args: tuple[str, ...]
) -> None:
    refused(example, *args)


def test_a_date_outside_the_years_in_a_file_is_refused_with_its_line(example: Path) -> None:
    path = example / "practitioner.yaml"
    text = path.read_text(encoding="utf-8").replace("from: 2025-10-14", "from: 9999-10-14")
    path.write_text(text, encoding="utf-8")
    output = refused(example, "check")
    assert (
        f"practitioner.yaml:{line_of(text, '9999-10-14')}: unavailability[0].from: "
        f"9999-10-14 is outside the years {MIN_YEAR}-{MAX_YEAR}" in output
    )


@pytest.mark.parametrize(
    ("name", "garbage", "expected"),
    [
        ("individual.yaml", "consultations:\n  - id: x\n    date: 2025-02-30\n", ":3: "),
        ("notes.yaml", "notes:\n  - session: 12\n", ":2: notes[0].session: "),
        ("distributions.yaml", "distributions: [[]]\n", ":1: distributions[0]: "),
        ("notes.yaml", "notes: {\n", ":2: YAML syntax error"),
        ("individual.yaml", "\x00\x01", ":1: control character U+0000"),
    ],
)
def test_check_validates_every_file_of_records(
    example: Path, name: str, garbage: str, expected: str
) -> None:
    (example / "records" / name).write_text(garbage, encoding="utf-8")
    assert f"records/{name}{expected}" in refused(example, "check")


def test_check_reports_records_that_name_what_does_not_exist(example: Path) -> None:
    notes = (
        "notes:\n"
        "- {session: ccas-dreux/nope/2025-05, convention: ccas-dreux, recorded_on: 2025-06-01}\n"
    )
    (example / "records" / "notes.yaml").write_text(notes, encoding="utf-8")
    path = example / "records" / "individual.yaml"
    path.write_text(path.read_text().replace("convention: ccas-dreux", "convention: nope"))
    output = refused(example, "check")
    assert (
        "records/notes.yaml:2: notes[0].session: unknown session 'ccas-dreux/nope/2025-05'"
        in output
    )
    line = line_of(path.read_text(), "convention: nope")
    assert (
        f"records/individual.yaml:{line}: consultations[0].convention: unknown convention 'nope'"
        in output
    )


def test_check_validates_themes_and_templates(example: Path) -> None:
    (example / "themes.yaml").write_text("themes:\n  - {id: Bad Id, label: x}\n")
    (example / "templates" / "calendar.html.j2").write_text("<p>\n{{ doc.nope.nope }}\n")
    (example / "templates" / "part.j2").write_text("{% if %}\n")
    output = refused(example, "check")
    assert "themes.yaml:2: themes[0].id: 'Bad Id' is not an identifier" in output
    assert "templates/calendar.html.j2:2: template error: " in output
    assert "templates/part.j2:1: template error: " in output


def test_check_passes_with_the_shipped_templates_copied_into_the_workspace(example: Path) -> None:
    shipped = Path(planning.__file__).parent.parent / "output" / "templates"
    for template in shipped.glob("*.j2"):
        shutil.copy(template, example / "templates")
    code, output = run(example, "check")
    assert code == 0, output
    assert "templates/invoice.md.j2" not in output


def test_terminating_an_agreement_with_fixed_count_groups_keeps_check_clean(example: Path) -> None:
    code, output = run(example, "check")
    assert code == 0, output
    code, output = run(example, "terminate", AGREEMENT, "--notice-on", "2025-09-10", "--yes")
    assert code == 0, output
    code, output = run(example, "check")
    assert code == 0 and "problem(s) found" not in output, output
    assert "not planned yet" not in output  # the months before the end keep their sessions


def test_rescheduling_to_the_current_date_and_slot_is_a_no_op(example: Path) -> None:
    data = safe_load((example / "calendars" / "2025.yaml").read_text())
    session = next(s for s in data["sessions"] if s["id"] == "ccas-dreux/seniors-1/2025-10")
    before = snapshot(example)
    code, output = run(
        example,
        *("reschedule", session["id"], "--to", session["date"], "--slot", session["start"]),
        *("--by", "establishment", "--requested-on", "2025-10-20"),  # too late for a move
    )
    assert code == 0, output
    assert "already there" in output
    assert snapshot(example) == before


@pytest.mark.parametrize("line", [100, 1234])
def test_line_numbers_are_printed_as_written_never_as_emoji(tmp_path: Path, line: int) -> None:
    head, rest = CONVENTION.split("notice_days: 15\n")
    padding = "# comment\n" * (line - 1 - head.count("\n"))
    text = head + padding + "notice_days: many\n" + rest
    root = write_workspace(tmp_path / "ws", {"test": text})
    assert line_of(text, "notice_days") == line
    for args in (("check",), ("plan", "2025", "--today", "2024-01-01")):
        output = refused(root, *args)
        assert f"conventions/test.yaml:{line}: notice_days: " in output
        assert "💯" not in output


def test_names_are_printed_as_written_never_as_markup_or_emoji(tmp_path: Path) -> None:
    text = CONVENTION.replace("name: Alpha", "name: '[bold]Alpha:100: :smile:'")
    root = write_workspace(tmp_path / "ws", {"test": text})
    code, output = run(root, "plan", "2025", "--today", "2024-01-01")
    assert code == 0, output
    assert "[bold]Alpha:100: :smile:" in output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", ":1: expected a mapping of keys at the top of the file"),
        (b"   \n# nothing\n", ":1: expected a mapping of keys at the top of the file"),
        (b"kind: convention\ntitle: x\n\x00\x01\x02binary", ":3: control character U+0000"),
        (b"kind: convention\n\ntitle: \xff\xfe\n", ":3: not UTF-8 text: byte 0xff at line 3"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ":1: not UTF-8 text: byte 0x89 at line 1"),
        (b"kind: [convention\n", ":1: YAML syntax error: a '[' opened on this line is not closed"),
    ],
)
def test_decoding_and_syntax_problems_have_a_line(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    root = write_workspace(tmp_path / "ws")
    (root / "conventions" / "test.yaml").write_bytes(content)
    assert f"conventions/test.yaml{expected}" in refused(root, "check")


def test_recorded_purchase_order_problems_have_their_line(example: Path) -> None:
    code, output = run(
        example,
        *("order", "add", AGREEMENT, "--number", "BC-X-1", "--date", "2025-03-01"),
        *("--unit-price", "320", "--maximum", "3520", "--group", "g-x", "--name", "X"),
        *("--location", "cdas-fougeres", "--cadence", "monthly"),
    )
    assert code == 0, output
    path = example / "records" / "purchase-orders.yaml"
    text = path.read_text().replace("location: cdas-fougeres", "location: nowhere")
    text = text.replace("convention: ille-et-vilaine-lot3", "convention: ille-et-vilaine-lot3\n")
    path.write_text(text)
    output = refused(example, "check")
    assert (
        f"records/purchase-orders.yaml:{line_of(text, 'nowhere')}: "
        "orders[0].order.groups[0].location: unknown location 'nowhere'"
    ) in output
    path.write_text(text.replace("convention: ille-et-vilaine-lot3", "convention: nope"))
    output = refused(example, "plan", "2025", "--today", "2024-01-01")
    assert (
        "records/purchase-orders.yaml:3: orders[0].convention: unknown convention 'nope'" in output
    )


def test_the_next_command_that_takes_the_lock_removes_leftover_temp_files(example: Path) -> None:
    leftover = example / "calendars" / ".2025.yaml.k3j_x9qa.tmp"
    leftover.write_text("half a calendar")
    code, output = run(example, "check")
    assert code == 0 and "calendars/.2025.yaml.k3j_x9qa.tmp: temp file" in output
    code, output = run(
        example, "cancel", "ccas-dreux/seniors-1/2025-10", "--by", "practitioner",
        "--requested-on", "2025-06-01",
    )  # fmt: skip
    assert code == 0, output
    assert not leftover.exists()
    assert [p.name for p in (example / "calendars").iterdir()] == ["2025.yaml"]


def test_a_workspace_template_cannot_run_code(example: Path, tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    (example / "templates" / "invoice.md.j2").write_text(
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {witness}').read() }}}}\n"
    )
    output = refused(example, "invoice", "--month", "2025-05", "--draft", "--today", "2025-06-02")
    assert "templates/invoice.md.j2:1: template error: access to attribute '__init__'" in output
    assert not witness.exists()


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 2 ** 100000000 }}", "a power above"),
        ('{{ "x" * 1000000000 }}', "a repetition longer than"),
        ('{{ "%0999999999d" % 1 }}', "a width or precision"),
        ('{{ "{:0999999999}".format(1) }}', "a width or precision"),
        ('{{ "x"|center(999999999) }}', "a width above"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
        ("{{ doc.lines.append(1) }}", "template error"),
        ("{{ doc.__class__.__mro__ }}", "unsafe"),
        ('{% include "missing.j2" %}', "missing.j2"),
    ],
)
def test_template_limits_are_reported_with_the_template_line(
    example: Path, template: str, message: str
) -> None:
    (example / "templates" / "calendar.md.j2").write_text("# Calendrier\n\n" + template + "\n")
    output = refused(example, "calendar", "2025", "--draft", "--today", "2025-06-02")
    assert "templates/calendar.md.j2:3: template error: " in output and message in output


def test_attendance_is_bounded(example: Path) -> None:
    output = refused(
        example, "note", "ccas-dreux/seniors-1/2025-04", "--attendance", str(10**23),
        "--today", "2025-06-01",
    )  # fmt: skip
    assert "--attendance" in output
    notes = example / "records" / "notes.yaml"
    notes.write_text(
        "notes:\n- session: ccas-dreux/seniors-1/2025-04\n  convention: ccas-dreux\n"
        f"  recorded_on: 2025-06-01\n  attendance: {10**23}\n"
    )
    assert "records/notes.yaml:5: notes[0].attendance: " in refused(example, "check")


def test_bilan_counts_only_the_consultations_up_to_today(example: Path) -> None:
    for day in ("2025-06-10", "2025-09-10"):
        code, output = run(
            example, "individual", "add", "--convention", "ccas-dreux", "--date", day,
            "--duration", "1h",
        )  # fmt: skip
        assert code == 0, output
    code, june = run(
        example, "bilan", "2025", "--convention", "ccas-dreux", "--today", "2025-06-30"
    )
    assert code == 0, june
    assert "Consultations : moins de 3" in june  # 14 May and 10 June; not 10 September
    code, december = run(
        example, "bilan", "2025", "--convention", "ccas-dreux", "--today", "2025-12-31"
    )
    assert "Consultations : 3" in december


@pytest.mark.parametrize("ref", ["Martin7", "Jo-Dupont1", "Eva1", "dossier12", "A" * 21, "x"])
def test_a_name_or_a_word_is_not_an_opaque_reference(example: Path, ref: str) -> None:
    output = refused(
        example, "individual", "add", "--convention", "ccas-dreux", "--date", "2025-06-03",
        "--duration", "1h", "--ref", ref,
    )  # fmt: skip
    assert "not an opaque code" in output


@pytest.mark.parametrize("ref", ["A-017", "AB12", "2025-C3", "x7_k2"])
def test_opaque_codes_are_accepted(example: Path, ref: str) -> None:
    code, output = run(
        example, "individual", "add", "--convention", "ccas-dreux", "--date", "2025-06-03",
        "--duration", "1h", "--ref", ref,
    )  # fmt: skip
    assert code == 0, output


@pytest.mark.parametrize("option", ["--reason", "--text"])
def test_command_line_texts_with_control_characters_are_refused(example: Path, option: str) -> None:
    args = (
        ("cancel", "ccas-dreux/seniors-1/2025-10", "--by", "practitioner")
        if option == "--reason"
        else ("note", "ccas-dreux/seniors-1/2025-04", "--today", "2025-06-01")
    )
    output = refused(example, *args, option, "a\x00b")
    assert option in output and "control character U+0000" in output


# --- a hostile corpus of our own ------------------------------------------------------------

NASTY = [
    "", "~", "-1", "0", "99999999999999999999999999999999", "2025-02-30", "9999-12-31",
    "0001-01-01", "[]", "{}", '"a\\u0000b"', '"\\x85"', "yes", "1.5", "1.0e400", "x" * 300,
    '"x:100:"', "[a, b]", "{a: 1}", "25:00", "2025-13", "2025-Q5", "null", "1e3", "0.001",
    "ccas-dreux", "seniors-1", "planned", "due", "moved", "cancelled", "2025-05", "2025-Q2",
    "monthly", "quarterly", "10:30", "15:00-16:30", "1h30", "0min", "[7, 8]", "[13]",
    "&anchor x", "*alias", "!!binary aGk=", "!!python/name:os.system", "'[bold]x'", ":100:",
    "{{ 1/0 }}", "\t", "- x", "? x", "| \n  text",
]  # fmt: skip
INSERTS = ["\x00", "\t", "&a ", "*a", "!!str ", "\x07", "é", "{", "[", "'", '"', "#", "- ", ": "]


@st.composite
def mutations(draw: st.DrawFn, lines: list[str]) -> list[str]:
    """1-3 edits of a file's lines: delete, repeat, swap, replace a value, re-indent, insert."""
    lines = list(lines) or [""]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["del", "dup", "swap", "value", "indent", "insert", "blank"]))
        if op == "del" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "value":
            key, colon, _ = lines[i].partition(":")
            lines[i] = f"{key}{colon or ':'} {draw(st.sampled_from(NASTY))}"
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 5)) + lines[i].lstrip()
        elif op == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(INSERTS)) + lines[i][at:]
        else:
            lines[i] = ""
    return lines


COMMANDS = [
    ("check",),
    ("plan", "2025", "--dry-run", "--today", "2025-06-01"),
    ("sessions", "--today", "2025-06-01", "--format", "json"),
    ("agenda", "--today", "2025-06-01", "--days", "31"),
    ("individual", "list"),
    ("orders", "--today", "2025-06-02"),
    ("bilan", "2025", "--convention", "ccas-dreux", "--today", "2025-12-31"),
    ("calendar", "2025", "--draft", "--today", "2025-06-02"),
    ("cancel", "ccas-dreux/seniors-3/2025-10", "--by", "practitioner", "--today", "2025-06-01"),
    ("reschedule", "ccas-dreux/seniors-3/2025-10", "--to", "2025-10-21", "--by",
     "practitioner", "--today", "2025-06-01"),
    ("note", "ccas-dreux/seniors-1/2025-04", "--attendance", "5", "--today", "2025-06-01"),
    ("terminate", "ccas-dreux", "--notice-on", "2025-09-10", "--dry-run"),
    ("terminate", "ccas-dreux", "--undo", "--today", "2025-06-01", "--dry-run"),
    ("individual", "remove", "ccas-dreux/individual/2025-05-14/1", "--dry-run"),
]  # fmt: skip


@contextmanager
def copy_of(source: Path) -> Iterator[Path]:
    """A fresh copy of a workspace for one hypothesis example."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        shutil.copytree(source, root)
        yield root


@HOSTILE
@given(data=st.data())
def test_mutated_workspace_files_never_crash_and_refusals_write_nothing(
    planned_example: Path, data: st.DataObject
) -> None:
    with copy_of(planned_example) as root:
        files = sorted(
            str(p.relative_to(root))
            for p in root.rglob("*.yaml")
            if p.is_file() and "agreements" not in p.parts
        )
        name = data.draw(st.sampled_from(files), label="file")
        path = root / name
        lines = data.draw(mutations(path.read_text(encoding="utf-8").split("\n")), label="lines")
        path.write_text("\n".join(lines), encoding="utf-8")
        for command in data.draw(st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=2)):
            before = snapshot(root)
            code, output = run(root, *command)  # never exit 1, never a traceback
            note(f"{command}: {code}\n{output[-2000:]}")
            assert code in (0, 2, 3, 4), output
            if code != 0:
                assert snapshot(root) == before, "a refused command wrote a file"
            for line in output.splitlines():  # a problem of the mutated file names its line
                if f"{name}: " in line:
                    assert re.search(rf"{re.escape(name)}:\d+: ", line), line


@HOSTILE
@given(
    value=st.one_of(
        st.text(min_size=0, max_size=30),
        st.sampled_from(["9999-12-31", "0000-01-01", "2025-02-29", "1e9", "-1", "00:00", "%s"]),
    ),
    option=st.sampled_from(
        [
            ("plan", "2025", "--dry-run", "--today"),
            ("sessions", "--month"),
            ("invoice", "--draft", "--today", "2025-06-02", "--month"),
            ("reschedule", "ccas-dreux/seniors-3/2025-10", "--by", "practitioner", "--to"),
            (
                "cancel",
                "ccas-dreux/seniors-3/2025-10",
                "--by",
                "practitioner",
                "--dry-run",
                "--reason",
            ),
            ("note", "ccas-dreux/seniors-1/2025-04", "--today", "2025-06-01", "--text"),
            (
                "individual",
                "add",
                "--convention",
                "ccas-dreux",
                "--date",
                "2025-06-03",
                "--duration",
            ),
            (
                "individual",
                "add",
                "--convention",
                "ccas-dreux",
                "--date",
                "2025-06-03",
                "--duration",
                "1h",
                "--ref",
            ),
            ("reschedule",),
        ]
    ),
)  # fmt: skip
def test_hostile_command_line_values_never_crash(
    planned_example: Path, value: str, option: tuple[str, ...]
) -> None:
    with copy_of(planned_example) as root:
        code, output = run(root, *option, value)
        assert code in (0, 2, 3, 4), output


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "1e9"])
def test_a_bad_lock_timeout_is_refused(example: Path, value: str) -> None:
    result = runner.invoke(
        app,
        ["-w", str(example), "cancel", "ccas-dreux/seniors-1/2025-10", "--by", "practitioner"],
        env={"APPTOOL_LOCK_TIMEOUT": value},
    )
    assert result.exit_code == 2 and "APPTOOL_LOCK_TIMEOUT" in result.output, result.output


def test_the_cli_and_the_models_handle_the_same_years() -> None:
    from apptool.cli import common

    assert (common.MIN_YEAR, common.MAX_YEAR) == (MIN_YEAR, MAX_YEAR)


# --- every model and rule: a wrong value is a problem, never an exception -----------------

TRICKY = [
    "1e999999", "1e30", "123456789012345678901234567890", "NaN", "Infinity", "-0", "0.001",
    "2025-02-30", "9999-12-31", "0000-01-01", "2025-13-01", "25:00", "09:00-08:00",
    "09:00-10:30", "1h99", "99999h", "24h", "0min", "2025-Q5", "2025-05", "ccas-dreux",
    "a\x00b", "\ud800", "x" * 200, "", " ", "monthly", "once", "tacit-yearly", "due",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.text(max_size=12),
    st.sampled_from(TRICKY),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "from", "to", "x", "sessions"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def _models() -> list[tuple[str, object, object]]:
    """(display, model, rules) for each file the tool reads, with a valid example's data."""
    from apptool.domain import orders, records, schedule
    from apptool.domain.models import Convention, Practitioner
    from apptool.domain.validation import convention_problems, practitioner_problems

    examples = Path(planning.__file__).parent.parent / "examples"
    return [
        ("convention", Convention, convention_problems,
         (examples / "agreements" / f"{AGREEMENT}.yaml").read_text(encoding="utf-8")),
        ("convention", Convention, convention_problems,
         (examples / "conventions" / "ccas-dreux.yaml").read_text(encoding="utf-8")),
        ("practitioner", Practitioner, practitioner_problems,
         (examples / "practitioner.yaml").read_text(encoding="utf-8")),
        ("calendar", schedule.CalendarFile, None,
         "year: 2025\nsessions:\n- {id: c/g/2025-05, convention: c, group: g, period: 2025-05,"
         " date: 2025-05-06, start: 09:00, end: '10:30', location: l, status: moved, history:"
         " [{action: moved, requested_on: 2025-04-01, notice_days: 20, status: moved,"
         " previous_date: 2025-05-13, previous_start: 09:00, previous_end: '10:30'}]}\n"),
        ("notes", records.Notes, None,
         "notes:\n- {session: c/g/2025-05, convention: c, recorded_on: 2025-06-01,"
         " themes: [t], attendance: 5, text: x}\n"),
        ("individual", records.IndividualConsultations, None,
         "consultations:\n- {id: c/individual/2025-05-14/1, convention: c, date: 2025-05-14,"
         " duration: 1h30, ref: A-017, requested_by: agent}\n"),
        ("distributions", records.Distributions, None,
         "distributions:\n- {convention: c, year: 2025, version: 1, date: 2025-05-01, sha256: "
         + "0" * 64 + ", sessions: {c/g/2025-05: {date: 2025-05-06, start: 09:00,"
         " end: '10:30', location: l, status: planned}}}\n"),
        ("terminations", records.Terminations, None,
         "terminations:\n- {convention: c, notice_on: 2025-03-10, effective_end: 2025-04-30}\n"),
        ("orders", orders.RecordedOrders, None,
         "orders:\n- convention: c\n  order: {number: N, date: 2025-01-01, unit_price: 10,"
         " maximum: 100, groups: [{id: g, name: G, location: l, sessions: 2, from: 2025-02-01,"
         " to: 2025-12-31}]}\n"),
        ("themes", records.Themes, None, "themes:\n- {id: t, label: T}\n"),
    ]  # fmt: skip


@settings(HOSTILE, max_examples=10 * EXAMPLES)  # in memory: cheap, so more examples
@given(data=st.data())
def test_a_wrong_value_anywhere_is_a_problem_never_an_exception(data: st.DataObject) -> None:
    from pydantic import ValidationError

    from apptool.store.loading import parse_yaml, validate_document

    name, model, rules, text = data.draw(st.sampled_from(_models()), label="file")
    doc = parse_yaml(text, Path(f"{name}.yaml"), f"{name}.yaml")
    for _ in range(data.draw(st.integers(1, 3))):
        paths = sorted((p for p in doc.lines if p), key=str)
        path = data.draw(st.sampled_from(paths), label="path")
        value = data.draw(VALUES, label="value")
        target = doc.data
        try:  # an earlier change may have replaced what held this path
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        result, problems = validate_document(doc, model)  # type: ignore[type-var]
    except ValidationError:  # pragma: no cover - validate_document turns them into problems
        raise AssertionError("a ValidationError escaped validate_document") from None
    if result is not None and rules is not None:
        problems = rules(result, doc)  # type: ignore[operator]
    for problem in problems:
        assert problem.file == f"{name}.yaml" and problem.message


def test_a_termination_ending_after_2200_is_refused(example: Path) -> None:
    output = refused(example, "terminate", "ccas-dreux", "--notice-on", "2200-12-15")
    assert "the effective end 2201-01-31 is outside the years 1900-2200" in output


def test_a_year_without_school_holiday_data_is_a_refusal_not_a_crash(example: Path) -> None:
    from apptool.domain.calendar_fr import school_holiday_years

    year = school_holiday_years()[1] + 1
    output = refused(
        example, "reschedule", "ccas-dreux/seniors-1/2025-11", "--to", f"{year}-01-10",
        "--by", "practitioner", "--allow-move-out", "--today", "2025-06-01", code=4,
    )  # fmt: skip
    assert "school holidays zone B unknown: the school-holiday data" in output


def test_more_sessions_than_one_practitioner_can_hold_are_refused_at_once(
    tmp_path: Path,
) -> None:
    groups = "".join(
        f"  - {{id: g{n}, name: G{n}, cadence: monthly, location: office}}\n" for n in range(500)
    )
    text = CONVENTION.split("groups:\n")[0] + "groups:\n" + groups
    root = write_workspace(tmp_path / "ws", {"test": text})
    output = refused(root, "plan", "2025", "--today", "2024-01-01", code=3)
    assert (  # 500 groups, April to December but July and August
        "3500 sessions are required in 2025: one practitioner cannot hold more than 3000" in output
    )


def test_an_impossible_plan_lists_what_cannot_be_placed(tmp_path: Path) -> None:
    """Enough slots in every month (the count before the search passes), but two sites too
    far apart for one day: the plan is impossible, and each session left is listed with what
    blocks it, on its group's line."""
    groups = "".join(
        f"  - {{id: g{n}, name: G{n}, cadence: monthly, location: {('home', 'office')[n % 2]}}}\n"
        for n in range(44)
    )
    travel = "travel:\n  - {between: [test/office, test/home], same_day: false}\n"
    text = CONVENTION.split("groups:\n")[0] + travel + "groups:\n" + groups
    root = write_workspace(tmp_path / "ws", {"test": text})
    output = refused(root, "plan", "2025", "--today", "2024-01-01", code=3)
    assert "cannot be placed" in output and "conventions/test.yaml:" in output
    assert "too close to a session at another site" in output
