"""Use cases behind the commands: load, decide, write. They return data; the CLI prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path

from pydantic import ValidationError

from . import lifecycle
from .errors import InvalidInput, NoValidPlan, Problem, RuleRefused, field_path
from .loading import Document
from .planner import Plan, plan_year
from .records import (
    INDIVIDUAL,
    TERMINATIONS,
    IndividualConsultation,
    IndividualConsultations,
    Termination,
    Terminations,
    load_records,
)
from .rules import is_active, missing_periods, plan_violations, term_text
from .schedule import CalendarFile, Party, Session
from .workspace import (
    CALENDARS,
    Workspace,
    load_calendar,
    load_workspace,
    locked,
    save_calendar,
    write_records,
)


@dataclass
class PlanOutcome:
    plan: Plan
    workspace: Workspace
    path: Path
    written: bool
    warnings: list[str] = field(default_factory=list)


def school_data_problems(workspace: Workspace, year: int) -> list[Problem]:
    """The school-holiday data must cover the planned year for zones that are not ignored."""
    from .calendar_fr import school_holidays

    problems = []
    for conv_id, convention in workspace.conventions.items():
        if convention.school_holidays.policy == "ignore":
            continue
        try:
            school_holidays(convention.school_holidays.zone, year)
        except LookupError as exc:
            doc = workspace.documents[conv_id]
            problems.append(doc.problem(
                ("school_holidays", "zone"),
                f"{exc}; upgrade vacances-scolaires-france, or set policy: ignore",
            ))
    return problems


def _neighbour_sessions(workspace: Workspace, year: int) -> list[Session]:
    sessions: list[Session] = []
    for other in (year - 1, year + 1):
        if workspace.calendar_path(other).exists():
            sessions += load_calendar(workspace, other)[0].sessions
    return sessions


def _violation_problems(sessions: list[Session], workspace: Workspace,
                        doc: Document | None, display: str) -> list[Problem]:
    index = {s.id: i for i, s in enumerate(sessions)}
    return [
        Problem(display, doc.line_of(("sessions", index[sid])) if doc else None,
                f"sessions[{index[sid]}]", f"{sid}: {message}")
        for sid, message in plan_violations(sessions, workspace.conventions,
                                            workspace.practitioner)
    ]


def _with_line(workspace: Workspace, problem: Problem) -> Problem:
    """Give a planner's problem (a group of a convention) its line in the file."""
    doc = workspace.documents.get(Path(problem.file).stem)
    if doc is None or problem.line is not None:
        return problem
    return Problem(doc.display, doc.line_of(field_path(problem.field)), problem.field,
                   problem.message)


def plan(root: Path, year: int, today: date, fresh: bool = False,
         dry_run: bool = False) -> PlanOutcome:
    """``apptool plan YEAR``: keep the calendar of record, place what is missing, save it.

    The first plan of a year covers the whole year; once the year has a calendar of record,
    new sessions are placed only after ``today`` (the past is not rewritten). ``fresh``
    re-plans the planned sessions that are still in the future.
    """
    with locked(root):
        workspace = load_workspace(root)
        if not 1900 <= year <= 2999:
            raise InvalidInput(f"{year} is not a year the tool can plan")
        problems = school_data_problems(workspace, year)
        if problems:
            raise InvalidInput("school-holiday data missing", problems)
        calendar, doc = load_calendar(workspace, year)
        kept = list(calendar.sessions)
        if fresh:
            kept = [s for s in kept if not (s.status == "planned" and not s.history
                                            and s.date > today)]
        not_before = today + timedelta(days=1) if (doc is not None or fresh) else None
        try:
            result = plan_year(workspace.conventions, workspace.practitioner, year, kept,
                               _neighbour_sessions(workspace, year), not_before)
        except NoValidPlan as exc:
            exc.problems = [_with_line(workspace, p) for p in exc.problems]
            raise
        path = workspace.calendar_path(year)
        warnings = [str(p) for p in _violation_problems(
            [s for s in result.sessions if s.id in set(result.kept)], workspace, doc,
            workspace.display(path))]
        if not dry_run:
            save_calendar(workspace, CalendarFile(year=year, sessions=result.sessions))
        return PlanOutcome(result, workspace, path, not dry_run, warnings)


@dataclass
class CheckOutcome:
    problems: list[Problem]
    notes: list[str]
    checked: list[str]


def check(root: Path) -> CheckOutcome:
    """``apptool check``: validate every file, and every calendar against the hard rules."""
    try:
        workspace = load_workspace(root)
    except InvalidInput as exc:
        return CheckOutcome(exc.problems or [Problem(str(root), None, "", exc.message)], [], [])
    problems: list[Problem] = []
    notes: list[str] = []
    checked = [workspace.display(workspace.root / "practitioner.yaml"),
               *(workspace.documents[c].display for c in workspace.conventions)]
    if (workspace.root / "themes.yaml").exists():  # validated with the workspace
        checked.append("themes.yaml")
    for path in sorted((workspace.root / CALENDARS).glob("*.yaml")):
        display = workspace.display(path)
        if not path.stem.isdigit():
            problems.append(Problem(display, None, "", "a calendar file is named YEAR.yaml"))
            continue
        year = int(path.stem)
        checked.append(display)
        try:
            calendar, doc = load_calendar(workspace, year)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        problems += _violation_problems(calendar.sessions, workspace, doc, display)
        missing = missing_periods(calendar.sessions, workspace.conventions, year)
        if missing:
            notes.append(f"{display}: {len(missing)} required session(s) not planned yet "
                         f"(run `apptool plan {year}`): {', '.join(missing[:5])}"
                         + (", ..." if len(missing) > 5 else ""))
    from .register import load_register, register_problems

    register = load_register(workspace.root)
    if register.records or register.problems:
        checked.append(f"invoices/ ({len(register.records)} record(s))")
    problems += register_problems(register)
    return CheckOutcome(problems, notes, checked)


# --- after publication: reschedule, cancel, sessions, individual, terminate ----------------


@dataclass
class Record:
    """Every calendar of record of the workspace, loaded and validated."""

    workspace: Workspace
    calendars: dict[int, CalendarFile]

    @property
    def sessions(self) -> list[Session]:
        return [s for year in sorted(self.calendars) for s in self.calendars[year].sessions]

    def find(self, session_id: str) -> Session:
        """The session with this id, or an error that says how to find the ids."""
        for session in self.sessions:
            if session.id == session_id:
                return session
        raise InvalidInput(f"unknown session {session_id!r}: ids look like "
                           "ccas-dreux/seniors-1/2025-05 (see `apptool sessions`)")

    def others(self, session: Session) -> list[Session]:
        return [s for s in self.sessions if s.id != session.id]

    def replace(self, *updated: Session) -> list[int]:
        """Put updated sessions in their calendars; the years whose file changed."""
        years = set()
        for session in updated:
            year = int(session.period[:4])
            calendar = self.calendars[year]
            sessions = [session if s.id == session.id else s for s in calendar.sessions]
            self.calendars[year] = CalendarFile(year=year, sessions=sessions)
            years.add(year)
        return sorted(years)

    def save(self, years: list[int]) -> list[Path]:
        return [save_calendar(self.workspace, self.calendars[year]) for year in years]


def load_record(root: Path) -> Record:
    workspace = load_workspace(root)
    calendars = {}
    for path in sorted((workspace.root / CALENDARS).glob("*.yaml")):
        if path.stem.isdigit():
            calendars[int(path.stem)] = load_calendar(workspace, int(path.stem))[0]
    return Record(workspace, calendars)


@dataclass
class RescheduleOutcome:
    before: Session
    after: Session | None
    alternatives: list[lifecycle.Alternative]
    requested_on: date
    written: list[Path] = field(default_factory=list)


def reschedule(root: Path, session_id: str, today: date, to: date | None = None,
               start: time | None = None, requested_on: date | None = None,
               by: Party = "establishment", reason: str | None = None,
               allow_move_out: bool = False, count: int = 5,
               dry_run: bool = False) -> RescheduleOutcome:
    """``apptool reschedule``: list the best alternatives, or move the session (art. 2.1)."""
    requested = requested_on or today
    with locked(root):
        record = load_record(root)
        ws = record.workspace
        session = record.find(session_id)
        others = record.others(session)
        if to is None:
            found = lifecycle.alternatives(session, others, ws.conventions, ws.practitioner,
                                           requested, count)
            return RescheduleOutcome(session, None, found, requested)
        moved = lifecycle.reschedule(session, to, start, requested, by, reason, allow_move_out,
                                     others, ws.conventions, ws.practitioner)
        outcome = RescheduleOutcome(session, moved, [], requested)
        if not dry_run:
            outcome.written = record.save(record.replace(moved))
        return outcome


@dataclass
class CancelOutcome:
    cancellation: lifecycle.Cancellation
    alternatives: list[lifecycle.Alternative]
    written: list[Path] = field(default_factory=list)


def cancel(root: Path, session_id: str, by: Party, today: date,
           requested_on: date | None = None, reason: str | None = None,
           dry_run: bool = False) -> CancelOutcome:
    """``apptool cancel``: due or not due (art. 4); alternatives when it is not due."""
    requested = requested_on or today
    with locked(root):
        record = load_record(root)
        ws = record.workspace
        session = record.find(session_id)
        result = lifecycle.cancel(session, by, requested, reason,
                                  ws.conventions[session.convention])
        found = [] if result.due else lifecycle.alternatives(
            session, record.others(session), ws.conventions, ws.practitioner, requested)
        outcome = CancelOutcome(result, found)
        if not dry_run:
            outcome.written = record.save(record.replace(result.session))
        return outcome


def list_sessions(root: Path, today: date, month: str | None = None,
                  convention: str | None = None, status: str | None = None,
                  year: int | None = None) -> tuple[Workspace, list[Session]]:
    """``apptool sessions``: the record's sessions, filtered, in date order."""
    record = load_record(root)
    if convention is not None and convention not in record.workspace.conventions:
        raise InvalidInput(f"unknown convention {convention!r} (known: "
                           f"{', '.join(record.workspace.conventions)})")
    sessions = [
        s for s in record.sessions
        if (month is None or f"{s.date:%Y-%m}" == month)
        and (year is None or s.date.year == year)
        and (convention is None or s.convention == convention)
        and (status is None or s.display_status(today) == status)
    ]
    return record.workspace, sorted(sessions, key=lambda s: (s.date, s.start, s.id))


def add_individual(root: Path, convention: str, day: date, duration: int,
                   ref: str | None = None, requested_by: str | None = None
                   ) -> IndividualConsultation:
    """``apptool individual add``: record an anonymous consultation (art. 1.2, 2.2)."""
    with locked(root):
        workspace = load_workspace(root)
        if convention not in workspace.conventions:
            raise InvalidInput(f"unknown convention {convention!r} (known: "
                               f"{', '.join(workspace.conventions)})")
        if not is_active(workspace.conventions[convention], day):
            raise RuleRefused(f"{day} is outside the period of convention {convention!r} "
                              f"({term_text(workspace.conventions[convention])})")
        records = load_records(root, INDIVIDUAL, IndividualConsultations)
        same_day = [c for c in records.consultations
                    if c.convention == convention and c.date == day]
        try:
            consultation = IndividualConsultation(
                id=f"{convention}/individual/{day}/{len(same_day) + 1}", convention=convention,
                date=day, duration=duration, ref=ref,
                requested_by=requested_by)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise InvalidInput("invalid consultation", [
                Problem("individual add", None, "--" + str(e["loc"][0]).replace("_", "-"),
                        str(e["msg"]).removeprefix("Value error, "))
                for e in exc.errors()]) from None
        consultations = sorted([*records.consultations, consultation],
                               key=lambda c: (c.date, c.id))
        write_records(root, INDIVIDUAL, IndividualConsultations(consultations=consultations))
        return consultation


def list_individual(root: Path, convention: str | None = None,
                    month: str | None = None) -> list[IndividualConsultation]:
    """``apptool individual list``: the recorded consultations, in date order."""
    load_workspace(root)
    records = load_records(root, INDIVIDUAL, IndividualConsultations)
    return [c for c in records.consultations
            if (convention is None or c.convention == convention)
            and (month is None or f"{c.date:%Y-%m}" == month)]


@dataclass
class TerminateOutcome:
    termination: Termination
    cancelled: list[Session]
    written: list[Path] = field(default_factory=list)


def terminate(root: Path, convention: str, notice_on: date, force_majeure: bool = False,
              by: Party | None = None, dry_run: bool = False) -> TerminateOutcome:
    """``apptool terminate``: record the effective end (art. 9.3), cancel later sessions."""
    with locked(root):
        record = load_record(root)
        ws = record.workspace
        if convention not in ws.conventions:
            raise InvalidInput(f"unknown convention {convention!r} (known: "
                               f"{', '.join(ws.conventions)})")
        recorded = load_records(root, TERMINATIONS, Terminations)
        previous = [t for t in recorded.terminations if t.convention == convention]
        if previous:
            raise RuleRefused(f"convention {convention!r} was already terminated (notice on "
                              f"{previous[0].notice_on}, effective end "
                              f"{previous[0].effective_end})")
        end = lifecycle.termination_end(notice_on, force_majeure)
        if end < ws.conventions[convention].period.start:
            raise RuleRefused(f"the effective end {end} comes before the convention starts "
                              f"({ws.conventions[convention].period.start})")
        termination = Termination(convention=convention, notice_on=notice_on,
                                  force_majeure=force_majeure, by=by, effective_end=end)
        reason = ("résiliation pour force majeure (art. 9.3)" if force_majeure
                  else "résiliation de la convention (art. 9.3)")
        cancelled = lifecycle.terminate_sessions(record.sessions, convention, end, notice_on,
                                                 by, reason)
        outcome = TerminateOutcome(termination, cancelled)
        if not dry_run:
            # Calendars first: if interrupted, running the command again finishes the job.
            outcome.written = record.save(record.replace(*cancelled))
            write_records(root, TERMINATIONS, Terminations(
                terminations=[*recorded.terminations, termination]))
            outcome.written.append(ws.root / "records" / TERMINATIONS)
        return outcome
