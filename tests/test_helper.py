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

from apptool.cli.common import _may_make_pdf
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
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def here() -> dict[str, str]:
    """What this process makes itself: the PDF and the XML of :data:`HTML` and the invoice."""
    pdf = pdf_from_html(HTML, date(2025, 6, 2))
    xml = einvoice.cii_xml(invoice())
    made = einvoice.facturx_pdf(pdf, xml)
    return {"pdf": digest(pdf), "xml": digest(xml), "facturx": digest(made)}


def test_the_helper_makes_the_same_bytes_and_the_command_imports_neither_library(
    here: dict[str, str],
) -> None:
    seen = run_script(
        """
        from apptool.output import einvoice
        started = helper.start_helper() is not None
        pdf = pdf_from_html(HTML, date(2025, 6, 2))
        xml = helper.run("cii_xml", TERMS)
        made = einvoice.facturx_pdf(pdf, xml)
        here = sorted(m for m in ("weasyprint", "facturx", "fontTools") if m in sys.modules)
        print(json.dumps({"started": started, "pdf": digest(pdf), "xml": digest(xml),
                          "facturx": digest(made), "imported here": here}))
        """
    )
    assert seen == {**here, "started": True, "imported here": []}


def test_a_helper_that_is_gone_leaves_the_work_to_the_command(here: dict[str, str]) -> None:
    seen = run_script(
        """
        h = helper.start_helper()
        os.kill(h.pid, signal.SIGKILL)
        os.waitpid(h.pid, 0)
        pdf = pdf_from_html(HTML, date(2025, 6, 2))
        print(json.dumps({"pdf": digest(pdf), "alive": h.alive,
                          "asked again": helper.run("cii_xml", TERMS)}))
        """
    )
    assert seen == {"pdf": here["pdf"], "alive": False, "asked again": None}


def test_a_job_that_fails_there_fails_here_and_the_helper_goes_on(here: dict[str, str]) -> None:
    seen = run_script(
        """
        from apptool.output import einvoice
        helper.start_helper()
        failed = helper.run("facturx_pdf", b"not a PDF", b"<x/>", "381")
        try:
            einvoice.facturx_pdf(b"not a PDF", b"<x/>")
            raised = None
        except einvoice.EInvoiceInvalid as exc:
            raised = type(exc).__name__
        xml = helper.run("cii_xml", TERMS)
        unknown = helper.run("rm -rf", "/")
        print(json.dumps({"failed": failed, "raised": raised, "xml": digest(xml),
                          "unknown job": unknown, "alive": helper._HELPER.alive}))
        """
    )
    assert seen == {
        "failed": None,
        "raised": "EInvoiceInvalid",
        "xml": here["xml"],
        "unknown job": None,
        "alive": True,
    }


def test_a_garbled_answer_ends_the_helper(here: dict[str, str]) -> None:
    seen = run_script(
        """
        h = helper.start_helper()
        os.kill(h.pid, signal.SIGKILL)
        os.waitpid(h.pid, 0)
        reader, writer = os.pipe()
        os.write(writer, (5).to_bytes(8, "big") + b"junk!")
        os.close(writer)
        h.results = os.fdopen(reader, "rb")
        h.pid = os.getpid() + 10**6  # nobody: killing it fails quietly
        answer = helper.run("cii_xml", TERMS)
        pdf = pdf_from_html(HTML, date(2025, 6, 2))
        print(json.dumps({"answer": answer, "alive": h.alive, "pdf": digest(pdf)}))
        """
    )
    assert seen == {"answer": None, "alive": False, "pdf": here["pdf"]}


def test_closing_ends_and_reaps_the_helper() -> None:
    seen = run_script(
        """
        h = helper.start_helper()
        h.close()
        try:
            os.waitpid(h.pid, os.WNOHANG)
            reaped = False
        except ChildProcessError:
            reaped = True
        print(json.dumps({"reaped": reaped, "answer": helper.run("cii_xml", TERMS)}))
        """
    )
    assert seen == {"reaped": True, "answer": None}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("", True),
        ("os.environ['APPTOOL_PDF_WORKER'] = '0'", False),
        ("import weasyprint", False),
        ("import threading, time; threading.Thread(target=time.sleep, args=(2,)).start()", False),
    ],
    ids=["on", "switched off", "WeasyPrint already here", "a thread running"],
)
def test_the_helper_starts_only_where_it_helps(setup: str, expected: bool) -> None:
    seen = run_script(
        f"""
        {setup}
        first = helper.start_helper()
        print(json.dumps({{"started": first is not None,
                          "once": helper.start_helper() is first}}))
        """
    )
    assert seen == {"started": expected, "once": True}


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
    assert _may_make_pdf(args) is pdf


def test_an_invoice_issued_with_the_helpers_is_the_same_as_without(tmp_path: Path) -> None:
    """The console script, helpers on (the default) and off: the same files, byte for byte."""
    from apptool.store.workspace import init_workspace

    base = tmp_path / "base"
    init_workspace(base)
    script = "import sys; from apptool.cli import main; sys.argv[0] = 'apptool'; main()"
    month = ["invoice", "--month", "2025-05", "--today", "2025-06-02"]
    plan = ["plan", "2025", "--today", "2024-01-01"]
    subprocess.run([sys.executable, "-c", script, "-w", str(base), *plan], check=True)
    outputs = {}
    for switch in ("1", "0"):
        root = tmp_path / f"helpers-{switch}"
        shutil.copytree(base, root)
        env = {**os.environ, "APPTOOL_PDF_WORKER": switch, "APPTOOL_EINVOICE_WORKER": switch}
        done = subprocess.run(
            [sys.executable, "-c", script, "-w", str(root), *month],
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs[switch] = {
            path.relative_to(root).as_posix(): base64.b64encode(path.read_bytes()).decode()
            for path in sorted((root / "invoices").rglob("*"))
            if path.is_file()
        }
    assert any(name.endswith(".pdf") for name in outputs["1"])
    assert outputs["1"] == outputs["0"]
