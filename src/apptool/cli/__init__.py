"""The command line: parse, call a service, print. Exit codes are decided in one place
(:class:`apptool.cli.common.App`).

One module per command family registers its commands on the one typer app when imported.
"""

from __future__ import annotations

from apptool.cli import billing, buyer, documents, planning, sessions
from apptool.cli.common import app, main

__all__ = ["app", "billing", "buyer", "documents", "main", "planning", "sessions"]
