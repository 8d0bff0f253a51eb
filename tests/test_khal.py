"""The e-mails' invitations update a real calendar program (issue 16.9): khal, installed with
the test dependencies, imports the iCalendar feed, then the invitation of a notice (iTIP
REQUEST, same UID, higher SEQUENCE) moves the event and a CANCEL cancels it, without a
second copy of either."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apptool.cli import app
from apptool.store.workspace import init_workspace

pytest.importorskip("khal")

KHAL_CONFIG = """\
[calendars]
[[etablissement]]
path = {calendar}
type = calendar
[sqlite]
path = {database}
[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
default_timezone = Europe/Paris
local_timezone = Europe/Paris
"""


def apptool(root: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def invitation(eml: Path, into: Path) -> Path:
    """The text/calendar part of an e-mail, as a file a calendar program imports."""
    mail = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    content = part.get_content()
    into.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return into


class Khal:
    def __init__(self, home: Path) -> None:
        (home / "calendar").mkdir(parents=True)
        self.config = home / "config"
        self.config.write_text(
            KHAL_CONFIG.format(calendar=home / "calendar", database=home / "khal.db"),
            encoding="utf-8",
        )
        self.calendar = home / "calendar"
        found = shutil.which("khal", path=str(Path(sys.executable).parent)) or shutil.which("khal")
        assert found, "khal is installed with the test dependencies"
        self.executable = found

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [self.executable, "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def events(self, start: str, end: str) -> dict[str, str]:
        lines = self("list", "--format", "{uid}|{start}|{status}", start, end).splitlines()
        return {u: rest.strip() for u, _, rest in (line.partition("|") for line in lines) if rest}

    def uids(self) -> list[str]:
        return sorted(
            line.removeprefix("UID:").strip()
            for path in self.calendar.glob("*.ics")
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("UID:")
        )


def test_khal_moves_and_cancels_the_events_from_the_emails(tmp_path: Path) -> None:
    root = tmp_path / "example"
    init_workspace(root)
    apptool(root, "plan", "2025", "--today", "2024-01-01")
    feed = tmp_path / "feed.ics"
    feed.write_text(apptool(root, "sessions", "--format", "ics"), encoding="utf-8")
    khal = Khal(tmp_path / "khal")
    khal("import", "--batch", str(feed))
    before = khal.uids()
    assert len(before) == len(set(before)) > 40
    moved, cancelled = "ccas-dreux/seniors-1/2025-05", "ccas-dreux/seniors-2/2025-05"
    assert khal.events("2025-05-01", "2025-05-31")[f"{moved}@apptool"].startswith(
        "2025-05-27 09:00"
    )

    apptool(
        root,
        "reschedule",
        moved,
        "--to",
        "2025-05-20",
        "--slot",
        "15:00",
        "--by",
        "establishment",
        "--requested-on",
        "2025-05-12",
        "--today",
        "2025-05-12",
    )
    apptool(
        root,
        "cancel",
        cancelled,
        "--by",
        "establishment",
        "--requested-on",
        "2025-05-12",
        "--today",
        "2025-05-12",
    )
    out = tmp_path / "out"
    for session in (moved, cancelled):
        apptool(root, "notice", session, "-f", "eml", "-o", str(out))
    invitations = [
        str(invitation(eml, tmp_path / f"invitation-{number}.ics"))
        for number, eml in enumerate(sorted(out.glob("*.eml")))
    ]
    assert len(invitations) == 2
    khal("import", "--batch", *invitations)  # in their order, as two e-mails read in turn

    events = khal.events("2025-05-01", "2025-05-31")
    assert events[f"{moved}@apptool"] == "2025-05-20 15:00|CONFIRMED"
    assert events[f"{cancelled}@apptool"].endswith("|CANCELLED")
    assert khal.uids() == before  # updated in place: no second event
