"""The CLI's shared parts: the app, common options, console, and the one place where an
:class:`~apptool.errors.AppToolError` becomes its exit code (:class:`App`).

Only typer is imported at start-up; rich, the services and the domain are imported inside
the functions that use them, so that ``apptool --help`` stays instant (each such import is
marked ``# lazy``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from apptool.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, AppToolError

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


def report(lines: list[str], code: int) -> None:
    out = console(stderr=True)
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


class App(typer.Typer):
    """A Typer app whose commands turn an :class:`AppToolError` into its exit code."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorate(func: F) -> F:
            @functools.wraps(func)
            def run(*a: Any, **kw: Any) -> Any:
                try:
                    return func(*a, **kw)
                except AppToolError as exc:
                    report([f"error: {line}" for line in exc.lines()], exc.exit_code)
                except OSError as exc:  # disk full, permission denied...: nothing half-written
                    report([f"error: {exc}"], EXIT_INTERNAL)
                except KeyboardInterrupt:
                    report(["interrupted"], EXIT_INTERRUPTED)
                except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit):
                    raise
                except Exception as exc:  # a bug: say so briefly, full trace on demand
                    if os.environ.get("APPTOOL_DEBUG"):
                        raise
                    report(
                        [
                            f"internal error: {type(exc).__name__}: {exc}",
                            "set APPTOOL_DEBUG=1 to see the traceback, and please report it",
                        ],
                        EXIT_INTERNAL,
                    )

            register(run)
            return func

        return decorate


app = App(
    name="apptool",
    help="Plan and bill analyse de pratiques professionnelles (APP) sessions under French "
    "public conventions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class State:
    workspace: Path = Path(".")


def console(stderr: bool = False) -> Console:
    """A console; when output goes to a file or a pipe, lines are not cut at 80 columns."""
    from rich.console import Console  # lazy: keeps `apptool --help` instant

    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, width=max(out.width, 160))
    return out


@app.callback()
def _main(
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace",
            "-w",
            envvar="APPTOOL_WORKSPACE",
            file_okay=False,
            help="Workspace folder (default: the current folder).",
        ),
    ] = Path("."),
) -> None:
    """Plan and bill APP sessions under French public conventions."""
    State.workspace = workspace


def parse_today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today",
        metavar="YYYY-MM-DD",
        help="Take this date as today (for reproducible runs and tests).",
    ),
]


class TableFormat(StrEnum):
    """For lists that have no calendar form: a table, or JSON."""

    table = "table"
    json = "json"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


class ByParty(StrEnum):
    establishment = "establishment"
    practitioner = "practitioner"


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def parse_month(value: str | None) -> str | None:
    if value is not None:
        try:
            date.fromisoformat(f"{value}-01")
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not a month (YYYY-MM)", param_hint="--month"
            ) from None
    return value


def print_written(out: Console, paths: list[Path], dry_run: bool) -> None:
    if dry_run:
        out.print("dry run: nothing written", markup=False)
    for path in paths:
        out.print(f"written to {path}", markup=False)


def notice_hint(out: Console, session_id: str, dry_run: bool) -> None:
    """After a recorded move or cancellation: the command that renders its notice."""
    if not dry_run:
        out.print(f"to send the notice: apptool notice {session_id}", markup=False)


class DocFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


def main() -> None:
    """Console-script entry point."""
    app()
