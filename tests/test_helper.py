"""The document helper (issue 15.3): a forked child makes the PDFs and Factur-X files of a
command with the functions the command would call, so the same bytes; whatever goes wrong
with it, the command makes them itself.

A fork needs a process without other threads (pytest-xdist's workers have some): each case
runs in a fresh Python, which prints what it saw as JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from apptool.console import may_make_pdf
from apptool.output import einvoice
from apptool.output.pdf import pdf_from_html
from test_einvoice import invoice

HTML = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>t</title>
<style>body { font-family: "DejaVu Sans", sans-serif; }</style></head>
<body><p>Séance du <b>mardi 6 mai 2025</b> : 150,00 €</p></body></html>"""

PRELUDE = """
import base64, hashlib, json, os, signal, sys
from datetime import date
os.environ["APPTOOL_PDF_WORKER"] = "1"
from apptool.output import helper
from apptool.output.pdf import pdf_from_html
def digest(data):
    return hashlib.sha256(data).hexdigest()
HTML = json.loads(sys.argv[1])
TERMS = json.loads(sys.argv[2])
"""


def run_script(body: str) -> dict[str, Any]:
    terms = json.loads(json.dumps(einvoice.en16931_terms(invoice()), default=str))
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(HTML), json.dumps(terms)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        result |= json.loads(line)
    return result


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def here() -> dict[str, str]:
    """What this process makes itself: the PDF of :data:`HTML`, the XML of the invoice and
    the Factur-X PDF of both."""
    pdf = pdf_from_html(HTML, date(2025, 6, 2))
    xml = einvoice.cii_xml(invoice())
    made = einvoice.facturx_pdf(pdf, xml)
    return {"pdf": digest(pdf), "xml": digest(xml), "facturx": digest(made)}


def test_the_helper_makes_the_same_bytes_and_a_failed_job_is_done_here(
    here: dict[str, str],
) -> None:
    """The command imports neither library; a job that fails in the helper fails the same way
    here, and the helper goes on; an unknown job is not done."""
    seen = run_script(
        """
        from apptool.output import einvoice
        started = helper.start_helper("e-invoice") is not None
        pdf = pdf_from_html(HTML, date(2025, 6, 2))
        xml = helper.run("cii_xml", TERMS)
        made = einvoice.facturx_pdf(pdf, xml)
        here = sorted(m for m in ("weasyprint", "facturx", "fontTools") if m in sys.modules)
        failed = helper.run("facturx_pdf", b"not a PDF", b"<x/>", "381")
        unknown = helper.run("rm -rf", "/")
        print(json.dumps({"started": started, "pdf": digest(pdf), "xml": digest(xml),
                          "facturx": digest(made), "imported here": here, "failed": failed,
                          "unknown job": unknown, "alive": helper._HELPER.alive}))
        try:
            einvoice.facturx_pdf(b"not a PDF", b"<x/>")
        except einvoice.EInvoiceInvalid as exc:
            print(json.dumps({"raised here": type(exc).__name__}))
        """
    )
    assert seen == {
        **here,
        "started": True,
        "imported here": [],
        "failed": None,
        "unknown job": None,
        "alive": True,
        "raised here": "EInvoiceInvalid",
    }


def test_a_helper_gone_or_garbled_leaves_the_work_to_the_command(here: dict[str, str]) -> None:
    """Closing it reaps it; an answer that is not one ends it; killed, it is asked nothing more
    and the command makes the PDF (last: WeasyPrint is then imported here)."""
    seen = run_script(
        """
        def gone(h):
            os.kill(h.pid, signal.SIGKILL)
            os.waitpid(h.pid, 0)

        helper._HELPER = None
        h = helper.start_helper()
        h.close()
        try:
            os.waitpid(h.pid, os.WNOHANG)
            reaped = False
        except ChildProcessError:
            reaped = True
        closed = {"reaped": reaped, "answer": helper.run("pdf", HTML, date(2025, 6, 2), None)}
        helper._HELPER = None
        h = helper.start_helper()
        gone(h)
        reader, writer = os.pipe()
        os.write(writer, (5).to_bytes(8, "big") + b"junk!")
        os.close(writer)
        h.results = os.fdopen(reader, "rb")
        h.jobs = open(os.devnull, "wb")  # the job is sent; the answer read is junk
        h.pid = os.getpid() + 10**6  # nobody: killing it fails quietly
        garbled = {"answer": helper.run("pdf", HTML, date(2025, 6, 2), None), "alive": h.alive}

        helper._HELPER = None
        h = helper.start_helper()
        gone(h)
        pdf = pdf_from_html(HTML, date(2025, 6, 2))
        again = helper.run("pdf", HTML, date(2025, 6, 2), None)
        killed = {"pdf": digest(pdf), "alive": h.alive, "asked again": again}

        print(json.dumps({"killed": killed, "garbled": garbled, "closed": closed}))
        """
    )
    assert seen == {
        "killed": {"pdf": here["pdf"], "alive": False, "asked again": None},
        "garbled": {"answer": None, "alive": False},
        "closed": {"reaped": True, "answer": None},
    }


def test_the_helper_starts_only_where_it_helps() -> None:
    """Switched on, once; never switched off, with another thread running (a fork copies
    none), nor once WeasyPrint is imported here. Started for a PDF, it still makes an XML."""
    seen = run_script(
        """
        import threading, time
        os.environ["APPTOOL_PDF_WORKER"] = "0"
        off = helper.start_helper()
        os.environ["APPTOOL_PDF_WORKER"] = "1"
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait)
        thread.start()
        threaded = helper.start_helper()
        stop.set()
        thread.join()
        first = helper.start_helper()
        again = helper.start_helper("e-invoice")
        xml = first.run("cii_xml", TERMS)  # factur-x imported for the job, not before
        first.close()
        helper._HELPER = None
        import weasyprint
        imported = helper.start_helper()
        print(json.dumps({"off": off is None, "threaded": threaded is None,
                          "on": first is not None, "once": again is first,
                          "xml": xml is not None,
                          "weasyprint here": imported is None}))
        """
    )
    assert seen == {
        "off": True,
        "threaded": True,
        "on": True,
        "once": True,
        "xml": True,
        "weasyprint here": True,
    }


def test_no_helper_unless_asked() -> None:
    """Programs and tests that import apptool make their PDFs in their own process."""
    from apptool.output import helper

    assert helper._HELPER is None
    assert helper.run("pdf", HTML, date(2025, 6, 2), None) is None


@pytest.mark.parametrize(
    ("args", "pdf"),
    [
        (["invoice", "--month", "2025-05"], True),
        (["-w", "ws", "invoice", "--month", "2025-05", "--draft"], True),
        (["credit-note", "2025-0001", "--reason", "erreur"], True),
        (["interest", "2025-0001"], True),
        (["calendar", "2025", "--format", "pdf"], True),
        (["calendar", "2025", "-f", "eml"], True),
        (["calendar", "2025", "--format=pdf"], True),
        (["calendar", "2025"], False),
        (["notice", "ccas-dreux/seniors-1/2025-05", "-f", "pdf"], True),
        (["order-form", "BC-2025-0003", "--format", "pdf"], True),
        (["plan", "2025"], False),
        (["invoices"], False),
        (["invoice", "--help"], False),
        (["note", "x", "--", "invoice"], False),
    ],
)
def test_a_glance_at_the_command_line(args: list[str], pdf: bool) -> None:
    assert may_make_pdf(args) is pdf


def test_the_console_script_starts_the_helper_before_the_command_line_libraries() -> None:
    """``apptool`` (:mod:`apptool.console`) forks the helper before importing typer and
    pydantic: the helper starts importing WeasyPrint sooner, without them."""
    code = (
        "import atexit, sys\n"
        "import apptool.output.helper as helper\n"
        "seen = []\n"
        "def start(makes='pdf'):\n"
        "    seen.append((makes, 'typer' in sys.modules, 'pydantic' in sys.modules))\n"
        "helper.start_helper = start\n"
        "atexit.register(lambda: print(seen[0], file=sys.stderr))\n"
        "sys.argv = ['apptool', 'invoice', '--month', 'May']\n"
        "from apptool.console import main\n"
        "main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr  # the month is refused after the fork
    assert done.stderr.strip().splitlines()[-1] == "('e-invoice', False, False)"


def test_an_invoice_issued_with_the_helpers_is_the_same_as_without(tmp_path: Path) -> None:
    """The console script (helpers on, as by default) and a program that imports apptool
    (no helper): the same files, byte for byte."""
    from typer.testing import CliRunner

    from apptool.cli import app
    from apptool.store.workspace import init_workspace

    base = tmp_path / "base"
    init_workspace(base)
    runner = CliRunner()
    planned = runner.invoke(app, ["-w", str(base), "plan", "2025", "--today", "2024-01-01"])
    assert planned.exit_code == 0, planned.output
    month = ["invoice", "--month", "2025-05", "--today", "2025-06-02"]
    with_helpers, here = tmp_path / "with-helpers", tmp_path / "here"
    shutil.copytree(base, with_helpers)
    shutil.copytree(base, here)
    script = "import sys; from apptool.cli import main; sys.argv[0] = 'apptool'; main()"
    env = {**os.environ, "APPTOOL_PDF_WORKER": "1", "APPTOOL_EINVOICE_WORKER": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, "-w", str(with_helpers), *month],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    issued = runner.invoke(app, ["-w", str(here), *month])
    assert issued.exit_code == 0, issued.output

    def files(root: Path) -> dict[str, str]:
        return {
            path.relative_to(root).as_posix(): base64.b64encode(path.read_bytes()).decode()
            for path in sorted((root / "invoices").rglob("*"))
            if path.is_file()
        }

    assert any(name.endswith(".pdf") for name in files(with_helpers))
    assert files(with_helpers) == files(here)
