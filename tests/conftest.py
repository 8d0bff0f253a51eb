"""Shared fixtures: small workspaces written as inline YAML into ``tmp_path``."""

from __future__ import annotations

import atexit
import compileall
import gc
import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import apptool
import apptool.services  # installs the cached holidays into the domain
from apptool.store.holiday_cache import CACHE_ENV
from apptool.store.workspace import init_workspace


def pytest_configure(config: pytest.Config) -> None:
    """The holiday cache of the tests is a temporary folder, never the user's cache folder;
    xdist's workers (and the commands tests run in subprocesses) inherit it from the
    controller, so the holidays are computed once a run.

    Commands run by the tests write to a pipe: no ``COLUMNS`` (xdist's workers set one) lays
    their tables out for a terminal; the terminal tests give their own width.

    The tests never lose power: ``os.fsync`` waits for the disk for nothing in the test
    processes (a tenth of the suite's time), so there it returns at once, as under
    ``eatmydata``. The code still calls it in its place (``tests/test_storage.py`` makes it
    fail and kills writes at each call), and the commands run in subprocesses sync for real.

    Each test process leaves its objects to the system at exit, as ``apptool`` does
    (:mod:`apptool.cli.common`), instead of having Python walk them all once more on its way
    out (a fraction of a second a process; frozen earlier, at ``pytest_unconfigure``, a
    worker took two seconds more to exit)."""
    os.environ.pop("COLUMNS", None)
    os.fsync = _no_wait_for_the_disk
    atexit.register(gc.freeze)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    # apptool's bytecode, written once: the commands tests run in subprocesses (and xdist's
    # workers) then load it instead of compiling every module, even under
    # PYTHONDONTWRITEBYTECODE.
    compileall.compile_dir(str(Path(apptool.__file__).parent), quiet=1)
    folder = tempfile.mkdtemp(prefix="apptool-test-cache-")
    config.stash[_CACHE_FOLDER] = (folder, os.environ.get(CACHE_ENV))
    os.environ[CACHE_ENV] = folder


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    """The test modules as pytest rewrites their asserts (about 2 s of each worker's start)
    are kept in ``tests/__pycache__`` for the next run, even under PYTHONDONTWRITEBYTECODE,
    as apptool's bytecode is (and what they import in the virtual environment)."""
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        return (yield)
    finally:
        sys.dont_write_bytecode = before


#: Where the last runs' time of each test is kept (pytest's cache, ``.pytest_cache``).
_DURATIONS = "apptool/durations"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest modules first, each module's tests in their order: xdist's two workers
    then end on short tests and finish together, instead of one waiting seconds for the
    other's last long test. How long a module takes is what its tests took in the last runs
    (pytest's cache); never run (a fresh clone), a module with property tests (hypothesis)
    counts as long. Only the order changes: every test runs, each on its own, and each
    worker collects the same order from the same cache."""
    cache = getattr(config, "cache", None)  # none under ``-p no:cacheprovider``
    known = cache.get(_DURATIONS, {}) if cache is not None else {}
    if not isinstance(known, dict):
        known = {}
    modules: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        guess = 1.0 if getattr(getattr(item, "obj", None), "is_hypothesis_test", False) else 0.0
        seconds = known.get(item.nodeid, guess)
        modules[module] = modules.get(module, 0.0) + (
            seconds if isinstance(seconds, int | float) else guess
        )
    order = {module: rank for rank, module in enumerate(sorted(modules, key=lambda m: -modules[m]))}
    items.sort(key=lambda item: order[item.nodeid.split("::")[0]])  # stable within a module


#: This run's time of each test (set-up, call and tear-down), by node id.
_RUN_TIMES: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each test's time, as the run's reports come in (to xdist's controller, from its
    workers)."""
    _RUN_TIMES[report.nodeid] = _RUN_TIMES.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's times join those of the last runs, for the next run's order (the
    controller keeps them; a worker's are its controller's too)."""
    cache = getattr(session.config, "cache", None)
    if cache is None or os.environ.get("PYTEST_XDIST_WORKER") or not _RUN_TIMES:
        return
    known = cache.get(_DURATIONS, {})
    if not isinstance(known, dict):
        known = {}
    known.update({nodeid: round(seconds, 3) for nodeid, seconds in _RUN_TIMES.items()})
    cache.set(_DURATIONS, known)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE_FOLDER not in config.stash:
        return
    folder, before = config.stash[_CACHE_FOLDER]
    shutil.rmtree(folder, ignore_errors=True)
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


_CACHE_FOLDER = pytest.StashKey[tuple[str, str | None]]()


def _no_wait_for_the_disk(fd: int) -> None:
    """``os.fsync`` in the test processes: checks its argument as the real one does."""
    os.fstat(fd)


@pytest.fixture(scope="session", autouse=True)
def _the_app_command_built_once() -> Iterator[None]:
    """typer's ``CliRunner.invoke(app, ...)`` rebuilds the click command of every command of
    the app (reading each function's signature and type hints) at every call: about 80 ms, a
    third of the suite's time over its thousand invocations. The command built from
    ``apptool.cli.app`` is the same each time (nothing a test changes is read when it is
    built: the commands' functions are registered once, on import), and a click command keeps
    no state between runs: it is built once per process. Any other typer app is built at each
    call, as typer does."""
    import typer.testing

    from apptool.cli import app

    build = getattr(typer.testing, "_get_command", None)
    if build is None:  # another typer: built at each call, as it does
        yield
        return
    built: dict[str, Any] = {}

    def command_of(typer_app: Any) -> Any:
        if typer_app is not app:
            return build(typer_app)
        if "app" not in built:
            built["app"] = build(typer_app)
        return built["app"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", command_of)
        yield


PRACTITIONER = """\
name: Test Practitioner
working_weekdays: [monday, tuesday, wednesday, thursday, friday]
unavailability: []
travel_minutes: 30
"""

#: A small valid convention; tests change it with str.replace or write their own.
CONVENTION = """\
kind: convention
title: Test convention
establishment:
  name: CCAS de Test
  address: [1 rue de la Paix, 28100 Dreux]
  chorus_service_code: TEST1
period:
  start: 2025-04-01
  end: 2025-12-31
  renewal: tacit-yearly
fees:
  group_session: {amount: 150, per: session}
  individual: {amount: 80, per: hour}
session_duration: 1h30
slots: ["09:00-10:30", "10:30-12:00", "13:30-15:00", "15:00-16:30"]
excluded_months: [7, 8]
notice_days: 15
clauses: {schedule: art. 2.1, notice: art. 2.1, individual: art. 2.2, report: art. 2.3,
          sites: art. 3, fees: art. 4, cancellation: art. 4, confidentiality: art. 6,
          payment: art. 9.2, termination: art. 9.3}
school_holidays: {zone: B, policy: avoid}
locations:
  - {id: office, name: Office}
  - {id: home, name: Residence}
groups:
  - {id: alpha, name: Alpha, cadence: monthly, location: office}
  - {id: beta, name: Beta, cadence: monthly, location: home}
  - {id: gamma, name: Gamma, cadence: quarterly, location: office}
"""

#: A date after every period of the examples: planning a whole year is allowed.
TODAY = date(2024, 1, 1)


def write_workspace(
    root: Path, conventions: dict[str, str] | None = None, practitioner: str = PRACTITIONER
) -> Path:
    """Write a workspace: ``conventions`` maps a convention id to its YAML text."""
    (root / "conventions").mkdir(parents=True, exist_ok=True)
    (root / "calendars").mkdir(exist_ok=True)
    (root / "practitioner.yaml").write_text(textwrap.dedent(practitioner), encoding="utf-8")
    for conv_id, text in (conventions if conventions is not None else {"test": CONVENTION}).items():
        (root / "conventions" / f"{conv_id}.yaml").write_text(
            textwrap.dedent(text), encoding="utf-8"
        )
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The small test workspace."""
    return write_workspace(tmp_path / "ws")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the shipped example workspace (CCAS de Dreux)."""
    root = tmp_path / "example"
    init_workspace(root)
    return root


_BLANK_PDFS: dict[date, bytes] = {}
_BLANK_PAGE = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>test</title></head>'
    "<body></body></html>"
)


@pytest.fixture
def quick_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests about numbers, orders, credit notes and the register, not about the PDF: an
    issued invoice's PDF is a blank page (a real PDF/A-3b by WeasyPrint, of the invoice's
    date, made once a run), into which factur-x still embeds the checked XML. What the PDF
    shows is tested on real renderings (test_invoicing, test_billing_law, test_einvoice,
    test_documents); laying out and subsetting fonts for every invoice of every test cost a
    quarter of the suite."""
    from apptool.output import invoice as invoice_output
    from apptool.output.pdf import pdf_from_html

    def blank_page(html: str, created: date, base_url: str | None = None) -> bytes:
        if created not in _BLANK_PDFS:
            _BLANK_PDFS[created] = pdf_from_html(_BLANK_PAGE, created)
        return _BLANK_PDFS[created]

    monkeypatch.setattr(invoice_output, "pdf_from_html", blank_page)


GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    """``text`` equals ``tests/golden/NAME`` (rewrite it with APPTOOL_UPDATE_GOLDEN=1)."""
    golden = GOLDEN / name
    if os.environ.get("APPTOOL_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs: if intended, rerun with APPTOOL_UPDATE_GOLDEN=1"
    )


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's parser when PyYAML has it: the same values (the same
    constructor), read about eight times faster than by the pure-Python parser. For the tests
    reading what the tool wrote; what the tool reads is read by the tool."""
    return yaml.load(text, Loader=_SAFE_LOADER)
