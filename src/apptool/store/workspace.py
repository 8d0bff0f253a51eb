"""A practitioner's workspace: where its files live and how they load, all problems at once.

A workspace is a folder::

    practitioner.yaml        the practitioner's profile
    conventions/*.yaml       one convention a file (its id is the file name)
    calendars/YEAR.yaml      the calendar of record of each year (written by the tool)
    records/                 what the tool records (terminations, orders, notes...)
    invoices/                the invoice register (written by the tool)
    templates/               optional overrides of the shipped templates

Loading merges what ``records/`` holds into the conventions (purchase orders added with
``apptool order add``, recorded terminations): the user's convention files are never
rewritten.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from apptool.domain.contract import effective_termination
from apptool.domain.models import IDENTIFIER, Convention, Order, Practitioner
from apptool.domain.orders import RecordedOrders, recorded_order, with_orders
from apptool.domain.records import Terminations, withdrawal_record_problems
from apptool.domain.source import Document, MergedDocument
from apptool.domain.validation import (
    convention_problems,
    practitioner_problems,
    travel_sites_known,
    vat_charged_as_the_profile_says,
)
from apptool.errors import InvalidInput, Path_, Problem, field_name
from apptool.store.files import lock, write_atomic
from apptool.store.load_cache import file_bytes, file_input, remembered
from apptool.store.loading import (
    Snapshot,
    read_yaml,
    reading_from,
    rules_on_what_loaded,
    validate_document,
)
from apptool.store.records import (
    PURCHASE_ORDERS,
    RECORDS,
    TERMINATIONS,
    THEMES,
    load_records_document,
    load_themes,
    records_path,
)

PRACTITIONER = "practitioner.yaml"
CONVENTIONS = "conventions"
CALENDARS = "calendars"
BUYER = "buyer.yaml"


@dataclass
class Workspace:
    """A loaded workspace: the validated profile and conventions, with their documents."""

    root: Path
    practitioner: Practitioner
    conventions: dict[str, Convention]
    documents: dict[str, Document] = field(default_factory=dict)
    #: Each convention's termination as its own file writes it (None: none), before the
    #: terminations of ``records/terminations.yaml`` apply.
    declared_terminations: dict[str, date | None] = field(default_factory=dict)

    def without_recorded_termination(self, convention: str) -> Convention:
        """The convention as it would be if no termination were recorded for it: what a
        termination withdrawn before its effective end gives back."""
        loaded = self.conventions[convention]
        declared = self.declared_terminations.get(convention, loaded.period.termination)
        return loaded.model_copy(
            update={"period": loaded.period.model_copy(update={"termination": declared})}
        )

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


@contextlib.contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[list[Path]]:
    """Hold the workspace's lock (see :func:`apptool.store.files.lock`); ``path`` must be a
    workspace, so a mistyped ``--workspace`` creates no lock file. Gives the leftover temp
    files of an interrupted command, removed once the lock is taken."""
    with lock(find_root(path), timeout) as removed:
        yield removed


def find_root(path: Path) -> Path:
    """Check that ``path`` is a workspace (it holds ``practitioner.yaml`` or ``conventions/``)."""
    root = path.resolve()
    if not root.is_dir():
        message = "workspace folder not found"
        raise InvalidInput(f"{path}: {message}", [Problem(str(path), None, "", message)])
    if not (root / PRACTITIONER).exists() and not (root / CONVENTIONS).is_dir():
        if (root / BUYER).exists():
            message = (
                "a buyer workspace (buyer.yaml): this command is for a practitioner's "
                "workspace; a buyer uses allocate, decline, lots, order-history, order-form, "
                "orders-export and check"
            )
            raise InvalidInput(f"{path}: {message}", [Problem(str(path), None, "", message)])
        message = (
            f"not an apptool workspace (no {PRACTITIONER} and no {CONVENTIONS}/ folder); "
            f"create one with `apptool init DIR` or choose one with --workspace"
        )
        raise InvalidInput(f"{path}: {message}", [Problem(str(path), None, "", message)])
    return root


def load_workspace(path: Path) -> Workspace:
    """Load and validate every file of the workspace; raise with *all* problems at once.

    A load that succeeded is remembered while the files it reads stay the same
    (:mod:`apptool.store.load_cache`): the next command gets the same workspace without
    parsing and checking them again."""
    root = find_root(path)
    snapshot = Snapshot({file: file_bytes(file) for file in _read_by_load(root)})

    def load() -> _Loaded:
        with reading_from(snapshot):
            return _load(root)

    practitioner, conventions, documents, declared = remembered(
        f"workspace {root}",
        [file_input(file, data) for file, data in snapshot.files.items()],
        load,
        _is_loaded,
        snapshot.consistent,
    )
    return Workspace(root, practitioner, conventions, documents, declared)


def _read_by_load(root: Path) -> list[Path]:
    """Every file :func:`_load` reads (or looks for): what its result depends on."""
    return [
        root / PRACTITIONER,
        *_convention_files(root),
        records_path(root, PURCHASE_ORDERS),
        records_path(root, TERMINATIONS),
        root / THEMES,
    ]


def _convention_files(root: Path) -> list[Path]:
    """The convention files: ``conventions/*.yaml`` then ``*.yml``, each sorted by name."""
    folder = root / CONVENTIONS
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []


_Loaded = tuple[Practitioner, dict[str, Convention], dict[str, Document], dict[str, date | None]]


def _is_loaded(value: object) -> bool:
    """Whether a remembered value has the shape :func:`_load` gives."""
    if not (isinstance(value, tuple) and len(value) == 4):
        return False
    practitioner, conventions, documents, declared = value
    return (
        isinstance(practitioner, Practitioner)
        and isinstance(conventions, dict)
        and all(isinstance(c, Convention) for c in conventions.values())
        and isinstance(documents, dict)
        and all(isinstance(d, Document) for d in documents.values())
        and set(documents) == {PRACTITIONER, *conventions}
        and isinstance(declared, dict)
        and set(declared) == set(conventions)
        and all(d is None or type(d) is date for d in declared.values())
    )


def _load(root: Path) -> _Loaded:
    """The profile, the conventions (with what ``records/`` adds to them), their documents and
    each convention's termination as its file writes it; all problems at once."""
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
            practitioner, found = validate_document(doc, Practitioner)
            problems += found
            if practitioner is not None:
                problems += practitioner_problems(practitioner, doc)
            elif found:  # the rules still run on what loaded: all problems in one run
                problems += rules_on_what_loaded(doc, Practitioner, found, practitioner_problems)
        except InvalidInput as exc:
            problems += exc.problems

    conventions: dict[str, Convention] = {}
    files = _convention_files(root)
    if not files:
        problems.append(Problem(f"{CONVENTIONS}/", None, "", "no convention file (*.yaml)"))
    for file in files:
        display = _display(root, file)
        if not IDENTIFIER.match(file.stem):
            problems.append(
                Problem(
                    display,
                    None,
                    "",
                    f"file name {file.stem!r} is not a valid "
                    "convention id: use lowercase letters, digits, '-' and '_'",
                )
            )
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
        convention, found = validate_document(doc, Convention)
        if convention is None and found:  # the rules still run on what loaded
            found += rules_on_what_loaded(doc, Convention, found, convention_problems)
        problems += sorted(found, key=lambda p: (p.line or 0, p.field, p.message))
        if convention is not None:
            rule_problems = convention_problems(convention, doc)
            problems += rule_problems
            if not rule_problems:
                conventions[file.stem] = convention
    problems += _apply_recorded_orders(root, conventions, documents)
    declared = {conv_id: c.period.termination for conv_id, c in conventions.items()}
    problems += _apply_terminations(root, conventions, documents)
    problems += _theme_problems(root)
    problems += _travel_problems(practitioner, conventions, documents)
    if practitioner is not None:
        problems += [
            problem
            for conv_id, convention in conventions.items()
            for problem in vat_charged_as_the_profile_says(
                convention, practitioner.billing, documents[conv_id]
            )
        ]
    if problems or practitioner is None:
        raise InvalidInput("the workspace has errors", problems)
    return practitioner, conventions, documents, declared


def _at(doc: Document | None, display: str, loc: Path_, message: str) -> Problem:
    """A problem of a records file, on its line when the file was read."""
    if doc is None:
        return Problem(display, None, field_name(loc), message)
    return doc.problem(loc, message)


def _apply_recorded_orders(
    root: Path, conventions: dict[str, Convention], documents: dict[str, Document]
) -> list[Problem]:
    """Merge the orders recorded with ``apptool order add`` into their agreements.

    The merged agreement is checked again by the convention's rules; a problem about a
    recorded order names ``records/purchase-orders.yaml`` and its line, and the merged
    agreement's document keeps doing so for later problems (the planner's, for instance).
    """
    try:
        recorded, records_doc = load_records_document(root, PURCHASE_ORDERS, RecordedOrders)
    except InvalidInput as exc:
        return exc.problems
    if records_doc is None:
        return []
    problems = []
    by_convention: dict[str, list[tuple[int, Order]]] = {}
    for index, entry in enumerate(recorded.orders):
        if entry.convention not in conventions:
            if entry.convention not in documents:  # not a convention with errors
                problems.append(
                    records_doc.problem(
                        ("orders", index, "convention"),
                        f"unknown convention {entry.convention!r}",
                    )
                )
            continue
        by_convention.setdefault(entry.convention, []).append((index, recorded_order(entry.order)))
    for conv_id, entries in by_convention.items():
        convention = conventions[conv_id]
        try:
            merged = with_orders(convention, [order for _, order in entries])
        except ValidationError as exc:
            del conventions[conv_id]  # not planned with orders it cannot hold
            problems.append(
                records_doc.problem(
                    ("orders", entries[0][0]), f"{conv_id}: {exc.errors()[0]['msg']}"
                )
            )
            continue
        doc = MergedDocument(
            documents[conv_id], records_doc, len(convention.orders), [i for i, _ in entries]
        )
        found = convention_problems(merged, doc)  # the agreement alone had none
        problems += found
        if not found:
            conventions[conv_id] = merged
            documents[conv_id] = doc
    return problems


def _apply_terminations(
    root: Path, conventions: dict[str, Convention], documents: dict[str, Document]
) -> list[Problem]:
    """Apply the recorded terminations (art. 9.3) to the conventions, in place.

    A termination is kept in ``records/terminations.yaml``, never written into the user's
    convention file; :func:`~apptool.domain.contract.effective_termination` decides the end.
    A withdrawn termination (``apptool terminate --undo``) stays there and no longer applies.
    """
    display = f"{RECORDS}/{TERMINATIONS}"
    try:
        recorded, doc = load_records_document(root, TERMINATIONS, Terminations)
    except InvalidInput as exc:
        return exc.problems
    problems = []
    for index, termination in enumerate(recorded.terminations):
        convention = conventions.get(termination.convention)
        problems += [
            _at(doc, display, ("terminations", index, key), message)
            for key, message in withdrawal_record_problems(termination)
        ]
        if not termination.active and convention is not None:
            continue
        if convention is None:
            if termination.convention not in documents:  # not a convention with errors
                problems.append(
                    _at(
                        doc,
                        display,
                        ("terminations", index, "convention"),
                        f"unknown convention {termination.convention!r}",
                    )
                )
            continue
        term = convention.period
        end = effective_termination(term.termination, termination.effective_end)
        conventions[termination.convention] = convention.model_copy(
            update={"period": term.model_copy(update={"termination": end})}
        )
    return problems


def _travel_problems(
    practitioner: Practitioner | None,
    conventions: dict[str, Convention],
    documents: dict[str, Document],
) -> list[Problem]:
    """The sites travel entries name exist (checked once every convention is loaded)."""
    problems = []
    if practitioner is not None and PRACTITIONER in documents:
        problems += travel_sites_known(
            practitioner.travel, "travel", documents[PRACTITIONER], conventions
        )
    for conv_id, convention in conventions.items():
        problems += travel_sites_known(convention.travel, "travel", documents[conv_id], conventions)
    return problems


def _theme_problems(root: Path) -> list[Problem]:
    """The optional ``themes.yaml`` (themes of the practitioner's notes) is checked on load."""
    try:
        load_themes(root)
    except InvalidInput as exc:
        return exc.problems
    return []


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
    clashes = [
        target / p.relative_to(source) for p in files if (target / p.relative_to(source)).exists()
    ]
    if clashes:
        raise InvalidInput(
            f"{target}: already holds {', '.join(str(c) for c in clashes)}; nothing was written"
        )
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
