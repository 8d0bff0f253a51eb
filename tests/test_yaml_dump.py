"""The YAML the tool writes is the same bytes with or without libyaml (issue 15: the faster
emitter is used only for text it writes exactly as PyYAML's own)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apptool.store import files
from apptool.store.files import dump_yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "apptool" / "examples"

text = st.text(max_size=150)  # any character: emoji, controls, separators, surrogates
near_limits = st.sampled_from(
    ["", "😀", "\x85", "\u2028", "\ufeff", "a\nb", "\t", " lead", "trail ", "a: b", "#x",
     "yes", "null", "~", "0x10", "1e3", "- a", "'q'", '"d"', "é" * 130, "mot " * 40]
)  # fmt: skip
scalars = st.one_of(text, near_limits, st.integers(), st.booleans(), st.none(), st.dates())
keys = st.one_of(st.from_regex(r"[a-z][a-z0-9_/.-]{0,30}", fullmatch=True), text, near_limits)
data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
)


def pure_python(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=yaml.SafeDumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, data, max_size=5))
@example({"": "x"})
@example({"name": "Groupe 😀", "note": "a\u2028b"})
@example({"k": "\x85", "l": ["\ufeff"]})
@example({"0" + "\xa0" * 37 + "\u0800" * 15 + "\u0849\u2265\u25ca": "", "q": []})
@example({"a" * 122: 1})  # the longest key both write simple
@example({"a" * 123: 1})  # PyYAML: ? key (with its tag, 128 characters); libyaml: simple
@example({"a" * 129: 1})
@example({"é" * 61: 1})
@example({"é" * 62: 1})  # 124 bytes
@example({"é" * 65: 1})  # 130 bytes: libyaml writes ? key
def test_the_same_bytes_as_pyyaml_alone(value: dict[str, Any]) -> None:
    try:
        expected = pure_python(value)
    except yaml.YAMLError:  # e.g. a lone surrogate: neither writes it
        return
    assert dump_yaml(value) == expected


def test_libyaml_writes_what_it_can(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard lets libyaml write the tool's usual files, and only those texts."""
    if files.faster_dumper() is None:
        pytest.skip("PyYAML without libyaml: PyYAML's own emitter writes everything")
    session = {"date": date(2025, 5, 6), "group": "Pôle seniors 1", "history": ["déplacée"]}
    assert files._same_in_both_emitters({"sessions": [session], "year": 2025})
    assert not files._same_in_both_emitters({"group": "Pôle 😀"})
    assert not files._same_in_both_emitters({"": 1})
    used: list[object] = []
    original = yaml.dump

    def spy(*args: Any, **kwargs: Any) -> Any:
        used.append(kwargs["Dumper"])
        return original(*args, **kwargs)

    monkeypatch.setattr(yaml, "dump", spy)
    dump_yaml({"year": 2025, "sessions": [session]})  # plain: its nodes made directly
    shared = ["a"]
    dump_yaml({"one": shared, "two": shared})  # a list met twice: PyYAML's representer
    dump_yaml({"group": "Pôle 😀"})
    assert used == [files.faster_dumper(), yaml.SafeDumper]


SHARED = ["déplacée"]


@pytest.mark.parametrize(
    "value",
    [
        {"sessions": [{"date": date(2025, 5, 6), "history": [], "ok": True, "n": -3}]},
        {"a": None, "b": {}, "c": [[], {}], "d": "2025-05-06", "e": "09:00", "f": "yes"},
        {"one": SHARED, "two": SHARED},  # PyYAML writes an anchor and an alias
        {"when": datetime(2025, 5, 6, 9, 30)},  # not plain
        {"z": 1, "a": {"y": [1, "x"], "b": False}},
    ],
)
def test_plain_events_give_the_representer_s_bytes(value: dict[str, Any]) -> None:
    assert dump_yaml(value) == pure_python(value)


def test_the_example_files_read_back_and_dump_the_same_both_ways() -> None:
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        value = yaml.safe_load(path.read_text("utf-8"))
        assert dump_yaml(value) == pure_python(value), path
