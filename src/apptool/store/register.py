"""The invoice register's files: ``invoices/<number>.yaml`` records, their renderings, and
``invoices/payments.yaml`` (deposits, payments, refunds).

An issued record is write-once: it is created with :func:`~apptool.store.files.write_once`
and never replaced. It is written last, after its rendered files: it is the commit point of
its number. If anything fails before, no record exists, the renderings left behind are
orphans (``apptool check`` reports them) and the next issue of that number replaces them;
the number is issued again, so no gap ever appears.
"""

from __future__ import annotations

from pathlib import Path

from apptool.domain.register import (
    INVOICES,
    InvoiceRecord,
    Register,
    RegisterEvents,
    content_hash,
    file_hash,
    series_problems,
)
from apptool.errors import InvalidInput, Problem, RuleRefused
from apptool.store.files import dump_yaml, write_atomic, write_once
from apptool.store.loading import read_yaml, validate_document

PAYMENTS = "payments.yaml"


def invoices_folder(root: Path) -> Path:
    return root / INVOICES


def load_register(root: Path, strict: bool = False) -> Register:
    """Read every record; a record that does not validate is a problem, not a crash.

    Each record's content is checked against its hash, and each of its files against theirs.
    ``strict``: refuse to go on (InvalidInput) when a record is unreadable, so that nothing
    is numbered or paid on top of a damaged register.
    """
    folder = invoices_folder(root)
    records: list[InvoiceRecord] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if path.name == PAYMENTS:
            continue
        try:
            doc = read_yaml(path, f"{INVOICES}/{path.name}")
        except InvalidInput as exc:
            problems += exc.problems
            continue
        record, found = validate_document(doc, InvoiceRecord)
        problems += found
        if record is not None:
            if record.number != path.stem:
                problems.append(
                    doc.problem(("number",), f"{record.number} is recorded in {path.name}")
                )
            records.append(record)
            problems += _integrity_problems(folder, record, doc.data.get("document"))
    events = RegisterEvents()
    events_path = folder / PAYMENTS
    if events_path.exists():
        doc = read_yaml(events_path, f"{INVOICES}/{PAYMENTS}")
        if doc.data is not None:
            found_events, found = validate_document(doc, RegisterEvents)
            problems += found
            if found_events is not None:
                events = found_events
                problems += _event_problems(records, events)
    records.sort(key=lambda r: (r.series, r.year, r.seq))
    if strict and problems:
        raise InvalidInput("the invoice register has errors", problems)
    return Register(records, events, problems)


def _event_problems(records: list[InvoiceRecord], events: RegisterEvents) -> list[Problem]:
    """Each deposit, payment and refund names an issued document, once."""
    where = f"{INVOICES}/{PAYMENTS}"
    known = {r.number for r in records}
    problems = []
    listed: list[tuple[str, list[str]]] = [
        ("deposits", [d.number for d in events.deposits]),
        ("payments", [p.number for p in events.payments]),
        ("refunds", [r.number for r in events.refunds]),
    ]
    for key, numbers in listed:
        seen: set[str] = set()
        for index, entry_number in enumerate(numbers):
            if entry_number not in known:
                problems.append(
                    Problem(where, None, f"{key}[{index}].number", f"unknown {entry_number!r}")
                )
            if entry_number in seen:
                problems.append(
                    Problem(where, None, f"{key}[{index}].number", f"{entry_number} twice")
                )
            seen.add(entry_number)
    return problems


def _integrity_problems(folder: Path, record: InvoiceRecord, stored: object) -> list[Problem]:
    """The record's content as written (not as re-read) against its hash; its files against
    theirs."""
    where = f"{INVOICES}/{record.number}.yaml"
    problems = []
    if content_hash(stored) != record.content_hash:
        problems.append(
            Problem(
                where, None, "content_hash", "the record was altered after issue (hash mismatch)"
            )
        )
    for name, digest in record.files.items():
        path = folder / name
        if not path.exists():
            problems.append(Problem(where, None, "files", f"{name} is missing"))
        elif file_hash(path.read_bytes()) != digest:
            problems.append(
                Problem(where, None, "files", f"{name} was altered after issue (hash mismatch)")
            )
    return problems


def orphan_problems(root: Path, register: Register) -> list[Problem]:
    """Files of ``invoices/`` no record issued: the renderings of a number whose issue was
    interrupted before its record (the next issue of that number replaces them), or files
    put there by hand."""
    folder = invoices_folder(root)
    if not folder.is_dir():
        return []
    issued = {name for r in register.records for name in r.files}
    issued |= {f"{r.number}.yaml" for r in register.records}
    problems = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name == PAYMENTS or path.name in issued:
            continue
        if path.is_file():
            problems.append(
                Problem(
                    f"{INVOICES}/{path.name}",
                    None,
                    "",
                    "no issued record holds this file (an interrupted issue leaves such "
                    "renderings: the next issue of that number replaces them)",
                )
            )
    return problems


def register_problems(
    root: Path, register: Register, yearly: dict[str, bool] | None = None
) -> list[Problem]:
    """Everything wrong with the register: unreadable or altered records and files, orphan
    files, broken series."""
    return [
        *register.problems,
        *orphan_problems(root, register),
        *series_problems(register, yearly),
    ]


def write_issued(
    root: Path, record: InvoiceRecord, outputs: dict[str, bytes], note: str = ""
) -> list[Path]:
    """Write the rendered files, then the record (last, write-once: it commits the number).

    A record of that number already there is never replaced (the command is refused); the
    renderings of a number without record are leftovers of an interrupted issue and are
    replaced, atomically.
    """
    folder = invoices_folder(root)
    record_path = folder / f"{record.number}.yaml"
    if record_path.exists():
        raise RuleRefused(
            f"{record.number} is already issued ({INVOICES}/{record_path.name}): an issued "
            "record is never replaced"
        )
    written = []
    for name, content in outputs.items():
        write_atomic(folder / name, content)
        written.append(folder / name)
    final = record.model_copy(update={"files": {n: file_hash(c) for n, c in outputs.items()}})
    what = "credit note" if record.series == "credit-note" else "invoice"
    header = (
        f"# apptool register: {what} {record.number}, issued {record.issue_date}{note}. "
        "Never edit: issue a credit note instead.\n"
    )
    try:
        write_once(record_path, dump_yaml(final.model_dump(mode="json"), header))
    except FileExistsError:
        raise RuleRefused(
            f"{record.number} was issued meanwhile: an issued record is never replaced"
        ) from None
    written.append(record_path)
    return written


def save_events(root: Path, events: RegisterEvents) -> Path:
    """Write ``invoices/payments.yaml`` (the caller holds the lock)."""
    path = invoices_folder(root) / PAYMENTS
    data = RegisterEvents(
        deposits=sorted(events.deposits, key=lambda d: (d.on, d.number)),
        payments=sorted(events.payments, key=lambda p: (p.paid_on, p.number)),
        refunds=sorted(events.refunds, key=lambda r: (r.on, r.number)),
    )
    write_atomic(
        path,
        dump_yaml(
            data.model_dump(mode="json", exclude_defaults=False),
            "# apptool register: deposits on Chorus Pro, payments received, refunds.\n",
        ),
    )
    return path
