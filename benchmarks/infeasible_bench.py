"""An infeasible workspace: 30 monthly groups on one site, the practitioner working on
Tuesdays only, planned for 2026 -> exit 3 (issue 15: about 1.0 s CPU and 124 lines of
output; target <= 0.30 s, one line per month and site).

January 2026 has 4 workable Tuesdays, 16 slots, for 30 sessions.

Usage: ``python benchmarks/infeasible_bench.py [-n RUNS]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness import apptool_command, arguments, bench_environment, measure, report

TARGET = 0.30
GROUPS = 30

PRACTITIONER = """\
name: Benchmark Practitioner
working_weekdays: [tuesday]
travel_minutes: 30
"""


def convention(groups: int) -> str:
    lines = [
        "kind: convention",
        "title: Thirty groups on one site",
        "establishment: {name: Établissement, address: [1 rue de la Paix, 28100 Dreux]}",
        "period: {start: 2026-01-01, end: 2026-12-31, renewal: none}",
        "fees: {group_session: {amount: 150, per: session}}",
        "session_duration: 1h30",
        'slots: ["09:00-10:30", "10:30-12:00", "13:30-15:00", "15:00-16:30"]',
        "excluded_months: [7, 8]",
        "notice_days: 15",
        "school_holidays: {zone: B, policy: avoid}",
        "locations: [{id: siege, name: Siège}]",
        "groups:",
        *(
            f"  - {{id: g{n}, name: Groupe {n}, cadence: monthly, location: siege}}"
            for n in range(1, groups + 1)
        ),
    ]
    return "\n".join(lines) + "\n"


def write_workspace(root: Path, groups: int = GROUPS) -> Path:
    (root / "conventions").mkdir(parents=True)
    (root / "calendars").mkdir()
    (root / "practitioner.yaml").write_text(PRACTITIONER, encoding="utf-8")
    (root / "conventions" / "siege.yaml").write_text(convention(groups), encoding="utf-8")
    return root


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    with bench_environment() as folder:
        root = write_workspace(folder / "infeasible")
        command = [*apptool_command(), "-w", str(root), "plan", "2026", "--today", "2025-01-01"]
        result = measure("infeasible workspace (exit 3)", command, args.runs)
    lines = result.output.strip().splitlines()
    print(f"output: {len(lines)} lines; first: {lines[0] if lines else ''}")
    passed = report(result, TARGET)
    if set(result.codes) != {3}:
        print(f"FAIL  exit codes {sorted(set(result.codes))}, expected 3")
        passed = False
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
