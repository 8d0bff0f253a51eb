"""After publication: moving, cancelling, terminating. The contract's rules as pure functions.

* art. 2.1: a date moves only with the convention's notice (15 days) and mutual agreement;
* art. 4: a session cancelled by the establishment without possible rescheduling stays due;
* art. 9.3: termination at the end of a month with one month's notice, or 15 days' notice
  in case of force majeure.

Nothing here reads or writes files: the caller passes the sessions and saves the result.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from dateutil.relativedelta import relativedelta

from .calendar_fr import days_of_month
from .errors import RuleRefused
from .models import Convention, Practitioner, minutes
from .planner import usual_habits
from .rules import (
    clash,
    day_problem,
    eligible_months,
    period_problem,
    session_booking,
    slot_problem,
)
from .schedule import Change, Party, Period, Session, SessionStatus

FORCE_MAJEURE_NOTICE_DAYS = 15  # art. 9.3


def notice_days(session: Session, requested_on: date) -> int:
    """Days between the request and the session's current date."""
    return (session.date - requested_on).days


def notice_problem(session: Session, convention: Convention, requested_on: date) -> str | None:
    """Art. 2.1: a session moves only if asked at least ``notice_days`` before its date."""
    given = notice_days(session, requested_on)
    if given < convention.notice_days:
        return (f"requested {requested_on} for a session on {session.date}: {given} days' "
                f"notice, the convention requires {convention.notice_days} (art. 2.1)")
    return None


def placement_problems(candidate: Session, others: Iterable[Session],
                       conventions: dict[str, Convention],
                       practitioner: Practitioner) -> list[str]:
    """Every hard rule of the planner that ``candidate`` breaks among the ``others``."""
    convention = conventions[candidate.convention]
    problems = [p for p in (slot_problem(candidate, convention),
                            day_problem(candidate, convention, practitioner),
                            period_problem(candidate, convention)) if p]
    same_day = [o for o in others if o.date == candidate.date and o.occupies_time
                and o.id != candidate.id]
    limit = practitioner.max_sessions_per_day
    if limit is not None and len(same_day) >= limit:
        problems.append(f"{candidate.date} already has {len(same_day)} sessions, the profile "
                        f"allows {limit} a day")
    mine = session_booking(candidate)
    for other in sorted(same_day, key=lambda s: (s.start, s.id)):
        reason = clash(session_booking(other), mine, practitioner.travel_minutes)
        if reason:
            problems.append(f"{candidate.date} {candidate.start:%H:%M}: {reason} with "
                            f"{other.id} ({other.start:%H:%M}-{other.end:%H:%M})")
    return problems


def in_period(session: Session, convention: Convention, day: date) -> bool:
    period = Period.parse(session.period)
    return day.year == period.year and day.month in eligible_months(
        convention, period, convention.group(session.group))


def moved_to(session: Session, day: date, start: time, convention: Convention) -> Session:
    """The session at another date and start, its end from the convention's duration."""
    end_minutes = minutes(start) + convention.session_duration
    return session.model_copy(update={
        "date": day, "start": start, "end": time(end_minutes // 60, end_minutes % 60),
        "moved_out_of_period": not in_period(session, convention, day),
    })


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


def alternatives(session: Session, others: list[Session], conventions: dict[str, Convention],
                 practitioner: Practitioner, requested_on: date, count: int = 5,
                 ) -> list[Alternative]:
    """The best valid new positions for ``session``, best first.

    Each obeys every hard rule and falls after the request date. Ranked by: same period
    first, then the group's usual weekday and week of the month, then its usual slot, then
    gathered with other sessions at the same site, then closeness to the current date.
    """
    convention = conventions[session.convention]
    group_key = (session.convention, session.group)
    history = [(o.date, o.start_minutes, o.period) for o in others
               if (o.convention, o.group) == group_key and o.id != session.id and o.occupies_time]
    found = []
    for day in _candidate_days(session, convention, requested_on):
        for slot in sorted(convention.slots):
            if (day, slot.start) == (session.date, session.start) and session.occupies_time:
                continue
            candidate = moved_to(session, day, slot.start, convention)
            if placement_problems(candidate, others, conventions, practitioner):
                continue
            usual = usual_habits(history, day)
            week = (day.day - 1) // 7 + 1
            same_weekday = usual.day is not None and usual.day[0] == day.weekday()
            same_week = usual.day is not None and usual.day[1] == week
            same_slot = usual.start == minutes(slot.start)
            site = sum(1 for o in others if o.date == day and o.occupies_time
                       and (o.convention, o.location) == (session.convention, session.location))
            reasons = ["same period" if not candidate.moved_out_of_period
                       else "outside its period (needs --allow-move-out)"]
            if same_weekday:
                reasons.append(f"usual {day:%A}" + (f" (week {week} of the month)"
                                                     if same_week else ""))
            if same_slot:
                reasons.append("usual slot")
            if site:
                reasons.append(f"with {site} other session(s) at this site")
            key = (candidate.moved_out_of_period, not same_weekday, not same_week,
                   not same_slot, site == 0, abs((day - session.date).days), day, slot.start)
            found.append((key, Alternative(day, candidate.start, candidate.end,
                                           not candidate.moved_out_of_period,
                                           ", ".join(reasons))))
    found.sort(key=lambda item: item[0])
    return [alternative for _, alternative in found[:count]]


def reschedule(session: Session, new_date: date, new_start: time | None, requested_on: date,
               by: Party, reason: str | None, allow_move_out: bool, others: list[Session],
               conventions: dict[str, Convention], practitioner: Practitioner) -> Session:
    """Move a session (art. 2.1), or raise :class:`RuleRefused` with the exact reason.

    The request must give the convention's notice before the session's current date (a
    session cancelled with notice may be rescheduled later without it); the new date must
    come after the request and obey every hard rule; leaving the period needs
    ``allow_move_out`` and is flagged.
    """
    convention = conventions[session.convention]
    if session.status == "due":
        raise RuleRefused(f"{session.id} was cancelled and is due (art. 4); it cannot move")
    if session.status != "cancelled" and (problem := notice_problem(session, convention,
                                                                     requested_on)):
        raise RuleRefused(problem)
    if new_date <= requested_on:
        raise RuleRefused(f"the new date {new_date} must come after the request date "
                          f"{requested_on}")
    start = new_start or session.start
    candidate = moved_to(session, new_date, start, convention)
    if candidate.moved_out_of_period and not allow_move_out:
        raise RuleRefused(f"{new_date} is outside the session's period {session.period}; "
                          "use --allow-move-out to move it anyway (the move is flagged)")
    problems = placement_problems(candidate, others, conventions, practitioner)
    if problems:
        raise RuleRefused(f"{session.id} cannot move to {new_date} {start:%H:%M}: "
                          + "; ".join(problems))
    change = Change(action="moved", requested_on=requested_on, by=by, reason=reason,
                    notice_days=notice_days(session, requested_on), status="moved",
                    previous_date=session.date, previous_start=session.start,
                    previous_end=session.end)
    return candidate.model_copy(update={"status": "moved",
                                        "history": [*session.history, change]})


@dataclass(frozen=True)
class Cancellation:
    session: Session
    due: bool
    notice_days: int


def cancel(session: Session, by: Party, requested_on: date, reason: str | None,
           convention: Convention) -> Cancellation:
    """Cancel a session. By the establishment with less than the notice: due (art. 4).

    Whether such a cancellation is due comes from the convention's
    ``cancellation.by_establishment_without_rescheduling``; a cancellation by the
    practitioner, or with enough notice, is never due.
    """
    if session.status in ("cancelled", "due"):
        raise RuleRefused(f"{session.id} is already {session.status}")
    if requested_on > session.date:
        raise RuleRefused(f"{session.id} took place on {session.date}, before the request "
                          f"date {requested_on}")
    given = notice_days(session, requested_on)
    due = (by == "establishment" and given < convention.notice_days
           and convention.cancellation.by_establishment_without_rescheduling == "due")
    status: SessionStatus = "due" if due else "cancelled"
    change = Change(action="cancelled", requested_on=requested_on, by=by, reason=reason,
                    notice_days=given, status=status, previous_date=session.date,
                    previous_start=session.start, previous_end=session.end)
    updated = session.model_copy(update={"status": status,
                                         "history": [*session.history, change]})
    return Cancellation(updated, due, given)


def termination_end(notice_on: date, force_majeure: bool = False) -> date:
    """Effective end of a convention terminated on ``notice_on`` (art. 9.3).

    At the end of the month, with one month's notice: the last day of the month in which
    the month of notice ends (notice on 2026-03-10 -> 2026-04-30). Force majeure: 15 days'
    notice (notice on 2026-03-10 -> 2026-03-25).
    """
    if force_majeure:
        return notice_on + timedelta(days=FORCE_MAJEURE_NOTICE_DAYS)
    after = notice_on + relativedelta(months=1)
    return after.replace(day=_calendar.monthrange(after.year, after.month)[1])


def terminate_sessions(sessions: list[Session], convention_id: str, end: date,
                       notice_on: date, by: Party | None, reason: str) -> list[Session]:
    """Cancel (not due) every session of the convention after its effective end."""
    cancelled = []
    for session in sessions:
        if (session.convention != convention_id or session.date <= end
                or session.status in ("cancelled", "due")):
            continue
        change = Change(action="cancelled", requested_on=notice_on, by=by, reason=reason,
                        notice_days=notice_days(session, notice_on), status="cancelled",
                        previous_date=session.date, previous_start=session.start,
                        previous_end=session.end)
        cancelled.append(session.model_copy(update={
            "status": "cancelled", "history": [*session.history, change]}))
    return cancelled
