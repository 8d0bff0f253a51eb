"""The invoice register's files: ``invoices/<number>.yaml`` records, their renderings, and
``invoices/payments.yaml``.

A record is written last, after its rendered files: it is the commit point of its number. If
anything fails before, no record exists and the next command reuses the number, so no gap
ever appears. Records are never rewritten; payments go to ``invoices/payments.yaml``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from apptool.domain.register import (
    INVOICES,
    InvoiceRecord,
    Payment,
    Payments,
    Register,
    content_hash,
    file_hash,
    series_problems,
)
from apptool.errors import InvalidInput, Problem
from apptool.store.files import dump_yaml, write_atomic
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
            records.append(record)
            problems += _integrity_problems(folder, record, doc.data.get("document"))
    payments: dict[str, date] = {}
    payments_path = folder / PAYMENTS
    if payments_path.exists():
        doc = read_yaml(payments_path, f"{INVOICES}/{PAYMENTS}")
        paid, found = validate_document(doc, Payments)
        problems += found
        if paid is not None:
            payments = {p.number: p.paid_on for p in paid.payments}
    records.sort(key=lambda r: (r.series, r.year, r.seq))
    if strict and problems:
        raise InvalidInput("the invoice register has errors", problems)
    return Register(records, payments, problems)


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


def register_problems(register: Register) -> list[Problem]:
    """Everything wrong with the register: unreadable or altered records, broken series."""
    return [*register.problems, *series_problems(register)]


def write_issued(
    root: Path, record: InvoiceRecord, outputs: dict[str, bytes], note: str = ""
) -> list[Path]:
    """Write the rendered files, then the record (last: it commits the number)."""
    folder = invoices_folder(root)
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
    write_atomic(folder / f"{record.number}.yaml", dump_yaml(final.model_dump(mode="json"), header))
    written.append(folder / f"{record.number}.yaml")
    return written


def save_payments(root: Path, payments: list[Payment]) -> Path:
    """Write ``invoices/payments.yaml`` (the caller holds the lock)."""
    path = invoices_folder(root) / PAYMENTS
    data = Payments(payments=sorted(payments, key=lambda p: (p.paid_on, p.number)))
    write_atomic(
        path, dump_yaml(data.model_dump(mode="json"), "# apptool register: payments received.\n")
    )
    return path
