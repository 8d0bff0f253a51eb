"""The document helper: a child process that makes a command's PDFs and Factur-X files.

WeasyPrint takes about 0.6 s to import, factur-x (with lxml and pypdf) about 0.3 s. A command
run from the console script that will make a PDF starts this helper first of all
(:func:`start_helper`, called by :mod:`apptool.console` before it imports typer and the
command line): a fork of the command's process, which imports them on the other core
meanwhile (:data:`WARM_UP`: only WeasyPrint for a calendar, a notice...), then does each job
asked of it (:data:`JOBS`) with the very function the command would call itself, so the same
bytes.

``None`` from :func:`run` means the helper did not do the
job (no helper, the helper is gone, or the job failed there): the caller does it in its own
process, and meets the same error there, if any. The helper writes no file and nothing on the
terminal, and is stopped when the command ends. Programs and tests that import apptool have
no helper unless they call :func:`start_helper` with the switch on (:data:`HELPER_SWITCH`).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import signal
import sys
import threading
from typing import Any

#: The console script's switch for :func:`start_helper` ("1": on).
HELPER_SWITCH = "APPTOOL_PDF_WORKER"

#: The jobs the helper does: name -> (module, function), called with the job's arguments.
JOBS = {
    "pdf": ("apptool.output.pdf", "_pdf_here"),
    "cii_xml": ("apptool.output.facturx_files", "cii_xml_from_terms"),
    "facturx_pdf": ("apptool.output.facturx_files", "embed_xml"),
}
#: What the helper calls as soon as it starts (imports), by what the command makes:
#: (module, function), the first needed first.
WARM_UP = {
    "pdf": (("apptool.output.pdf", "_weasyprint"),),
    "e-invoice": (
        ("apptool.output.facturx_files", "_facturx"),
        ("apptool.output.pdf", "_weasyprint"),
    ),
}

#: The helper of this process, once started.
_HELPER: DocumentHelper | None = None


def start_helper(makes: str = "pdf") -> DocumentHelper | None:
    """Start the document helper of this process (once), for a command that will make a PDF
    (``makes``: a key of :data:`WARM_UP`; "e-invoice" for the XML and the Factur-X PDF too).

    Only when the switch is on (:data:`HELPER_SWITCH`), on Linux (a fork), with no other
    thread running (a fork copies none), and while WeasyPrint is not imported here yet (then
    rendering here is as quick).
    """
    global _HELPER
    if _HELPER is not None:
        return _HELPER
    if (
        os.environ.get(HELPER_SWITCH) != "1"
        or not sys.platform.startswith("linux")
        or "weasyprint" in sys.modules
        or threading.active_count() > 1
    ):
        return None
    try:
        _HELPER = DocumentHelper(WARM_UP.get(makes, WARM_UP["pdf"]))
    except OSError:
        return None
    atexit.register(_HELPER.close)
    return _HELPER


def run(job: str, *args: Any) -> Any | None:
    """The result of ``job`` (a key of :data:`JOBS`) done by the helper, or None when there
    is no helper or it did not do it (the caller then does it itself)."""
    helper = _HELPER
    return helper.run(job, *args) if helper is not None else None


def _write_frame(stream: Any, payload: bytes) -> None:
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()


def _read_frame(stream: Any) -> bytes | None:
    """One length-prefixed message, or None at the end of the stream (or a cut one)."""
    head = stream.read(8)
    if len(head) != 8:
        return None
    size = int.from_bytes(head, "big")
    payload = stream.read(size)
    return payload if len(payload) == size else None


class DocumentHelper:
    """A child process forked from this one (see the module's docstring): :meth:`run` sends
    it a job and waits for the result, one job at a time; :meth:`close` (at exit) ends it."""

    def __init__(self, warm_up: tuple[tuple[str, str], ...] = WARM_UP["pdf"]) -> None:
        jobs_in, jobs_out = os.pipe()
        results_in, results_out = os.pipe()
        self.lock = threading.Lock()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child; its work is checked by its answers
            code = 0
            try:
                os.close(jobs_out)
                os.close(results_in)
                _serve(jobs_in, results_out, warm_up)
            except BaseException:
                code = 1
            finally:
                os._exit(code)  # no atexit handler, no flush of the command's buffers
        os.close(jobs_in)
        os.close(results_out)
        self.jobs: Any = os.fdopen(jobs_out, "wb")
        self.results: Any = os.fdopen(results_in, "rb")
        self.alive = True

    def run(self, job: str, *args: Any) -> Any | None:
        """The job's result, or None when the helper did not do it: it is gone or garbled
        (then it is asked nothing more), or the job failed there."""
        with self.lock:
            if not self.alive:
                return None
            try:
                _write_frame(self.jobs, pickle.dumps((job, args)))
                reply = _read_frame(self.results)
                kind, value = pickle.loads(reply) if reply is not None else (None, None)
            except (OSError, ValueError, EOFError, TypeError, pickle.PickleError):
                kind, value = None, None
            if kind == "done":
                return value
            if kind != "failed":
                self._end()
            return None

    def close(self) -> None:
        """End the helper: it never has anything to finish (it writes no file)."""
        self._end()

    def _end(self) -> None:
        if not self.alive:
            return
        self.alive = False
        for stream in (self.jobs, self.results):
            with contextlib.suppress(OSError):
                stream.close()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)


def _function(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _serve(  # pragma: no cover - runs in the child
    jobs: int, results: int, warm_up: tuple[tuple[str, str], ...]
) -> None:
    """The helper's life: warm up, then do each job until the end of the requests. Its
    standard streams go to /dev/null: whoever reads the command's output never waits for the
    helper, and nothing it could print reaches the terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    for module, name in warm_up:
        with contextlib.suppress(Exception):  # a failure here is met again by the job
            _function(module, name)()
    with os.fdopen(jobs, "rb") as requests, os.fdopen(results, "wb") as answers:
        while (request := _read_frame(requests)) is not None:
            try:
                job, args = pickle.loads(request)
                reply: tuple[str, Any] = ("done", _function(*JOBS[job])(*args))
            except Exception as exc:
                reply = ("failed", f"{type(exc).__name__}: {exc}")
            _write_frame(answers, pickle.dumps(reply))
