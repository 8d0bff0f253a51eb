"""``apptool agenda`` (issue 16.6): where the practitioner is expected in the coming days, day
by day, with the sites, their addresses, the slots and the travel between sites; live
sessions only (a moved one at its new date, a cancelled one absent), consultations without a
name, across the new year, as text, JSON and an iCalendar feed whose UIDs are the feed's."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from apptool.cli import app
from apptool.output.terminal import cell_width
from conftest import CONVENTION, PRACTITIONER, write_workspace

runner = CliRunner()


def run(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


#: The test convention with addresses, a closure, a travel time between its two sites that
#: is not the profile's (45 min, not 30) and more groups.
AGENDA_CONVENTION = CONVENTION.replace(
    "  - {id: office, name: Office}\n  - {id: home, name: Residence}\n",
    "  - {id: office, name: Office, address: '1 rue de la Paix, 28100 Dreux'}\n"
    "  - {id: home, name: Residence, address: '5 allée des Tilleuls, 28100 Dreux'}\n"
    "closures:\n  - {from: 2025-06-02, reason: inventaire}\n"
    "travel:\n  - {between: [test/office, test/home], minutes: 45}\n",
).replace(
    "  - {id: gamma, name: Gamma, cadence: quarterly, location: office}\n",
    "  - {id: gamma, name: Gamma, cadence: quarterly, location: office}\n"
    "  - {id: delta, name: Delta, cadence: monthly, location: home}\n"
    "  - {id: eps, name: Epsilon, cadence: monthly, location: home}\n"
    "  - {id: zeta, name: Zeta, cadence: monthly, location: home}\n",
)
assert "inventaire" in AGENDA_CONVENTION and "zeta" in AGENDA_CONVENTION

#: Another convention, with one site, for the filter.
OTHER = (
    CONVENTION.replace("CCAS de Test", "EHPAD Autre")
    .replace(
        "  - {id: office, name: Office}\n  - {id: home, name: Residence}\n",
        "  - {id: ehpad, name: EHPAD les Lilas}\n",
    )
    .replace(
        "  - {id: alpha, name: Alpha, cadence: monthly, location: office}\n"
        "  - {id: beta, name: Beta, cadence: monthly, location: home}\n"
        "  - {id: gamma, name: Gamma, cadence: quarterly, location: office}\n",
        "  - {id: soins, name: Soins, cadence: monthly, location: ehpad}\n",
    )
)

PROFILE = PRACTITIONER.replace(
    "unavailability: []", "unavailability:\n  - {from: 2025-06-06, reason: formation}"
)


def session(
    group: str, period: str, day: str, start: str, end: str, location: str, **extra: str
) -> str:
    convention = extra.pop("convention", "test")
    fields = ", ".join(f"{key}: {value}" for key, value in extra.items())
    return (
        f"- {{id: {convention}/{group}/{period}, convention: {convention}, group: {group}, "
        f"period: {period}, date: {day}, start: '{start}', end: '{end}', location: {location}"
        + (f", {fields}" if fields else "")
        + "}\n"
    )


def change(action: str, status: str, previous: str, start: str, end: str) -> str:
    return (
        f"[{{action: {action}, requested_on: 2025-05-02, by: establishment, notice_days: 30, "
        f"status: {status}, previous_date: {previous}, previous_start: '{start}', "
        f"previous_end: '{end}'}}]"
    )


CALENDAR_2025 = (
    "year: 2025\nsessions:\n"
    + session("alpha", "2025-06", "2025-06-03", "09:00", "10:30", "office")
    + session("beta", "2025-06", "2025-06-03", "13:30", "15:00", "home")
    # moved into the week from 2025-06-12
    + session(
        "gamma", "2025-Q2", "2025-06-05", "10:30", "12:00", "office", status="moved",
        history=change("moved", "moved", "2025-06-12", "09:00", "10:30"),
    )
    # cancelled: never shown
    + session(
        "delta", "2025-06", "2025-06-04", "09:00", "10:30", "home", status="cancelled",
        history=change("cancelled", "cancelled", "2025-06-04", "09:00", "10:30"),
    )
    # cancelled by the establishment, a report still possible: a note on its day
    + session(
        "eps", "2025-06", "2025-06-05", "13:30", "15:00", "home", status="report-pending",
        history=change("cancelled", "report-pending", "2025-06-05", "13:30", "15:00"),
    )
    # moved out of the week, from 2025-06-05 to 2025-06-20: shown on neither day
    + session(
        "zeta", "2025-06", "2025-06-20", "09:00", "10:30", "home", status="moved",
        history=change("moved", "moved", "2025-06-05", "09:00", "10:30"),
    )
)  # fmt: skip

CONSULTATIONS = """\
consultations:
- {id: test/individual/2025-06-03/1, convention: test, date: 2025-06-03, duration: 1h,
   ref: A-017, requested_by: agent, start: '16:00', place: office}
- {id: test/individual/2025-06-04/1, convention: test, date: 2025-06-04, duration: 45min,
   requested_by: manager}
"""

TODAY = "2025-06-02"


@pytest.fixture
def week(tmp_path: Path) -> Path:
    """A week (2025-06-02..08) of the test convention: two sites on Tuesday and a
    consultation after them, a moved, a cancelled and a report-pending session, an
    untimed consultation, an absence and a closure."""
    root = write_workspace(tmp_path / "ws", {"test": AGENDA_CONVENTION}, PROFILE)
    (root / "calendars" / "2025.yaml").write_text(CALENDAR_2025, encoding="utf-8")
    (root / "records").mkdir()
    (root / "records" / "individual.yaml").write_text(CONSULTATIONS, encoding="utf-8")
    return root


EXPECTED_WEEK = """\
Monday 2025-06-02
  test: establishment closed (inventaire)

Tuesday 2025-06-03
  09:00-10:30  Alpha (test/alpha/2025-06)
               Office, 1 rue de la Paix, 28100 Dreux
  10:30-13:30  travel 45min to Residence, 2h15 free
  13:30-15:00  Beta (test/beta/2025-06)
               Residence, 5 allée des Tilleuls, 28100 Dreux
  15:00-16:00  travel 30min to your office, 30min free
  16:00-17:00  individual consultation, 1h (test/individual/2025-06-03/1, ref A-017)
               your office

Wednesday 2025-06-04
  (no time)    individual consultation, 45min (test/individual/2025-06-04/1), time not recorded
               your office

Thursday 2025-06-05
  cancelled, report pending: test/eps/2025-06 (13:30-15:00)
  10:30-12:00  Gamma (test/gamma/2025-Q2), moved from 2025-06-12 09:00
               Office, 1 rue de la Paix, 28100 Dreux

Friday 2025-06-06
  practitioner unavailable (formation)

3 session(s), 2 consultation(s): 6h15 in total, 1h15 travel between sites (2025-06-02 to 2025-06-08)
"""


def test_the_week_day_by_day_with_sites_addresses_and_travel(week: Path) -> None:
    code, output = run(week, "agenda", "--today", TODAY)
    assert code == 0, output
    assert output == EXPECTED_WEEK


def test_travel_comes_from_the_travel_times_of_the_profile_and_conventions(week: Path) -> None:
    """45 min between the convention's two sites (its `travel:` entry), the profile's 30
    between a site and the office; a pair too far apart for one day is said so."""
    text = (week / "conventions" / "test.yaml").read_text(encoding="utf-8")
    far = text.replace(
        "{between: [test/office, test/home], minutes: 45}",
        "{between: [test/office, test/home], same_day: false}",
    )
    (week / "conventions" / "test.yaml").write_text(far, encoding="utf-8")
    code, output = run(week, "agenda", "--today", TODAY, "--days", "2")
    assert code == 0, output
    assert (
        "  10:30-13:30  to Residence: warning: test/office and test/home are too far apart "
        "for one day\n"
    ) in output
    assert "1h15 travel" not in output and "30min travel between sites" in output


def test_a_clash_between_two_items_is_shown_with_the_rule_s_words(week: Path) -> None:
    records = (week / "records" / "individual.yaml").read_text(encoding="utf-8")
    (week / "records" / "individual.yaml").write_text(
        records.replace("start: '16:00'", "start: '15:20'"), encoding="utf-8"
    )
    code, output = run(week, "agenda", "--today", TODAY, "--days", "2")
    assert code == 0, output
    assert (
        "  15:00-15:20  travel 30min to your office; warning: leaves 20 min to change site, "
        "travel needs 30 min\n"
    ) in output


def test_live_sessions_only_a_moved_one_at_its_new_date(week: Path) -> None:
    code, output = run(week, "agenda", "--today", TODAY, "--format", "json")
    assert code == 0, output
    days = {day["date"]: day for day in json.loads(output)["agenda"]}
    ids = [item["id"] for day in days.values() for item in day["items"]]
    assert "test/delta/2025-06" not in ids  # cancelled
    assert "test/eps/2025-06" not in ids  # cancelled, report pending
    assert "test/zeta/2025-06" not in ids  # moved out of the week
    gamma = next(i for i in days["2025-06-05"]["items"] if i["id"] == "test/gamma/2025-Q2")
    assert gamma["status"] == "moved"
    assert gamma["moved_from"] == {"date": "2025-06-12", "start": "09:00"}
    assert "2025-06-12" not in days
    code, later = run(week, "agenda", "--today", "2025-06-16", "--format", "json")
    zeta = [
        i
        for d in json.loads(later)["agenda"]
        for i in d["items"]
        if i["id"].endswith("zeta/2025-06")
    ]
    assert [(z["start"], z["moved_from"]) for z in zeta] == [
        ("09:00", {"date": "2025-06-05", "start": "09:00"})
    ]


def test_consultations_carry_no_name_only_id_code_duration_and_place(week: Path) -> None:
    code, output = run(week, "agenda", "--today", TODAY, "--format", "json")
    assert code == 0, output
    items = [i for d in json.loads(output)["agenda"] for i in d["items"]]
    consultations = [i for i in items if i["kind"] == "consultation"]
    assert len(consultations) == 2
    for item in consultations:  # nothing else: no requester, no group, never a name
        assert set(item) == {
            "kind", "id", "convention", "start", "end", "minutes", "location", "place",
            "address", "travel", "ref",
        }  # fmt: skip
    assert consultations[0]["ref"] == "A-017" and consultations[0]["minutes"] == 60
    assert consultations[1]["start"] is None and consultations[1]["minutes"] == 45
    for args in ([], ["--format", "json"], ["--format", "ics"]):
        code, text = run(week, "agenda", "--today", TODAY, *args)
        assert code == 0 and "agent" not in text and "manager" not in text, text


def test_two_sites_the_same_day_in_json(week: Path) -> None:
    code, output = run(week, "agenda", "--today", TODAY, "--format", "json")
    assert code == 0, output
    payload = json.loads(output)
    assert output == json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert (payload["from"], payload["to"]) == ("2025-06-02", "2025-06-08")
    assert payload["summary"] == {
        "sessions": 3, "consultations": 2, "minutes": 375, "travel_minutes": 75
    }  # fmt: skip
    tuesday = next(d for d in payload["agenda"] if d["date"] == "2025-06-03")
    assert tuesday["weekday"] == "tuesday" and tuesday["notes"] == []
    alpha, beta, consultation = tuesday["items"]
    assert alpha["travel"] is None
    assert (alpha["place"], alpha["address"]) == ("Office", "1 rue de la Paix, 28100 Dreux")
    assert beta["travel"] == {
        "from": "test/office", "to": "test/home", "minutes": 45, "free_minutes": 135,
        "problem": None,
    }  # fmt: skip
    assert consultation["travel"] == {
        "from": "test/home", "to": "office", "minutes": 30, "free_minutes": 30, "problem": None
    }  # fmt: skip
    assert [d["date"] for d in payload["agenda"]] == [
        "2025-06-02",
        "2025-06-03",
        "2025-06-04",
        "2025-06-05",
        "2025-06-06",
    ]  # fmt: skip  (the weekend has nothing: left out)


def ics_events(text: str) -> dict[str, Any]:
    calendar = Calendar.from_ical(text)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_ics_sessions_are_the_feed_s_events_and_consultations_have_no_name(week: Path) -> None:
    code, output = run(week, "agenda", "--today", TODAY, "--format", "ics")
    assert code == 0, output
    events = ics_events(output)
    assert sorted(events) == [
        "test/alpha/2025-06@apptool",
        "test/beta/2025-06@apptool",
        "test/gamma/2025-Q2@apptool",
        "test/individual/2025-06-03/1@apptool",
        "test/individual/2025-06-04/1@apptool",
    ]
    code, feed = run(week, "sessions", "--today", TODAY, "--format", "ics")
    assert code == 0, feed
    same = ics_events(feed)
    for uid in ("test/alpha/2025-06@apptool", "test/gamma/2025-Q2@apptool"):
        assert events[uid].to_ical() == same[uid].to_ical()  # same UID, SEQUENCE, time, place
    assert int(events["test/gamma/2025-Q2@apptool"]["SEQUENCE"]) == 1
    timed = events["test/individual/2025-06-03/1@apptool"]
    assert str(timed["SUMMARY"]) == "Consultation individuelle (CCAS de Test)"
    assert str(timed["LOCATION"]) == "Cabinet"
    assert timed.decoded("DTSTART").isoformat() == "2025-06-03T16:00:00+02:00"
    assert timed.decoded("DTEND").isoformat() == "2025-06-03T17:00:00+02:00"
    assert "A-017" in str(timed["DESCRIPTION"])
    untimed = events["test/individual/2025-06-04/1@apptool"]
    assert untimed.decoded("DTSTART") == date(2025, 6, 4)  # all day, not blocking the day
    assert str(untimed["TRANSP"]) == "TRANSPARENT"


def test_without_consultations_the_ics_is_the_feed_of_the_same_sessions(week: Path) -> None:
    from apptool.output.export import agenda_ics, sessions_ics
    from apptool.services.agenda import agenda

    outcome = agenda(week, date(2025, 6, 2))
    found = outcome.agenda
    assert [s.id for s in found.sessions] == [
        "test/alpha/2025-06", "test/beta/2025-06", "test/gamma/2025-Q2"
    ]  # fmt: skip
    assert agenda_ics(found.sessions, [], outcome.conventions, date(2025, 6, 2)) == sessions_ics(
        found.sessions, outcome.conventions, date(2025, 6, 2)
    )


def test_the_convention_filter_keeps_travel_only_between_items_shown(week: Path) -> None:
    """Another convention's session between two of ours: the travel before it and after it
    belongs to the full day, and the filtered day shows no travel across it."""
    (week / "conventions" / "other.yaml").write_text(textwrap.dedent(OTHER), encoding="utf-8")
    calendar = CALENDAR_2025 + session(
        "soins", "2025-06", "2025-06-03", "11:30", "12:30", "ehpad", convention="other"
    )
    (week / "calendars" / "2025.yaml").write_text(calendar, encoding="utf-8")
    code, both = run(week, "agenda", "--today", TODAY, "--days", "2")
    assert code == 0, both
    assert "  10:30-11:30  travel 30min to EHPAD les Lilas, 30min free\n" in both
    assert "  12:30-13:30  travel 30min to Residence, 30min free\n" in both
    code, ours = run(week, "agenda", "--today", TODAY, "--days", "2", "--convention", "test")
    assert code == 0, ours
    assert "Soins" not in ours and "EHPAD" not in ours and "travel 45min" not in ours
    assert "  13:30-15:00  Beta (test/beta/2025-06)\n" in ours
    assert "travel 30min to your office, 30min free" in ours  # beta -> consultation: kept
    code, theirs = run(week, "agenda", "--today", TODAY, "--days", "2", "--convention", "other")
    assert code == 0, theirs
    assert "Alpha" not in theirs and "inventaire" not in theirs  # nor our closure
    assert theirs.endswith(
        "1 session(s), 0 consultation(s): 1h in total, no travel between sites "
        "(2025-06-02 to 2025-06-03)\n"
    )


def test_an_unknown_convention_is_refused_with_the_known_ones(week: Path) -> None:
    code, output = run(week, "agenda", "--today", TODAY, "--convention", "nope")
    assert code == 2
    assert "error: unknown convention 'nope' (known conventions: test)" in output


@pytest.mark.parametrize("days", ["0", "367", "-1", "x", "1e3"])
def test_days_out_of_bounds_are_refused(week: Path, days: str) -> None:
    code, output = run(week, "agenda", "--today", TODAY, "--days", days)
    assert code == 2
    assert "--days" in output


@pytest.mark.parametrize("days", [1, 366])
def test_days_within_bounds_are_taken(week: Path, days: int) -> None:
    code, output = run(week, "agenda", "--today", TODAY, "--days", str(days), "--format", "json")
    assert code == 0, output
    payload = json.loads(output)
    assert payload["to"] == date.fromordinal(date(2025, 6, 2).toordinal() + days - 1).isoformat()


def test_the_use_case_checks_its_bounds_too(week: Path) -> None:
    from apptool.errors import InvalidInput
    from apptool.services.agenda import agenda

    for days in (0, 367):
        with pytest.raises(InvalidInput, match="1 to 366 days"):
            agenda(week, date(2025, 6, 2), days)


def test_a_span_past_the_years_the_tool_handles_is_refused(week: Path) -> None:
    code, output = run(week, "agenda", "--today", "2200-12-30", "--days", "7")
    assert code == 2
    assert "outside the years 1900-2200" in output


def test_a_span_across_the_new_year_reads_both_calendars(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    (root / "calendars" / "2025.yaml").write_text(
        "year: 2025\nsessions:\n"
        + session("alpha", "2025-12", "2025-12-30", "09:00", "10:30", "office")
        # moved out of its period into the next year: in the 2025 file, dated 2026
        + session(
            "beta", "2025-12", "2026-01-05", "13:30", "15:00", "home", status="moved",
            moved_out_of_period="true",
            history=change("moved", "moved", "2025-12-16", "09:00", "10:30"),
        ),
        encoding="utf-8",
    )  # fmt: skip
    (root / "calendars" / "2026.yaml").write_text(
        "year: 2026\nsessions:\n"
        + session("alpha", "2026-01", "2026-01-02", "09:00", "10:30", "office"),
        encoding="utf-8",
    )
    code, output = run(root, "agenda", "--today", "2025-12-29", "--days", "8")
    assert code == 0, output
    assert output == (
        "Tuesday 2025-12-30\n"
        "  09:00-10:30  Alpha (test/alpha/2025-12)\n"
        "               Office\n"
        "\n"
        "Thursday 2026-01-01\n"
        "  public holiday: Jour de l'an\n"
        "\n"
        "Friday 2026-01-02\n"
        "  09:00-10:30  Alpha (test/alpha/2026-01)\n"
        "               Office\n"
        "\n"
        "Monday 2026-01-05\n"
        "  13:30-15:00  Beta (test/beta/2025-12), moved from 2025-12-16 09:00\n"
        "               Residence\n"
        "\n"
        "3 session(s), 0 consultation(s): 4h30 in total, no travel between sites "
        "(2025-12-29 to 2026-01-05)\n"
    )


def test_nothing_planned_says_so(workspace: Path) -> None:
    code, output = run(workspace, "agenda", "--today", "2025-06-02")
    assert code == 0, output
    assert output == (
        "nothing planned from 2025-06-02 to 2025-06-08\n"
        "\n"
        "0 session(s), 0 consultation(s): 0h in total, no travel between sites "
        "(2025-06-02 to 2025-06-08)\n"
    )


def test_the_example_workspace(example: Path) -> None:
    code, output = run(example, "plan", "2025", "--today", "2024-01-01")
    assert code == 0, output
    code, output = run(example, "agenda", "--today", "2025-05-26")
    assert code == 0, output
    assert output.startswith("Monday 2025-05-26\n  09:00-10:30  Pôle seniors 5 (ccas-dreux/")
    assert "Thursday 2025-05-29\n  public holiday: Ascension\n" in output
    assert output.endswith("(2025-05-26 to 2025-06-01)\n")


def test_the_same_inputs_give_the_same_output(week: Path) -> None:
    for args in ([], ["--format", "json"], ["--format", "ics"]):
        first = run(week, "agenda", "--today", TODAY, *args)
        assert first == run(week, "agenda", "--today", TODAY, *args)


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_the_text_fits_the_terminal_and_never_cuts_a_value(week: Path, width: int) -> None:
    from apptool.output.agenda import agenda_text
    from apptool.services.agenda import agenda

    text = agenda_text(agenda(week, date(2025, 6, 2)).agenda, width)
    for line in text.splitlines():  # a word longer than the line has a line of its own
        assert cell_width(line) <= width or " " not in line.strip(), text
    words = text.split()
    for word in ("(test/individual/2025-06-03/1,", "(test/alpha/2025-06)", "Tilleuls,", "2h15"):
        assert word in words, word
    assert " ".join(words) == " ".join(
        agenda_text(agenda(week, date(2025, 6, 2)).agenda, None).split()
    )


def test_the_agenda_reads_and_never_writes(week: Path) -> None:
    before = {p: p.read_bytes() for p in week.rglob("*") if p.is_file()}
    for args in ([], ["--format", "json"], ["--format", "ics"]):
        assert run(week, "agenda", "--today", TODAY, *args)[0] == 0
    assert {p: p.read_bytes() for p in week.rglob("*") if p.is_file()} == before
