"""How billed items read on an invoice (BT-153 item name), in French.

:data:`FRENCH_LINES` is the :class:`~apptool.domain.billing.LineWording` invoicing passes to
:func:`~apptool.domain.billing.month_lines`.
"""

from __future__ import annotations

from apptool.domain.billing import Consultation, LineKind
from apptool.domain.contract import clause
from apptool.domain.models import Convention
from apptool.domain.schedule import Session
from apptool.output import french


def session_text(convention: Convention, session: Session, kind: LineKind) -> str:
    """How a session reads on the invoice: group, day, slot and site (in French)."""
    group = convention.group(session.group)
    site = convention.location(session.location).name
    text = (
        f"Séance d'analyse de pratiques professionnelles — {group.name} — "
        f"{french.long_date(session.date)}, {french.time_span(session.start, session.end)} — "
        f"{site}"
    )
    if kind == "cancellation":
        where = clause(convention, "cancellation")
        text += " — séance annulée par l'établissement sans report possible, due" + (
            f" ({where} de la convention)" if where else ""
        )
    return text


def consultation_text(consultation: Consultation) -> str:
    """An individual consultation reads: date and duration only (art. 2.2)."""
    return (
        f"Consultation individuelle — {french.long_date(consultation.day)} — "
        f"{french.duration(consultation.duration)}"
    )


class FrenchLineWording:
    """Invoice lines in French: :func:`session_text` and :func:`consultation_text`."""

    def session(self, convention: Convention, session: Session, kind: LineKind) -> str:
        return session_text(convention, session, kind)

    def consultation(self, consultation: Consultation) -> str:
        return consultation_text(consultation)


FRENCH_LINES = FrenchLineWording()
