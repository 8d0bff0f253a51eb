"""Planner scale: 80 monthly groups on 4 sites, a fresh plan of 2026 (issue 15: about 1.1 s
CPU; target <= 0.5 s, the cost growing linearly with groups x workable days).

Four conventions (one site each, 20 monthly groups, six slots a day, school holidays
``prefer-avoid``), the practitioner working Monday to Friday. Also times 20 and 40 groups
(on 1 and 2 sites), to show how the cost grows.

Usage: ``python benchmarks/planner_scale_bench.py [-n RUNS]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness import (
    apptool_command,
    arguments,
    bench_environment,
    describe,
    fresh_copy,
    measure,
    report,
)

TARGET = 0.5
GROUPS_PER_SITE = 20
ZONES = ["A", "B", "C", "B"]

PRACTITIONER = """\
name: Benchmark Practitioner
working_weekdays: [monday, tuesday, wednesday, thursday, friday]
travel_minutes: 30
"""


def convention(site: int, groups: int) -> str:
    lines = [
        "kind: convention",
        f"title: Site {site}",
        f"establishment: {{name: Établissement {site}, address: [1 rue de la Paix, 28100 Dreux]}}",
        "period: {start: 2026-01-01, end: 2026-12-31, renewal: tacit-yearly}",
        "fees: {group_session: {amount: 150, per: session}}",
        "session_duration: 1h30",
        'slots: ["08:00-09:30", "09:30-11:00", "11:00-12:30", "13:30-15:00", "15:00-16:30",'
        ' "16:30-18:00"]',
        "excluded_months: [8]",
        "notice_days: 15",
        f"school_holidays: {{zone: {ZONES[site % len(ZONES)]}, policy: prefer-avoid}}",
        f"locations: [{{id: site{site}, name: Site {site}}}]",
        "groups:",
        *(
            f"  - {{id: g{n}, name: Groupe {site}.{n}, cadence: monthly, location: site{site}}}"
            for n in range(1, groups + 1)
        ),
    ]
    return "\n".join(lines) + "\n"


def write_workspace(root: Path, sites: int, groups_per_site: int = GROUPS_PER_SITE) -> Path:
    (root / "conventions").mkdir(parents=True)
    (root / "calendars").mkdir()
    (root / "practitioner.yaml").write_text(PRACTITIONER, encoding="utf-8")
    for site in range(sites):
        text = convention(site, groups_per_site)
        (root / "conventions" / f"site{site}.yaml").write_text(text, encoding="utf-8")
    return root


def main() -> int:
    args = arguments(__doc__.splitlines()[0], runs=5)
    passed = True
    with bench_environment() as folder:
        for sites in (1, 2, 4):
            source = write_workspace(folder / f"ws{sites}", sites)
            copy = folder / "run"
            command = [*apptool_command(), "-w", str(copy), "plan", "2026", "--today", "2025-01-01"]
            result = measure(
                f"{sites * GROUPS_PER_SITE} monthly groups on {sites} site(s), fresh plan",
                command,
                args.runs,
                fresh_copy(source, copy),
            )
            print(result.output.strip().splitlines()[-1])
            if sites == 4:
                passed = report(result, TARGET) and set(result.codes) == {0}
            else:
                describe(result)  # how the cost grows with the groups
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
