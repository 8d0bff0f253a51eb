"""What start-up and the document path skip changes nothing: the lazily built commands give
typer's help and behaviour, and the PDF and e-invoice shortcuts give the same bytes."""

from __future__ import annotations

import contextlib
import ctypes.util
import functools
import os
import select
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from apptool.cli import app
from apptool.cli.common import LazyGroup, lazy_group
from apptool.output import pdf as pdf_module

runner = CliRunner()


def invoke(command: object, args: list[str]) -> object:
    """Typer's runner on a given click command (it builds its own from the app otherwise)."""
    import typer.testing

    saved = typer.testing._get_command
    typer.testing._get_command = lambda _app: command  # type: ignore[assignment,return-value]
    try:
        return runner.invoke(app, args, prog_name="apptool")
    finally:
        typer.testing._get_command = saved


@functools.cache
def full_command() -> object:
    """typer's own build of the app, every command at once (built once for these tests)."""
    return typer.main.get_command(app)


def every_command_path() -> list[list[str]]:
    full = full_command()
    paths: list[list[str]] = [[]]
    for name, command in full.commands.items():  # type: ignore[attr-defined]
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    return paths


def help_text(command: object, args: list[str]) -> tuple[int, str]:
    result = invoke(command, [*args, "--help"])
    return result.exit_code, result.output  # type: ignore[attr-defined]


@pytest.mark.parametrize("args", every_command_path(), ids=lambda a: " ".join(a) or "apptool")
def test_the_lazy_group_gives_typer_s_help(args: list[str]) -> None:
    assert help_text(lazy_group(app), args) == help_text(full_command(), args)


@pytest.mark.parametrize("args", [[], ["plna"], ["plan"], ["order"], ["plan", "--nope"]])
def test_the_lazy_group_gives_typer_s_errors(args: list[str]) -> None:
    lazy, full = invoke(lazy_group(app), args), invoke(full_command(), args)
    assert (lazy.exit_code, lazy.output) == (full.exit_code, full.output)  # type: ignore[attr-defined]


def test_only_the_command_that_runs_is_built(tmp_path: Path) -> None:
    group = lazy_group(app)
    assert isinstance(group, LazyGroup)
    invoke(group, ["--help"])
    assert group.lazy.built == {}  # the list of commands comes from the docstrings
    invoke(group, ["-w", str(tmp_path), "plan", "--help"])
    assert list(group.lazy.built) == ["plan"]


def test_help_imports_no_use_case_and_no_heavy_library() -> None:
    code = (
        "import sys; from apptool.cli import main; sys.argv = ['apptool', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('apptool.services', 'apptool.domain', 'pydantic', 'rich', 'yaml', 'jinja2')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)\n"
        "             and getattr(sys.modules[m], '__file__', None)), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]"
    assert "Commands:" in done.stdout


def test_a_piped_plan_imports_neither_rich_nor_the_templates(tmp_path: Path) -> None:
    """Out of a terminal the output is plain lines: rich (and jinja2, only for documents and
    `check`) are not imported by `plan`, nor the invoice register and billing models (only
    `check` reads the register); nor importlib.metadata, which pydantic's plugin loader
    imports (:func:`apptool.cli.common._without_pydantic_plugin_loader`)."""
    from apptool.store.workspace import init_workspace

    init_workspace(tmp_path / "ws")
    code = (
        "import sys; from apptool.cli import main\n"
        f"sys.argv = ['apptool', '-w', {str(tmp_path / 'ws')!r}, 'plan', '2025', "
        "'--today', '2024-01-01']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "unused = ('rich', 'jinja2', 'apptool.domain.register', 'apptool.domain.billing',\n"
        "          'importlib.metadata')\n"
        "print(sorted(m for m in sys.modules if m.startswith(unused)), "
        "file=sys.stderr)"
    )
    # The first run fills the holiday cache (the holidays package reads importlib.metadata).
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert "ccas-dreux/seniors-1/2025-05" in done.stdout


def test_a_command_leaves_its_objects_to_the_system_at_exit(tmp_path: Path) -> None:
    """The console script's last exit handler freezes the garbage collector: the shutdown
    walks none of the command's objects. What the command wrote is whole (a second command
    reads it), and the exit handlers registered after it (the helpers') have run."""
    from apptool.store.workspace import init_workspace

    init_workspace(tmp_path / "ws")
    code = (
        "import atexit, gc, sys; from apptool.cli import main\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        f"sys.argv = ['apptool', '-w', {str(tmp_path / 'ws')!r}, 'plan', '2025', "
        "'--today', '2024-01-01']\n"
        "main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "frozen True"
    kept = subprocess.run(
        [sys.executable, "-m", "apptool", "-w", str(tmp_path / "ws"), "plan", "2025"],
        capture_output=True,
        text=True,
    )
    assert kept.returncode == 0, kept.stderr
    assert "0 placed, 52 kept" in kept.stdout


@pytest.mark.parametrize(
    ("closed", "command"),
    [
        ("stdout", ["check"]),  # a table, written to sys.stdout
        ("stderr", ["plan", "2025", "--today", "2024-01-01"]),  # its progress on stderr
        ("reader gone", ["check"]),  # the table waits in the output's buffer until exit
    ],
)
def test_a_command_does_its_work_whatever_becomes_of_its_output(
    tmp_path: Path, closed: str, command: list[str]
) -> None:
    """Started with its standard output or error closed (``>&-``, ``2>&-``), or printing to
    a pipe whose reader is already gone (``| true``): the command does its work and ends
    as it would have, exit 0, without Python's complaint (exit 120) or an internal error."""
    from apptool.store.workspace import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    fd = {"stdout": 1, "stderr": 2}.get(closed)
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "apptool", "-w", str(root), *command],
            stdin=subprocess.DEVNULL,
            stdout=writer if fd is None else subprocess.DEVNULL,
            stderr=subprocess.PIPE if fd != 2 else subprocess.DEVNULL,
            preexec_fn=(lambda: os.close(fd)) if fd is not None else None,
            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        )
    finally:
        os.close(writer)
    assert done.returncode == 0, done.stderr
    assert not done.stderr, done.stderr
    if command[0] == "plan":
        assert "ccas-dreux/seniors-1/2025-05" in (root / "calendars" / "2025.yaml").read_text()


@pytest.mark.parametrize(
    ("command", "stream", "code"),
    [
        (["check"], "stderr gone", 2),  # its problems to a reader gone: still a failure
        (["check"], "stderr full", 2),  # its problems cannot be written: still a failure
        (["frobnicate"], "stderr full", 2),  # typer's usage error that cannot be written
        (["--version"], "stdout gone", 0),  # typer's own output to a reader gone
        (["calendar", "2025", "--output", "out", "--today", "2025-03-01"], "stderr gone", 0),
    ],
)
def test_the_exit_code_and_the_work_do_not_depend_on_the_output(
    tmp_path: Path, command: list[str], stream: str, code: int
) -> None:
    """Whatever becomes of a stream (its reader gone, a full disk), the command's exit code
    is its own, and what it writes is written (the calendar: its document, then the
    messages that say so)."""
    from apptool.store.workspace import init_workspace

    if stream.endswith("full") and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    root = tmp_path / "ws"
    init_workspace(root)
    (root / "conventions" / "broken.yaml").write_text("notice_days 15\n", "utf-8")
    if command[0] == "calendar":
        (root / "conventions" / "broken.yaml").unlink()
        command = [*command[:3], str(root / "out"), *command[4:]]
        from typer.testing import CliRunner

        from apptool.cli import app

        planned = CliRunner().invoke(
            app, ["-w", str(root), "plan", "2025", "--today", "2024-01-01"]
        )
        assert planned.exit_code == 0, planned.output  # the year planned here: only the
        # calendar's own run is about its output
    reader, writer = os.pipe()
    os.close(reader)
    target = writer if stream.endswith("gone") else os.open("/dev/full", os.O_WRONLY)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "apptool", "-w", str(root), *command],
            stdin=subprocess.DEVNULL,
            stdout=target if stream.startswith("stdout") else subprocess.DEVNULL,
            stderr=target if stream.startswith("stderr") else subprocess.DEVNULL,
        )
    finally:
        os.close(writer)
        if target != writer:
            os.close(target)
    assert done.returncode == code
    if command[0] == "calendar":
        assert (root / "out" / "calendrier-ccas-dreux-2025-v1.md").is_file()


def test_unbuffered_output_stays_unbuffered() -> None:
    """Under ``PYTHONUNBUFFERED=1`` each line reaches the reader when printed, as without the
    layer that lets the reader leave (:func:`apptool.cli.common._readers_may_leave`)."""
    code = (
        "import sys; from apptool.cli.common import _readers_may_leave\n"
        "_readers_may_leave(); print('first'); sys.stdin.read(); print('second')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None and process.stdin is not None
    try:  # the first line, while the child waits for its input (10 s at most)
        assert select.select([process.stdout], [], [], 10)[0], "the first line never came"
        assert process.stdout.readline() == b"first\n"
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.stdout.read() == b"second\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize(
    ("command", "unbuffered"),
    [
        (["check"], ""),  # a command's table, left in the output's buffer until its end
        (["--help"], "1"),  # typer's help, written at once (PYTHONUNBUFFERED=1)
    ],
)
def test_output_that_cannot_be_written_is_an_error_not_a_complaint(
    tmp_path: Path, command: list[str], unbuffered: str
) -> None:
    """Output to a full disk (``> /dev/full``): the command says so, exit 1, never Python's
    "Exception ignored" and exit 120, nor a traceback."""
    from apptool.store.workspace import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "apptool", "-w", str(root), *command],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": unbuffered},
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "error: the output could not be written: [Errno 28] No space left on device\n"
    )


def test_ctrl_c_before_the_command_runs_is_an_interruption() -> None:
    """Ctrl-C while the console script still imports the command line: "interrupted" and
    exit code 130, as during a command, never a traceback."""
    code = (
        "import sys, apptool.cli\n"
        "def interrupted():\n    raise KeyboardInterrupt\n"
        "apptool.cli.main = interrupted\n"
        "sys.argv = ['apptool', 'plan', '2025']\n"
        "from apptool.console import main\n"
        "main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (130, "interrupted\n")
    # while typer builds the command (typer turns it into exit code 130, silently)
    code = code.replace(
        "apptool.cli.main = interrupted",
        "import typer.core\ntyper.core.TyperGroup.make_context = lambda *a, **k: interrupted()",
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (130, "interrupted\n")


def test_the_stand_in_for_pydantic_s_plugin_loader_answers_no_plugin() -> None:
    """With every plugin off, models build without importing importlib.metadata; another name
    asked of the loader brings the real one in its place."""
    code = (
        "import os, sys; os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
        "from apptool.cli.common import _without_pydantic_plugin_loader\n"
        "_without_pydantic_plugin_loader()\n"
        "import pydantic\n"
        "class Model(pydantic.BaseModel):\n    number: int\n"
        "assert Model(number=1).number == 1\n"
        "assert pydantic.TypeAdapter(int).validate_python(2) == 2\n"
        "from pydantic.plugin._loader import get_plugins\n"
        "assert tuple(get_plugins()) == ()\n"
        "print('importlib.metadata' in sys.modules)\n"
        "from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP\n"
        "print(PYDANTIC_ENTRY_POINT_GROUP, bool(sys.modules['pydantic.plugin._loader'].__file__))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "pydantic", "True"]


@pytest.mark.parametrize("setting", ["", "some_plugin"])
def test_no_stand_in_when_a_plugin_may_be_on(setting: str) -> None:
    code = (
        f"import os, sys; os.environ['PYDANTIC_DISABLE_PLUGINS'] = {setting!r}\n"
        "from apptool.cli.common import _without_pydantic_plugin_loader\n"
        "_without_pydantic_plugin_loader()\n"
        "print('pydantic.plugin._loader' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_ssl_and_pydoc_are_imported_on_first_use_only() -> None:
    """python-stdnum imports ssl and pydoc and, for a SIRET or an IBAN, uses neither: they are
    stand-ins until an attribute is asked, then the real modules, for any user."""
    code = (
        "import sys\n"
        "from apptool.cli.common import _RARELY_USED, _loaded_on_first_use\n"
        "_loaded_on_first_use(_RARELY_USED)\n"
        "from stdnum import iban\n"
        "from stdnum.fr import siret\n"
        "assert siret.is_valid('73282932000074') and not siret.is_valid('73282932000075')\n"
        "assert iban.is_valid('FR7630006000011234567890189')\n"
        "print(sorted(n for n in _RARELY_USED if getattr(sys.modules[n], '__file__', None)))\n"
        "import ssl\n"
        "from pydoc import splitdoc\n"
        "context = ssl.create_default_context()\n"
        "print(type(context).__name__, splitdoc('a\\n\\nb'), ssl.PROTOCOL_TLS_CLIENT > 0)\n"
        "print(sorted(n for n in _RARELY_USED if getattr(sys.modules[n], '__file__', None)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "[]",
        "SSLContext ('a', 'b') True",
        "['pydoc', 'ssl']",
    ]


def test_a_module_already_imported_keeps_its_place() -> None:
    code = (
        "import sys, ssl\n"
        "from apptool.cli.common import _loaded_on_first_use\n"
        "_loaded_on_first_use(('ssl', 'no_such_module_anywhere'))\n"
        "print(sys.modules['ssl'] is ssl, 'no_such_module_anywhere' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]


# --- the PDF: the same bytes without the costs ------------------------------------------------


HTML = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>t</title>
<style>body { font-family: "DejaVu Sans", sans-serif; } b { font-weight: bold; }</style>
</head><body><p>Séance d'analyse — <b>mardi 6 mai 2025</b>, 150,00 €</p></body></html>"""


def test_fonttools_skipping_dropped_tables_gives_the_same_pdf(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast = pdf_module.pdf_from_html(HTML, date(2025, 6, 2))
    monkeypatch.setattr(
        pdf_module, "_no_layout_compaction_of_dropped_tables", contextlib.nullcontext
    )
    assert pdf_module.pdf_from_html(HTML, date(2025, 6, 2)) == fast


def test_the_pdf_shortcuts_are_undone_after_use() -> None:
    import fontTools.subset

    compact = fontTools.subset._compact_layout_tables
    find = ctypes.util.find_library
    pdf_module.pdf_from_html(HTML, date(2025, 6, 2))
    assert fontTools.subset._compact_layout_tables is compact
    assert ctypes.util.find_library is find
    with pdf_module._libraries_from_ldconfig():
        pass
    assert ctypes.util.find_library is find


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig is Linux's")
def test_library_lookups_from_ldconfig_find_what_ctypes_finds_there() -> None:
    names = ["gobject-2.0", "pango-1.0", "harfbuzz", "fontconfig", "pangoft2-1.0", "c", "m"]
    names += ["harfbuzz-subset", "libgobject-2.0-0", "gobject-2.0-0", "no-such-library-xyz"]
    first_step = [ctypes.util._findSoname_ldconfig(name) for name in names]  # type: ignore[attr-defined]
    with pdf_module._libraries_from_ldconfig():
        assert [ctypes.util.find_library(name) for name in names] == first_step


def test_factur_x_works_without_importing_requests_first() -> None:
    code = (
        "import sys; from apptool.output.facturx_files import _facturx\n"
        "facturx = _facturx()\n"
        "print('requests' in sys.modules, callable(facturx.generate_cii_xml))\n"
        "print(facturx.facturx.requests.post.__module__, 'requests' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "requests.api", "True"]
