"""The CLI's shared parts: the app, common options, console, and the one place where an
:class:`~apptool.errors.AppToolError` becomes its exit code (:class:`App`).

Only typer is imported at start-up; rich, the services and the domain are imported inside
the functions that use them, so that ``apptool --help`` stays instant (each such import is
marked ``# lazy``). For the same reason :func:`main` builds a command's options (typer reads
them from the function's signature) only for the command that runs: ``apptool --help``
lists the commands from their docstrings (:class:`LazyGroup`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import inspect
import io
import os
import re
import sys
import types
from collections.abc import Callable, Iterator, MutableMapping
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, DefaultPlaceholder, TyperInfo

from apptool.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    AppToolError,
    InvalidInput,
)

if TYPE_CHECKING:
    from rich.console import Console

    from apptool.output.terminal import Table

F = TypeVar("F", bound=Callable[..., Any])

#: The years the tool handles (the same as ``apptool.domain.models.MIN_YEAR``/``MAX_YEAR``,
#: repeated here so that ``apptool --help`` does not import the models).
MIN_YEAR = 1900
MAX_YEAR = 2200


def report(lines: list[str], code: int) -> None:
    """Print error lines to stderr exactly as written (``file:100:`` stays ``file:100:``,
    never an emoji or markup), then exit with ``code``."""
    out = console(stderr=True)
    try:
        for line in lines:
            out.print(line, markup=False, emoji=False, highlight=False, soft_wrap=True)
    except OSError:  # standard error cannot be written (a full disk): the code still says it
        _to_null(sys.stderr)
    _REPORTED.add(code)
    raise typer.Exit(code)


#: The exit codes :func:`report` gave in this process (their message is said).
_REPORTED: set[int] = set()


def _text_problem(name: str, value: Any) -> typer.BadParameter | None:
    """A command-line text holding a control character (it could not be recorded)."""
    from apptool.domain.models import control_character_problem  # lazy: `--help` stays instant

    texts = value if isinstance(value, list | tuple) else [value]
    for text in texts:
        if isinstance(text, str) and (problem := control_character_problem(text)):
            return typer.BadParameter(problem, param_hint=f"--{name.replace('_', '-')}")
    return None


def _reader_gone() -> None:
    """The output's reader closed the pipe (``apptool sessions | head -1``): what the command
    did stands (its files are written before it prints), so it ends as it would have, exit
    0, without a message; what is left to print goes nowhere, so Python does not complain
    again when it flushes the output at exit."""
    _to_null(sys.stdout)
    raise typer.Exit(0)


def _validation_lines(exc: Exception) -> list[str]:
    """A value the models refused that no earlier check caught: each error, exit 2."""
    errors: list[dict[str, Any]] = getattr(exc, "errors", list)()
    return [
        "error: invalid value: "
        + ".".join(str(part) for part in error.get("loc", ()))
        + f": {str(error.get('msg', '')).removeprefix('Value error, ')}"
        for error in errors
    ] or [f"error: invalid value: {exc}"]


def _argument_name(self: Any) -> str:
    return str(self.metavar or (self.name or "").upper())


def _argument_usage(self: Any) -> str:
    name = _argument_name(self)
    return (name if self.required else f"[{name}]") + ("..." if self.nargs != 1 else "")


def _name_arguments_in_capitals() -> None:
    """Arguments named as command-line tools name them: ``apptool init DIRECTORY``, not
    ``{directory}`` (typer's own notation), in the usage line, the help and the errors."""
    from typer.core import TyperArgument

    if hasattr(TyperArgument, "display_name_raw"):  # typer >= 0.25; otherwise click's own
        TyperArgument.display_name_raw = property(_argument_name)  # type: ignore[method-assign,assignment]
    if hasattr(TyperArgument, "_usage_display_name"):
        TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign]


_name_arguments_in_capitals()

#: pydantic's phrases that typer (0.26 and later) puts in a bad option's message, in ours.
_OPTION_WORDS = (
    (re.compile(r"Input should be greater than or equal to (\S+?)\.?$"), r"must be at least \1"),
    (re.compile(r"Input should be greater than (\S+?)\.?$"), r"must be more than \1"),
    (re.compile(r"Input should be less than or equal to (\S+?)\.?$"), r"must be at most \1"),
    (re.compile(r"Input should be less than (\S+?)\.?$"), r"must be less than \1"),
    (re.compile(r"Input should be a valid integer.*$"), "expected a whole number (e.g. 7)"),
    (re.compile(r"Input should be a finite number.*$"), "expected a number (e.g. 1.5)"),
    (re.compile(r"Input should be a valid (number|decimal).*$"), "expected a number (e.g. 1.5)"),
    (re.compile(r"Input should be a valid boolean.*$"), "expected true or false"),
    (re.compile(r"Input should be a valid date.*$"), "expected a date written YYYY-MM-DD"),
    (re.compile(r"Input should be a valid string.*$"), "expected text"),
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"^Assertion failed, "), ""),
    (re.compile(r"Input should be "), "expected "),
)


def option_words(message: str) -> str:
    """A bad option's message in the tool's words (``--days 0``: "must be at least 1")."""
    for pattern, replacement in _OPTION_WORDS:
        message = pattern.sub(replacement, message)
    return message


def _bad_parameters_in_our_words() -> None:
    """typer words a refused option with pydantic's text ("Input should be greater than or
    equal to 1"): the message is translated where it is shown, whatever raised it."""
    bad_parameter: Any = typer.BadParameter
    shown = bad_parameter.format_message
    if getattr(shown, "_apptool", False):
        return

    def format_message(self: Any) -> str:
        if isinstance(getattr(self, "message", None), str):
            self.message = option_words(self.message)
        return str(shown(self))

    format_message._apptool = True  # type: ignore[attr-defined]
    bad_parameter.format_message = format_message


_bad_parameters_in_our_words()


def first_paragraph(text: str | None) -> str:
    """A command's whole first paragraph, for the list of commands (never cut with "...")."""
    paragraph = inspect.cleandoc(text or "").split("\n\n")[0]
    return " ".join(paragraph.split())


class App(typer.Typer):
    """A Typer app whose commands turn an :class:`AppToolError` into its exit code.

    Called as a program, it builds only the command that runs (see :class:`LazyGroup`);
    ``typer.main.get_command(app)`` (what typer's ``CliRunner`` uses) still builds them all.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            command: Any = lazy_group(self)
        except (AttributeError, TypeError):  # a typer whose internals differ: build them all
            command = typer.main.get_command(self)
        kwargs.setdefault("prog_name", "apptool")  # also as `python -m apptool`
        return command(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        def decorate(func: F) -> F:
            options = dict(kwargs)
            if options.get("short_help") is None:  # the list of commands never cuts it
                options["short_help"] = first_paragraph(options.get("help") or func.__doc__)
            register = super(App, self).command(*args, **options)

            @functools.wraps(func)
            def run(*a: Any, **kw: Any) -> Any:
                for name, value in kw.items():
                    if (problem := _text_problem(name, value)) is not None:
                        raise problem
                try:
                    return func(*a, **kw)
                except AppToolError as exc:
                    report([f"error: {line}" for line in exc.lines()], exc.exit_code)
                except BrokenPipeError:  # the reader stopped reading (`| head`): not an error
                    _reader_gone()
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

    def add_typer(self, typer_instance: typer.Typer, **kwargs: Any) -> None:
        """A group of commands, listed with its whole first paragraph."""
        given = kwargs.get("help") or typer_instance.info.help
        if kwargs.get("short_help") is None and isinstance(given, str):
            kwargs["short_help"] = first_paragraph(given)
        super().add_typer(typer_instance, **kwargs)


app = App(
    name="apptool",
    help="Plan and bill analyse de pratiques professionnelles (APP) sessions under French "
    "public conventions.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    workspace: Path = Path(".")


class PlainConsole:
    """What :func:`console` gives when the output is a file or a pipe: each message written
    whole, as is, on its own line (what rich would print there, without importing it)."""

    is_terminal = False

    def __init__(self, stderr: bool = False) -> None:
        self.stderr = stderr

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", **_style: Any) -> None:
        import sys

        stream = sys.stderr if self.stderr else sys.stdout  # read now: tests swap them
        stream.write(sep.join(str(o) for o in objects) + end)


def console(stderr: bool = False) -> Console:
    """A console: wrapped to the terminal's width in a terminal; to a file or a pipe, plain
    text (no colour) and lines never cut nor padded (the width is never forced).

    Markup and emoji codes are off: what the tool prints (a group's name, ``file:100:``) is
    shown as written, never as ``[bold]`` styling or an emoji. Out of a terminal rich is not
    even imported (:class:`PlainConsole`): scripts and pipes start faster.
    """
    import sys

    stream = sys.stderr if stderr else sys.stdout
    if not stream.isatty():
        return PlainConsole(stderr)  # type: ignore[return-value]
    from rich.console import Console  # lazy: keeps `apptool --help` instant

    options: dict[str, Any] = {"highlight": False, "markup": False, "emoji": False}
    out = Console(stderr=stderr, **options)
    if not out.is_terminal:
        out = Console(stderr=stderr, soft_wrap=True, no_color=True, **options)
    return out


def terminal_width(stream: Any = None) -> int | None:
    """The width of the terminal standard output is shown in (``COLUMNS`` when set), or None
    when it goes to a file or a pipe (then only an explicit ``COLUMNS`` sets a width)."""
    import shutil
    import sys

    stream = stream if stream is not None else sys.stdout
    if stream.isatty():
        return max(shutil.get_terminal_size().columns, 20)
    columns = os.environ.get("COLUMNS", "")
    return max(int(columns), 20) if columns.isdigit() else None


def colour(stream: Any = None) -> bool:
    """Styles (a bold header) only in a terminal, and never with NO_COLOR or TERM=dumb."""
    import sys

    stream = stream if stream is not None else sys.stdout
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM", "") != "dumb"


#: A spinner appears only when a command has been working this long (seconds): a quick run
#: shows nothing, a slow one (an invoice, a PDF) says what it is doing.
PROGRESS_DELAY = 0.4


@contextlib.contextmanager
def progress(message: str, stream: Any = None, delay: float | None = None) -> Iterator[None]:
    """A spinner with ``message`` on standard error while a slow step runs (rich status).

    Only in a terminal (never into a pipe, a file or a test's captured output, nor with
    ``TERM=dumb``), only after ``delay`` seconds (default ``APPTOOL_PROGRESS_DELAY``), and
    erased when the step ends, so that what the command prints afterwards reads as if it
    had never been there.
    """
    import sys

    stream = stream if stream is not None else sys.stderr
    if stream is None or not stream.isatty() or os.environ.get("TERM", "") == "dumb":
        yield
        return
    import threading

    from rich.console import Console  # lazy: keeps `apptool --help` instant

    if delay is None:
        try:
            delay = float(os.environ.get("APPTOOL_PROGRESS_DELAY", PROGRESS_DELAY))
        except ValueError:
            delay = PROGRESS_DELAY
        if not 0 <= delay <= 3600:  # nan, negative or absurd: the default
            delay = PROGRESS_DELAY

    status = Console(file=stream, highlight=False, markup=False, emoji=False).status(
        message, spinner="dots"
    )
    lock = threading.Lock()
    state = {"done": False, "shown": False}

    def show() -> None:
        with lock:
            if not state["done"]:
                status.start()
                state["shown"] = True

    timer = threading.Timer(delay, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            if state["shown"]:
                status.stop()


def print_table(table: Table) -> None:
    """Print a table laid out for standard output (:mod:`apptool.output.terminal`)."""
    import sys

    from apptool.output.terminal import render_table  # lazy: keeps `apptool --help` instant

    sys.stdout.write(render_table(table, terminal_width(), fancy=colour()))


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
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            is_eager=True,
            callback=lambda value: _print_version(value),
            help="Show apptool's version and exit.",
        ),
    ] = False,
) -> None:
    """Plan and bill APP sessions under French public conventions."""
    State.workspace = workspace


def _print_version(value: bool) -> None:
    """``apptool --version``: the installed version, then exit."""
    if value:
        from apptool import __version__  # lazy: keeps `apptool --help` instant

        typer.echo(f"apptool {__version__}")
        raise typer.Exit(0)


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


YesOption = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Do not ask for confirmation (needed when not in a terminal)."
    ),
]


def stdin_is_terminal() -> bool:
    """Whether a question can be asked: standard input is a terminal."""
    import sys

    return sys.stdin is not None and sys.stdin.isatty()


def confirmed(question: str, yes: bool, refused: str) -> bool:
    """``--yes``, or the practitioner's answer to ``question`` (no by default).

    Out of a terminal (a script, a pipe) no question can be asked: without ``--yes`` the
    command is refused (exit 2) with ``refused`` (what was not done) and nothing is written.
    """
    if yes:
        return True
    if not stdin_is_terminal():
        raise InvalidInput(
            f"{refused}: standard input is not a terminal, so no confirmation can be asked; "
            "run the command again with --yes to confirm"
        )
    try:
        return typer.confirm(question, default=False)
    except typer.Abort:  # Ctrl-C or end of input at the question
        raise KeyboardInterrupt from None


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


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, each built by its builder when first looked up."""

    def __init__(self) -> None:
        self.builders: dict[str, Callable[[], Any]] = {}
        self.built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.built:
            self.built[name] = self.builders[name]()  # KeyError: no such command
        return self.built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        self.builders.pop(name, None)
        del self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.builders, *self.built]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self.builders, *self.built]))


class LazyGroup(TyperGroup):
    """A typer group whose commands are built when one is looked up, not before.

    Building a command reads its function's signature and evaluates its annotations: for
    the thirty commands of apptool this cost more than importing typer. ``apptool plan``
    builds ``plan`` alone, and the help of the group lists each command from a stub that
    carries only its name and help text (the same short help typer would show).
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.lazy = LazyCommands()
        self.lazy.built.update(self.commands)
        self.commands = self.lazy
        self.stubs: dict[str, Any] = {}

    def add_lazy(self, name: str, builder: Callable[[], Any], stub: Any) -> None:
        self.lazy.builders[name] = builder
        self.stubs[name] = stub

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names, without building the commands

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self.commands = {name: self.stubs.get(name) or self.lazy[name] for name in self.lazy}
        try:  # the list of commands, from the stubs: nothing is built
            super().format_commands(ctx, formatter)
        finally:
            self.commands = self.lazy


def _explicit(*values: Any) -> Any:
    """The first value that is not typer's placeholder for "not given"."""
    return next((v for v in values if not isinstance(v, DefaultPlaceholder)), None)


def _command_stub(info: CommandInfo, markup: Any) -> TyperCommand:
    callback = info.callback
    assert callback is not None
    help_text = inspect.getdoc(callback) if info.help is None else inspect.cleandoc(info.help)
    return TyperCommand(
        name=info.name or typer.main.get_command_name(callback.__name__),
        help=help_text,
        short_help=info.short_help or first_paragraph(help_text),
        hidden=info.hidden,
        deprecated=info.deprecated,
        rich_markup_mode=markup,
    )


def _group_stub(info: TyperInfo, markup: Any) -> TyperGroup:
    instance = info.typer_instance
    assert instance is not None
    help_text = typer.main.solve_typer_info_help(info)
    return TyperGroup(
        name=info.name,
        help=help_text,
        short_help=_explicit(info.short_help, instance.info.short_help)
        or first_paragraph(help_text),
        hidden=bool(_explicit(info.hidden, instance.info.hidden)),
        deprecated=bool(_explicit(info.deprecated, instance.info.deprecated)),
        rich_markup_mode=markup,
    )


def lazy_group(typer_app: typer.Typer) -> LazyGroup:
    """``typer_app`` as a click group whose commands are built on first use."""
    commands, groups = typer_app.registered_commands, typer_app.registered_groups
    typer_app.registered_commands, typer_app.registered_groups = [], []
    try:  # the group itself: its callback's options, no command
        group = typer.main.get_group_from_info(
            TyperInfo(typer_app, cls=LazyGroup),
            pretty_exceptions_short=typer_app.pretty_exceptions_short,
            rich_markup_mode=typer_app.rich_markup_mode,
            suggest_commands=typer_app.suggest_commands,
        )
    finally:
        typer_app.registered_commands, typer_app.registered_groups = commands, groups
    assert isinstance(group, LazyGroup)
    if typer_app._add_completion:  # --install-completion, --show-completion
        group.params += typer.main.get_install_completion_arguments()
    markup = typer_app.rich_markup_mode
    for info in commands:
        stub = _command_stub(info, markup)
        assert stub.name is not None
        group.add_lazy(
            stub.name,
            functools.partial(
                typer.main.get_command_from_info,
                info,
                pretty_exceptions_short=typer_app.pretty_exceptions_short,
                rich_markup_mode=markup,
            ),
            stub,
        )
    for group_info in groups:
        sub = _group_stub(group_info, markup)
        assert sub.name is not None
        group.add_lazy(
            sub.name,
            functools.partial(
                typer.main.get_group_from_info,
                group_info,
                pretty_exceptions_short=typer_app.pretty_exceptions_short,
                rich_markup_mode=markup,
                suggest_commands=typer_app.suggest_commands,
            ),
            sub,
        )
    return group


def pdf_ahead(wanted: bool, einvoice: bool = False) -> None:
    """A command that will make a PDF (with ``einvoice``, an e-invoice too) says so before it
    loads anything: the document helper (:func:`apptool.output.helper.start_helper`) starts
    importing WeasyPrint (and factur-x) on the other core meanwhile."""
    if wanted:
        from apptool.output.helper import start_helper  # lazy: only for a PDF to make

        start_helper("e-invoice" if einvoice else "pdf")


def main() -> None:
    """The command line as the console script runs it (:mod:`apptool.console`, which sets
    the switches of the helper processes and may have started the document helper already),
    without what a command does not need at its start and at its exit."""
    atexit.register(_no_collection_at_exit)  # first registered: runs after every other
    # No pydantic plugin is ever used: pydantic would search every installed package's entry
    # points for one (importlib.metadata, a few hundredths of a second) on each start.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _without_pydantic_plugin_loader()
    _loaded_on_first_use(_RARELY_USED)
    _closed_streams_to_null()
    _readers_may_leave()
    code: Any = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
        if code == EXIT_INTERRUPTED and code not in _REPORTED:  # Ctrl-C as typer loaded it
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("interrupted\n")
        raise
    except OSError as exc:  # output that cannot be written (> /dev/full, 2> /dev/full)
        _to_null(sys.stdout)
        # typer's usage error being shown: its own code
        refused = getattr(exc.__context__, "exit_code", None)
        if isinstance(refused, int) and refused:
            _to_null(sys.stderr)
            code = refused
            raise SystemExit(refused) from None
        _output_lost(exc)
    finally:
        _flush_what_is_left(failed=code not in (0, None))


def _closed_streams_to_null() -> None:
    """A command started with its standard output or error closed (``apptool invoice >&-``)
    has no stream there (``sys.stdout`` is None): it does its work all the same, and what it
    would print there goes nowhere."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


class _ReaderMayLeave(io.RawIOBase):
    """The bytes layer of a standard stream whose reader may stop reading at any time
    (``apptool check | head -1``): once it has, what is written goes to ``/dev/null``
    instead of raising ``BrokenPipeError`` in the middle of a command, which then does its
    whole work and ends with its own exit code, whatever becomes of its output."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        try:
            return os.write(self._fd, data)
        except BrokenPipeError:
            _fd_to_null(self._fd)
            return len(data)


def _readers_may_leave() -> None:
    """Standard output and error are written through :class:`_ReaderMayLeave`, with the
    same encoding, error handler and buffering as Python gave them."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            stream.flush()
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a file: left as it is
            continue
        raw = _ReaderMayLeave(fd)
        buffered = isinstance(getattr(stream, "buffer", None), io.BufferedIOBase)
        layer: Any = io.BufferedWriter(raw) if buffered else raw  # unbuffered: PYTHONUNBUFFERED
        text = io.TextIOWrapper(
            layer,
            encoding=stream.encoding,
            errors=stream.errors,
            line_buffering=stream.line_buffering,
            write_through=getattr(stream, "write_through", False),
        )
        _REPLACED.append(stream)  # kept: it would close the descriptor when collected
        setattr(sys, name, text)


#: The standard streams :func:`_readers_may_leave` replaced.
_REPLACED: list[Any] = []


def _flush_what_is_left(failed: bool) -> None:
    """What is left in the output's buffer is written before the command ends, rather than
    by Python as it exits, which would complain and exit 120 if it cannot be written. When
    it cannot (``> /dev/full``, a full disk), the command says so and exits 1, unless it
    failed already: its own exit code then stays."""
    lost: OSError | None = None
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except ValueError:  # closed: nothing left to write
            continue
        except OSError as exc:
            _to_null(stream)  # the rest goes nowhere
            if not isinstance(exc, BrokenPipeError) and lost is None:
                lost = exc
    if lost is not None and not failed:
        _output_lost(lost)


def _output_lost(exc: OSError) -> None:
    """The output could not be written: say so on standard error (if it can be), exit 1."""
    try:
        sys.stderr.write(f"error: the output could not be written: {exc}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        _to_null(sys.stderr)
    raise SystemExit(EXIT_INTERNAL) from None


def _to_null(stream: Any) -> None:
    """What ``stream`` still holds or is given goes nowhere (``/dev/null``)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        _fd_to_null(stream.fileno())


def _fd_to_null(fd: int) -> None:
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def _no_collection_at_exit() -> None:
    """The last thing a command run from the console script does: its objects are left to the
    operating system, which takes back the process's memory whole. Python would otherwise
    walk them all in the garbage collections of its shutdown (about a tenth of a second for
    any command, as long as ``plan`` itself on an unchanged workspace) only to free that
    memory. Objects in reference cycles are then never finalized; none has anything left to
    do: every file the command writes is written, synced and closed by then, the standard
    streams are flushed by the interpreter, the helper processes are ended by their own exit
    handlers, which have run, and the locks are the operating system's (released with the
    process)."""
    gc.freeze()


#: pydantic's plugin loader, and the values of PYDANTIC_DISABLE_PLUGINS that turn every
#: plugin off (``pydantic.plugin._loader.get_plugins`` then answers ``()``).
_PLUGIN_LOADER = "pydantic.plugin._loader"
_ALL_PLUGINS_OFF = ("__all__", "1", "true")


#: Standard modules that a library imports at its start but that commands use rarely if ever:
#: python-stdnum (SIRET, IBAN) imports ``ssl`` for its online checks and ``pydoc`` for its
#: modules' descriptions, 3 % of a command's start-up.
_RARELY_USED = ("ssl", "pydoc")


def _stand_in(name: str, doc: str) -> types.ModuleType:
    """A module put in ``sys.modules`` under ``name`` in place of the real one, which it
    imports on the first use of one of its attributes (but the import system's dunder
    questions: ``__path__``...): the real module then replaces the stand-in, which forwards
    to it any attribute asked later of the stand-in itself."""
    stand_in = types.ModuleType(name, doc)

    def real_attribute(attribute: str) -> Any:
        import importlib

        if attribute.startswith("__"):
            raise AttributeError(attribute)
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attribute)

    stand_in.__getattr__ = real_attribute  # type: ignore[method-assign]
    sys.modules[name] = stand_in
    return stand_in


def _loaded_on_first_use(names: tuple[str, ...]) -> None:
    """Each module of ``names`` not imported yet is imported on first use (:func:`_stand_in`);
    one that this Python lacks (``ssl`` without OpenSSL) stays missing: its import fails."""
    from importlib.util import find_spec

    for name in names:
        if name not in sys.modules and find_spec(name) is not None:
            _stand_in(name, f"{name}, imported on first use")


def _without_pydantic_plugin_loader() -> None:
    """With every pydantic plugin off, pydantic's plugin loader answers "no plugin" to each
    model it builds, but importing it imports ``importlib.metadata`` (and with it ``email``,
    ``zipfile``, ``csv``...), a tenth of a command's start-up. A stand-in module answers
    ``get_plugins()`` with ``()``, as the loader itself does then; any other name asked of it
    (but the import system's ``__path__``...) imports the real loader, which replaces the
    stand-in."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in _ALL_PLUGINS_OFF:
        return
    if _PLUGIN_LOADER in sys.modules:
        return
    stand_in = _stand_in(_PLUGIN_LOADER, "pydantic's plugin loader, all plugins off")

    def get_plugins() -> tuple[()]:
        return ()

    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
