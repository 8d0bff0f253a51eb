"""The command line: parse, call a service, print. Exit codes are decided in one place
(:class:`apptool.cli.common.App`).

One module per command family registers its commands on the one typer app when imported,
in the order ``apptool --help`` lists them.
"""

from __future__ import annotations

from apptool.cli import planning, sessions, agenda  # isort: skip  (the order of `apptool --help`)
from apptool.cli import billing, documents, buyer  # isort: skip
from apptool.cli.common import app, main

__all__ = ["agenda", "app", "billing", "buyer", "documents", "main", "planning", "sessions"]
