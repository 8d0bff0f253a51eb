"""What a load found, remembered between commands (``store/load_cache.py``), the calendars
not written again when unchanged, and the templates compiled once (``store/template_cache.py``):
the same results as reading and compiling each time, never a stale one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apptool.cli import app
from apptool.errors import InvalidInput
from apptool.store import calendars, load_cache, loading, workspace
from apptool.store.workspace import load_workspace
from conftest import TODAY, write_workspace

runner = CliRunner()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("APPTOOL_CACHE_DIR", str(folder))
    return folder


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file was parsed")

    monkeypatch.setattr(loading, "parse_yaml", refuse)
    monkeypatch.setattr(workspace, "read_yaml", refuse)
    monkeypatch.setattr(calendars, "parse_yaml", refuse)


def test_a_load_is_remembered_while_the_files_stay_the_same(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_workspace(tmp_path / "ws")
    first = load_workspace(root)
    assert len(list((cache / load_cache.FOLDER).iterdir())) == 1
    with monkeypatch.context() as patch:
        _no_parsing(patch)
        again = load_workspace(root)
    assert again.practitioner == first.practitioner
    assert again.conventions == first.conventions
    assert again.declared_terminations == first.declared_terminations
    assert again.documents["test"].lines == first.documents["test"].lines
    assert again.root == first.root


def test_an_edited_file_is_read_again(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    assert load_workspace(root).conventions["test"].notice_days == 15
    path = root / "conventions" / "test.yaml"
    path.write_text(path.read_text("utf-8").replace("notice_days: 15", "notice_days: 20"), "utf-8")
    assert load_workspace(root).conventions["test"].notice_days == 20
    (root / "conventions" / "second.yaml").write_text(path.read_text("utf-8"), "utf-8")
    assert sorted(load_workspace(root).conventions) == ["second", "test"]
    assert len(list((cache / load_cache.FOLDER).iterdir())) == 1  # one entry a workspace


def test_a_load_that_fails_is_never_kept(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    path = root / "conventions" / "test.yaml"
    path.write_text(path.read_text("utf-8").replace("notice_days: 15", "notice_days: -1"), "utf-8")
    for _ in range(2):  # the problem is found again, with its line, each time
        with pytest.raises(InvalidInput) as raised:
            load_workspace(root)
        assert any(p.field == "notice_days" and p.line for p in raised.value.problems)
    assert not (cache / load_cache.FOLDER).exists()


def test_a_corrupt_or_altered_entry_is_read_again(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    expected = load_workspace(root).conventions
    (entry,) = (cache / load_cache.FOLDER).iterdir()
    raw = entry.read_bytes()
    for damaged in (raw[:-10], raw[:-1] + bytes([raw[-1] ^ 1]), b"", b"\x00" * 50):
        entry.write_bytes(damaged)
        assert load_workspace(root).conventions == expected
    entry.unlink()
    entry.mkdir()  # not even a file: no cache, same result
    assert load_workspace(root).conventions == expected


def test_other_code_reads_again(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_workspace(tmp_path / "ws")
    load_workspace(root)
    monkeypatch.setattr(load_cache, "code_fingerprint", lambda: b"another apptool")
    read: list[Path] = []
    original = workspace.read_yaml
    monkeypatch.setattr(workspace, "read_yaml", lambda p, d: read.append(p) or original(p, d))
    load_workspace(root)
    assert read


def test_no_cache_folder_gives_the_same_workspace(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_workspace(tmp_path / "ws")
    cache.write_text("a file where the folder should be", "utf-8")
    assert load_workspace(root).conventions == load_workspace(root).conventions


def test_every_file_a_load_reads_is_part_of_its_key(
    example: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read by the load but left out of the inputs would give a stale workspace."""
    (example / "records").mkdir(exist_ok=True)
    for name in ("records/terminations.yaml", "records/purchase-orders.yaml", "themes.yaml"):
        (example / name).write_text("", "utf-8")
    (example / "conventions" / "second.yml").write_text(
        (example / "conventions" / "ccas-dreux.yaml").read_text("utf-8"), "utf-8"
    )
    read: list[Path] = []
    original = loading.read_text
    monkeypatch.setattr(loading, "read_text", lambda p, d: read.append(Path(p)) or original(p, d))
    load_workspace(example)
    assert read
    assert set(read) <= set(workspace._read_by_load(example.resolve()))


def test_a_named_pipe_is_not_waited_on(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    pipe = root / "conventions" / "pipe.yaml"
    os.mkfifo(pipe)
    assert load_cache.file_bytes(pipe) is None  # never waited on
    assert load_cache.file_input(pipe, None).endswith(b"\0there")
    with pytest.raises(InvalidInput):
        load_workspace(root)


def _plan(root: Path) -> None:
    result = runner.invoke(app, ["-w", str(root), "plan", "2025", "--today", str(TODAY)])
    assert result.exit_code == 0, result.output


def test_an_unchanged_calendar_is_not_written_again(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    _plan(root)
    path = root / "calendars" / "2025.yaml"
    before = path.stat()
    _plan(root)  # every session kept: the same text
    assert path.stat().st_ino == before.st_ino  # not replaced
    text = path.read_text("utf-8")
    path.write_text(text.replace("# ", "#  ", 1), "utf-8")  # the same calendar, other bytes
    _plan(root)
    assert path.read_text("utf-8") == text  # written back as the tool writes it


def test_a_calendar_edited_by_hand_is_checked_again(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    _plan(root)
    path = root / "calendars" / "2025.yaml"
    path.write_text(path.read_text("utf-8").replace("status: planned", "status: nonsense", 1))
    result = runner.invoke(app, ["-w", str(root), "check", "--today", str(TODAY)])
    assert result.exit_code != 0
    assert "calendars/2025.yaml:" in result.output and "status" in result.output


def test_templates_compile_once_and_again_when_edited(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    from apptool.output import render

    folder = tmp_path / "ws"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "note.md.j2").write_text("Bonjour {{ name }}", "utf-8")
    assert render.render("note.md.j2", {"name": "Dreux"}, folder) == "Bonjour Dreux"
    compiled = list((cache / "compiled-templates").rglob("*.cache"))
    assert len(compiled) == 1
    with monkeypatch.context() as patch:  # the compiled code is loaded, not compiled
        patch.setattr(jinja2.Environment, "compile", lambda *a, **k: pytest.fail("compiled"))
        assert render.render("note.md.j2", {"name": "Chartres"}, folder) == "Bonjour Chartres"
    (folder / "templates" / "note.md.j2").write_text("Salut {{ name }}", "utf-8")
    assert render.render("note.md.j2", {"name": "Dreux"}, folder) == "Salut Dreux"


def test_templates_render_when_the_cache_cannot_be_written(tmp_path: Path, cache: Path) -> None:
    from apptool.output import render

    cache.write_text("a file where the folder should be", "utf-8")
    folder = tmp_path / "ws"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "note.md.j2").write_text("Bonjour {{ name }}", "utf-8")
    for _ in range(2):
        assert render.render("note.md.j2", {"name": "Dreux"}, folder) == "Bonjour Dreux"


def test_a_load_reads_the_bytes_of_its_key_whatever_happens_meanwhile(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file saved (and even saved back) while a command loads: the load parses the bytes
    taken for its key, so what is kept under them is what they give."""
    root = write_workspace(tmp_path / "ws")
    path = root / "conventions" / "test.yaml"
    old = path.read_text("utf-8")
    new = old.replace("notice_days: 15", "notice_days: 20")
    original = workspace._load

    def saved_meanwhile(at: Path) -> object:
        path.write_text(new, "utf-8")
        loaded = original(at)
        path.write_text(old, "utf-8")  # and back: A, B, A
        return loaded

    with monkeypatch.context() as patch:
        patch.setattr(workspace, "_load", saved_meanwhile)
        assert load_workspace(root).conventions["test"].notice_days == 15
    assert load_workspace(root).conventions["test"].notice_days == 15
    path.write_text(new, "utf-8")
    assert load_workspace(root).conventions["test"].notice_days == 20


def test_a_file_added_or_removed_during_a_load_is_not_kept(
    example: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminations = example / "records" / "terminations.yaml"
    terminate = ["terminate", "ccas-dreux", "--notice-on", "2025-08-10", "--by", "establishment"]
    result = runner.invoke(app, ["-w", str(example), *terminate, "--yes"])
    assert result.exit_code == 0, result.output
    recorded = terminations.read_bytes()
    terminated = load_workspace(example).conventions["ccas-dreux"].period.termination
    assert terminated is not None
    original = workspace._load

    def removed_meanwhile(at: Path) -> object:  # taken with the file, loaded without it
        terminations.unlink()
        loaded = original(at)
        terminations.write_bytes(recorded)
        return loaded

    def added_meanwhile(at: Path) -> object:  # taken without the file, loaded with it
        terminations.write_bytes(recorded)
        loaded = original(at)
        terminations.unlink()
        return loaded

    for racing, expected in ((removed_meanwhile, terminated), (added_meanwhile, None)):
        for entry in (cache / load_cache.FOLDER).iterdir():
            entry.unlink()
        with monkeypatch.context() as patch:
            patch.setattr(workspace, "_load", racing)
            load_workspace(example)
        assert load_workspace(example).conventions["ccas-dreux"].period.termination == expected


def test_an_entry_others_may_write_or_of_another_shape_is_not_used(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_workspace(tmp_path / "ws")
    expected = load_workspace(root).conventions
    (entry,) = (cache / load_cache.FOLDER).iterdir()
    entry.chmod(0o666)
    with monkeypatch.context() as patch:
        patch.setattr(load_cache.pickle, "loads", lambda *a: pytest.fail("unpickled"))
        assert load_workspace(root).conventions == expected
    name = f"workspace {root.resolve()}"
    files = workspace._read_by_load(root.resolve())
    inputs = [load_cache.file_input(f, load_cache.file_bytes(f)) for f in files]
    entry.unlink()
    load_cache.remembered(name, inputs, lambda: 42)  # the same key, another value
    assert load_workspace(root).conventions == expected


def test_a_named_pipe_in_the_cache_folder_is_not_waited_on(tmp_path: Path, cache: Path) -> None:
    import threading

    root = write_workspace(tmp_path / "ws")
    expected = load_workspace(root).conventions
    (entry,) = (cache / load_cache.FOLDER).iterdir()
    entry.unlink()
    os.mkfifo(entry)
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(load_workspace(root).conventions))
    worker.start()
    worker.join(30)
    assert not worker.is_alive() and found == [expected]


def test_a_calendar_with_a_byte_order_mark_is_written_again(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    _plan(root)
    path = root / "calendars" / "2025.yaml"
    written = path.read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + written)
    _plan(root)
    assert path.read_bytes() == written


def test_entries_are_written_for_their_user_alone_whatever_the_umask(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_workspace(tmp_path / "ws")
    before = os.umask(0o002)  # a group of one's own: files would be group-writable
    try:
        load_workspace(root)
    finally:
        os.umask(before)
    (entry,) = (cache / load_cache.FOLDER).iterdir()
    assert entry.stat().st_mode & 0o077 == 0
    with monkeypatch.context() as patch:
        _no_parsing(patch)
        load_workspace(root)  # the entry is used


def test_an_entry_whose_parts_do_not_match_is_not_used(tmp_path: Path, cache: Path) -> None:
    root = write_workspace(tmp_path / "ws").resolve()
    loaded = load_workspace(root)
    name = f"workspace {root}"
    files = workspace._read_by_load(root)
    inputs = [load_cache.file_input(f, load_cache.file_bytes(f)) for f in files]
    wrong = [
        (loaded.practitioner, {1: loaded.conventions["test"]}, loaded.documents, {1: None}),
        (loaded.practitioner, loaded.conventions, {}, loaded.declared_terminations),
        (loaded.practitioner, loaded.conventions, loaded.documents, {"test": "2025-04-30"}),
    ]
    for value in wrong:
        (cache / load_cache.FOLDER).mkdir(exist_ok=True)
        for entry in (cache / load_cache.FOLDER).iterdir():
            entry.unlink()
        load_cache.remembered(name, inputs, lambda v=value: v)  # type: ignore[misc]
        again = load_workspace(root)
        assert again.conventions == loaded.conventions
        assert again.declared_terminations == loaded.declared_terminations


def test_temp_files_of_killed_writes_are_removed_an_hour_later(tmp_path: Path, cache: Path) -> None:
    """A write killed midway leaves its temp file; the next write of the same entry removes
    it once it is an hour old, and leaves younger ones (a write under way) and every other
    file alone: the cache folder may be shared with other programs."""
    root = write_workspace(tmp_path / "ws")
    load_workspace(root)
    folder = cache / load_cache.FOLDER
    (entry,) = folder.glob("*.pickle")
    old = folder / f".{entry.name}.k2j4_x9a.tmp"
    young = folder / f".{entry.name}.ab12cd34.tmp"
    others = [
        folder / "notes.tmp",
        folder / ".backup.tar.q7w8e9r0.tmp",
        folder / f".{entry.name}.saved.q7w8e9r0.tmp",  # not a name mkstemp gives it
    ]
    for path in (old, young, *others):
        path.write_bytes(b"half")
    two_hours_ago = old.stat().st_mtime - 7200
    for path in (old, *others):
        os.utime(path, (two_hours_ago, two_hours_ago))
    (root / "themes.yaml").write_text("themes: []\n", "utf-8")  # a new load: a new entry
    load_workspace(root)
    assert not old.exists()
    assert young.exists() and all(path.exists() for path in others)
    assert list(folder.glob("*.pickle")) == [entry]
