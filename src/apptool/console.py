"""The console script ``apptool``: starts the document helper, then runs the command line.

A command that will make a PDF starts its document helper (:mod:`apptool.output.helper`)
first of all, before the command line's libraries (typer, pydantic...) are imported: the
helper, a fork of this process, starts importing WeasyPrint on the other core a tenth of a
second sooner, without them. This module imports nothing else before the fork; the command
line itself is :func:`apptool.cli.main`.
"""

from __future__ import annotations

import os
import sys

#: Commands that make a PDF whatever their options (an issued invoice always has one, and its
#: e-invoice), and commands that make one with ``--format pdf`` or ``eml`` (an e-mail carries
#: the PDF).
PDF_ALWAYS = frozenset(("invoice", "credit-note", "interest"))
PDF_WITH_FORMAT = frozenset(("calendar", "notice", "bilan", "order-form"))


def _words(args: list[str]) -> set[str]:
    words = set(args[: args.index("--")] if "--" in args else args)
    return set() if words & {"-h", "--help"} else words


def may_make_pdf(args: list[str]) -> bool:
    """Whether a command line asks for a PDF, at a glance, before typer reads it: the PDF
    helper then starts a few tenths of a second sooner. Each command still says so itself
    (:func:`apptool.cli.common.pdf_ahead`); a wrong guess costs only the helper's work on the
    other core."""
    words = _words(args)
    if words & PDF_ALWAYS:
        return True
    return bool(words & PDF_WITH_FORMAT) and any(w.endswith(("pdf", "eml")) for w in words)


def makes_einvoice(args: list[str]) -> bool:
    """Whether a command line issues a document with an e-invoice (its helper then imports
    factur-x too)."""
    return bool(_words(args) & PDF_ALWAYS)


def set_helper_switches() -> None:
    """The console script's helpers are on unless the environment says otherwise: a command
    checks e-invoices in a helper process that starts Saxon while it renders the PDF
    (``APPTOOL_EINVOICE_WORKER=0``: in this process, as a program that imports apptool
    does), and makes its PDFs in a helper process that imports WeasyPrint while the command
    loads the workspace (``APPTOOL_PDF_WORKER=0``: in this process)."""
    os.environ.setdefault("APPTOOL_EINVOICE_WORKER", "1")
    os.environ.setdefault("APPTOOL_PDF_WORKER", "1")


def main() -> None:
    """Console-script entry point: the document helper of a command that will make a PDF
    (at a glance, :func:`may_make_pdf`), then the command line (:func:`apptool.cli.main`)."""
    try:
        set_helper_switches()
        args = sys.argv[1:]
        if may_make_pdf(args):
            from apptool.output.helper import start_helper  # light: the helper imports the rest

            start_helper("e-invoice" if makes_einvoice(args) else "pdf")
        from apptool.cli import main as command_line  # typer, the commands...

        command_line()
    except KeyboardInterrupt:  # Ctrl-C before a command runs (its own are its commands')
        from apptool.errors import EXIT_INTERRUPTED

        if sys.stderr is not None:
            sys.stderr.write("interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
