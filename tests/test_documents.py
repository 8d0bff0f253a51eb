"""Documents for the establishment, through the command line: calendar, notice, bilan, note.

Golden files (``tests/golden/``): the example's 2025 calendar, the notice of a move and the
2025 bilan with a few notes, compared byte for byte. After an intended change of a template
or of the wording, regenerate them and review the diff before committing:

    APPTOOL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_documents.py
"""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from apptool.cli import app
from apptool.store.workspace import init_workspace
from conftest import CONVENTION, check_golden, safe_load, write_workspace

runner = CliRunner()
TODAY = "2024-01-01"
#: A move the example's plan allows (see the README): 15 days' notice, asked by the CCAS.
MOVE = (
    "reschedule",
    "ccas-dreux/seniors-1/2025-05",
    "--to",
    "2025-05-20",
    "--slot",
    "15:00",
    "--by",
    "establishment",
    "--requested-on",
    "2025-05-12",
    "--reason",
    "réunion de service",
)
#: A cancellation by the CCAS 7 days before: due (art. 4).
CANCEL = (
    "cancel",
    "ccas-dreux/seniors-2/2025-05",
    "--by",
    "establishment",
    "--requested-on",
    "2025-05-20",
    "--reason",
    "grève",
)


def run(root: Path, *args: str, code: int = 0) -> Any:
    """``apptool -w ROOT ARGS``: expect exit ``code``, never a traceback."""
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output
    return result


def distributions(root: Path) -> list[dict[str, Any]]:
    data = safe_load((root / "records" / "distributions.yaml").read_text(encoding="utf-8"))
    result: list[dict[str, Any]] = data["distributions"]
    return result


@pytest.fixture(scope="module")
def planned_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example workspace with its 2025 calendar (planned once per module)."""
    root = tmp_path_factory.mktemp("planned") / "example"
    init_workspace(root)
    run(root, "plan", "2025", "--today", TODAY)
    return root


@pytest.fixture
def example(planned_example: Path, tmp_path: Path) -> Path:
    root = tmp_path / "example"
    shutil.copytree(planned_example, root)
    return root


def noted(root: Path) -> Path:
    """The example after a move, a due cancellation, notes and two consultations."""
    run(root, *MOVE, "--today", TODAY)
    run(root, *CANCEL, "--today", TODAY)
    for session, themes, attendance in (
        ("ccas-dreux/seniors-1/2025-04", "charge-de-travail,fin-de-vie", "7"),
        ("ccas-dreux/seniors-1/2025-05", "charge-de-travail", "5"),
        ("ccas-dreux/seniors-3/2025-05", "charge-de-travail,travail-en-equipe", "6"),
        ("ccas-dreux/action-sociale/2025-04", "agressivite,relation-usagers", "8"),
        ("ccas-dreux/chefs-de-service/2025-06", "organisation-du-service", "4"),
    ):
        run(
            root,
            "note",
            session,
            "--themes",
            themes,
            "--attendance",
            attendance,
            "--text",
            "Mme D. très éprouvée après le décès d'un résident",
            "--today",
            "2025-12-31",
        )
    for day, ref in (("2025-05-14", "A-017"), ("2025-10-08", "B-204")):
        run(
            root,
            "individual",
            "add",
            "--convention",
            "ccas-dreux",
            "--date",
            day,
            "--duration",
            "1h30",
            "--ref",
            ref,
            "--requested-by",
            "agent",
        )
    return root


# --- calendar --------------------------------------------------------------------------------


def test_calendar_of_the_example_matches_the_golden_file(example: Path) -> None:
    result = run(example, "calendar", "2025", "--today", TODAY)
    check_golden("calendar-ccas-dreux-2025.md", result.stdout)
    text = result.stdout
    assert "mai 2025" in text and "| mardi 6 mai 2025 | 9h00–10h30 | Action sociale |" in text
    assert "délai de prévenance de 15 jours (art. 2.1)" in text
    assert "« communiqués lors de la diffusion du calendrier » (art. 3)" in text
    assert "Version 1 du 01/01/2024" in text and "Modifications depuis" not in text
    assert "### Pôle seniors 1" in text  # a table per group


def test_a_distribution_is_recorded_with_the_hash_of_its_markdown(example: Path) -> None:
    result = run(example, "calendar", "2025", "--today", TODAY)
    (first,) = distributions(example)
    assert (first["convention"], first["year"], first["version"], first["date"]) == (
        "ccas-dreux",
        2025,
        1,
        TODAY,
    )
    assert first["sha256"] == hashlib.sha256(result.stdout.encode("utf-8")).hexdigest()
    assert len(first["sessions"]) == 52
    assert set(first["sessions"]["ccas-dreux/seniors-1/2025-05"]) == {
        "date",
        "start",
        "end",
        "location",
        "status",
    }


def test_a_moved_session_appears_in_the_next_version_s_changes(example: Path) -> None:
    run(example, "calendar", "2025", "--today", TODAY)
    run(example, *MOVE, "--today", TODAY)
    run(example, *CANCEL, "--today", TODAY)
    text = run(example, "calendar", "2025", "--today", "2025-05-21").stdout
    assert "Version 2 du 21/05/2025" in text
    changes = text.split("## Modifications depuis la version 1 du 01/01/2024\n")[1]
    changes = changes.split("\n## ")[0]
    assert (
        "- Pôle seniors 1 : la séance du mardi 27 mai 2025 (9h00–10h30) est déplacée au "
        "mardi 20 mai 2025 (15h00–16h30)."
    ) in changes
    assert (
        "- Pôle seniors 2 : la séance du mardi 27 mai 2025 (10h30–12h00) est annulée ; "
        "elle reste due (art. 4)."
    ) in changes
    assert changes.count("\n- ") == 2
    assert (
        "| mardi 20 mai 2025 | 15h00–16h30 | Pôle seniors 1 | Résidence autonomie la "
        "Vaumonnaie | déplacée, initialement le mardi 27 mai 2025 (9h00–10h30) |"
    ) in text
    assert "| Pôle seniors 2 | Résidence autonomie la Vaumonnaie | annulée, due (art. 4) |" in text
    assert [d["version"] for d in distributions(example)] == [1, 2]


def test_an_unchanged_calendar_is_the_last_version_again(example: Path) -> None:
    first = run(example, "calendar", "2025", "--today", TODAY).stdout
    again = run(example, "calendar", "2025", "--today", "2025-03-01")
    assert again.stdout == first
    assert "unchanged since version 1" in again.output
    assert len(distributions(example)) == 1


def test_a_draft_records_nothing(example: Path) -> None:
    result = run(example, "calendar", "2025", "--draft", "--today", TODAY)
    assert "BROUILLON" in result.stdout
    assert not (example / "records" / "distributions.yaml").exists()


def test_a_new_version_cannot_be_dated_before_the_last(example: Path) -> None:
    run(example, "calendar", "2025", "--today", "2025-03-01")
    run(example, *MOVE, "--today", TODAY)
    result = run(example, "calendar", "2025", "--today", "2025-02-01", code=4)
    assert "version 1 of this calendar was distributed on 2025-03-01" in result.output


def test_html_pdf_and_ics_are_written_to_the_output_folder(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run(example, "calendar", "2025", "-f", "pdf", "-o", str(blocker / "x"), code=2)
    assert "not a folder this user can write to" in result.output
    assert not (example / "records" / "distributions.yaml").exists()
    run(example, "calendar", "2025", "--format", "pdf", "--output", str(out), "--today", TODAY)
    pdf = (out / "calendrier-ccas-dreux-2025-v1.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    run(example, "calendar", "2025", "--format", "pdf", "--output", str(out), "--today", TODAY)
    assert (out / "calendrier-ccas-dreux-2025-v1.pdf").read_bytes() == pdf  # deterministic
    run(example, "calendar", "2025", "--format", "html", "--output", str(out), "--today", TODAY)
    html = (out / "calendrier-ccas-dreux-2025-v1.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Version 1 du 01/01/2024" in html
    run(example, "calendar", "2025", "--format", "ics", "--output", str(out), "--today", TODAY)
    ics = Calendar.from_ical((out / "calendrier-ccas-dreux-2025-v1.ics").read_text())
    assert len(ics.walk("VEVENT")) == 52


def test_same_inputs_give_byte_identical_markdown_and_html(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        root = tmp_path / name
        init_workspace(root)
        run(root, "plan", "2025", "--today", TODAY)
        run(root, *MOVE, "--today", TODAY)
        outputs.append(
            [
                run(root, *args).stdout
                for args in (
                    ("calendar", "2025", "--draft", "--today", TODAY),
                    ("calendar", "2025", "--draft", "--format", "html", "--today", TODAY),
                    ("notice", "ccas-dreux/seniors-1/2025-05"),
                    ("notice", "ccas-dreux/seniors-1/2025-05", "--format", "html"),
                    ("bilan", "2025", "--convention", "ccas-dreux", "--today", "2025-12-31"),
                    (
                        "bilan",
                        "2025",
                        "--convention",
                        "ccas-dreux",
                        "--format",
                        "html",
                        "--today",
                        "2025-12-31",
                    ),
                )
            ]
        )
    assert outputs[0] == outputs[1]


OTHER = (
    CONVENTION.replace("CCAS de Test", "EHPAD des Voisins")
    .replace("name: Alpha", "name: Équipe voisine A")
    .replace("name: Beta", "name: Équipe voisine B")
    .replace("name: Gamma", "name: Équipe voisine C")
    .replace("name: Office", "name: Site voisin")
    .replace("name: Residence", "name: Autre site voisin")
)


@pytest.fixture
def two(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "two", {"test": CONVENTION, "voisins": OTHER})
    run(root, "plan", "2025", "--today", TODAY)
    return root


def test_a_convention_s_calendar_never_shows_another_s_sessions(two: Path, tmp_path: Path) -> None:
    mine = run(two, "calendar", "2025", "--convention", "test", "--today", TODAY).stdout
    assert "CCAS de Test" in mine and "| Alpha |" in mine
    assert "voisin" not in mine.lower() and "EHPAD" not in mine
    out = tmp_path / "out"
    run(two, "calendar", "2025", "--format", "html", "--output", str(out), "--today", TODAY)
    theirs = (out / "calendrier-voisins-2025-v1.html").read_text(encoding="utf-8")
    ours = (out / "calendrier-test-2025-v1.html").read_text(encoding="utf-8")
    assert "Équipe voisine A" in theirs and "Alpha" not in theirs and "CCAS de Test" not in theirs
    assert "voisin" not in ours.lower()
    run(
        two,
        "calendar",
        "2025",
        "--convention",
        "test",
        "--format",
        "ics",
        "--output",
        str(out),
        "--today",
        TODAY,
    )
    ics = Calendar.from_ical((out / "calendrier-test-2025-v1.ics").read_text())
    uids = [str(e["UID"]) for e in ics.walk("VEVENT")]
    assert uids and all(uid.startswith("test/") for uid in uids)
    recorded = distributions(two)
    assert {(d["convention"], d["version"]) for d in recorded} == {("test", 1), ("voisins", 1)}
    assert all(
        all(sid.startswith(d["convention"] + "/") for sid in d["sessions"]) for d in recorded
    )


# --- notice ----------------------------------------------------------------------------------


def test_notice_of_a_move_matches_the_golden_file(example: Path) -> None:
    result = run(example, *MOVE, "--today", TODAY)
    assert "to send the notice: apptool notice ccas-dreux/seniors-1/2025-05" in result.output
    text = run(example, "notice", "ccas-dreux/seniors-1/2025-05").stdout
    check_golden("notice-ccas-dreux-seniors-1-2025-05.md", text)
    assert "Date initiale : mardi 27 mai 2025, 9h00–10h30" in text
    assert "Nouvelle date : mardi 20 mai 2025, 15h00–16h30" in text
    assert "Demande : l'établissement, le lundi 12 mai 2025" in text
    assert "15 jours, pour 15 jours requis (art. 2.1) — délai respecté" in text


def test_notice_of_a_move_asked_by_the_practitioner_asks_for_agreement(example: Path) -> None:
    args = [a if a != "establishment" else "practitioner" for a in MOVE]
    run(example, *args, "--today", TODAY)
    text = run(example, "notice", "ccas-dreux/seniors-1/2025-05").stdout
    assert "Je vous propose de déplacer" in text and "commun accord" in text
    assert "Demande : le praticien, le lundi 12 mai 2025" in text


def test_notice_of_a_due_cancellation_says_it_is_billable(example: Path) -> None:
    result = run(example, *CANCEL, "--today", TODAY)
    assert "to send the notice: apptool notice ccas-dreux/seniors-2/2025-05" in result.output
    text = run(example, "notice", "ccas-dreux/seniors-2/2025-05").stdout
    assert "Annulation de la séance du mardi 27 mai 2025, 10h30–12h00" in text
    assert "cette séance reste due (art. 4)" in text and "facture de mai 2025" in text
    assert "7 jours, pour 15 jours requis (art. 2.1) — délai non respecté" in text


def test_notice_of_a_cancellation_with_notice_proposes_a_report(
    example: Path, tmp_path: Path
) -> None:
    run(
        example,
        "cancel",
        "ccas-dreux/seniors-2/2025-05",
        "--by",
        "establishment",
        "--requested-on",
        "2025-05-01",
        "--today",
        TODAY,
    )
    text = run(example, "notice", "ccas-dreux/seniors-2/2025-05").stdout
    assert "une nouvelle date vous est proposée dans la même période" in text
    assert "à défaut de report possible, la séance reste due (art. 4)" in text
    out = tmp_path / "out"
    run(example, "notice", "ccas-dreux/seniors-2/2025-05", "--format", "pdf", "--output", str(out))
    assert (out / "avis-ccas-dreux-seniors-2-2025-05-1.pdf").read_bytes().startswith(b"%PDF")


def test_the_report_of_a_cancellation_keeps_the_notice_of_the_cancellation(
    example: Path,
) -> None:
    """Cancelled by the CCAS 23 days ahead (report pending), then moved 8 days before its
    date: art. 2.1's notice was given by the cancellation, and the letter says so."""
    sid = "ccas-dreux/seniors-5/2025-10"  # Monday 13 October 2025
    run(
        example,
        "cancel",
        sid,
        "--by",
        "establishment",
        "--requested-on",
        "2025-09-20",
        "--today",
        TODAY,
    )
    moved = run(
        example,
        "reschedule",
        sid,
        "--to",
        "2025-10-06",
        "--slot",
        "09:00",
        "--by",
        "establishment",
        "--requested-on",
        "2025-10-05",
        "--today",
        TODAY,
    ).stdout
    assert "23 days' notice" in moved
    text = run(example, "notice", sid).stdout
    assert (
        "Délai de prévenance : 23 jours, pour 15 jours requis (art. 2.1) — délai respecté "
        "(annulation du samedi 20 septembre 2025)" in text
    )


def test_a_report_after_the_practitioner_s_cancellation_needs_no_notice(example: Path) -> None:
    sid = "ccas-dreux/seniors-5/2025-10"
    run(
        example,
        "cancel",
        sid,
        "--by",
        "practitioner",
        "--requested-on",
        "2025-09-20",
        "--today",
        TODAY,
    )
    run(
        example,
        "reschedule",
        sid,
        "--to",
        "2025-10-06",
        "--slot",
        "09:00",
        "--by",
        "practitioner",
        "--requested-on",
        "2025-10-05",
        "--today",
        TODAY,
    )
    text = run(example, "notice", sid).stdout
    assert (
        "Délai de prévenance : sans objet : report d'une séance annulée le samedi 20 "
        "septembre 2025" in text
    )
    assert "non respecté" not in text


def test_no_report_answers_the_establishment_s_request(example: Path) -> None:
    """A cancellation by the CCAS on 10 September (its report pending), then recorded on 20
    October without a report possible: the letter answers the request of 10 September, with
    its reason, and says when no report was found possible."""
    sid = "ccas-dreux/seniors-1/2025-10"  # Friday 17 October 2025
    run(
        example,
        "cancel",
        sid,
        "--by",
        "establishment",
        "--reason",
        "travaux",
        "--requested-on",
        "2025-09-10",
        "--today",
        TODAY,
    )
    run(
        example,
        "cancel",
        sid,
        "--by",
        "establishment",
        "--no-report",
        "--requested-on",
        "2025-10-20",
        "--today",
        TODAY,
    )
    text = run(example, "notice", sid).stdout
    assert "À la suite de la demande de l'établissement du mercredi 10 septembre 2025" in text
    assert "Demande : l'établissement, le mercredi 10 septembre 2025" in text
    assert "Motif : travaux" in text
    assert "Report : aucun report possible, constaté le lundi 20 octobre 2025" in text
    assert "37 jours, pour 15 jours requis (art. 2.1) — délai respecté" in text
    assert "elle figurera sur la facture d'octobre 2025" in text


def test_dry_runs_do_not_offer_a_notice(example: Path) -> None:
    result = run(example, *MOVE, "--dry-run", "--today", TODAY)
    assert "apptool notice" not in result.output
    result = run(example, *CANCEL, "--dry-run", "--today", TODAY)
    assert "apptool notice" not in result.output


def test_notice_of_a_session_without_history_is_an_error(example: Path) -> None:
    result = run(example, "notice", "ccas-dreux/seniors-1/2025-05", code=2)
    assert "has no recorded change" in result.output
    run(example, "notice", "ccas-dreux/seniors-1/2031-05", code=2)
    run(example, "notice", "ccas-dreux/seniors-1/2025-05", "--format", "pdf", code=2)


def test_a_pdf_without_output_goes_to_the_current_folder(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    run(example, *MOVE, "--today", TODAY)
    result = run(example, "notice", "ccas-dreux/seniors-1/2025-05", "--format", "pdf")
    assert "written to avis-ccas-dreux-seniors-1-2025-05-1.pdf" in result.output
    assert (here / "avis-ccas-dreux-seniors-1-2025-05-1.pdf").read_bytes().startswith(b"%PDF")


# --- notices and calendars by e-mail (.eml with an iTIP invitation) -------------------------


def _mail(path: Path) -> Any:
    import email
    from email import policy

    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _invitations(mail: Any) -> list[tuple[str, Calendar]]:
    return [
        (part.get_param("method"), Calendar.from_ical(part.get_content()))
        for part in mail.walk()
        if part.get_content_type() == "text/calendar"
    ]


def test_the_notice_of_a_move_as_an_email_updates_the_event(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(example, *MOVE, "--today", TODAY)
    run(example, "notice", "ccas-dreux/seniors-1/2025-05", "-f", "eml", "-o", str(out))
    path = out / "avis-ccas-dreux-seniors-1-2025-05-1.eml"
    mail = _mail(path)
    assert mail["From"] == "Alain Frison <alain.frison@example.fr>"
    assert mail["To"] == "Direction du CCAS <direction.ccas@example.fr>"
    assert mail["Subject"].startswith("Déplacement de la séance du mardi 27 mai 2025")
    assert mail["Date"] == "Mon, 12 May 2025 12:00:00 +0000"  # the day of the request
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Nouvelle date : mardi 20 mai 2025, 15h00–16h30" in text and "**" not in text
    [(method, ics)] = _invitations(mail)
    assert method == "REQUEST" and str(ics["METHOD"]) == "REQUEST"
    [event] = ics.walk("VEVENT")
    assert str(event["UID"]) == "ccas-dreux/seniors-1/2025-05@apptool"  # same event, updated
    assert int(event["SEQUENCE"]) == 1
    assert event["DTSTART"].dt.isoformat() == "2025-05-20T15:00:00+02:00"
    assert str(event["ORGANIZER"]) == "mailto:alain.frison@example.fr"
    assert str(event["ATTENDEE"]) == "mailto:direction.ccas@example.fr"
    [pdf] = [p for p in mail.walk() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "avis-ccas-dreux-seniors-1-2025-05-1.pdf"
    assert pdf.get_content().startswith(b"%PDF")
    first = path.read_bytes()
    run(example, "notice", "ccas-dreux/seniors-1/2025-05", "-f", "eml", "-o", str(out))
    assert path.read_bytes() == first  # deterministic, byte for byte


def test_the_notice_of_a_cancellation_as_an_email_cancels_the_event(
    example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run(example, *CANCEL, "--today", TODAY)
    run(example, "notice", "ccas-dreux/seniors-2/2025-05", "-f", "eml", "-o", str(out))
    mail = _mail(out / "avis-ccas-dreux-seniors-2-2025-05-1.eml")
    [(method, ics)] = _invitations(mail)
    [event] = ics.walk("VEVENT")
    assert method == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "ccas-dreux/seniors-2/2025-05@apptool"


def test_an_email_needs_a_sender_and_recipients(example: Path, tmp_path: Path) -> None:
    run(example, *MOVE, "--today", TODAY)
    conv = example / "conventions" / "ccas-dreux.yaml"
    text = conv.read_text(encoding="utf-8")
    start = text.index("  contacts:")
    end = text.index("\n", text.index("email:", start)) + 1
    conv.write_text(text[:start] + text[end:], encoding="utf-8")
    out = tmp_path / "out"
    result = run(
        example, "notice", "ccas-dreux/seniors-1/2025-05", "-f", "eml", "-o", str(out), code=2
    )
    assert "conventions/ccas-dreux.yaml" in result.output
    assert "establishment.contacts: missing" in result.output
    assert not out.exists()
    conv.write_text(text.replace("direction.ccas@example.fr", "direction.ccas"), encoding="utf-8")
    result = run(example, "notice", "ccas-dreux/seniors-1/2025-05", "-f", "eml", code=2)
    assert "establishment.contacts[0].email" in result.output
    assert "is not an e-mail address" in result.output


def test_a_distributed_calendar_as_an_email_invites_to_every_session(
    example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run(example, "plan", "2025", "--today", TODAY)
    run(example, *CANCEL, "--today", TODAY)
    run(example, "calendar", "2025", "-f", "eml", "-o", str(out), "--today", "2025-05-21")
    mail = _mail(out / "calendrier-ccas-dreux-2025-v1.eml")
    assert mail["Subject"].startswith("Calendrier 2025 des séances")
    invitations = dict(_invitations(mail))
    assert len(invitations["REQUEST"].walk("VEVENT")) == 51
    [cancelled] = invitations["CANCEL"].walk("VEVENT")
    assert str(cancelled["UID"]) == "ccas-dreux/seniors-2/2025-05@apptool"
    assert [d["version"] for d in distributions(example)] == [1]


# --- bilan and notes -------------------------------------------------------------------------


def test_bilan_of_the_example_matches_the_golden_file(example: Path) -> None:
    text = run(
        noted(example), "bilan", "2025", "--convention", "ccas-dreux", "--today", "2025-12-31"
    ).stdout
    check_golden("bilan-ccas-dreux-2025.md", text)
    assert "| Pôle seniors 1 | 7 | 7 | 0 | 1 | 0 | 0 |" in text
    assert "| Pôle seniors 2 | 7 | 6 | 0 | 0 | 0 | 1 |" in text
    assert "| charge de travail | 3 | 2 |" in text
    for section in (
        "Analyse des thématiques récurrentes",
        "Recommandations",
        "Retour qualitatif sur l'évolution des dynamiques de groupe et le "
        "ressenti des participants",
        "Évaluation des actions correctives mises en place et de leur efficacité",
    ):
        assert section in text
    assert text.count("À compléter par le praticien") == 4


def test_bilan_hides_references_dates_and_note_texts(example: Path) -> None:
    root = noted(example)
    for fmt in ("md", "html"):
        text = run(
            root,
            "bilan",
            "2025",
            "--convention",
            "ccas-dreux",
            "--format",
            fmt,
            "--today",
            "2025-12-31",
        ).stdout
        for secret in (
            "A-017",
            "B-204",
            "2025-05-14",
            "14/05/2025",
            "14 mai 2025",
            "2025-10-08",
            "8 octobre 2025",
            "08/10/2025",
            "Mme D.",
            "décès",
            "demandée par",
        ):
            assert secret not in text, (fmt, secret)
        assert "moins de 3" in text
        assert "3 h" not in text  # two consultations of 1h30: the hours are not shown


def test_bilan_shows_count_and_hours_from_three_consultations(example: Path) -> None:
    for day in ("2025-05-14", "2025-06-11", "2025-10-08"):
        run(
            example,
            "individual",
            "add",
            "--convention",
            "ccas-dreux",
            "--date",
            day,
            "--duration",
            "1h30",
        )
    text = run(
        example, "bilan", "2025", "--convention", "ccas-dreux", "--today", "2025-12-31"
    ).stdout
    assert "- Consultations : 3\n- Durée totale : 4 h 30" in text
    assert "moins de 3\n" not in text


def test_a_bilan_during_the_year_is_partial(example: Path) -> None:
    text = run(
        example, "bilan", "2025", "--convention", "ccas-dreux", "--today", "2025-06-30"
    ).stdout
    assert "**Bilan intermédiaire** : 30 séance(s) restent à venir" in text


def test_note_records_and_completes_a_session_s_notes(example: Path) -> None:
    sid = "ccas-dreux/seniors-1/2025-04"
    result = run(example, "note", sid, "--themes", "charge-de-travail", "--today", "2025-05-01")
    assert f"noted {sid}: themes charge-de-travail; attendance -; no text" in result.output
    run(
        example, "note", sid, "--attendance", "6", "--text", "groupe soudé", "--today", "2025-05-02"
    )
    (note,) = safe_load((example / "records" / "notes.yaml").read_text())["notes"]
    assert note == {
        "session": sid,
        "convention": "ccas-dreux",
        "recorded_on": "2025-05-02",
        "themes": ["charge-de-travail"],
        "attendance": 6,
        "text": "groupe soudé",
    }


def test_note_is_refused_for_a_future_or_cancelled_session(example: Path) -> None:
    run(
        example,
        "note",
        "ccas-dreux/seniors-1/2025-06",
        "--attendance",
        "5",
        "--today",
        "2025-05-01",
        code=4,
    )
    run(example, *CANCEL, "--today", TODAY)
    run(
        example,
        "note",
        "ccas-dreux/seniors-2/2025-05",
        "--attendance",
        "5",
        "--today",
        "2025-12-31",
        code=4,
    )
    assert not (example / "records" / "notes.yaml").exists()


def test_note_bad_input_is_exit_2(example: Path) -> None:
    result = run(
        example,
        "note",
        "ccas-dreux/seniors-1/2025-04",
        "--themes",
        "météo",
        "--today",
        "2025-12-31",
        code=2,
    )
    assert "unknown theme(s) 'météo'" in result.output and "charge-de-travail" in result.output
    run(example, "note", "ccas-dreux/nobody/2025-04", "--attendance", "3", code=2)
    run(example, "note", "ccas-dreux/seniors-1/2025-04", code=2)  # nothing to note
    run(example, "note", "ccas-dreux/seniors-1/2025-04", "--attendance", "-1", code=2)
    (example / "themes.yaml").unlink()
    result = run(
        example,
        "note",
        "ccas-dreux/seniors-1/2025-04",
        "--themes",
        "charge-de-travail",
        "--today",
        "2025-12-31",
        code=2,
    )
    assert "themes.yaml" in result.output
    assert not (example / "records" / "notes.yaml").exists()


def test_themes_file_is_validated_with_its_line(example: Path) -> None:
    (example / "themes.yaml").write_text(
        textwrap.dedent("""\
        themes:
          - {id: charge, label: charge de travail}
          - {id: charge, label: encore}
          - {id: Fin de vie, label: fin de vie}
          - {id: seul}
        """),
        encoding="utf-8",
    )
    result = run(example, "check", code=2)
    assert "themes.yaml:3: themes[1].id: theme 'charge' defined twice" in result.output
    assert "themes.yaml:4: themes[2].id: 'Fin de vie' is not an identifier" in result.output
    assert "themes.yaml:5: themes[3].label: missing: this key is required" in result.output


def test_escaping_a_group_name_in_html(tmp_path: Path) -> None:
    evil = CONVENTION.replace("name: Alpha", 'name: "<script>alert(1)</script>"')
    root = write_workspace(tmp_path / "evil", {"test": evil})
    run(root, "plan", "2025", "--today", TODAY)
    sid = "test/alpha/2025-05"
    run(
        root,
        "cancel",
        sid,
        "--by",
        "practitioner",
        "--requested-on",
        "2025-04-01",
        "--today",
        TODAY,
    )
    for args in (
        ("calendar", "2025", "--format", "html", "--draft", "--today", TODAY),
        ("notice", sid, "--format", "html"),
        ("bilan", "2025", "--convention", "test", "--format", "html", "--today", "2025-12-31"),
    ):
        html = run(root, *args).stdout
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, args
        assert "<script>" not in html, args


# --- help and bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["calendar", "notice", "bilan", "note"])
def test_every_document_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("calendar", "2025", "--convention", "nowhere", "--today", TODAY),
        ("calendar", "2031", "--today", TODAY),
        ("bilan", "2025", "--convention", "nowhere", "--today", TODAY),
        ("bilan", "2025"),
        ("notice", "ccas-dreux/seniors-1/2031-05"),
        ("note", "ccas-dreux/seniors-1/2031-05", "--attendance", "4", "--today", TODAY),
    ],
)
def test_unknown_things_are_exit_2(example: Path, args: tuple[str, ...]) -> None:
    result = run(example, *args, code=2)
    assert "error" in result.output.lower()


def test_the_calendar_pdf_never_splits_a_months_table(example: Path, tmp_path: Path) -> None:
    """Read back page by page: each month's sessions sit on one page, pages are numbered."""
    import pypdf

    run(example, "plan", "2025", "--today", "2024-01-01")
    out = tmp_path / "pdf"
    run(
        example,
        "calendar",
        "2025",
        "--format",
        "pdf",
        "--output",
        str(out),
        "--draft",
        "--today",
        "2025-03-01",
    )
    (path,) = out.glob("*.pdf")
    pages = [page.extract_text() for page in pypdf.PdfReader(path).pages]
    by_month = [i for i, text in enumerate(pages) if "Séances par groupe" in text]
    month_pages = pages[: by_month[0] + 1]
    month_pages[-1] = month_pages[-1].split("Séances par groupe")[0]
    for month in ("avril", "mai", "juin", "septembre", "octobre", "novembre", "décembre"):
        holding = {i for i, text in enumerate(month_pages) if f" {month} 2025" in text}
        assert len(holding) == 1, f"{month}: on pages {sorted(holding)}"
    assert all(f"page {i + 1}/{len(pages)}" in text for i, text in enumerate(pages))
    assert "9h00–10h30" in pages[0]
