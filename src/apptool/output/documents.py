"""Documents for the establishment: the calendar to distribute, the notice of a change, the
annual report (bilan), and the practitioner's notes they draw on.

The builders (``calendar_document``, ``notice_document``, ``bilan_document``,
``calendar_changes``) are pure: they turn the workspace, the calendar of record and the
records into the data a template shows, already worded in French. The use cases at the end
(``calendars``, ``notice``, ``bilan``, ``record_note``) load the files, render the templates
and write the records (under the workspace lock); they print nothing.

Confidentiality (art. 2.2, art. 6): a document is about one convention and shows only its
sessions; individual consultations appear only in the bilan, as a count and total hours, and
as "moins de 3" below three; the free text of the practitioner's notes never appears in any
document (only the themes and how often they came up).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from apptool.domain.contract import (
    cancellation_clause,
    cited,
    clause,
    month_excluded,
    notice_respected,
    report_notice_days,
)
from apptool.domain.models import Convention, Practitioner
from apptool.domain.records import (
    DistributedSession,
    Distribution,
    IndividualConsultation,
    SessionNote,
    Themes,
)
from apptool.domain.schedule import Change, Session, sort_key, took_place
from apptool.errors import InvalidInput, RuleRefused
from apptool.output import french

#: The documents cite the articles the convention's ``clauses`` give, and only those
#: (:func:`~apptool.domain.contract.clause`): without one a sentence reads well on its own.
#: Below this many individual consultations the bilan shows "moins de 3" (art. 2.2).
MIN_CONSULTATIONS = 3
CANCELLED = ("cancelled", "report-pending", "due")
PARTIES = {"establishment": "l'établissement", "practitioner": "le praticien"}


# --- French wording ---------------------------------------------------------------------------


def hour_text(value: time) -> str:
    """``9h00``, as the convention writes its slots (art. 2.1)."""
    return french.hour(value)


def slot_text(start: time, end: time) -> str:
    """``9h00–10h30``."""
    return french.time_span(start, end)


def hours_text(total_minutes: int) -> str:
    """``7 h 30``, ``6 h``, ``45 min``."""
    return french.duration(total_minutes)


def days_text(count: int) -> str:
    """``1 jour``, ``15 jours``."""
    return f"{count} jour" if abs(count) == 1 else f"{count} jours"


def list_text(items: list[str]) -> str:
    """``a, b et c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def decimal_text(value: Decimal) -> str:
    """``6,5``: one decimal, French comma."""
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)).replace(".", ",")


def _group_name(convention: Convention, session_id: str) -> str:
    """The group's name from a session id; the id itself if the group no longer exists."""
    parts = session_id.split("/")
    group_id = parts[1] if len(parts) == 3 else session_id
    return next((g.name for g in convention.groups if g.id == group_id), group_id)


def _site_name(convention: Convention, location_id: str) -> str:
    return next((loc.name for loc in convention.locations if loc.id == location_id), location_id)


def _contact(practitioner: Practitioner) -> str | None:
    return practitioner.billing.email if practitioner.billing else None


# --- the calendar to distribute --------------------------------------------------------------


def snapshot(sessions: list[Session]) -> dict[str, DistributedSession]:
    """What a distributed calendar shows of each session: date, slot, site, status."""
    return {
        s.id: DistributedSession(
            date=s.date, start=s.start, end=s.end, location=s.location, status=s.status
        )
        for s in sorted(sessions, key=sort_key)
    }


def status_text(session: Session, convention: Convention) -> str:
    """``prévue``, ``déplacée, initialement le ...``, ``annulée``, ``annulée, report à
    convenir``, ``annulée, due (art. 4)``."""
    if session.status == "moved" and session.history:
        first = session.history[0]
        original = french.long_date(first.previous_date)
        if (first.previous_start, first.previous_end) != (session.start, session.end):
            original += f" ({slot_text(first.previous_start, first.previous_end)})"
        return f"déplacée, initialement le {original}"
    if session.status == "cancelled":
        return "annulée"
    if session.status == "report-pending":
        return "annulée, report à convenir"
    if session.status == "due":
        return cited("annulée, due", convention, "cancellation")
    return "prévue"


def calendar_changes(
    before: dict[str, DistributedSession],
    after: dict[str, DistributedSession],
    convention: Convention,
) -> list[str]:
    """What changed between two distributed versions, one French sentence per session.

    Sentences come in date order (the new date, or the old one for a removed session).
    """

    def when(entry: DistributedSession) -> str:
        return f"{french.long_date(entry.date)} ({slot_text(entry.start, entry.end)})"

    def site(entry: DistributedSession) -> str:
        return _site_name(convention, entry.location)

    found: list[tuple[date, time, str, str]] = []
    for sid in sorted(set(before) | set(after)):
        old, new = before.get(sid), after.get(sid)
        group = _group_name(convention, sid)
        sentence: str | None = None
        if old is None and new is not None:
            sentence = f"nouvelle séance le {when(new)}, {site(new)}"
            if new.status in CANCELLED:
                sentence += ", annulée"
        elif new is None and old is not None:
            sentence = f"la séance du {when(old)} est retirée du calendrier"
        elif old is not None and new is not None:
            was_off, is_off = old.status in CANCELLED, new.status in CANCELLED
            moved = (old.date, old.start, old.end) != (new.date, new.start, new.end)
            if is_off and not was_off:
                sentence = f"la séance du {when(old)} est annulée"
                if new.status == "due":
                    sentence += " ; " + cited("elle reste due", convention, "cancellation")
                elif new.status == "report-pending":
                    sentence += " ; une nouvelle date est à convenir"
            elif was_off and not is_off:
                sentence = f"la séance annulée du {when(old)} est reprogrammée le {when(new)}"
                if new.location != old.location:
                    sentence += f", {site(new)}"
            elif is_off and old.status != new.status:
                state = (
                    "est désormais due"
                    if new.status == "due"
                    else "attend une nouvelle date"
                    if new.status == "report-pending"
                    else "n'est plus due"
                )
                sentence = cited(
                    f"la séance annulée du {when(old)} {state}", convention, "cancellation"
                )
            elif not is_off and moved:
                sentence = f"la séance du {when(old)} est déplacée au {when(new)}"
                if new.location != old.location:
                    sentence += f", {site(new)}"
            elif not is_off and new.location != old.location:
                sentence = f"la séance du {when(new)} a lieu à {site(new)} (au lieu de {site(old)})"
        if sentence is not None:
            key = new if new is not None else old
            assert key is not None
            found.append((key.date, key.start, sid, f"{group} : {sentence}."))
    return [text for *_, text in sorted(found)]


class Citations:
    """`` (art. 2.1)`` for each clause the convention gives, ``""`` for the others: what the
    templates print after a title (``{{ doc.cite.sites }}``)."""

    def __init__(self, convention: Convention) -> None:
        self._clauses = convention.clauses

    def __getattr__(self, name: str) -> str:
        where = getattr(self._clauses, name, None)
        return f" ({where})" if where else ""


def _confidentiality_intro(convention: Convention) -> str:
    """``Rapport synthétique prévu à l'art. 2.3 de la convention. Conformément aux art. 2.2 et
    6, il`` when the convention gives those clauses; plainer without them."""
    report = clause(convention, "report")
    intro = (
        f"Rapport synthétique prévu à l'{report} de la convention."
        if report
        else "Rapport synthétique."
    )
    refs = [
        r for r in (clause(convention, "individual"), clause(convention, "confidentiality")) if r
    ]
    if not refs:
        return f"{intro} Il"
    if len(refs) == 1:
        return f"{intro} Conformément à l'{refs[0]}, il"
    if all(r.startswith("art. ") for r in refs):
        return f"{intro} Conformément aux art. {refs[0][5:]} et {refs[1][5:]}, il"
    return f"{intro} Conformément à l'{refs[0]} et à l'{refs[1]}, il"


@dataclass(frozen=True)
class CalendarLine:
    """One session as the calendar shows it."""

    id: str
    day: str
    slot: str
    group: str
    site: str
    status: str
    state: str  # the session's status, for the HTML's class


@dataclass(frozen=True)
class MonthBlock:
    title: str
    lines: list[CalendarLine]


@dataclass(frozen=True)
class GroupBlock:
    name: str
    composition: str | None
    lines: list[CalendarLine]


@dataclass(frozen=True)
class SiteInfo:
    name: str
    address: str | None


@dataclass(frozen=True)
class Release:
    """Which version a calendar is: a new one to record, the last one again, or a draft."""

    version: int | None  # None for a draft
    date: date
    baseline: Distribution | None  # the version the change list compares with
    new: bool  # a new version, to record

    @property
    def label(self) -> str:
        if self.version is None:
            return "BROUILLON — document de travail, non diffusé"
        return f"Version {self.version} du {french.short_date(self.date)}"


def release(
    versions: list[Distribution], current: dict[str, DistributedSession], today: date, draft: bool
) -> Release:
    """The version of a calendar distributed ``today``.

    Unchanged since the last version: that version again (same date, same change list, so
    the same Markdown). Changed: the next version, dated ``today``, which cannot come before
    the last one. A draft compares with the last version and records nothing.
    """
    last = versions[-1] if versions else None
    if draft:
        return Release(None, today, last, False)
    if last is not None and last.sessions == current:
        return Release(last.version, last.date, versions[-2] if len(versions) > 1 else None, False)
    if last is not None and today < last.date:
        raise RuleRefused(
            f"version {last.version} of this calendar was distributed on "
            f"{last.date}; a new version cannot be dated {today}, before it"
        )
    return Release(last.version + 1 if last else 1, today, last, True)


@dataclass(frozen=True)
class CalendarDocument:
    """The data of ``calendar.md.j2`` / ``calendar.html.j2``."""

    convention: str
    year: int
    title: str
    establishment: str
    reference: str | None
    practitioner: str
    contact: str | None
    version: int | None
    draft: bool
    version_label: str
    baseline_label: str | None  # "Modifications depuis la version 1 du 13/05/2025"
    changes: list[str]
    months: list[MonthBlock]
    groups: list[GroupBlock]
    sites: list[SiteInfo]
    rules: list[str]
    count: int
    file_stem: str
    cite: Citations


def calendar_rules(convention: Convention, practitioner: Practitioner) -> list[str]:
    """The convention's rules that matter to the reader of the calendar, with their article."""
    slots = [slot_text(s.start, s.end) for s in sorted(convention.slots)]
    rules = [
        f"Horaires : {list_text(slots)} ; chaque séance dure "
        + cited(french.duration(convention.session_duration), convention, "schedule")
        + "."
    ]
    excluded = [m for m in range(1, 13) if month_excluded(convention, m)]
    if excluded:
        months = [french.month_name(2000, m).removesuffix(" 2000") for m in excluded]
        rules.append(
            cited(f"Aucune séance de groupe en {list_text(months)}", convention, "schedule") + "."
        )
    if convention.school_holidays.policy != "ignore":
        rules.append(
            cited(
                "Le calendrier tient compte des vacances scolaires de la zone "
                f"{convention.school_holidays.zone}",
                convention,
                "schedule",
            )
            + "."
        )
    contact = practitioner.name + (f", {_contact(practitioner)}" if _contact(practitioner) else "")
    notice = days_text(convention.notice_days)
    rules.append(
        "Changement de date : "
        + cited(
            "une séance peut être déplacée d'un commun accord, sous réserve d'un délai de "
            f"prévenance de {notice}",
            convention,
            "notice",
        )
        + f". Pour demander un changement, écrivez au praticien ({contact}) au moins {notice} "
        "avant la séance, en indiquant le groupe et la date concernés."
    )
    if cancellation_clause(convention):
        rules.append(
            "Annulation : "
            + cited(
                "une séance annulée par l'établissement est reportée à une date convenue dans "
                "la même période ; sans report possible, elle reste due",
                convention,
                "cancellation",
            )
            + "."
        )
    rules.append(
        "Lieux : "
        + cited(
            "le lieu de chaque séance est indiqué ci-dessus ; les lieux sont "
            "« communiqués lors de la diffusion du calendrier »",
            convention,
            "sites",
        )
        + "."
    )
    return rules


def calendar_document(
    convention_id: str,
    convention: Convention,
    practitioner: Practitioner,
    year: int,
    sessions: list[Session],
    rel: Release,
    current: dict[str, DistributedSession],
) -> CalendarDocument:
    """The calendar of one convention for one year: only that convention's sessions."""
    mine = sorted((s for s in sessions if s.convention == convention_id), key=sort_key)
    lines = {
        s.id: CalendarLine(
            id=s.id,
            day=french.long_date(s.date),
            slot=slot_text(s.start, s.end),
            group=convention.group(s.group).name,
            site=convention.location(s.location).name,
            status=status_text(s, convention),
            state=s.status,
        )
        for s in mine
    }
    months: dict[tuple[int, int], list[CalendarLine]] = {}
    for s in mine:
        months.setdefault((s.date.year, s.date.month), []).append(lines[s.id])
    groups = [
        GroupBlock(g.name, g.composition, [lines[s.id] for s in mine if s.group == g.id])
        for g in convention.groups
        if any(s.group == g.id for s in mine)
    ]
    used = {s.location for s in mine}
    sites = [SiteInfo(loc.name, loc.address) for loc in convention.locations if loc.id in used]
    baseline = rel.baseline
    stem = f"calendrier-{convention_id}-{year}-" + (
        f"v{rel.version}" if rel.version else "brouillon"
    )
    return CalendarDocument(
        convention=convention_id,
        year=year,
        title=convention.title,
        establishment=convention.establishment.name,
        reference=convention.reference,
        practitioner=practitioner.name,
        contact=_contact(practitioner),
        version=rel.version,
        draft=rel.version is None,
        version_label=rel.label,
        baseline_label=(
            f"Modifications depuis la version {baseline.version} du "
            f"{french.short_date(baseline.date)}"
            if baseline
            else None
        ),
        changes=calendar_changes(baseline.sessions, current, convention) if baseline else [],
        months=[
            MonthBlock(french.month_name(y, m), block) for (y, m), block in sorted(months.items())
        ],
        groups=groups,
        sites=sites,
        rules=calendar_rules(convention, practitioner),
        count=len(mine),
        file_stem=stem,
        cite=Citations(convention),
    )


# --- the notice of a change --------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeDocument:
    """The data of ``notice.md.j2`` / ``notice.html.j2``: a letter or an e-mail's text."""

    kind: Literal["moved", "cancelled"]
    session: str
    subject: str
    place_date: str
    sender: str
    sender_lines: list[str]
    recipient: str
    recipient_lines: list[str]
    paragraphs: list[str]
    facts: list[tuple[str, str]]
    signature: str
    file_stem: str
    created: date


def notice_verdict(given: int, convention: Convention) -> str:
    """``20 jours, pour 15 jours requis (art. 2.1) — délai respecté``."""
    verdict = "délai respecté" if notice_respected(given, convention) else "délai non respecté"
    required = cited(f"{days_text(convention.notice_days)} requis", convention, "notice")
    return f"{days_text(given)}, pour {required} — {verdict}"


def _notice_fact(change: Change, earlier: Change | None, convention: Convention) -> str:
    """The notice line of a letter. The report of a cancelled session: the notice of its
    cancellation when the establishment's report was pending (what art. 2.1 counts), none
    when the session was cancelled outright (a new date is agreed, without notice)."""
    if change.action == "moved" and earlier is not None and earlier.action == "cancelled":
        if earlier.status == "cancelled":
            return "sans objet : report d'une séance annulée le " + french.long_date(
                earlier.requested_on
            )
        return notice_verdict(earlier.notice_days, convention) + (
            " (annulation du " + french.long_date(earlier.requested_on) + ")"
        )
    return notice_verdict(change.notice_days, convention)


def _billing_sentence(session: Session, change: Change, convention: Convention) -> str:
    """Whether a cancelled session is billable (art. 4), and why."""
    if session.status == "due":
        month = french.month_name(change.previous_date.year, change.previous_date.month)
        reason = (
            "annulée par l'établissement moins de "
            f"{days_text(convention.notice_days)} avant sa date"
            if not notice_respected(report_notice_days(session), convention)
            else "annulée par l'établissement"
        )
        return (
            f"{reason[0].upper()}{reason[1:]} et sans report possible, "
            + cited("cette séance reste due", convention, "cancellation")
            + f" : elle figurera sur la facture {french.of(month)}."
        )
    if session.status == "report-pending":
        return (
            "Comme le prévoit la convention, "
            + cited(
                "une nouvelle date vous est proposée dans la même période ; à défaut de "
                "report possible, la séance reste due",
                convention,
                "cancellation",
            )
            + "."
        )
    agree = cited("Une nouvelle date peut être convenue d'un commun accord", convention, "notice")
    if change.by == "practitioner":
        return f"Cette annulation, à l'initiative du praticien, n'est pas facturée. {agree}."
    return f"Cette séance annulée n'est pas facturée. {agree}."


def notice_document(
    convention: Convention, practitioner: Practitioner, session: Session
) -> NoticeDocument:
    """The letter for the session's last change (a move or a cancellation)."""
    if not session.history:
        raise InvalidInput(
            f"{session.id} has no recorded change (no move, no cancellation): "
            "there is nothing to notify; see `apptool reschedule` and "
            "`apptool cancel`"
        )
    change = session.history[-1]
    if change.action == "restored":
        raise InvalidInput(
            f"{session.id} was given back when a termination was withdrawn ({change.reason}): "
            "there is no notice for it; send the calendar again (`apptool calendar "
            f"{session.date.year} --convention {session.convention}`), which shows it"
        )
    group = convention.group(session.group)
    site = convention.location(session.location).name
    before = (
        f"{french.long_date(change.previous_date)}, "
        f"{slot_text(change.previous_start, change.previous_end)}"
    )
    after = f"{french.long_date(session.date)}, {slot_text(session.start, session.end)}"
    earlier = session.history[-2] if len(session.history) > 1 else None
    # A session the establishment cancelled, its report pending, then recorded without a
    # report possible: the letter answers the establishment's request, not the recording.
    no_report = (
        change.action == "cancelled"
        and earlier is not None
        and earlier.action == "cancelled"
        and earlier.status == "report-pending"
    )
    request = earlier if no_report and earlier is not None else change
    requested = french.long_date(request.requested_on)
    who = PARTIES.get(request.by or "")
    facts: list[tuple[str, str]] = [("Groupe", group.name), ("Lieu", site)]
    if change.action == "moved":
        facts += [("Date initiale", before), ("Nouvelle date", after)]
    else:
        facts += [("Séance annulée", before)]
    facts.append(("Demande", f"{who}, le {requested}" if who else f"le {requested}"))
    if request.reason:
        facts.append(("Motif", request.reason))
    if no_report:
        facts.append(
            (
                "Report",
                f"aucun report possible, constaté le {french.long_date(change.requested_on)}",
            )
        )
    facts.append(("Délai de prévenance", _notice_fact(change, earlier, convention)))
    paragraphs: list[str] = []
    what = f"la séance d'analyse de pratiques professionnelles du groupe « {group.name} »"
    if change.action == "moved":
        kind: Literal["moved", "cancelled"] = "moved"
        subject = f"déplacement de la séance du {before} — {group.name}"
        if change.by == "practitioner":
            paragraphs.append(
                f"Je vous propose de déplacer {what}, prévue le {before} ({site}), au {after}."
            )
            where = clause(convention, "notice")
            paragraphs.append(
                (f"Conformément à l'{where} de la convention, les dates" if where else "Les dates")
                + " sont modifiées d'un commun accord : je vous remercie de me confirmer votre "
                "accord."
            )
        elif change.by == "establishment":
            paragraphs.append(
                f"À la suite de la demande de l'établissement du {requested}, "
                f"{what}, prévue le {before} ({site}), est déplacée au {after}."
            )
        else:
            paragraphs.append(
                f"Je vous confirme que {what}, prévue le {before} ({site}), "
                f"est déplacée au {after}."
            )
    else:
        kind = "cancelled"
        subject = f"annulation de la séance du {before} — {group.name}"
        if change.by == "practitioner":
            paragraphs.append(
                f"Je suis au regret de vous informer que {what}, prévue le "
                f"{before} ({site}), est annulée."
            )
        elif change.by == "establishment":
            paragraphs.append(
                f"À la suite de la demande de l'établissement du {requested}, "
                f"{what}, prévue le {before} ({site}), est annulée."
            )
        else:
            paragraphs.append(
                f"{what[0].upper()}{what[1:]}, prévue le {before} ({site}), est annulée."
            )
        paragraphs.append(_billing_sentence(session, change, convention))
    billing = practitioner.billing
    sender_lines = list(billing.address) if billing else []
    if billing and billing.email:
        sender_lines.append(billing.email)
    city = billing.address[-1].split(" ", 1)[-1] if billing and billing.address else None
    place_date = (f"{city}, le " if city else "Le ") + french.long_date(change.requested_on)
    establishment = convention.establishment
    return NoticeDocument(
        kind=kind,
        session=session.id,
        subject=subject[0].upper() + subject[1:],
        place_date=place_date,
        sender=practitioner.name,
        sender_lines=sender_lines,
        recipient=establishment.name,
        recipient_lines=list(establishment.address),
        paragraphs=paragraphs,
        facts=facts,
        signature=practitioner.name,
        file_stem="avis-" + session.id.replace("/", "-") + f"-{len(session.history)}",
        created=change.requested_on,
    )


# --- the annual report (bilan, art. 2.3) -------------------------------------------------------


@dataclass(frozen=True)
class GroupFigures:
    """One group's year, or the total over the groups (``name`` "Total")."""

    name: str
    planned: int
    held: int
    upcoming: int
    moved: int
    cancelled: int
    due: int
    attendance_sessions: int
    attendance_total: int
    attendance_average: str | None
    themes: str  # "charge de travail (3), fin de vie (1)" or "—"


@dataclass(frozen=True)
class ThemeCount:
    label: str
    sessions: int
    groups: int


@dataclass(frozen=True)
class BilanDocument:
    """The data of ``bilan.md.j2`` / ``bilan.html.j2``."""

    convention: str
    year: int
    title: str
    establishment: str
    reference: str | None
    practitioner: str
    made_on: str
    partial: bool
    span: str | None
    groups: list[GroupFigures]
    total: GroupFigures
    themes: list[ThemeCount]
    noted_sessions: int
    individual_count: str
    individual_hours: str
    file_stem: str
    created: date
    cite: Citations
    intro: str


def _figures(
    name: str, sessions: list[Session], notes: dict[str, SessionNote], themes: Themes, today: date
) -> GroupFigures:
    held = [s for s in sessions if took_place(s, today)]
    attended = [
        notes[s.id].attendance for s in held if s.id in notes and notes[s.id].attendance is not None
    ]
    counted = Counter(
        t
        for s in sessions
        if s.id in notes and s.status not in CANCELLED
        for t in dict.fromkeys(notes[s.id].themes)
    )
    ranked = sorted(counted.items(), key=lambda item: (-item[1], themes.label(item[0])))
    total = sum(a for a in attended if a is not None)
    return GroupFigures(
        name=name,
        planned=len(sessions),
        held=len(held),
        upcoming=sum(1 for s in sessions if s.status in ("planned", "moved") and s.date >= today),
        moved=sum(1 for s in sessions if any(c.action == "moved" for c in s.history)),
        cancelled=sum(1 for s in sessions if s.status == "cancelled"),
        due=sum(1 for s in sessions if s.status == "due"),
        attendance_sessions=len(attended),
        attendance_total=total,
        attendance_average=(
            decimal_text(Decimal(total) / Decimal(len(attended))) if attended else None
        ),
        themes=", ".join(f"{themes.label(t)} ({n})" for t, n in ranked) or "—",
    )


def individual_figures(consultations: list[IndividualConsultation]) -> tuple[str, str]:
    """Count and total hours, or "moins de 3" for both below three (art. 2.2)."""
    if len(consultations) < MIN_CONSULTATIONS:
        return (
            f"moins de {MIN_CONSULTATIONS}",
            f"non communiquée (moins de {MIN_CONSULTATIONS} consultations)",
        )
    return (str(len(consultations)), hours_text(sum(c.duration for c in consultations)))


def bilan_document(
    convention_id: str,
    convention: Convention,
    practitioner: Practitioner,
    year: int,
    sessions: list[Session],
    notes: list[SessionNote],
    themes: Themes,
    consultations: list[IndividualConsultation],
    today: date,
) -> BilanDocument:
    """The annual report of one convention: figures from the record, themes from the notes.

    Shows no individual consultation's date or code, and no note's text.
    """
    mine = sorted((s for s in sessions if s.convention == convention_id), key=sort_key)
    by_session = {n.session: n for n in notes if n.convention == convention_id}
    groups = [
        _figures(g.name, [s for s in mine if s.group == g.id], by_session, themes, today)
        for g in convention.groups
        if any(s.group == g.id for s in mine)
    ]
    total = _figures("Total", mine, by_session, themes, today)
    per_theme: dict[str, set[str]] = {}
    sessions_per_theme: Counter[str] = Counter()
    for s in mine:
        note = by_session.get(s.id)
        if note is None or s.status in CANCELLED:
            continue
        for theme in dict.fromkeys(note.themes):
            sessions_per_theme[theme] += 1
            per_theme.setdefault(theme, set()).add(s.group)
    ranked = sorted(sessions_per_theme.items(), key=lambda item: (-item[1], themes.label(item[0])))
    count, hours = individual_figures(  # those of the year that took place by ``today``
        [
            c
            for c in consultations
            if c.convention == convention_id and c.date.year == year and c.date <= today
        ]
    )
    return BilanDocument(
        convention=convention_id,
        year=year,
        title=convention.title,
        establishment=convention.establishment.name,
        reference=convention.reference,
        practitioner=practitioner.name,
        made_on=french.long_date(today),
        partial=total.upcoming > 0,
        span=(
            f"du {french.long_date(mine[0].date)} au {french.long_date(mine[-1].date)}"
            if mine
            else None
        ),
        groups=groups,
        total=total,
        themes=[ThemeCount(themes.label(t), n, len(per_theme[t])) for t, n in ranked],
        noted_sessions=sum(1 for s in mine if s.id in by_session and s.status not in CANCELLED),
        individual_count=count,
        individual_hours=hours,
        file_stem=f"bilan-{convention_id}-{year}",
        created=today,
        cite=Citations(convention),
        intro=_confidentiality_intro(convention),
    )
