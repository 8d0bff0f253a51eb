"""Errors that say what to type (issue 16.3): every message a user can meet is in our words.

The examples of the shipped workspace are broken line by line in many ways (a date written the
French way, a list for a number, a misspelt key, a value with ``: ``, a tab, an unclosed
quote, ...), with both YAML parsers (libyaml and pure Python, whose wordings differ): every
problem names its file and line, and none is a raw library message.
"""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic_core.core_schema import ErrorType
from typer.testing import CliRunner

from apptool.cli import app
from apptool.errors import InvalidInput, did_you_mean
from apptool.store import load_cache, loading
from apptool.store.loading import error_message, parse_yaml
from apptool.store.workspace import load_workspace
from conftest import CONVENTION, TODAY, write_workspace
from test_loading import line_of

EXAMPLES = Path(loading.__file__).parents[1] / "examples"
FILES = [
    "practitioner.yaml",
    "themes.yaml",
    "conventions/ccas-dreux.yaml",
    "agreements/ille-et-vilaine-lot3.yaml",
]

#: Phrases of pydantic and PyYAML (both parsers) that must never reach the user.
LIBRARY_WORDS = re.compile(
    r"Input should|Field required|Extra inputs|valid integer|String should|Value error|"
    r"Assertion failed|validation error|pydantic|errors\.pydantic|type=|"
    r"not allowed (here|in this context)|cannot start any token|could not find expected|"
    r"did not find expected|while parsing|while scanning|block end|block mapping|"
    r"end of stream|Traceback|object has no attribute|NoneType"
)

FASTEST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PARSERS = {
    "pure-python": yaml.SafeLoader,
    **({"libyaml": yaml.CSafeLoader} if hasattr(yaml, "CSafeLoader") else {}),
}


def mutations(line: str) -> dict[str, str]:
    """The ways a hand-edited line goes wrong (empty when the line has nothing to break)."""
    body = line.split(" #", 1)[0].rstrip()
    if not body.strip() or body.lstrip().startswith("#"):
        return {}
    indent = body[: len(body) - len(body.lstrip())]
    found = re.match(r"^(\s*(?:- )?)([A-Za-z_][\w-]*):(.*)$", body)
    out = {
        "deleted": "",
        "tab": "\t" + body.lstrip(),
        "over-indented": "   " + body,
        "unclosed quote": body + ' "oops',
    }
    if found is None:
        return out
    head, key, value = found.groups()
    out |= {
        "key misspelt": f"{head}{key[:-1] or 'x'}:{value}",
        "key doubled": body + "\n" + body,
        "no colon": f"{head}{key}{value}",
    }
    if value.strip():
        out |= {
            "French date": f"{head}{key}: 15/03/2026",
            "colon in value": f"{head}{key}: Réunion: équipe",
            "a list": f"{head}{key}: [1, 2]",
            "a mapping": f"{head}{key}: {{a: 1}}",
            "a negative number": f"{head}{key}: -3",
            "a word": f"{head}{key}: montly",
            "empty": f"{head}{key}:",
            "text after quote": f'{head}{key}: "a" b',
            "unclosed bracket": f"{head}{key}: [1, 2",
            "at sign": f"{head}{key}: @home",
        }
    del indent
    return out


#: The broken texts are checked in slices of consecutive lines of a file, each of at least
#: this many texts (about a second of loading): xdist's workers share the slices out.
SLICE = 150


def line_slices() -> list[tuple[str, int, int]]:
    """(file, first line, last line): each example file cut into slices of consecutive lines,
    every line in exactly one, each slice with at least :data:`SLICE` broken texts (but a file
    with fewer, in one slice) and the short rest joined to the file's last slice."""
    slices: list[tuple[str, int, int]] = []
    for name in FILES:
        lines = (EXAMPLES / name).read_text("utf-8").splitlines()
        mine: list[tuple[str, int, int]] = []
        first, count = 1, 0
        for number, line in enumerate(lines, 1):
            count += len(mutations(line))
            if count >= SLICE:
                mine.append((name, first, number))
                first, count = number + 1, 0
        if first <= len(lines):
            if mine and count < SLICE // 2:
                mine[-1] = (name, mine[-1][1], len(lines))
            else:
                mine.append((name, first, len(lines)))
        slices += mine
    return slices


SLICES = line_slices()
SLICE_IDS = [f"{name}:{first}-{last}" for name, first, last in SLICES]


def check_message(problem: str, expected_file: str) -> None:
    assert not LIBRARY_WORDS.search(problem), problem
    assert re.match(rf"^{re.escape(expected_file)}(:\d+)?: ", problem) or re.match(
        r"^[\w./-]+\.yaml(:\d+)?: ", problem
    ), problem


def workspace_with(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """The example workspace (the agreement among its conventions) and the file ``name``."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES, root)
    shutil.copy(root / FILES[3], root / "conventions" / Path(FILES[3]).name)
    path = root / ("conventions/" + Path(name).name if name == FILES[3] else name)
    return root, path


def broken(lines: list[str], first: int = 1, last: int | None = None) -> list[tuple[int, str, str]]:
    """Every line (from ``first`` to ``last``) broken every way: (line number, how, the
    whole text)."""
    return [
        (number, how, "\n".join([*lines[: number - 1], new, *lines[number:]]) + "\n")
        for number, line in enumerate(lines, 1)
        if first <= number <= (len(lines) if last is None else last)
        for how, new in mutations(line).items()
    ]


def test_the_slices_hold_every_line_of_every_example_once() -> None:
    for name in FILES:
        count = len((EXAMPLES / name).read_text("utf-8").splitlines())
        covered = [n for file, a, b in SLICES if file == name for n in range(a, b + 1)]
        assert covered == list(range(1, count + 1)), name


@pytest.fixture
def unbroken_files_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each load reads the whole workspace, but only one file of it is broken: the example
    files as shipped are parsed once, and each load gets a fresh copy of what they gave (the
    broken text is always parsed for real); and each load being of new bytes, none is kept in
    the load cache. Three parses in four saved, nothing less checked: parsing the shipped
    files and the cache are tested on their own."""
    shipped = {(EXAMPLES / name).read_text("utf-8") for name in FILES}
    parsed: dict[tuple[str, str, str], bytes] = {}
    parse = loading.parse_yaml

    def parse_once(text: str, path: Path, display: str) -> loading.Document:
        if text not in shipped:
            return parse(text, path, display)
        key = (text, str(path), display)
        if key not in parsed:
            parsed[key] = pickle.dumps(parse(text, path, display))
        return pickle.loads(parsed[key])  # a copy: the load may change what it is given

    monkeypatch.setattr(loading, "parse_yaml", parse_once)
    monkeypatch.setattr(load_cache, "_entry", lambda name: None)  # each load is of new bytes


@pytest.mark.parametrize(("name", "first", "last"), SLICES, ids=SLICE_IDS)
@pytest.mark.usefixtures("unbroken_files_parsed_once")
def test_no_library_words_in_any_message(tmp_path: Path, name: str, first: int, last: int) -> None:
    """Every line of every example file, broken every way: each problem is ours, with its
    file and line, and the loader never crashes."""
    root, path = workspace_with(tmp_path, name)
    shown = str(path.relative_to(root))
    tried = refused = 0
    for number, how, text in broken(path.read_text("utf-8").splitlines(), first, last):
        path.write_text(text, encoding="utf-8")
        tried += 1
        try:
            load_workspace(root)
        except InvalidInput as exc:
            refused += 1
            assert exc.problems, (name, number, how)
            for problem in exc.problems:
                check_message(str(problem), shown)
        except Exception as exc:  # pragma: no cover - the failure shows the case
            pytest.fail(f"{name}:{number} {how}: {type(exc).__name__}: {exc}")
    assert tried > 50 and refused > tried // 3, (tried, refused)


def _well_formed(text: str) -> bool:
    try:
        for _ in yaml.parse(text, Loader=FASTEST):
            pass
    except yaml.YAMLError:
        return False
    return True


@pytest.mark.parametrize(("name", "first", "last"), SLICES, ids=SLICE_IDS)
def test_no_parser_words_with_either_yaml_parser(
    monkeypatch: pytest.MonkeyPatch, name: str, first: int, last: int
) -> None:
    """libyaml and pure-Python PyYAML word their syntax errors differently: both are
    translated, at a line of the file (each broken text told apart as well formed or not
    once, then parsed by each)."""
    lines = (EXAMPLES / name).read_text("utf-8").splitlines()
    cases = broken(lines, first, last)
    malformed = [case for case in cases if not _well_formed(case[2])]
    for parser in PARSERS:
        monkeypatch.setattr(loading, "_parser", lambda parser=parser: PARSERS[parser])
        syntax = 0
        for number, how, text in malformed:  # only syntax errors differ between the parsers
            try:
                parse_yaml(text, Path(name), name)
            except InvalidInput as exc:
                syntax += 1
                for problem in exc.problems:
                    check_message(str(problem), name)
                    assert problem.line is not None, (parser, number, how, problem)
        # at least one broken text in 15 is a syntax error: over all the slices, more than 200
        assert syntax > len(cases) // 15, (parser, syntax, len(cases))


@pytest.mark.parametrize("kind", sorted(get_args(ErrorType)))
def test_every_pydantic_error_kind_is_worded(kind: str) -> None:
    """Whatever pydantic raises, the message is ours (and never a crash on a missing ctx)."""
    ctx: dict[str, Any] = {
        "expected": "'a' or 'b'",
        "gt": 1,
        "ge": 1,
        "lt": 9,
        "le": 9,
        "min_length": 1,
        "max_length": 9,
        "error": "Value error, something",
        "pattern": "x",
    }
    message = error_message({"type": kind, "loc": ("key",), "input": "x", "ctx": ctx})
    assert message and not LIBRARY_WORDS.search(message), (kind, message)


# --- the examples of the issue ------------------------------------------------------------


def problems_of(tmp_path: Path, text: str, parser: str = "pure-python") -> list[str]:
    root = write_workspace(tmp_path / "ws", {"test": text})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loading, "_parser", lambda: PARSERS[parser])
        with pytest.raises(InvalidInput) as caught:
            load_workspace(root)
    return [str(p) for p in caught.value.problems]


def test_a_date_written_the_french_way_says_how_to_write_it(tmp_path: Path) -> None:
    text = CONVENTION.replace("start: 2025-04-01", "start: 01/04/2025")
    assert problems_of(tmp_path, text) == [
        f"conventions/test.yaml:{line_of(text, '01/04')}: period.start: "
        "expected a date written YYYY-MM-DD (e.g. 2026-03-15), got `01/04/2025`"
    ]


def test_a_misspelt_required_key_is_one_problem_with_the_right_name(tmp_path: Path) -> None:
    text = CONVENTION.replace("session_duration:", "sesion_duration:")
    assert problems_of(tmp_path, text) == [
        f"conventions/test.yaml:{line_of(text, 'sesion')}: sesion_duration: unknown key "
        "(did you mean 'session_duration'?)"
    ]


def test_type_and_rule_problems_are_all_reported_in_one_run(tmp_path: Path) -> None:
    """A wrong value no longer hides the cross-field rules: location, SIRET and slot length
    are checked on what loaded, in the same run (the faulty items set aside)."""
    text = (
        CONVENTION.replace(
            "excluded_months: [7, 8]",
            "excluded_months: [7, 8]\nclosures:\n  - {from: 15/03/2026, reason: travaux}",
        )
        .replace("location: home}", "location: hom}")
        .replace("  chorus_service_code: TEST1", "  chorus_service_code: TEST1\n  siret: '1'")
        .replace('"09:00-10:30"', '"09:00-10:00"')
    )
    found = problems_of(tmp_path, text)
    assert [p.split(": ", 2)[1] for p in found] == [
        "establishment.siret",
        "slots[0]",
        "closures[0].from",
        "groups[1].location",
    ]
    assert found[-1].endswith("unknown location 'hom' (did you mean 'home'?)")


@pytest.mark.parametrize(
    ("old", "new", "field", "dependent"),
    [
        ("notice_days: 15", "notice_days: soon", "notice_days", None),
        ("start: 2025-04-01", "start: 01/04/2025", "period.start", None),
        ("session_duration: 1h30", "session_duration: long", "session_duration", "slots[0]"),
    ],
)
def test_a_wrong_required_value_does_not_hide_the_other_rules(
    tmp_path: Path, old: str, new: str, field: str, dependent: str | None
) -> None:
    """A placeholder stands in for a wrong required value so that the rules run on the
    rest; a problem that depends on it (a slot against a wrong duration) is not reported."""
    text = (
        CONVENTION.replace(old, new)
        .replace("location: home}", "location: hom}")
        .replace("  chorus_service_code: TEST1", "  chorus_service_code: TEST1\n  siret: '1'")
        .replace('"09:00-10:30"', '"09:00-10:00"')
    )
    fields = [p.split(": ", 2)[1] for p in problems_of(tmp_path, text)]
    expected = {"establishment.siret", "slots[0]", field, "groups[1].location"} - {dependent}
    assert sorted(fields) == sorted(expected)


def test_a_misspelt_choice_suggests_the_close_one(tmp_path: Path) -> None:
    text = CONVENTION.replace("cadence: quarterly", "cadence: quaterly")
    assert problems_of(tmp_path, text) == [
        f"conventions/test.yaml:{line_of(text, 'quaterly')}: groups[2].cadence: "
        "expected one of monthly, quarterly, got `quaterly` (did you mean 'quarterly'?)"
    ]


def test_a_number_where_text_is_expected_says_to_quote_it(tmp_path: Path) -> None:
    text = CONVENTION.replace("chorus_service_code: TEST1", "chorus_service_code: 1234")
    assert problems_of(tmp_path, text) == [
        f"conventions/test.yaml:{line_of(text, '1234')}: establishment.chorus_service_code: "
        'expected text, got the number 1234: write it in quotes ("1234")'
    ]


SYNTAX = {
    "a value with ': '": (
        "title: Test convention",
        "title: Réunion: équipe",
        "Réunion",
        "a value containing ': ' must be written in quotes (write `title: \"Réunion: équipe\"`)",
    ),
    "a value with ': ' and a comment": (
        "title: Test convention",
        "title: Réunion: équipe  # the title",
        "Réunion",
        '(write `title: "Réunion: équipe"`)',
    ),
    "a key without its colon (reported one line late by PyYAML)": (
        "notice_days: 15",
        "notice_days 15",
        "notice_days 15",
        "this line is neither `key: value` nor `- item`",
    ),
    "an unclosed quote (reported at the end of the file by PyYAML)": (
        "title: Test convention",
        'title: "Test convention',
        '"Test',
        "a quote opened on this line is closed only further down",
    ),
    "an unclosed bracket": (
        'slots: ["09:00-10:30",',
        'slots: ["09:00-10:30"',
        "slots:",
        "a '[' opened on this line is not closed",
    ),
    "a tab": ("  name: CCAS de Test", "\tname: CCAS de Test", "\tname", "a tab character"),
    "a key indented under a value": (
        "notice_days: 15",
        "notice_days: 15\n  extra: 1",
        "extra",
        "this key is indented under a value",
    ),
    "a value starting with @": ("title: Test convention", "title: @home", "@home", "write `title:"),
}


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("case", list(SYNTAX))
def test_yaml_syntax_errors_name_the_line_to_fix_and_what_to_type(
    tmp_path: Path, case: str, parser: str
) -> None:
    old, new, needle, hint = SYNTAX[case]
    assert old in CONVENTION
    text = CONVENTION.replace(old, new, 1)
    line = line_of(text, needle)
    found = problems_of(tmp_path, text, parser)
    assert len(found) == 1
    assert found[0].startswith(f"conventions/test.yaml:{line}: YAML syntax error: "), found
    assert hint in found[0]
    check_message(found[0], "conventions/test.yaml")


def test_did_you_mean_offers_the_closest_names() -> None:
    assert did_you_mean("ccas-drex", ["ccas-dreux", "ille-et-vilaine"]) == (
        " (did you mean 'ccas-dreux'?)"
    )
    assert did_you_mean("zzz", ["a", "b"]) == " (known: a, b)"


def test_an_unknown_session_id_suggests_the_closest_of_the_workspace(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    runner = CliRunner()
    planned = runner.invoke(app, ["-w", str(root), "plan", "2025", "--today", str(TODAY)])
    assert planned.exit_code == 0, planned.output
    result = runner.invoke(
        app,
        [
            "-w",
            str(root),
            "cancel",
            "test/alpha/2025-4",
            "--by",
            "establishment",
            "--today",
            str(TODAY),
        ],
    )
    assert result.exit_code != 0
    assert "did you mean 'test/alpha/2025-04'" in result.output, result.output


BAD_OPTIONS = [
    (["agenda", "--days", "0"], "must be at least 1"),
    (["agenda", "--days", "abc"], "expected a whole number"),
    (["agenda", "--format", "xml"], "'xml' is not one of"),
    (["plan", "99999"], "must be at most 2200"),
    (["plan", "twenty"], "expected a whole number"),
    (["note", "x/y/2025-01", "--attendance", "-2"], "must be at least 0"),
]


@pytest.mark.parametrize(("args", "expected"), BAD_OPTIONS)
def test_a_bad_option_is_refused_in_our_words(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    root = write_workspace(tmp_path / "ws")
    result = CliRunner().invoke(app, ["-w", str(root), *args])
    assert result.exit_code == 2
    assert expected in result.output, result.output
    assert not LIBRARY_WORDS.search(result.output), result.output
