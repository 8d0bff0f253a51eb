"""Use cases of planning: ``apptool plan`` and ``apptool check``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from apptool.domain.calendar_fr import school_holidays
from apptool.domain.contract import may_replan, replanned
from apptool.domain.hard_rules import missing_periods, plan_violations
from apptool.domain.models import MAX_YEAR, MIN_YEAR
from apptool.domain.planner import (
    Plan,
    PreferenceMiss,
    plan_year,
    preference_misses,
    unworkable_preferences,
)
from apptool.domain.records import Distributions, IndividualConsultations, Notes
from apptool.domain.schedule import Session, calendar_of, recorded_on
from apptool.domain.source import Document
from apptool.domain.validation import (
    consultation_problems,
    distribution_problems,
    note_problems,
)
from apptool.errors import InvalidInput, NoValidPlan, Problem, did_you_mean, field_path
from apptool.store.calendars import calendar_year, load_calendar, save_calendar
from apptool.store.files import leftover_temp_files
from apptool.store.records import RECORD_MODELS, RECORDS, load_records_document, records_path
from apptool.store.workspace import CALENDARS, Workspace, find_root, load_workspace, locked


@dataclass
class PlanOutcome:
    plan: Plan
    workspace: Workspace
    path: Path
    written: bool
    warnings: list[str] = field(default_factory=list)
    #: The year's sessions away from their group's preferred weekday or slot, and why.
    misses: list[PreferenceMiss] = field(default_factory=list)


def school_data_problems(workspace: Workspace, year: int) -> list[Problem]:
    """The school-holiday data must cover the planned year for zones that are not ignored."""
    problems = []
    for conv_id, convention in workspace.conventions.items():
        if convention.school_holidays.policy == "ignore":
            continue
        try:
            school_holidays(convention.school_holidays.zone, year)
        except LookupError as exc:
            doc = workspace.documents[conv_id]
            problems.append(
                doc.problem(
                    ("school_holidays", "zone"),
                    f"{exc}; upgrade vacances-scolaires-france, or set policy: ignore",
                )
            )
    return problems


def _neighbour_sessions(workspace: Workspace, year: int) -> list[Session]:
    sessions: list[Session] = []
    for other in (year - 1, year + 1):
        if workspace.calendar_path(other).exists():
            sessions += load_calendar(workspace, other)[0].sessions
    return sessions


def _violation_problems(
    sessions: list[Session], workspace: Workspace, doc: Document | None, display: str
) -> list[Problem]:
    index = {s.id: i for i, s in enumerate(sessions)}
    return [
        Problem(
            display,
            doc.line_of(("sessions", index[sid])) if doc else None,
            f"sessions[{index[sid]}]",
            f"{sid}: {message}",
        )
        for sid, message in plan_violations(sessions, workspace.conventions, workspace.practitioner)
    ]


def _with_line(workspace: Workspace, problem: Problem) -> Problem:
    """Give a planner's problem (a group of a convention) its line in the file."""
    doc = workspace.documents.get(Path(problem.file).stem)
    if doc is None or problem.line is not None:
        return problem
    return doc.problem(field_path(problem.field), problem.message)


def plan(
    root: Path, year: int, today: date, fresh: bool = False, dry_run: bool = False
) -> PlanOutcome:
    """``apptool plan YEAR``: keep the calendar of record, place what is missing, save it.

    The first plan of a year covers the whole year; once the year has a calendar of record,
    new sessions are placed only after ``today`` (the past is not rewritten). ``fresh``
    re-plans the planned sessions that are still in the future.
    """
    with locked(root):
        workspace = load_workspace(root)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise InvalidInput(f"{year} is not a year the tool can plan ({MIN_YEAR}-{MAX_YEAR})")
        problems = school_data_problems(workspace, year)
        if problems:
            raise InvalidInput("school-holiday data missing", problems)
        calendar, doc = load_calendar(workspace, year)
        kept = list(calendar.sessions)
        before: dict[str, Session] = {}
        if fresh:
            before = {
                s.id: s
                for s in kept
                if s.convention in workspace.conventions
                and may_replan(s, workspace.conventions[s.convention], today)
            }
            kept = [s for s in kept if s.id not in before]
        not_before = today + timedelta(days=1) if (doc is not None or fresh) else None
        try:
            result = plan_year(
                workspace.conventions,
                workspace.practitioner,
                year,
                kept,
                _neighbour_sessions(workspace, year),
                not_before,
            )
        except NoValidPlan as exc:
            exc.problems = [_with_line(workspace, p) for p in exc.problems]
            raise
        placed = set(result.placed)
        # A session placed on or before today is written after the fact: unconfirmed; one
        # placed again by --fresh elsewhere than it was is a move, in its history.
        result.sessions = [
            replanned(before[s.id], s, today)
            if s.id in before
            else recorded_on(s, today)
            if s.id in placed
            else s
            for s in result.sessions
        ]
        path = workspace.calendar_path(year)
        warnings = [
            str(p)
            for p in _violation_problems(
                [s for s in result.sessions if s.id in set(result.kept)],
                workspace,
                doc,
                workspace.display(path),
            )
        ]
        if not dry_run:
            save_calendar(workspace, calendar_of(year, result.sessions))
        context = [*_neighbour_sessions(workspace, year), *result.sessions]
        misses = [
            miss
            for miss in preference_misses(context, workspace.conventions, workspace.practitioner)
            if miss.session in {s.id for s in result.sessions}
        ]
        return PlanOutcome(result, workspace, path, not dry_run, warnings, misses)


def group_key(workspace: Workspace, name: str) -> str:
    """``CONVENTION/GROUP`` from that form or from a group id unique in the workspace."""
    found = [
        f"{conv_id}/{group.id}"
        for conv_id, convention in workspace.conventions.items()
        for group in convention.groups
        if name in (group.id, f"{conv_id}/{group.id}")
    ]
    if len(found) != 1:
        known = sorted(
            f"{c}/{g.id}" for c, conv in workspace.conventions.items() for g in conv.groups
        )
        what = "ambiguous" if found else "unknown"
        raise InvalidInput(
            f"{what} group {name!r}: write CONVENTION/GROUP" + did_you_mean(name, known)
        )
    return found[0]


@dataclass
class CheckOutcome:
    problems: list[Problem]
    notes: list[str]
    checked: list[str]


def _some(ids: list[str]) -> str:
    return ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")


def check(root: Path, today: date) -> CheckOutcome:
    """``apptool check``: validate every file the tool reads: the profile, the conventions,
    ``themes.yaml``, every calendar (and its hard rules), every file of ``records/``, the
    invoice register, and the workspace's templates (by a trial render)."""
    try:
        workspace = load_workspace(root)
    except InvalidInput as exc:  # the templates are checked all the same
        found = exc.problems or [Problem(str(root), None, "", exc.message)]
        with contextlib.suppress(InvalidInput):
            from apptool.output.samples import template_problems  # lazy: only check needs it

            found += template_problems(find_root(root))[1]
        return CheckOutcome(found, [], [])
    problems: list[Problem] = []
    notes: list[str] = []
    checked = [
        workspace.display(workspace.root / "practitioner.yaml"),
        *(workspace.documents[c].display for c in workspace.conventions),
    ]
    if (workspace.root / "themes.yaml").exists():  # validated with the workspace
        checked.append("themes.yaml")
    sessions: dict[str, Session] = {}
    for path in sorted((workspace.root / CALENDARS).glob("*.yaml")):
        display = workspace.display(path)
        year = calendar_year(path)
        if year is None:
            problems.append(
                Problem(
                    display,
                    None,
                    "",
                    f"not a calendar: a calendar file is named YEAR.yaml ({MIN_YEAR}-{MAX_YEAR})",
                )
            )
            continue
        checked.append(display)
        try:
            calendar, doc = load_calendar(workspace, year)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        sessions.update((s.id, s) for s in calendar.sessions)
        problems += _violation_problems(calendar.sessions, workspace, doc, display)
        missing, over = missing_periods(calendar.sessions, workspace.conventions, year, today)
        if missing:
            notes.append(
                f"{display}: {len(missing)} required session(s) not planned yet "
                f"(run `apptool plan {year}`): {_some(missing)}"
            )
        if over:
            notes.append(
                f"{display}: {len(over)} required session(s) of periods already over were "
                f"never planned (`apptool plan` does not rewrite the past; one that took place "
                f"is added to the calendar by hand, then confirmed with `apptool held`): "
                f"{_some(over)}"
            )
    problems += _records_problems(workspace, sessions, checked)
    notes += [
        f"{workspace.documents[conv_id].display}: {message}"
        for conv_id, message in unworkable_preferences(
            workspace.conventions, workspace.practitioner
        )
    ]
    notes += [
        f"{workspace.display(path)}: temp file of an interrupted command (nothing it held was "
        "lost); the next command that changes the workspace removes it"
        for path in leftover_temp_files(workspace.root)
    ]
    from apptool.output.samples import template_problems  # lazy: only check needs it

    templates, found = template_problems(workspace.root)
    checked += templates
    problems += found
    # lazy: the register and the rates (with the billing models) only for `check`, not `plan`
    from apptool.domain.register import billed_session_problems, yearly_series
    from apptool.store.rates import RATES, workspace_rates
    from apptool.store.register import load_register, register_problems

    register = load_register(workspace.root)
    if register.records or register.problems:
        checked.append(f"invoices/ ({len(register.records)} record(s))")
    billing = workspace.practitioner.billing
    yearly = {
        "invoice": yearly_series(billing.number_pattern) if billing else True,
        "credit-note": yearly_series(billing.credit_note_pattern) if billing else True,
    }
    problems += register_problems(workspace.root, register, yearly)
    problems += billed_session_problems(register, sessions)
    if (workspace.root / RATES).exists():
        checked.append(RATES)
        try:
            workspace_rates(workspace.root)
        except InvalidInput as exc:
            problems += exc.problems
    return CheckOutcome(problems, notes, checked)


def _records_problems(
    workspace: Workspace, sessions: dict[str, Session], checked: list[str]
) -> list[Problem]:
    """Every file of ``records/``: its format, and what it refers to (conventions, sessions).
    Terminations and purchase orders were validated with the workspace."""
    problems: list[Problem] = []
    conventions = workspace.conventions
    for name, model in RECORD_MODELS.items():
        if not records_path(workspace.root, name).exists():
            continue
        checked.append(f"{RECORDS}/{name}")
        try:
            record, doc = load_records_document(workspace.root, name, model)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        if doc is None:
            continue
        if isinstance(record, IndividualConsultations):
            problems += consultation_problems(record, doc, conventions)
        elif isinstance(record, Notes):
            problems += note_problems(record, doc, sessions)
        elif isinstance(record, Distributions):
            problems += distribution_problems(record, doc, conventions)
    return problems
