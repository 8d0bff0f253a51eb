"""A trial render of a workspace's templates, for ``apptool check``.

Each template of the workspace's ``templates/`` folder is rendered, in the same sandbox as
for real, with sample documents of every kind it may receive (a calendar with a moved and a
cancelled session, a notice of a move and of a due cancellation, a bilan, an invoice, a
credit note, a draft, with and without VAT). A mistake that would stop ``invoice``,
``calendar``, ``notice`` or ``bilan`` later is reported now, with the template's file and line.
The sample data is made up here, so that the trial does not depend on the workspace's own
files (they are checked on their own).
"""

from __future__ import annotations

import os
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from apptool.domain.billing import (
    Consultation,
    InvoiceDocument,
    Month,
    buyer_party,
    month_lines,
    seller_party,
    totals,
)
from apptool.domain.models import Convention, Practitioner
from apptool.domain.records import IndividualConsultation, SessionNote, Theme, Themes
from apptool.domain.schedule import Change, Session
from apptool.errors import InvalidInput, Problem
from apptool.output.documents import (
    bilan_document,
    calendar_document,
    notice_document,
    release,
    snapshot,
)
from apptool.output.mentions import NOTES, invoice_mentions, payment_terms
from apptool.output.render import environment, not_utf8, render
from apptool.output.wording import FRENCH_LINES

TEMPLATES = "templates"
YEAR = 2025
CONVENTION_ID = "exemple"

_CONVENTION: dict[str, Any] = {
    "kind": "convention",
    "title": "Analyse de pratiques professionnelles — exemple",
    "reference": "EX-2025",
    "establishment": {
        "name": "Établissement d'exemple",
        "address": ["1 rue de l'Exemple", "28100 Dreux"],
        "siret": "26280110300017",
        "chorus_service_code": "EX1",
        "engagement_number": "ENG-1",
    },
    "period": {"start": "2025-01-01", "end": "2025-12-31", "renewal": "tacit-yearly"},
    "fees": {
        "group_session": {"amount": 150, "per": "session"},
        "individual": {"amount": 80, "per": "hour"},
    },
    "session_duration": "1h30",
    "slots": ["09:00-10:30", "10:30-12:00"],
    "excluded_months": [7, 8],
    "notice_days": 15,
    "school_holidays": {"zone": "B", "policy": "ignore"},
    "closures": [{"from": "2025-12-26", "to": "2025-12-31", "reason": "fermeture"}],
    "locations": [
        {"id": "siege", "name": "Siège", "address": "1 rue de l'Exemple, 28100 Dreux"},
        {"id": "annexe", "name": "Annexe"},
    ],
    "groups": [
        {"id": "equipe-a", "name": "Équipe A", "cadence": "monthly", "location": "siege"},
        {"id": "equipe-b", "name": "Équipe B", "cadence": "quarterly", "location": "annexe"},
    ],
}

_PRACTITIONER: dict[str, Any] = {
    "name": "Praticien Exemple",
    "billing": {
        "legal_name": "Praticien Exemple",
        "address": ["2 rue de l'Exemple", "28100 Dreux"],
        "siret": "81234560100007",
        "vat": {"exempt_mention": "TVA non applicable, art. 293 B du CGI"},
        "email": "praticien@example.fr",
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP882",
    },
}


def _session(group: str, period: str, day: date, start: time, end: time, **more: Any) -> Session:
    location = "siege" if group == "equipe-a" else "annexe"
    return Session(
        id=f"{CONVENTION_ID}/{group}/{period}",
        convention=CONVENTION_ID,
        group=group,
        period=period,
        date=day,
        start=start,
        end=end,
        location=location,
        **more,
    )


def _sessions() -> list[Session]:
    nine, half_past_ten, noon = time(9), time(10, 30), time(12)
    moved = Change(
        action="moved",
        requested_on=date(2025, 4, 1),
        by="establishment",
        reason="réunion de service",
        notice_days=21,
        status="moved",
        previous_date=date(2025, 4, 22),
        previous_start=nine,
        previous_end=half_past_ten,
    )
    due = Change(
        action="cancelled",
        requested_on=date(2025, 5, 15),
        by="establishment",
        reason="grève",
        notice_days=5,
        status="due",
        previous_date=date(2025, 5, 20),
        previous_start=nine,
        previous_end=half_past_ten,
    )
    cancelled = Change(
        action="cancelled",
        requested_on=date(2025, 5, 1),
        by="practitioner",
        notice_days=19,
        status="cancelled",
        previous_date=date(2025, 5, 20),
        previous_start=half_past_ten,
        previous_end=noon,
    )
    return [
        _session("equipe-a", "2025-03", date(2025, 3, 18), nine, half_past_ten),
        _session(
            "equipe-a",
            "2025-04",
            date(2025, 4, 15),
            half_past_ten,
            noon,
            status="moved",
            history=[moved],
        ),
        _session(
            "equipe-a",
            "2025-05",
            date(2025, 5, 20),
            nine,
            half_past_ten,
            status="due",
            history=[due],
        ),
        _session(
            "equipe-b",
            "2025-Q2",
            date(2025, 5, 20),
            half_past_ten,
            noon,
            status="cancelled",
            history=[cancelled],
        ),
        _session("equipe-a", "2025-06", date(2025, 6, 17), nine, half_past_ten),
        _session("equipe-b", "2025-Q4", date(2025, 11, 18), half_past_ten, noon),
    ]


def sample_contexts() -> dict[str, list[dict[str, Any]]]:
    """The contexts each document template receives, by document (``calendar``...)."""
    convention = Convention.model_validate(_CONVENTION)
    practitioner = Practitioner.model_validate(_PRACTITIONER)
    sessions = _sessions()
    current = snapshot(sessions)
    first = release([], current, date(2025, 3, 1), draft=False)
    draft = release([], current, date(2025, 3, 1), draft=True)
    calendars = [
        calendar_document(CONVENTION_ID, convention, practitioner, YEAR, sessions, rel, current)
        for rel in (first, draft)
    ]
    notices = [notice_document(convention, practitioner, s) for s in sessions if s.history]
    themes = Themes(themes=[Theme(id="charge", label="charge de travail")])
    notes = [
        SessionNote(
            session=sessions[0].id,
            convention=CONVENTION_ID,
            recorded_on=date(2025, 3, 18),
            themes=["charge"],
            attendance=7,
            text="jamais montré",
        )
    ]
    consultations = [
        IndividualConsultation(
            id=f"{CONVENTION_ID}/individual/2025-05-14/{n}",
            convention=CONVENTION_ID,
            date=date(2025, 5, 14),
            duration=90,
        )
        for n in (1, 2, 3)
    ]
    bilans = [
        bilan_document(
            CONVENTION_ID,
            convention,
            practitioner,
            YEAR,
            sessions,
            notes,
            themes,
            consultations[:count],
            today,
        )
        for count, today in ((3, date(2025, 12, 31)), (1, date(2025, 6, 1)))
    ]
    return {
        "calendar": [{"doc": doc} for doc in calendars],
        "notice": [{"doc": doc} for doc in notices],
        "bilan": [{"doc": doc} for doc in bilans],
        "invoice": [
            {"doc": doc, "m": invoice_mentions(doc)}
            for doc in _invoices(convention, practitioner, sessions)
        ],
    }


def _invoices(
    convention: Convention, practitioner: Practitioner, sessions: list[Session]
) -> list[InvoiceDocument]:
    """An invoice (exempt from VAT), the same with VAT, its credit note, and a draft."""
    assert practitioner.billing is not None
    month = Month(2025, 5)
    consultation = Consultation(f"{CONVENTION_ID}/individual/2025-05-14/1", date(2025, 5, 14), 90)
    lines = month_lines(convention, sessions, [consultation], month, date(2025, 6, 2), FRENCH_LINES)
    issue = date(2025, 6, 2)
    invoice = InvoiceDocument(
        kind="invoice",
        number="2025-0001",
        issue_date=issue,
        due_date=date(2025, 7, 2),
        period=month,
        seller=seller_party(practitioner.billing),
        buyer=buyer_party(convention),
        buyer_reference=convention.establishment.chorus_service_code,
        order_reference=convention.establishment.engagement_number,
        contract_reference=convention.reference,
        lines=tuple(lines),
        totals=totals(lines, None),
        vat_exemption=practitioner.billing.vat.exempt_mention,
        iban=practitioner.billing.iban,
        bic=practitioner.billing.bic,
        payment_terms=payment_terms(30, "R2192-10", by_contract=False),
        notes=NOTES,
    )
    with_vat = invoice.model_copy(
        update={"totals": totals(lines, Decimal(20)), "vat_exemption": None, "number": "2025-0002"}
    )
    credit = invoice.model_copy(
        update={
            "kind": "credit-note",
            "number": "AV-2025-0001",
            "preceding": (invoice.number, issue),
        }
    )
    draft = invoice.model_copy(update={"number": None, "lines": (), "totals": totals([], None)})
    return [invoice, with_vat, credit, draft]


def template_problems(workspace: Path) -> tuple[list[str], list[Problem]]:
    """Trial-render every template of the workspace's ``templates/`` folder.

    Returns the templates checked (as shown) and their problems. A template named like a
    document's (``invoice.md.j2``...) is rendered with each sample of that document; any
    other file there (a template another one includes) is compiled.
    """
    folder = workspace / TEMPLATES
    if not folder.is_dir():
        return [], []
    files = sorted(
        Path(top) / name
        for top, _, names in os.walk(folder)  # symbolic links to folders are not followed
        for name in names
        if not name.startswith(".") and (Path(top) / name).is_file()
    )
    if not files:
        return [], []
    contexts = sample_contexts()
    checked: list[str] = []
    problems: list[Problem] = []
    env = environment(workspace)
    for path in files:
        name = path.relative_to(folder).as_posix()
        shown = f"{TEMPLATES}/{name}"
        checked.append(shown)
        document = name.split(".", 1)[0]
        samples = contexts.get(document) if name.endswith(".j2") and "/" not in name else None
        try:
            if samples is None:
                _compile(env, name, shown)
                continue
            for context in samples:
                render(name, context, workspace)
        except InvalidInput as exc:
            problems += exc.problems or [Problem(shown, None, "", exc.message)]
    return checked, sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.message))


def _compile(env: jinja2.Environment, name: str, shown: str) -> None:
    """A template that no document renders directly: its syntax, at least."""
    try:
        env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidInput(
            f"{shown}: {exc.message}",
            [Problem(shown, exc.lineno, "", f"template error: {exc.message}")],
        ) from None
    except UnicodeDecodeError:
        raise not_utf8(env, name, shown) from None
