"""After publication: moving, cancelling, terminating. The contract's rules as pure functions.

* art. 2.1: a date moves only with the convention's notice (15 days) and mutual agreement;
* art. 4: a session cancelled by the establishment without possible rescheduling stays due;
* art. 9.3: termination at the end of a month with one month's notice, or 15 days' notice
  in case of force majeure; a termination may be withdrawn before its effective end, which
  gives back the sessions it cancelled.

Nothing here reads or writes files: the caller passes the sessions and saves the result.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

from apptool.domain.calendar_fr import days_of_month, school_holiday
from apptool.domain.contract import (
    cancellation_status,
    cited,
    in_period,
    move_needs_notice,
    moved,
    notice_days,
    notice_problem,
    notice_respected,
    report_notice_days,
    report_possible,
)
from apptool.domain.hard_rules import placement_problems
from apptool.domain.models import WEEKDAYS, Convention, Practitioner, minutes
from apptool.domain.planner import usual_habits
from apptool.domain.records import Termination
from apptool.domain.schedule import (
    Change,
    Party,
    Period,
    Session,
    SessionStatus,
    with_change,
)
from apptool.errors import RuleRefused


def moved_to(session: Session, day: date, start: time, convention: Convention) -> Session:
    """The session at another date and start, its end from the convention's duration."""
    end_minutes = minutes(start) + convention.session_duration
    return session.model_copy(
        update={
            "date": day,
            "start": start,
            "end": time(end_minutes // 60, end_minutes % 60),
            "moved_out_of_period": not in_period(session, convention, day),
        }
    )


@dataclass(frozen=True)
class Alternative:
    """A valid new position for a session, with why it ranks where it does."""

    date: date
    start: time
    end: time
    in_period: bool
    reason: str


def _candidate_days(session: Session, convention: Convention, after: date) -> list[date]:
    """Days of the session's period, then of the month before and after it."""
    period = Period.parse(session.period)
    first = date(period.year, period.months[0], 1)
    last = days_of_month(period.year, period.months[-1])[-1]
    start = first - relativedelta(months=1)
    end = last + relativedelta(months=1)
    end = end.replace(day=_calendar.monthrange(end.year, end.month)[1])
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [d for d in days if d > after]


def alternatives(
    session: Session,
    others: list[Session],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    requested_on: date,
    count: int = 5,
) -> list[Alternative]:
    """The best valid new positions for ``session``, best first.

    Each obeys every hard rule and falls after the request date, and none is the session's
    own day and slot. Ranked as the planner weighs days: same period first, then outside the
    school holidays when the convention prefers to avoid them (art. 2.1: only if nothing else
    fits), then the group's preferred weekdays, then its preferred slots (they outweigh every
    other soft goal), then its usual weekday and week of the month, its usual slot, gathered
    with other sessions at the same site, and closeness to the current date.
    """
    convention = conventions[session.convention]
    group_key = (session.convention, session.group)
    history = [
        (o.date, o.start_minutes, o.period)
        for o in others
        if (o.convention, o.group) == group_key and o.id != session.id and o.occupies_time
    ]
    preferences = convention.group(session.group).preferences
    preferred_starts = {minutes(t) for t in preferences.slots}
    found = []
    for day in _candidate_days(session, convention, requested_on):
        holidays = (
            school_holiday(day, convention)
            if convention.school_holidays.policy == "prefer-avoid"
            else None
        )
        off_weekday = bool(preferences.weekdays) and WEEKDAYS[day.weekday()] not in (
            preferences.weekdays
        )
        for slot in sorted(convention.slots):
            if (day, slot.start) == (session.date, session.start):
                continue  # the day and slot it leaves (or that was cancelled)
            candidate = moved_to(session, day, slot.start, convention)
            if placement_problems(candidate, others, conventions, practitioner):
                continue
            usual = usual_habits(history, day)
            week = (day.day - 1) // 7 + 1
            same_weekday = usual.day is not None and usual.day[0] == day.weekday()
            same_week = usual.day is not None and usual.day[1] == week
            same_slot = usual.start == minutes(slot.start)
            site = sum(
                1
                for o in others
                if o.date == day
                and o.occupies_time
                and (o.convention, o.location) == (session.convention, session.location)
            )
            reasons = [
                "same period"
                if not candidate.moved_out_of_period
                else "outside its period (needs --allow-move-out)"
            ]
            if same_weekday:
                reasons.append(
                    f"usual {day:%A}" + (f" (week {week} of the month)" if same_week else "")
                )
            if same_slot:
                reasons.append("usual slot")
            if site:
                reasons.append(f"with {site} other session(s) at this site")
            off_slot = bool(preferred_starts) and minutes(slot.start) not in preferred_starts
            if off_weekday or off_slot:
                reasons.append("not the group's preferred " + ("day" if off_weekday else "slot"))
            if holidays:
                reasons.append(f"in the {holidays} (to avoid if possible)")
            key = (
                candidate.moved_out_of_period,
                holidays is not None,
                off_weekday,
                off_slot,
                not same_weekday,
                not same_week,
                not same_slot,
                site == 0,
                abs((day - session.date).days),
                day,
                slot.start,
            )
            found.append(
                (
                    key,
                    Alternative(
                        day,
                        candidate.start,
                        candidate.end,
                        not candidate.moved_out_of_period,
                        ", ".join(reasons),
                    ),
                )
            )
    found.sort(key=lambda item: item[0])
    return [alternative for _, alternative in found[:count]]


def already_there(session: Session, new_date: date, new_start: time | None) -> bool:
    """A move to the session's current date and slot changes nothing: it is not recorded
    (running a move again, e.g. after an interruption, never adds a second history entry).
    A cancelled session put back on its old date is a real change."""
    return session.occupies_time and (session.date, session.start) == (
        new_date,
        new_start or session.start,
    )


def reschedule(
    session: Session,
    new_date: date,
    new_start: time | None,
    requested_on: date,
    by: Party,
    reason: str | None,
    allow_move_out: bool,
    others: list[Session],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
) -> Session:
    """Move a session (art. 2.1), or raise :class:`RuleRefused` with the exact reason.

    The request must give the convention's notice before the session's current date (a
    session cancelled with notice may be rescheduled later without it); the new date must
    come after the request and obey every hard rule; leaving the period needs
    ``allow_move_out`` and is flagged.
    """
    convention = conventions[session.convention]
    if session.status == "due":
        raise RuleRefused(
            cited(
                f"{session.id} was cancelled and is due: it cannot move", convention, "cancellation"
            )
        )
    if move_needs_notice(session) and (
        problem := notice_problem(session, convention, requested_on)
    ):
        raise RuleRefused(problem)
    if new_date <= requested_on:
        raise RuleRefused(
            f"the new date {new_date} must come after the request date {requested_on}"
        )
    start = new_start or session.start
    candidate = moved_to(session, new_date, start, convention)
    if candidate.moved_out_of_period and not allow_move_out:
        raise RuleRefused(
            f"{new_date} is outside the session's period {session.period}; "
            "use --allow-move-out to move it anyway (the move is flagged)"
        )
    problems = placement_problems(candidate, others, conventions, practitioner)
    if problems:
        raise RuleRefused(
            f"{session.id} cannot move to {new_date} {start:%H:%M}: " + "; ".join(problems)
        )
    # the report of a cancellation awaiting it keeps the notice of the cancellation
    given = (
        report_notice_days(session)
        if session.status == "report-pending"
        else notice_days(session, requested_on)
    )
    return moved(session, candidate, requested_on, by, reason, given)


def record_held_on(
    session: Session,
    day: date,
    start: time | None,
    today: date,
    others: list[Session],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
) -> Session:
    """The session as it really took place, on ``day`` (and at ``start``), recorded after
    the fact by the practitioner: a move in its history, the hard rules still holding (a
    session that broke one means the record is wrong elsewhere: fix that first)."""
    convention = conventions[session.convention]
    candidate = moved_to(session, day, start or session.start, convention)
    problems = placement_problems(candidate, others, conventions, practitioner)
    if problems:
        raise RuleRefused(
            f"{session.id} cannot be recorded on {day} {candidate.start:%H:%M}: "
            + "; ".join(problems)
        )
    return moved(
        session,
        candidate,
        today,
        "practitioner",
        f"tenue le {day.isoformat()} (enregistrée après la séance)",
        notice_days(session, today),
    )


@dataclass(frozen=True)
class CancellationResult:
    """A cancelled session, its status (art. 4), the notice given, and the dates left in its
    period for a report (best first) while one is pending."""

    session: Session
    status: Literal["cancelled", "report-pending", "due"]
    notice_days: int
    reports: list[Alternative]

    @property
    def due(self) -> bool:
        return self.status == "due"


def already_cancelled(session: Session, by: Party, requested_on: date, reason: str | None) -> bool:
    """The same cancellation was already recorded (same party, request date and reason): running
    it again, e.g. after an interruption, changes nothing."""
    if session.status not in ("cancelled", "report-pending", "due") or not session.history:
        return False
    last = session.history[-1]
    return (last.action, last.by, last.requested_on, last.reason) == (
        "cancelled",
        by,
        requested_on,
        reason,
    )


def cancel(
    session: Session,
    by: Party,
    requested_on: date,
    reason: str | None,
    others: list[Session],
    conventions: dict[str, Convention],
    practitioner: Practitioner,
    no_report: bool = False,
    count: int = 5,
) -> CancellationResult:
    """Cancel a session, as art. 4 says (:func:`~apptool.domain.contract.cancellation_status`).

    By the establishment, under the clause: while a valid date is left in the session's
    period for a report (and the cancellation gave the notice a date change needs), the
    session is ``report-pending`` with those dates; otherwise, or with ``no_report``, it is
    ``due``. A pending session becomes ``due`` when the establishment's cancellation is
    recorded again with ``no_report``.
    """
    convention = conventions[session.convention]
    if session.status == "report-pending":
        if not (by == "establishment" and no_report):
            raise RuleRefused(
                f"{session.id} is already cancelled, its report pending: move it (apptool "
                "reschedule), or record that no report is possible (apptool cancel "
                f"{session.id} --by establishment --no-report)"
            )
        given = report_notice_days(session)
        return _cancelled(
            session, "due", by, requested_on, reason or "aucun report possible", given, []
        )
    if session.status in ("cancelled", "due"):
        raise RuleRefused(
            f"{session.id} is already {session.status} (since the request of "
            f"{session.history[-1].requested_on})"
            if session.history
            else f"{session.id} is already {session.status}"
        )
    if requested_on > session.date:
        raise RuleRefused(
            f"{session.id} took place on {session.date}, before the request date {requested_on}"
        )
    given = notice_days(session, requested_on)
    reports: list[Alternative] = []
    if by == "establishment" and not no_report and notice_respected(given, convention):
        found = alternatives(session, others, conventions, practitioner, requested_on, 100)
        reports = [a for a in found if a.in_period][:count]
    status = cancellation_status(
        by, convention, report_possible(given, convention, bool(reports)), no_report
    )
    return _cancelled(
        session,
        status,
        by,
        requested_on,
        reason,
        given,
        reports if status == "report-pending" else [],
    )


def _cancelled(
    session: Session,
    status: Literal["cancelled", "report-pending", "due"],
    by: Party,
    requested_on: date,
    reason: str | None,
    given: int,
    reports: list[Alternative],
) -> CancellationResult:
    updated = with_change(session, session, "cancelled", status, requested_on, by, reason, given)
    return CancellationResult(updated, status, given, reports)


def terminate_sessions(
    sessions: list[Session],
    convention_id: str,
    end: date,
    notice_on: date,
    by: Party | None,
    reason: str,
) -> list[Session]:
    """Cancel (not due) every session of the convention after its effective end."""
    cancelled = []
    for session in sessions:
        if (
            session.convention != convention_id
            or session.date <= end
            or session.status in ("cancelled", "report-pending", "due")
        ):
            continue
        given = notice_days(session, notice_on)
        cancelled.append(
            with_change(session, session, "cancelled", "cancelled", notice_on, by, reason, given)
        )
    return cancelled


#: The reason a termination records on each session it cancels (then cited with its clause).
TERMINATION_REASONS = {
    False: "résiliation de la convention",
    True: "résiliation pour force majeure",
}


def termination_reason(convention: Convention, force_majeure: bool) -> str:
    """``résiliation de la convention (art. 9.3)``: the reason of its cancellations."""
    return cited(TERMINATION_REASONS[force_majeure], convention, "termination")


def _is_termination_change(change: Change, termination: Termination) -> bool:
    """The history entry :func:`terminate_sessions` wrote for this termination."""
    return (
        change.action == "cancelled"
        and change.status == "cancelled"
        and change.requested_on == termination.notice_on
        and change.by == termination.by
        and change.previous_date > termination.effective_end
        and (change.reason or "").startswith(TERMINATION_REASONS[termination.force_majeure])
    )


def cancelled_by(session: Session, termination: Termination) -> bool:
    """The session was cancelled by this termination and left untouched since: it is still
    cancelled and the termination's cancellation is the last entry of its history."""
    return (
        session.convention == termination.convention
        and session.status == "cancelled"
        and bool(session.history)
        and _is_termination_change(session.history[-1], termination)
    )


def changed_since(session: Session, termination: Termination) -> bool:
    """The termination cancelled the session, and the session changed since (moved to
    another date, say): withdrawing the termination leaves it as it is."""
    restorations = [i for i, c in enumerate(session.history) if c.action == "restored"]
    since = session.history[restorations[-1] + 1 :] if restorations else session.history
    return (
        session.convention == termination.convention
        and not cancelled_by(session, termination)
        and any(_is_termination_change(c, termination) for c in since)
    )


def withdrawal_problem(termination: Termination, today: date) -> str | None:
    """A termination can be withdrawn only before its effective end (art. 9.3): from that
    day on, the convention has ended and only a new one can follow; and only once it was
    notified (a withdrawal dated before the notice withdraws nothing)."""
    if today < termination.notice_on:
        return (
            f"{termination.convention}: the termination was notified on "
            f"{termination.notice_on}, after today ({today}): it is withdrawn once notified"
        )
    if today < termination.effective_end:
        return None
    return (
        f"{termination.convention}: the termination (notice on {termination.notice_on}) "
        f"takes effect on {termination.effective_end} and today is {today}: a termination "
        "can be withdrawn only before its effective end"
    )


@dataclass(frozen=True)
class Restoration:
    """What withdrawing a termination does to its sessions: the sessions given back, and
    those left as they are, with why."""

    restored: list[Session]
    left: list[tuple[Session, str]]


def restore_sessions(
    sessions: list[Session],
    termination: Termination,
    today: date,
    by: Party | None,
    conventions: dict[str, Convention],
    practitioner: Practitioner,
) -> Restoration:
    """Give back the sessions a withdrawn termination cancelled, in their state before it.

    Only the sessions it cancelled and left untouched since (:func:`cancelled_by`) come
    back, with a ``restored`` entry after the cancellation in their history (nothing is
    erased; the iCalendar SEQUENCE keeps growing). A session whose date has passed, or whose
    slot another session took meanwhile (every hard rule must still hold, with
    ``conventions`` as they are without the termination), stays cancelled; one that changed
    since the termination is left as it is. ``sessions`` is the whole record.
    """
    restored: list[Session] = []
    left: list[tuple[Session, str]] = []
    current = {s.id: s for s in sessions}
    for session in sorted(sessions, key=lambda s: (s.date, s.start, s.id)):
        if changed_since(session, termination):
            left.append((session, f"changed since the termination ({session.status})"))
            continue
        if not cancelled_by(session, termination):
            continue
        if session.date <= today:
            left.append((session, f"its date {session.date} has passed"))
            continue
        before = session.history[-2].status if len(session.history) > 1 else "planned"
        status: SessionStatus = before if before in ("planned", "moved") else "planned"
        reason = f"retrait de la résiliation notifiée le {termination.notice_on.isoformat()}"
        given = notice_days(session, today)
        candidate = with_change(session, session, "restored", status, today, by, reason, given)
        others = [s for s in current.values() if s.id != session.id]
        problems = placement_problems(candidate, others, conventions, practitioner)
        if problems:
            left.append((session, "; ".join(problems)))
            continue
        current[session.id] = candidate
        restored.append(candidate)
    return Restoration(restored, left)
