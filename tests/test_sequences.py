"""Property: after any sequence of plan, reschedule, cancel and terminate, ``apptool check``
passes (a command either changes the workspace into a valid one or refuses and changes nothing).

The workspace holds a convention and a framework agreement with a monthly ordered group and a
group ordered for a fixed number of sessions, the case a termination used to break. Each
example starts from a fresh copy. ``APPTOOL_PROPERTY_EXAMPLES=300`` searches deeper.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from apptool.errors import AppToolError
from apptool.services import planning
from apptool.services import sessions as use_cases
from conftest import CONVENTION, safe_load, write_workspace

EXAMPLES = int(os.environ.get("APPTOOL_PROPERTY_EXAMPLES", "10"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

AGREEMENT = """\
kind: framework-agreement
title: Accord-cadre de test
establishment: {name: Département de Test, address: [1 avenue de la Préfecture, 35000 Rennes]}
lot: {number: 3, title: Équipes, estimated_yearly: 100000, maximum_yearly: 200000}
period: {start: 2025-01-01, end: 2026-12-31}
fees: {group_session: {amount: 320, per: session}}
session_duration: 2h
slots: ["09:30-11:30", "14:00-16:00"]
excluded_months: [8]
notice_days: 15
school_holidays: {zone: B, policy: ignore}
locations: [{id: nord, name: Nord}, {id: sud, name: Sud}]
orders:
  - number: BC-1
    date: 2025-01-10
    unit_price: 320
    maximum: 6400
    groups:
      - {id: equipe, name: Équipe, location: nord, cadence: monthly, from: 2025-02-01,
         to: 2025-12-31}
  - number: BC-2
    date: 2025-02-10
    unit_price: 320
    maximum: 3200
    groups:
      - {id: comptes, name: Comptés, location: sud, sessions: 5, from: 2025-03-01,
         to: 2025-12-31}
"""
CONVENTIONS = ("test", "accord")
DAYS = [date(2025, 3, 1) + timedelta(days=n) for n in range(0, 300, 3)]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_workspace(
        tmp_path_factory.mktemp("sequences") / "ws", {"test": CONVENTION, "accord": AGREEMENT}
    )
    planning.plan(root, 2025, date(2024, 1, 1))
    assert planning.check(root, date(2024, 1, 1)).problems == []
    return root


def session_ids(root: Path) -> list[str]:
    data = safe_load((root / "calendars" / "2025.yaml").read_text(encoding="utf-8"))
    return sorted(s["id"] for s in data["sessions"])


operations = st.one_of(
    st.tuples(st.just("plan"), st.sampled_from(DAYS), st.booleans()),
    st.tuples(
        st.just("reschedule"),
        st.integers(0, 200),  # which session
        st.one_of(st.integers(0, 4), st.sampled_from(DAYS)),  # an alternative, or a date
        st.sampled_from([None, time(9), time(10, 30), time(14), time(9, 30)]),
        st.sampled_from(DAYS),  # requested on
        st.sampled_from(["establishment", "practitioner"]),
        st.booleans(),  # allow a move out of the period
    ),
    st.tuples(
        st.just("cancel"),
        st.integers(0, 200),
        st.sampled_from(DAYS),
        st.sampled_from(["establishment", "practitioner"]),
    ),
    st.tuples(st.just("terminate"), st.sampled_from(CONVENTIONS), st.sampled_from(DAYS),
              st.booleans()),
)  # fmt: skip


def apply(root: Path, operation: tuple[object, ...]) -> str:
    """Apply one operation through the use cases; a refusal is an outcome, not a failure."""
    kind = operation[0]
    ids = session_ids(root)
    try:
        if kind == "plan":
            _, today, fresh = operation
            assert isinstance(today, date) and isinstance(fresh, bool)
            planning.plan(root, 2025, today, fresh=fresh)
        elif kind == "reschedule":
            _, which, target, start, requested, by, move_out = operation
            assert isinstance(which, int) and isinstance(requested, date)
            sid = ids[which % len(ids)]
            if isinstance(target, int):  # the n-th alternative the tool offers
                found = use_cases.reschedule(root, sid, requested, requested_on=requested)
                if not found.alternatives:
                    return "no alternative"
                best = found.alternatives[target % len(found.alternatives)]
                target, start = best.date, best.start
            assert isinstance(target, date)
            use_cases.reschedule(
                root,
                sid,
                requested,
                target,
                start,  # type: ignore[arg-type]
                requested,
                by,  # type: ignore[arg-type]
                "test",
                bool(move_out),
            )
        elif kind == "cancel":
            _, which, requested, by = operation
            assert isinstance(which, int) and isinstance(requested, date)
            use_cases.cancel(root, ids[which % len(ids)], by, requested)  # type: ignore[arg-type]
        else:
            _, convention, notice_on, force = operation
            assert isinstance(notice_on, date)
            use_cases.terminate(root, str(convention), notice_on, bool(force))
    except AppToolError as exc:
        return f"refused ({exc.exit_code}): {exc.message}"
    return "done"


@PROPERTY
@given(steps=st.lists(operations, min_size=1, max_size=6))
def test_check_passes_after_any_sequence_of_changes(
    planned: Path, steps: list[tuple[object, ...]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        shutil.copytree(planned, root)
        for step in steps:
            outcome = apply(root, step)
            note(f"{step}: {outcome}")
            problems = planning.check(root, date(2024, 1, 1)).problems
            assert problems == [], "\n".join(str(p) for p in problems)


def test_a_terminated_agreement_keeps_the_months_of_its_fixed_count_group(planned: Path) -> None:
    """The rule stated in the README: a termination cancels the sessions after the end and
    does not spread the others again (they keep their months)."""
    before = {s for s in session_ids(planned) if "/comptes/" in s}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        shutil.copytree(planned, root)
        outcome = use_cases.terminate(root, "accord", date(2025, 9, 10))
        assert outcome.termination.effective_end == date(2025, 10, 31)
        data = safe_load((root / "calendars" / "2025.yaml").read_text(encoding="utf-8"))
        counted = {s["id"]: s for s in data["sessions"] if "/comptes/" in s["id"]}
        assert set(counted) == before  # no session re-spread, none added
        for sid, session in counted.items():
            cancelled = session["date"] > "2025-10-31"
            assert (session["status"] == "cancelled") == cancelled, sid
        assert planning.check(root, date(2024, 1, 1)).problems == []
        assert planning.check(root, date(2024, 1, 1)).notes == []  # nothing required missing
