"""The CLI's shared parts: the app, common options, console, and the one place where an
:class:`~apptool.errors.AppToolError` becomes its exit code (:class:`App`).

Only typer is imported at start-up; rich, the services and the domain are imported inside
the functions that use them, so that ``apptool --help`` stays instant (each such import is
marked ``# lazy``).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from apptool.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID, AppToolError

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

#: The years the tool handles (the same as ``apptool.domain.models.MIN_YEAR``/``MAX_YEAR``,
#: repeated here so that ``apptool --help`` does not import the models).
MIN_YEAR = 1900
MAX_YEAR = 2200


def report(lines: list[str], code: int) -> None:
    """Print error lines to stderr exactly as written (``file:100:`` stays ``file:100:``,
    never an emoji or markup), then exit with ``code``."""
    out = console(stderr=True)
    for line in lines:
        out.print(line, markup=False, emoji=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _text_problem(name: str, value: Any) -> typer.BadParameter | None:
    """A command-line text holding a control character (it could not be recorded)."""
    from apptool.domain.models import control_character_problem  # lazy: `--help` stays instant

    texts = value if isinstance(value, list | tuple) else [value]
    for text in texts:
        if isinstance(text, str) and (problem := control_character_problem(text)):
            return typer.BadParameter(problem, param_hint=f"--{name.replace('_', '-')}")
    return None


def _validation_lines(exc: Exception) -> list[str]:
    """A value the models refused that no earlier check caught: each error, exit 2."""
    errors: list[dict[str, Any]] = getattr(exc, "errors", list)()
    return [
        "error: invalid value: "
        + ".".join(str(part) for part in error.get("loc", ()))
        + f": {str(error.get('msg', '')).removeprefix('Value error, ')}"
        for error in errors
    ] or [f"error: invalid value: {exc}"]


class App(typer.Typer):
    """A Typer app whose commands turn an :class:`AppToolError` into its exit code."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorate(func: F) -> F:
            @functools.wraps(func)
            def run(*a: Any, **kw: Any) -> Any:
                for name, value in kw.items():
                    if (problem := _text_problem(name, value)) is not None:
                        raise problem
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
                    if type(exc).__name__ == "ValidationError":  # pydantic: a value refused
                        report(_validation_lines(exc), EXIT_INVALID)
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
    """A console; when output goes to a file or a pipe, lines are not cut at 80 columns.

    Markup and emoji codes are off: what the tool prints (a group's name, ``file:100:``) is
    shown as written, never as ``[bold]`` styling or an emoji.
    """
    from rich.console import Console  # lazy: keeps `apptool --help` instant

    options: dict[str, Any] = {"highlight": False, "markup": False, "emoji": False}
    out = Console(stderr=stderr, **options)
    if not out.is_terminal:
        out = Console(stderr=stderr, width=max(out.width, 160), **options)
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


def _bounded(day: date, value: str, option: str) -> date:
    from apptool.domain.models import date_range_problem  # lazy: `--help` stays instant

    problem = date_range_problem(day)
    if problem:
        raise typer.BadParameter(f"{value!r}: {problem}", param_hint=option)
    return day


def parse_today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--today"
        ) from None
    return _bounded(day, value, "--today")


TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today",
        metavar="YYYY-MM-DD",
        help="Take this date as today (for reproducible runs and tests).",
    ),
]


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
    """A date given on the command line (YYYY-MM-DD), within the years the tool handles."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None
    return _bounded(day, value, option)


def parse_month(value: str | None) -> str | None:
    """A month given on the command line (YYYY-MM), within the years the tool handles."""
    if value is not None:
        if not re.fullmatch(r"\d{4}-\d{2}", value):
            raise typer.BadParameter(f"{value!r} is not a month (YYYY-MM)", param_hint="--month")
        try:
            first = date.fromisoformat(f"{value}-01")
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not a month (YYYY-MM)", param_hint="--month"
            ) from None
        _bounded(first, value, "--month")
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
