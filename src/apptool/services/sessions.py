"""Use cases after publication: reschedule, cancel, sessions, individual consultations,
terminate. They load, decide with the domain, write through the store, and return data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from pydantic import ValidationError

from apptool.domain import lifecycle
from apptool.domain.contract import (
    effective_termination,
    is_active,
    term_text,
    termination_end,
)
from apptool.domain.hard_rules import consultation_problems
from apptool.domain.models import Convention, date_range_problem
from apptool.domain.records import (
    IndividualConsultation,
    IndividualConsultations,
    Termination,
    Terminations,
)
from apptool.domain.register import billed_change_refusal
from apptool.domain.schedule import Party, Session, confirmed, recorded_on
from apptool.errors import InvalidInput, Problem, RuleRefused, did_you_mean
from apptool.services.common import known_convention
from apptool.store.calendars import load_calendars
from apptool.store.records import INDIVIDUAL, RECORDS, TERMINATIONS, load_records, write_records
from apptool.store.register import load_register
from apptool.store.workspace import Workspace, load_workspace, locked


@dataclass
class RescheduleOutcome:
    before: Session
    after: Session | None
    alternatives: list[lifecycle.Alternative]
    requested_on: date
    written: list[Path] = field(default_factory=list)
    #: The session already was at the new date and slot: nothing changed, nothing recorded.
    already: bool = False


def reschedule(
    root: Path,
    session_id: str,
    today: date,
    to: date | None = None,
    start: time | None = None,
    requested_on: date | None = None,
    by: Party = "establishment",
    reason: str | None = None,
    allow_move_out: bool = False,
    count: int = 5,
    dry_run: bool = False,
) -> RescheduleOutcome:
    """``apptool reschedule``: list the best alternatives, or move the session (art. 2.1)."""
    requested = requested_on or today
    with locked(root):
        record = load_calendars(root)
        ws = record.workspace
        session = record.find(session_id)
        others = record.others(session)
        if to is None:
            found = lifecycle.alternatives(
                session, others, ws.conventions, ws.practitioner, requested, count
            )
            return RescheduleOutcome(session, None, found, requested)
        if lifecycle.already_there(session, to, start):
            return RescheduleOutcome(session, session, [], requested, already=True)
        _refuse_if_billed(root, session, "move it and invoice the month again")
        moved = lifecycle.reschedule(
            session,
            to,
            start,
            requested,
            by,
            reason,
            allow_move_out,
            others,
            ws.conventions,
            ws.practitioner,
        )
        moved = recorded_on(moved, today)
        outcome = RescheduleOutcome(session, moved, [], requested)
        if not dry_run:
            outcome.written = record.save(record.replace(moved))
        return outcome


def _refuse_if_billed(root: Path, session: Session, change: str) -> None:
    """Refuse to ``change`` a session an issued invoice bills
    (:func:`~apptool.domain.register.billed_change_refusal`), as a consultation is."""
    refusal = billed_change_refusal(load_register(root, strict=True), session.id, change)
    if refusal is not None:
        raise RuleRefused(refusal)


@dataclass
class CancelOutcome:
    cancellation: lifecycle.CancellationResult
    alternatives: list[lifecycle.Alternative]
    written: list[Path] = field(default_factory=list)
    #: The same cancellation was already recorded: nothing changed.
    already: bool = False


def cancel(
    root: Path,
    session_id: str,
    by: Party,
    today: date,
    requested_on: date | None = None,
    reason: str | None = None,
    dry_run: bool = False,
    no_report: bool = False,
) -> CancelOutcome:
    """``apptool cancel``: cancelled, report pending (with the dates left for it) or due, as
    art. 4 says; for a cancellation that is not due, the alternatives to reschedule it."""
    requested = requested_on or today
    with locked(root):
        record = load_calendars(root)
        ws = record.workspace
        session = record.find(session_id)
        others = record.others(session)
        pending_made_due = no_report and session.status == "report-pending"
        if not pending_made_due and lifecycle.already_cancelled(session, by, requested, reason):
            last = session.history[-1]
            status = session.status
            assert status in ("cancelled", "report-pending", "due")
            result = lifecycle.CancellationResult(session, status, last.notice_days, [])
            return CancelOutcome(result, [], already=True)
        _refuse_if_billed(root, session, "cancel it and invoice the month again")
        result = lifecycle.cancel(
            session, by, requested, reason, others, ws.conventions, ws.practitioner, no_report
        )
        found = result.reports
        if result.status == "cancelled":
            found = lifecycle.alternatives(
                session, others, ws.conventions, ws.practitioner, requested
            )
        outcome = CancelOutcome(result, found)
        if not dry_run:
            outcome.written = record.save(record.replace(result.session))
        return outcome


def list_sessions(
    root: Path,
    today: date,
    month: str | None = None,
    convention: str | None = None,
    status: str | None = None,
    year: int | None = None,
) -> tuple[Workspace, list[Session]]:
    """``apptool sessions``: the record's sessions, filtered, in date order."""
    record = load_calendars(root)
    if convention is not None:
        known_convention(record.workspace, convention)
    sessions = [
        s
        for s in record.sessions
        if (month is None or f"{s.date:%Y-%m}" == month)
        and (year is None or s.date.year == year)
        and (convention is None or s.convention == convention)
        and (status is None or s.display_status(today) == status)
    ]
    return record.workspace, sorted(sessions, key=lambda s: (s.date, s.start, s.id))


@dataclass
class IndividualOutcome:
    consultation: IndividualConsultation
    warnings: list[str]
    #: False when an identical consultation was already recorded: nothing written.
    recorded: bool = True


def add_individual(
    root: Path,
    convention: str,
    day: date,
    duration: int,
    ref: str | None = None,
    requested_by: str | None = None,
    start: time | None = None,
    place: str = "office",
    force: bool = False,
    again: bool = False,
) -> IndividualOutcome:
    """``apptool individual add``: record an anonymous consultation (art. 1.2, 2.2).

    A non-working day, a public holiday, an absence, a closure, or an overlap with a group
    session (travel included) refuses it, unless ``force`` records it with those warnings.
    A consultation identical to one already recorded (same convention, date, duration, code,
    requester, time and place) is taken as the same one, e.g. the command run again after an
    interruption, and not recorded twice, unless ``again`` (two identical consultations).
    """
    with locked(root):
        calendars = load_calendars(root)
        workspace = calendars.workspace
        agreement = known_convention(workspace, convention)
        if place != "office" and place not in {loc.id for loc in agreement.locations}:
            known = ["office", *(loc.id for loc in agreement.locations)]
            raise InvalidInput(f"unknown place {place!r}" + did_you_mean(place, known))
        if agreement.fees.individual is None:
            raise RuleRefused(
                f"convention {convention!r} sets no fee for individual consultations "
                "(fees.individual): a consultation there could never be billed; record it "
                "under the convention that provides them"
            )
        if not is_active(agreement, day):
            raise RuleRefused(
                f"{day} is outside the period of convention {convention!r} ({term_text(agreement)})"
            )
        records = load_records(root, INDIVIDUAL, IndividualConsultations)
        same_day = [
            c for c in records.consultations if c.convention == convention and c.date == day
        ]
        removed = [c for c in records.removed if c.convention == convention and c.date == day]
        identical = [
            c
            for c in same_day
            if (c.duration, c.ref, c.requested_by, c.start, c.place)
            == (duration, ref, requested_by, start, place)
        ]
        if identical and not again:
            return IndividualOutcome(identical[-1], [], recorded=False)
        try:
            consultation = IndividualConsultation(
                id=f"{convention}/individual/{day}/{_next_number([*same_day, *removed])}",
                convention=convention,
                date=day,
                duration=duration,
                ref=ref,
                requested_by=requested_by,  # type: ignore[arg-type]
                start=start,
                place=place,
            )
        except ValidationError as exc:
            raise InvalidInput(
                "invalid consultation",
                [
                    Problem(
                        "individual add",
                        None,
                        "--" + str(e["loc"][0]).replace("_", "-"),
                        str(e["msg"]).removeprefix("Value error, "),
                    )
                    for e in exc.errors()
                ],
            ) from None
        problems = consultation_problems(
            consultation,
            calendars.sessions,
            workspace.conventions,
            workspace.practitioner,
            records.consultations,
        )
        if problems and not force:
            raise RuleRefused(
                f"{day}: " + "; ".join(problems) + " (use --force to record it anyway)"
            )
        consultations = sorted([*records.consultations, consultation], key=lambda c: (c.date, c.id))
        write_records(
            root,
            INDIVIDUAL,
            IndividualConsultations(consultations=consultations, removed=records.removed),
        )
        return IndividualOutcome(consultation, problems)


def _next_number(same_day: list[IndividualConsultation]) -> int:
    """The number of a day's next consultation: one more than the highest (ids end in /N),
    removed consultations included, so that an id is never given twice."""
    numbers = [
        int(match[1]) for c in same_day if (match := re.search(r"/([0-9]{1,6})$", c.id)) is not None
    ]
    return max(numbers, default=len(same_day)) + 1


def list_individual(
    root: Path, convention: str | None = None, month: str | None = None
) -> list[IndividualConsultation]:
    """``apptool individual list``: the recorded consultations, in date order."""
    load_workspace(root)
    records = load_records(root, INDIVIDUAL, IndividualConsultations)
    return [
        c
        for c in records.consultations
        if (convention is None or c.convention == convention)
        and (month is None or f"{c.date:%Y-%m}" == month)
    ]


@dataclass
class RemoveOutcome:
    consultation: IndividualConsultation
    written: list[Path] = field(default_factory=list)
    #: It was already removed (the command run again): nothing changed.
    already: bool = False
    #: The practitioner did not confirm: nothing written.
    declined: bool = False


def remove_individual(
    root: Path,
    consultation_id: str,
    today: date,
    reason: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[IndividualConsultation], bool] | None = None,
) -> RemoveOutcome:
    """``apptool individual remove``: take out a consultation entered by mistake.

    It is kept as a trace under ``removed:`` in ``records/individual.yaml`` (with ``today``
    and the reason), no longer listed, billed or counted, and its id is never given again.
    Refused while an issued invoice that no credit note cancels bills it: what is issued is
    never changed. ``confirm`` is asked (under the lock, before anything is written) with the
    consultation about to be removed; when it says no, nothing is written.
    """
    with locked(root):
        load_workspace(root)
        records = load_records(root, INDIVIDUAL, IndividualConsultations)
        consultation = records.find(consultation_id)
        if consultation is None:
            removed = records.find_removed(consultation_id)
            if removed is not None:
                return RemoveOutcome(removed, already=True)
            known = [c.id for c in records.consultations]
            raise InvalidInput(
                f"unknown consultation {consultation_id!r}"
                + did_you_mean(consultation_id, known)
                + " (see `apptool individual list`)"
            )
        refusal = billed_change_refusal(
            load_register(root, strict=True),
            consultation.id,
            "remove the consultation and invoice the month again",
        )
        if refusal is not None:
            raise RuleRefused(refusal)
        if dry_run:
            return RemoveOutcome(consultation)
        if confirm is not None and not confirm(consultation):
            return RemoveOutcome(consultation, declined=True)
        path = write_records(root, INDIVIDUAL, records.without(consultation.id, today, reason))
        return RemoveOutcome(consultation, [path])


@dataclass
class TerminateOutcome:
    termination: Termination
    cancelled: list[Session]
    written: list[Path] = field(default_factory=list)
    #: The same termination was already recorded (running it again finishes what an
    #: interrupted run left, and records nothing twice).
    already: bool = False
    #: The practitioner did not confirm: nothing written.
    declined: bool = False


def terminate(
    root: Path,
    convention: str,
    notice_on: date,
    force_majeure: bool = False,
    by: Party | None = None,
    dry_run: bool = False,
    confirm: Callable[[TerminateOutcome], bool] | None = None,
) -> TerminateOutcome:
    """``apptool terminate``: record the effective end (art. 9.3), cancel later sessions.

    ``confirm`` is asked (under the lock, before anything is written) with the termination
    and the sessions it is about to cancel; when it says no, nothing is written. It is not
    asked when there is nothing to write (a dry run, the same termination already done).
    """
    with locked(root):
        record = load_calendars(root)
        ws = record.workspace
        known_convention(ws, convention)
        recorded = load_records(root, TERMINATIONS, Terminations)
        previous = recorded.active(convention)
        same = [t for t in previous if (t.notice_on, t.force_majeure) == (notice_on, force_majeure)]
        if previous and not same:
            raise RuleRefused(
                f"convention {convention!r} was already terminated (notice on "
                f"{previous[0].notice_on}, effective end "
                f"{previous[0].effective_end})"
            )
        end = termination_end(notice_on, force_majeure)
        if (problem := date_range_problem(end)) is not None:
            raise InvalidInput(f"notice on {notice_on}: the effective end {problem}")
        if end < ws.conventions[convention].period.start:
            raise RuleRefused(
                f"the effective end {end} comes before the convention starts "
                f"({ws.conventions[convention].period.start})"
            )
        termination = Termination(
            convention=convention,
            notice_on=notice_on,
            force_majeure=force_majeure,
            by=by,
            effective_end=end,
        )
        reason = lifecycle.termination_reason(ws.conventions[convention], force_majeure)
        cancelled = lifecycle.terminate_sessions(
            record.sessions, convention, end, notice_on, by, reason
        )
        if cancelled:
            register = load_register(root, strict=True)
            for session in cancelled:
                refusal = billed_change_refusal(register, session.id, "record the termination")
                if refusal is not None:
                    raise RuleRefused(
                        f"the termination would cancel {session.id}, after its effective end "
                        f"{end}; but {refusal}"
                    )
        outcome = TerminateOutcome(termination, cancelled, already=bool(same))
        if dry_run or (same and not cancelled):
            return outcome
        if confirm is not None and not confirm(outcome):
            outcome.declined = True
            return outcome
        # Calendars first: if interrupted, running the command again finishes the job
        # (sessions already cancelled are not cancelled twice).
        outcome.written = record.save(record.replace(*cancelled))
        if not same:
            write_records(
                root,
                TERMINATIONS,
                Terminations(terminations=[*recorded.terminations, termination]),
            )
            outcome.written.append(ws.root / RECORDS / TERMINATIONS)
        return outcome


@dataclass
class WithdrawOutcome:
    """What ``apptool terminate --undo`` did: the termination as now recorded (withdrawn),
    the sessions given back and those left cancelled, with why."""

    termination: Termination
    restoration: lifecycle.Restoration
    #: The convention's term once the termination is withdrawn, in words.
    term: str
    written: list[Path] = field(default_factory=list)
    #: The termination was already withdrawn (the command run again): nothing changed.
    already: bool = False
    #: The practitioner did not confirm: nothing written.
    declined: bool = False


def _without_termination(
    workspace: Workspace, recorded: Terminations, withdrawn: Termination
) -> Convention:
    """The convention as its file declares it, with the recorded terminations still in force
    other than ``withdrawn`` (the tool records one at a time; a hand edit may add more)."""
    convention = workspace.without_recorded_termination(withdrawn.convention)
    others = [t.effective_end for t in recorded.active(withdrawn.convention) if t != withdrawn]
    end = effective_termination(convention.period.termination, *others)
    return convention.model_copy(
        update={"period": convention.period.model_copy(update={"termination": end})}
    )


def withdraw_termination(
    root: Path,
    convention: str,
    today: date,
    by: Party | None = None,
    dry_run: bool = False,
    confirm: Callable[[WithdrawOutcome], bool] | None = None,
) -> WithdrawOutcome:
    """``apptool terminate CONVENTION --undo``: withdraw the recorded termination before its
    effective end (art. 9.3).

    The termination stays in ``records/terminations.yaml``, marked ``withdrawn_on`` (and
    ``withdrawn_by``), and no longer ends the convention: its end is again what its file
    declares. The sessions it cancelled that are untouched since and still to come are
    given back (a ``restored`` entry follows the cancellation in their history); the others
    are left as they are, with why (:func:`~apptool.domain.lifecycle.restore_sessions`).
    ``confirm`` is asked under the lock before anything is written.
    """
    with locked(root):
        record = load_calendars(root)
        ws = record.workspace
        known_convention(ws, convention)
        recorded = load_records(root, TERMINATIONS, Terminations)
        active = recorded.active(convention)
        if not active:
            mine = [t for t in recorded.terminations if t.convention == convention]
            if mine:
                last = mine[-1]
                restoration = lifecycle.Restoration([], [])
                term = term_text(ws.conventions[convention])
                return WithdrawOutcome(last, restoration, term, already=True)
            declared = ws.declared_terminations.get(convention)
            raise RuleRefused(
                f"convention {convention!r} has no recorded termination to withdraw"
                + (
                    f" (its end {declared} is written in its file conventions/{convention}.yaml:"
                    " change it there)"
                    if declared is not None
                    else ""
                )
            )
        termination = active[-1]
        if (problem := lifecycle.withdrawal_problem(termination, today)) is not None:
            raise RuleRefused(problem)
        restored_convention = _without_termination(ws, recorded, termination)
        conventions = {**ws.conventions, convention: restored_convention}
        restoration = lifecycle.restore_sessions(
            record.sessions, termination, today, by, conventions, ws.practitioner
        )
        withdrawn = termination.model_copy(update={"withdrawn_on": today, "withdrawn_by": by})
        outcome = WithdrawOutcome(withdrawn, restoration, term_text(restored_convention))
        if dry_run:
            return outcome
        if confirm is not None and not confirm(outcome):
            outcome.declined = True
            return outcome
        # Calendars first: if interrupted, running the command again finishes the job (the
        # sessions already restored are no longer the termination's cancellations).
        outcome.written = record.save(record.replace(*restoration.restored))
        index = recorded.terminations.index(termination)
        terminations = list(recorded.terminations)
        terminations[index] = withdrawn
        write_records(root, TERMINATIONS, Terminations(terminations=terminations))
        outcome.written.append(ws.root / RECORDS / TERMINATIONS)
        return outcome


@dataclass
class HeldOutcome:
    confirmed: list[Session]
    already: list[Session]
    written: list[Path] = field(default_factory=list)


def confirm_held(
    root: Path,
    session_ids: list[str],
    today: date,
    on: date | None = None,
    start: time | None = None,
    dry_run: bool = False,
) -> HeldOutcome:
    """``apptool held ID...``: confirm that sessions took place, so that they can be billed.

    A session written into the calendar after its date (a plan made after the fact) is
    ``unconfirmed`` and never billed until confirmed. With ``on`` (one session), it took
    place that day (and at ``start``): the record is corrected, as a move the practitioner
    made, and every hard rule still holds.
    """
    if on is not None and len(session_ids) != 1:
        raise InvalidInput("--on gives the day one session took place: name one session")
    with locked(root):
        record = load_calendars(root)
        ws = record.workspace
        sessions = [record.find(session_id) for session_id in dict.fromkeys(session_ids)]
        done, already = [], []
        for session in sessions:
            if not session.occupies_time:
                raise RuleRefused(f"{session.id} was {session.status}: it did not take place")
            day = on or session.date
            if day >= today:
                raise RuleRefused(
                    f"{session.id}: {day} is not past (today is {today}): confirm a session "
                    "once it has taken place"
                )
            if on is not None and (on, start or session.start) != (session.date, session.start):
                _refuse_if_billed(root, session, "correct its day and invoice the month again")
                session = lifecycle.record_held_on(
                    session,
                    on,
                    start,
                    today,
                    record.others(session),
                    ws.conventions,
                    ws.practitioner,
                )
            elif not session.unconfirmed:
                already.append(session)
                continue
            done.append(confirmed(session, today))
        outcome = HeldOutcome(done, already)
        if done and not dry_run:
            outcome.written = record.save(record.replace(*done))
        return outcome
