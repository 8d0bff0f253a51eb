"""Ready-to-send e-mails (RFC 5322, ``.eml``) for the establishment: the notice of a change
or a distributed calendar, as text, with its PDF attached and an iTIP invitation (RFC 5546)
that updates the event in the recipients' own calendar (Outlook, Thunderbird, Google).

A moved session is a ``METHOD:REQUEST`` with the session's stable UID and the SEQUENCE of
its changes (higher than the version the establishment holds); a cancelled one a
``METHOD:CANCEL``. The message is deterministic: its date is the document's, its boundaries
and Message-ID are derived from the document.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from apptool.domain.models import Contact, Convention
from apptool.domain.schedule import Session
from apptool.output.export import sessions_ics


def _plain(markdown: str) -> str:
    """The Markdown letter as plain text (no emphasis marks, hard breaks as line ends)."""
    return markdown.replace("**", "").replace("  \n", "\n")


def message(
    *,
    subject: str,
    sender: tuple[str, str],
    recipients: list[Contact],
    day: date,
    stem: str,
    text: str,
    pdf: bytes,
    invitations: list[tuple[str, str]],
) -> bytes:
    """An e-mail: the text, then each iTIP part (``(method, ics)``), then the PDF."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = formataddr(sender)
    mail["To"] = ", ".join(formataddr((c.name or "", c.email)) for c in recipients)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.combine(day, time(12, 0), tzinfo=UTC))
    mail["Message-ID"] = f"<{stem}@apptool>"
    mail["MIME-Version"] = "1.0"
    mail.set_content(_plain(text), subtype="plain", charset="utf-8")
    for method, ics in invitations:
        mail.add_alternative(ics, subtype="calendar", charset="utf-8", params={"method": method})
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{stem}.pdf")
    for index, part in enumerate(mail.walk()):
        if part.is_multipart():
            seed = hashlib.sha256(f"{stem}/{index}".encode()).hexdigest()[:24]
            part.set_boundary(f"apptool-{seed}")
    return mail.as_bytes()


def notice_invitation(
    session: Session,
    conventions: dict[str, Convention],
    day: date,
    organizer: tuple[str, str],
    recipients: list[Contact],
) -> tuple[str, str]:
    """The iTIP part of a notice: REQUEST for a moved session, CANCEL for a cancelled one."""
    method = "REQUEST" if session.occupies_time else "CANCEL"
    attendees = [(c.name, c.email) for c in recipients]
    return method, sessions_ics([session], conventions, day, method, organizer, attendees)


def calendar_invitations(
    sessions: list[Session],
    conventions: dict[str, Convention],
    day: date,
    organizer: tuple[str, str],
    recipients: list[Contact],
) -> list[tuple[str, str]]:
    """A distribution's iTIP parts: one REQUEST with every live session, one CANCEL with the
    cancelled ones (when there are any)."""
    attendees = [(c.name, c.email) for c in recipients]
    live = [s for s in sessions if s.occupies_time]
    off = [s for s in sessions if not s.occupies_time]
    parts = [("REQUEST", sessions_ics(live, conventions, day, "REQUEST", organizer, attendees))]
    if off:
        parts.append(
            ("CANCEL", sessions_ics(off, conventions, day, "CANCEL", organizer, attendees))
        )
    return parts
