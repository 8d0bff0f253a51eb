"""Where the files live, how they are read, and how they are written: atomically, under a lock.

A workspace is a folder::

    practitioner.yaml        the practitioner's profile
    conventions/*.yaml       one convention a file (its id is the file name)
    calendars/YEAR.yaml      the calendar of record of each year (written by the tool)
    templates/               optional overrides of the shipped templates
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from .errors import InvalidInput, Problem, WorkspaceBusy
from .loading import Document, read_yaml, validate
from .models import _IDENT, Convention, Practitioner, Strict
from .schedule import CalendarFile, Period, calendar_to_data, session_id
from .validation import convention_problems, practitioner_problems

LOCK_NAME = ".apptool.lock"
_UMASK = os.umask(0o022)
os.umask(_UMASK)
PRACTITIONER = "practitioner.yaml"
CONVENTIONS = "conventions"
CALENDARS = "calendars"


# --- writing ------------------------------------------------------------------------------


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` so that readers see the old file or the new one, never half.

    Temp file in the same folder, flush, fsync, ``os.replace``, then fsync the folder. Text
    is written as UTF-8 with ``\\n`` line ends.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; use the usual mode
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def dump_yaml(data: object, header: str = "") -> str:
    """Readable, diff-friendly, deterministic YAML (sorted keys, block style, UTF-8)."""
    body = yaml.safe_dump(data, sort_keys=True, allow_unicode=True, default_flow_style=False,
                          width=100)
    return header + body


@contextlib.contextmanager
def locked(root: Path, timeout: float | None = None,
           find: Callable[[Path], Path] | None = None) -> Iterator[None]:
    """Serialize commands that change the workspace: wait up to ``timeout`` s, then fail.

    The default wait is 10 s, or ``APPTOOL_LOCK_TIMEOUT`` seconds when set. ``root`` must be
    a workspace (checked by ``find``, default :func:`find_root`): a mistyped ``--workspace``
    is refused, no folder or lock file is created.
    """
    if timeout is None:
        timeout = float(os.environ.get("APPTOOL_LOCK_TIMEOUT", "10"))
    root = (find or find_root)(root)
    with open(root / LOCK_NAME, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise WorkspaceBusy(
                        f"{root / LOCK_NAME}: another apptool command is changing this "
                        f"workspace; try again when it has finished"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- reading ------------------------------------------------------------------------------


@dataclass
class Workspace:
    """A loaded workspace: the validated profile and conventions, with their documents."""

    root: Path
    practitioner: Practitioner
    conventions: dict[str, Convention]
    documents: dict[str, Document] = field(default_factory=dict)

    def display(self, path: Path) -> str:
        """A path as shown in messages: relative to the workspace when inside it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def calendar_path(self, year: int) -> Path:
        return self.root / CALENDARS / f"{year}.yaml"


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def find_root(path: Path) -> Path:
    """Check that ``path`` is a workspace (it holds ``practitioner.yaml`` or ``conventions/``)."""
    root = path.resolve()
    if not root.is_dir():
        message = "workspace folder not found"
        raise InvalidInput(f"{path}: {message}", [Problem(str(path), None, "", message)])
    if not (root / PRACTITIONER).exists() and not (root / CONVENTIONS).is_dir():
        if (root / "buyer.yaml").exists():
            message = ("a buyer workspace (buyer.yaml): this command is for a practitioner's "
                       "workspace; a buyer uses allocate, decline and lots")
            raise InvalidInput(f"{path}: {message}", [Problem(str(path), None, "", message)])
        message = (f"not an apptool workspace (no {PRACTITIONER} and no {CONVENTIONS}/ folder); "
                   f"create one with `apptool init DIR` or choose one with --workspace")
        raise InvalidInput(f"{path}: {message}", [Problem(str(path), None, "", message)])
    return root


def load_workspace(path: Path) -> Workspace:
    """Load and validate every file of the workspace; raise with *all* problems at once."""
    root = find_root(path)
    problems: list[Problem] = []
    documents: dict[str, Document] = {}

    practitioner: Practitioner | None = None
    practitioner_path = root / PRACTITIONER
    if not practitioner_path.exists():
        problems.append(Problem(PRACTITIONER, None, "", "missing practitioner profile"))
    else:
        try:
            doc = read_yaml(practitioner_path, PRACTITIONER)
            documents[PRACTITIONER] = doc
            practitioner, found = validate(doc, Practitioner)
            problems += found
            if practitioner is not None:
                problems += practitioner_problems(practitioner, doc)
        except InvalidInput as exc:
            problems += exc.problems

    conventions: dict[str, Convention] = {}
    folder = root / CONVENTIONS
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
    if not files:
        problems.append(Problem(f"{CONVENTIONS}/", None, "", "no convention file (*.yaml)"))
    for file in files:
        display = _display(root, file)
        if not _IDENT.match(file.stem):
            problems.append(Problem(display, None, "", f"file name {file.stem!r} is not a valid "
                                    "convention id: use lowercase letters, digits, '-' and '_'"))
            continue
        if file.stem in conventions:
            problems.append(Problem(display, None, "", f"convention {file.stem!r} defined twice"))
            continue
        try:
            doc = read_yaml(file, display)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        documents[file.stem] = doc
        convention, found = validate(doc, Convention)
        problems += found
        if convention is not None:
            rule_problems = convention_problems(convention, doc)
            problems += rule_problems
            if not rule_problems:
                conventions[file.stem] = convention
    from .purchase_orders import apply_recorded_orders

    problems += apply_recorded_orders(root, conventions)
    problems += _apply_terminations(root, conventions, documents)
    problems += _theme_problems(root)
    if problems or practitioner is None:
        raise InvalidInput("the workspace has errors", problems)
    return Workspace(root, practitioner, conventions, documents)


def _apply_terminations(root: Path, conventions: dict[str, Convention],
                        documents: dict[str, Document]) -> list[Problem]:
    """Apply the recorded terminations (art. 9.3) to the conventions, in place.

    A termination is kept in ``records/terminations.yaml``, never written into the user's
    convention file; the earlier of the two termination dates wins.
    """
    from .records import TERMINATIONS, Terminations, load_records

    try:
        recorded = load_records(root, TERMINATIONS, Terminations)
    except InvalidInput as exc:
        return exc.problems
    problems = []
    for index, termination in enumerate(recorded.terminations):
        convention = conventions.get(termination.convention)
        if convention is None:
            if termination.convention not in documents:  # not a convention with errors
                problems.append(Problem(f"records/{TERMINATIONS}", None,
                                        f"terminations[{index}].convention",
                                        f"unknown convention {termination.convention!r}"))
            continue
        term = convention.period
        end = min(filter(None, (term.termination, termination.effective_end)))
        conventions[termination.convention] = convention.model_copy(
            update={"period": term.model_copy(update={"termination": end})})
    return problems


def _theme_problems(root: Path) -> list[Problem]:
    """The optional ``themes.yaml`` (themes of the practitioner's notes) is checked on load."""
    from .records import load_themes

    try:
        load_themes(root)
    except InvalidInput as exc:
        return exc.problems
    return []


def load_calendar(workspace: Workspace, year: int) -> tuple[CalendarFile, Document | None]:
    """The calendar of record of ``year`` (empty if none yet), checked against the conventions."""
    path = workspace.calendar_path(year)
    if not path.exists():
        return CalendarFile(year=year), None
    doc = read_yaml(path, workspace.display(path))
    if doc.data is None:
        return CalendarFile(year=year), doc
    calendar, problems = validate(doc, CalendarFile)
    if calendar is not None:
        problems += calendar_problems(workspace, calendar, doc, year)
    if problems or calendar is None:
        raise InvalidInput(f"{doc.display} has errors",
                           sorted(problems, key=lambda p: (p.line or 0, p.field)))
    return calendar, doc


def calendar_problems(workspace: Workspace, calendar: CalendarFile, doc: Document,
                      year: int) -> list[Problem]:
    """A plan file names known conventions and groups, with ids that match their parts."""
    problems = []
    if calendar.year != year:
        problems.append(doc.problem(("year",), f"this file is for {year}, not {calendar.year}"))
    seen: set[str] = set()
    for index, session in enumerate(calendar.sessions):
        loc = ("sessions", index)
        convention = workspace.conventions.get(session.convention)
        if convention is None:
            problems.append(doc.problem((*loc, "convention"),
                                        f"unknown convention {session.convention!r}"))
            continue
        if session.group not in {g.id for g in convention.groups}:
            problems.append(doc.problem((*loc, "group"), f"unknown group {session.group!r} in "
                                        f"convention {session.convention!r}"))
            continue
        if session.location not in {loc_.id for loc_ in convention.locations}:
            problems.append(doc.problem((*loc, "location"),
                                        f"unknown location {session.location!r}"))
        try:
            period = Period.parse(session.period)
        except ValueError as exc:
            problems.append(doc.problem((*loc, "period"), str(exc)))
            continue
        cadence = convention.group(session.group).cadence
        if period.cadence != cadence or period.year != year:
            problems.append(doc.problem((*loc, "period"), f"{session.period} is not a {cadence} "
                                        f"period of {year}"))
        expected = session_id(session.convention, session.group, session.period)
        if session.id != expected:
            problems.append(doc.problem((*loc, "id"), f"{session.id!r} should be {expected!r}"))
        if session.id in seen:
            problems.append(doc.problem((*loc, "id"), f"duplicate session {session.id!r}"))
        seen.add(session.id)
        if session.end <= session.start:
            problems.append(doc.problem((*loc, "end"), "the session ends before it starts"))
    return problems


CALENDAR_HEADER = (
    "# apptool calendar of record for {year}: written by `apptool plan`, `reschedule`, `cancel`.\n"
    "# Sessions already here stay where they are when `apptool plan` runs again.\n"
    "# Hand edits are allowed; `apptool check` verifies them against the hard rules.\n"
)


def calendar_text(calendar: CalendarFile) -> str:
    """The plan file's text: the year first, then the sessions in date order."""
    data = calendar_to_data(calendar)
    return (dump_yaml({"year": data.pop("year")}, CALENDAR_HEADER.format(year=calendar.year))
            + dump_yaml(data))


def save_calendar(workspace: Workspace, calendar: CalendarFile) -> Path:
    """Write the calendar of record atomically (caller holds the lock)."""
    path = workspace.calendar_path(calendar.year)
    write_atomic(path, calendar_text(calendar))
    return path


def write_records(root: Path, name: str, record: Strict) -> Path:
    """Write a records file atomically (caller holds the lock)."""
    path = root / "records" / name
    write_atomic(path, dump_yaml(record.model_dump(mode="json", by_alias=True,
                                                   exclude_defaults=False),
                                 f"# apptool records: {name}, written by the tool.\n"))
    return path


# --- creating -----------------------------------------------------------------------------


def examples_root() -> Path:
    """The example workspace shipped inside the package."""
    return Path(str(resources.files("apptool") / "examples"))


def init_workspace(target: Path, buyer: bool = False) -> list[Path]:
    """Create a workspace from the shipped examples; never overwrite an existing file.

    With ``buyer``, a buyer workspace (``buyer.yaml``) from ``examples_buyer/`` instead.
    """
    source = Path(str(resources.files("apptool") / "examples_buyer")) if buyer else examples_root()
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    clashes = [target / p.relative_to(source) for p in files
               if (target / p.relative_to(source)).exists()]
    if clashes:
        raise InvalidInput(f"{target}: already holds {', '.join(str(c) for c in clashes)}; "
                           "nothing was written")
    created = []
    for file in files:
        dest = target / file.relative_to(source)
        write_atomic(dest, file.read_text(encoding="utf-8"))
        created.append(dest)
    if buyer:
        return created
    for folder in (CALENDARS, "templates"):
        (target / folder).mkdir(parents=True, exist_ok=True)
    return created
