"""Every client's own contract (issue 13): art. 4 as written, preferences as a real objective,
clauses cited from each convention's YAML, travel between any two sites, checks on individual
consultations."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from apptool.cli import app
from apptool.errors import NoValidPlan
from apptool.services import planning
from conftest import CONVENTION, PRACTITIONER, safe_load, write_workspace
from test_invoicing import BILLING, billing_ready, valid_siret
from test_properties import WEEKDAYS, workspaces

runner = CliRunner()
SIRET = valid_siret("26280110", "0001")


def run(root: Path, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def sessions(root: Path, *args: str) -> dict[str, dict[str, Any]]:
    out = run(root, "sessions", "--format", "json", *args).stdout
    return {s["id"]: s for s in json.loads(out)["sessions"]}


# --- 1. art. 4 as written --------------------------------------------------------------------


@pytest.fixture
def billable(tmp_path: Path) -> Path:
    root = write_workspace(
        tmp_path / "ws",
        {"a-ccas": billing_ready("CCAS", "TEST1", SIRET)},
        practitioner=PRACTITIONER + BILLING,
    )
    run(root, "plan", "2025", "--today", "2024-01-01")
    return root


def test_a_cancellation_with_17_days_notice_is_pending_then_due_then_billed(
    billable: Path,
) -> None:
    sid = "a-ccas/alpha/2025-05"
    day = date.fromisoformat(sessions(billable)[sid]["date"])
    requested = date.fromordinal(day.toordinal() - 17).isoformat()
    result = run(billable, "cancel", sid, "--by", "establishment", "--requested-on", requested)
    assert "REPORT PENDING" in result.output and "Alternatives for" in result.output
    assert sessions(billable)[sid]["status"] == "report-pending"
    month = run(billable, "invoice", "--month", "2025-05", "--today", "2025-06-02")
    assert f"{sid} ({day}) cancelled by the establishment, its report pending" in (
        " ".join(month.output.split())
    )
    data = safe_load((billable / "invoices" / "2025-0001.yaml").read_text(encoding="utf-8"))
    assert sid not in {line["source"] for line in data["document"]["lines"]}
    run(billable, "credit-note", "2025-0001", "--today", "2025-06-03")
    run(
        billable,
        "cancel",
        sid,
        "--by",
        "establishment",
        "--no-report",
        "--requested-on",
        "2025-06-03",
    )
    assert sessions(billable)[sid]["status"] == "due"
    run(billable, "invoice", "--month", "2025-05", "--today", "2025-06-04")
    data = safe_load((billable / "invoices" / "2025-0002.yaml").read_text(encoding="utf-8"))
    line = next(li for li in data["document"]["lines"] if li["source"] == sid)
    assert line["kind"] == "cancellation"
    assert line["description"].endswith(
        "séance annulée par l'établissement sans report possible, due (art. 4 de la convention)"
    )


def test_a_pending_cancellation_is_moved_with_the_notice_of_its_cancellation(
    billable: Path,
) -> None:
    sid = "a-ccas/alpha/2025-05"
    day = date.fromisoformat(sessions(billable)[sid]["date"])
    requested = date.fromordinal(day.toordinal() - 17).isoformat()
    output = run(
        billable, "cancel", sid, "--by", "establishment", "--requested-on", requested
    ).output
    new = output.split("--to ")[1].split()[0]  # the best report the command proposes
    run(
        billable,
        "reschedule",
        sid,
        "--to",
        new,
        "--by",
        "establishment",
        "--requested-on",
        date.fromordinal(day.toordinal() - 3).isoformat(),
        "--today",
        date.fromordinal(day.toordinal() - 3).isoformat(),
    )
    after = sessions(billable)[sid]
    assert (after["status"], after["date"]) == ("moved", new)


def test_a_cancellation_by_the_practitioner_is_never_due(billable: Path) -> None:
    sid = "a-ccas/alpha/2025-05"
    day = sessions(billable)[sid]["date"]
    run(billable, "cancel", sid, "--by", "practitioner", "--requested-on", day)
    assert sessions(billable)[sid]["status"] == "cancelled"


# --- 2. preferences ----------------------------------------------------------------------------

EHPAD = """\
kind: convention
title: EHPAD test
establishment: {name: EHPAD des Tilleuls, address: [1 rue X, 28000 Chartres]}
period: {start: 2026-01-01, end: 2026-12-31, renewal: tacit-yearly}
fees: {group_session: {amount: 200, per: session}}
session_duration: 2h
slots: ["09:00-11:00", "14:00-16:00"]
excluded_months: [8]
notice_days: 15
school_holidays: {zone: A, policy: ignore}
locations:
  - {id: site-a, name: Site A}
  - {id: site-b, name: Site B}
groups:
  - {id: soignants, name: Soignants, cadence: monthly, location: site-a}
  - {id: nuit, name: Nuit, cadence: monthly, location: site-a,
     preferences: {weekdays: [thursday], slots: ["14:00"]}}
  - {id: cadres, name: Cadres, cadence: monthly, location: site-b}
"""


def test_a_free_preferred_day_and_slot_is_taken(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"ehpad": EHPAD})
    plan = planning.plan(root, 2026, date(2025, 1, 1)).plan
    nuit = [s for s in plan.sessions if s.group == "nuit"]
    assert len(nuit) == 11
    assert {(s.date.strftime("%A"), f"{s.start:%H:%M}") for s in nuit} == {("Thursday", "14:00")}


def test_a_missed_preference_is_named_with_what_holds_the_day(tmp_path: Path) -> None:
    crowded = EHPAD + "".join(
        f"  - {{id: aides{n}, name: Aides {n}, cadence: monthly, location: site-a,\n"
        '     preferences: {weekdays: [thursday], slots: ["14:00"]}}\n'
        for n in range(1, 6)
    )
    root = write_workspace(tmp_path / "ws", {"ehpad": crowded})
    result = run(root, "plan", "2026", "--today", "2025-01-01", "--explain", "ehpad/aides5")
    assert "preference missed: ehpad/aides5/2026-" in result.output
    assert "ehpad/aides5: " in result.output and "session(s) miss its preferences" in (
        result.output
    )
    assert "14:00 taken by ehpad/" in result.output
    run(root, "plan", "2026", "--today", "2025-01-01", "--explain", "nobody", code=2)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(workspaces(), st.data())
def test_a_preference_a_free_day_satisfies_keeps_the_group_on_that_day(
    spec: tuple[dict[str, str], str], data: st.DataObject
) -> None:
    """Adding a preferred weekday the group already meets on never moves its sessions off
    that weekday."""
    texts, profile = spec
    with tempfile.TemporaryDirectory(prefix="apptool-pref-") as tmp:
        root = write_workspace(Path(tmp) / "ws", texts, profile)
        try:
            before = planning.plan(root, 2026, date(2025, 1, 1), dry_run=True).plan.sessions
        except NoValidPlan:
            return
        conv_id = data.draw(st.sampled_from(sorted(texts)))
        groups = sorted({s.group for s in before if s.convention == conv_id})
        if not groups:
            return
        group = data.draw(st.sampled_from(groups))
        mine = [s for s in before if (s.convention, s.group) == (conv_id, group)]
        weekday = WEEKDAYS[mine[0].date.weekday()]
        text = texts[conv_id]
        line = next(row for row in text.splitlines() if f"{{id: {group}," in row)
        without = line.split(", preferences:")[0].rstrip("}")
        texts = {
            **texts,
            conv_id: text.replace(line, f"{without}, preferences: {{weekdays: [{weekday}]}}}}"),
        }
        note(texts[conv_id])
        root2 = write_workspace(Path(tmp) / "ws2", texts, profile)
        after = planning.plan(root2, 2026, date(2025, 1, 1), dry_run=True).plan.sessions
        on_day = {s.period for s in mine if WEEKDAYS[s.date.weekday()] == weekday}
        moved = [
            s.id
            for s in after
            if (s.convention, s.group) == (conv_id, group)
            and s.period in on_day
            and WEEKDAYS[s.date.weekday()] != weekday
        ]
        assert moved == []


# --- 3. clauses cited from the convention itself ----------------------------------------------


def test_a_convention_without_clauses_cites_no_article(tmp_path: Path) -> None:
    plain = CONVENTION.replace(
        CONVENTION[CONVENTION.index("clauses:") : CONVENTION.index("school_holidays:")], ""
    )
    root = write_workspace(tmp_path / "ws", {"test": plain})
    run(root, "plan", "2025", "--today", "2024-01-01")
    listed = sessions(root)
    sid = "test/alpha/2025-05"
    run(root, "cancel", sid, "--by", "establishment", "--requested-on", listed[sid]["date"])
    texts = [
        run(root, "calendar", "2025", "--today", "2025-04-01", "--draft").stdout,
        run(root, "notice", sid).stdout,
        run(root, "bilan", "2025", "--convention", "test", "--today", "2025-12-31").stdout,
    ]
    for text in texts:
        assert "art." not in text
    assert "Rapport synthétique. Il ne restitue" in texts[2]
    assert "cette séance reste due :" in texts[1]


def test_the_example_cites_the_ccas_clauses(example: Path) -> None:
    run(example, "plan", "2025", "--today", "2024-01-01")
    calendar = run(example, "calendar", "2025", "--today", "2025-04-01", "--draft").stdout
    assert "(art. 2.1)" in calendar and "## Lieux des séances (art. 3)" in calendar


def test_an_article_cited_after_a_parenthesis_goes_inside_it(tmp_path: Path) -> None:
    """A reader sees one parenthesis: "(zone A, art. 2.1)", never "(zone A) (art. 2.1)"."""
    from apptool.domain.contract import cited
    from apptool.store.workspace import load_workspace

    convention = load_workspace(write_workspace(tmp_path / "ws")).conventions["test"]
    assert cited("vacances (zone A)", convention, "schedule") == "vacances (zone A, art. 2.1)"
    assert cited("tenue (9h00–10h30)", convention, "fees") == "tenue (9h00–10h30, art. 4)"
    assert cited("Chef(fe)s", convention, "schedule") == "Chef(fe)s (art. 2.1)"
    assert cited("due", convention, "cancellation") == "due (art. 4)"


# --- 4. travel between any two sites -----------------------------------------------------------


def test_a_pair_of_sites_gets_its_own_travel_time(tmp_path: Path) -> None:
    profile = PRACTITIONER + "travel:\n  - {between: [test/office, test/home], minutes: 120}\n"
    root = write_workspace(tmp_path / "ws", practitioner=profile)
    run(root, "plan", "2025", "--today", "2024-01-01")
    path = root / "calendars" / "2025.yaml"
    data = safe_load(path.read_text(encoding="utf-8"))
    alpha = next(s for s in data["sessions"] if s["id"] == "test/alpha/2025-05")
    beta = next(s for s in data["sessions"] if s["id"] == "test/beta/2025-05")
    beta["date"], beta["start"], beta["end"] = alpha["date"], "13:30", "15:00"
    alpha["start"], alpha["end"] = "10:30", "12:00"
    path.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
    result = run(root, "check", code=2)
    assert "leaves 90 min to change site, travel needs 120 min" in result.output


def test_sites_too_far_apart_never_share_a_day(example: Path) -> None:
    (example / "conventions" / "ille-et-vilaine-lot3.yaml").write_bytes(
        (example / "agreements" / "ille-et-vilaine-lot3.yaml").read_bytes()
    )
    plan = planning.plan(example, 2025, date(2024, 1, 1)).plan
    by_day: dict[date, set[str]] = {}
    for s in plan.sessions:
        by_day.setdefault(s.date, set()).add(s.convention)
    assert all(len(conventions) == 1 for conventions in by_day.values())
    assert "no problem found" in run(example, "check").output


def test_a_travel_entry_names_known_sites(tmp_path: Path) -> None:
    profile = PRACTITIONER + "travel:\n  - {between: [test/garage, test/home], minutes: 10}\n"
    root = write_workspace(tmp_path / "ws", practitioner=profile)
    line = profile.splitlines().index("  - {between: [test/garage, test/home], minutes: 10}") + 1
    result = run(root, "check", code=2)
    assert f"practitioner.yaml:{line}: travel[0].between[0]: unknown location 'garage'" in (
        result.output
    )


# --- 5. individual consultations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "at", "reason"),
    [
        ("2025-05-11", None, "not a working day"),
        ("2025-05-08", None, "public holiday"),
    ],
)
def test_an_unlikely_consultation_is_refused_unless_forced(
    billable: Path, day: str, at: str | None, reason: str
) -> None:
    args = ["individual", "add", "--convention", "a-ccas", "--date", day, "--duration", "1h"]
    result = run(billable, *args, code=4)
    assert reason in result.output and "--force" in result.output
    forced = run(billable, *args, "--force")
    assert reason in forced.output


def test_a_consultation_over_another_or_past_midnight_is_refused(billable: Path) -> None:
    """One practitioner holds (and bills) one consultation at a time, within its day."""
    add = ["individual", "add", "--convention", "a-ccas", "--date", "2025-05-13"]
    run(billable, *add, "--duration", "50min", "--ref", "A-06", "--at", "18:30")
    result = run(billable, *add, "--duration", "2h", "--ref", "A-07", "--at", "18:00", code=4)
    assert "overlaps with the consultation a-ccas/individual/2025-05-13/1 (18:30-19:20)" in (
        result.output
    )
    result = run(billable, *add, "--duration", "2h", "--at", "23:00", code=4)
    assert "23:00 for 120 min ends after midnight" in result.output
    assert "recorded" in run(billable, *add, "--duration", "1h", "--at", "19:20").output


def test_no_consultation_where_the_convention_sets_no_fee_for_it(tmp_path: Path) -> None:
    text = CONVENTION.replace("  individual: {amount: 80, per: hour}\n", "")
    root = write_workspace(tmp_path / "ws", {"test": text})
    result = run(
        root,
        "individual",
        "add",
        "--convention",
        "test",
        "--date",
        "2025-05-13",
        "--duration",
        "1h",
        code=4,
    )
    assert "sets no fee for individual consultations (fees.individual)" in result.output
    assert not (root / "records").exists()


def test_a_consultation_over_a_session_is_refused(billable: Path) -> None:
    alpha = sessions(billable)["a-ccas/alpha/2025-05"]
    result = run(
        billable,
        "individual",
        "add",
        "--convention",
        "a-ccas",
        "--date",
        alpha["date"],
        "--duration",
        "1h",
        "--at",
        alpha["start"],
        code=4,
    )
    assert "overlaps with a-ccas/alpha/2025-05" in result.output
    later = run(
        billable,
        "individual",
        "add",
        "--convention",
        "a-ccas",
        "--date",
        alpha["date"],
        "--duration",
        "1h",
        "--at",
        "20:00",
    )
    assert "recorded" in later.output
