"""Planner benchmark: plan a year of synthetic workspaces, and time ``apptool --help``.

Usage::

    python benchmarks/plan_bench.py [--groups 10,20,40] [--seed N] [--year 2026]

For each size it writes a workspace with that many monthly groups (plus a few quarterly
ones) spread over several conventions, sites, school-holiday zones and policies, near the
practitioner's capacity, then plans the year through ``apptool.planning.plan`` (loading,
planning and checking, without writing the calendar). It prints the best of 3 planning
times, the soft-goal figures of the plan and whether it breaks a hard rule, then the best of
5 start-up times of ``apptool --help``, and PASS/FAIL against the targets. The exit code is
1 when a target is missed or a plan is invalid.

Timings belong here, never in the unit tests.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from apptool.domain.hard_rules import missing_periods, plan_violations
from apptool.errors import NoValidPlan
from apptool.services import planning

#: Targets: a 40-group year on one core, and the CLI's start-up.
PLAN_TARGET_GROUPS = 40
PLAN_TARGET_SECONDS = 2.0
HELP_TARGET_SECONDS = 0.2

SLOTS = ["09:00-10:30", "10:30-12:00", "13:30-15:00", "15:00-16:30"]
#: (zone, policy, excluded months) of the successive conventions.
PROFILES = [
    ("A", "avoid", [7, 8]),
    ("B", "avoid", [7, 8]),
    ("C", "prefer-avoid", [7, 8]),
    ("B", "ignore", [8]),
    ("A", "prefer-avoid", []),
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]

PRACTITIONER = """\
name: Benchmark Practitioner
working_weekdays: [monday, tuesday, wednesday, thursday, friday]
travel_minutes: 30
unavailability:
  - {{from: {year}-05-19, to: {year}-05-23, reason: congés}}
  - {{from: {year}-10-14, reason: formation}}
  - {{from: {year}-12-22, to: {year}-12-31, reason: congés}}
"""


def convention_yaml(
    index: int, monthly: int, quarterly: int, sites: int, rng: random.Random
) -> str:
    """One convention: ``monthly`` + ``quarterly`` groups over ``sites`` locations."""
    zone, policy, excluded = PROFILES[index % len(PROFILES)]
    lines = [
        "kind: convention",
        f"title: Benchmark convention {index}",
        "establishment:",
        f"  name: Établissement {index}",
        "  address: [1 rue de la Paix, 28100 Dreux]",
        "period: {start: 2025-01-01, end: 2025-12-31, renewal: tacit-yearly}",
        "fees:",
        "  group_session: {amount: 150, per: session}",
        "session_duration: 1h30",
        f"slots: [{', '.join(repr(s).replace(chr(39), chr(34)) for s in SLOTS)}]",
        f"excluded_months: {excluded}",
        "notice_days: 15",
        f"school_holidays: {{zone: {zone}, policy: {policy}}}",
        "locations:",
        *(f"  - {{id: site{s}, name: Site {index}.{s}}}" for s in range(sites)),
        "groups:",
    ]
    for number in range(monthly + quarterly):
        cadence = "monthly" if number < monthly else "quarterly"
        prefs = ""
        if rng.random() < 0.3:
            prefs = f", preferences: {{weekdays: [{rng.choice(WEEKDAYS)}]}}"
        elif rng.random() < 0.2:
            prefs = f', preferences: {{slots: ["{rng.choice(SLOTS)[:5]}"]}}'
        lines.append(
            f"  - {{id: g{number}, name: Group {index}.{number}, cadence: {cadence}, "
            f"location: site{number % sites}{prefs}}}"
        )
    return "\n".join(lines) + "\n"


def make_workspace(root: Path, groups: int, year: int, seed: int) -> Path:
    """A workspace with ``groups`` monthly groups, about ten per convention, and a few
    quarterly groups; two or three sites per convention."""
    rng = random.Random(seed * 1000 + groups)
    conventions = max(2, round(groups / 10))
    (root / "conventions").mkdir(parents=True)
    (root / "calendars").mkdir()
    (root / "practitioner.yaml").write_text(PRACTITIONER.format(year=year), encoding="utf-8")
    for index in range(conventions):
        monthly = groups // conventions + (index < groups % conventions)
        quarterly = 1 if index % 2 == 0 else 0
        sites = 2 + (index % 2)
        text = convention_yaml(index, monthly, quarterly, sites, rng)
        (root / "conventions" / f"conv{index}.yaml").write_text(text, encoding="utf-8")
    return root


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, object]:
    """The shortest wall time of ``runs`` calls, and the last result."""
    best = float("inf")
    result: object = None
    for _ in range(runs):
        began = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - began)
    return best, result


@dataclass
class SizeResult:
    groups: int
    #: (what was timed, best time in seconds); inf when there was no valid plan.
    timings: list[tuple[str, float]]
    valid: bool


def describe(outcome: planning.PlanOutcome, year: int) -> tuple[str, bool]:
    """The plan's soft-goal figures, and whether it meets every hard rule."""
    plan, workspace = outcome.plan, outcome.workspace
    report = plan.report
    violations = plan_violations(plan.sessions, workspace.conventions, workspace.practitioner)
    missing = missing_periods(plan.sessions, workspace.conventions, year)
    intervals = ", ".join(
        f"{cadence} {low}-{high} d" for cadence, (low, high) in report.intervals.items()
    )
    valid = not violations and not missing
    text = (
        f"{report.sessions} sessions, {report.trips} trips, max "
        f"{max(report.trips_per_month.values(), default=0)} trips/month | intervals "
        f"{intervals} | {len(report.short_intervals)} short, {report.off_rhythm} off-rhythm"
        f" | {len(report.in_school_holidays)} in school holidays | busiest day "
        f"{report.busiest_day} | hard rules "
        + ("OK" if valid else f"BROKEN ({len(violations)} violations, {len(missing)} missing)")
    )
    return text, valid


def timed_plan(root: Path, year: int, label: str, write: bool) -> tuple[float, bool]:
    """Best of 3 ``planning.plan`` of ``year``; with ``write`` the calendar is saved (and removed
    again before the next run, outside the timing)."""
    today = date(year - 2, 1, 1)
    calendar = root / "calendars" / f"{year}.yaml"

    def run() -> planning.PlanOutcome:
        calendar.unlink(missing_ok=True)
        began = time.perf_counter()
        outcome = planning.plan(root, year, today, dry_run=not write)
        timings.append(time.perf_counter() - began)
        return outcome

    timings: list[float] = []
    try:
        outcome = [run() for _ in range(3)][-1]
    except NoValidPlan as exc:
        print(f"  {label}: NO VALID PLAN: {exc.message}")
        for line in exc.lines()[:3]:
            print(f"      {line}")
        return float("inf"), False
    text, valid = describe(outcome, year)
    print(f"  {label}: {min(timings):6.3f} s | {text}")
    return min(timings), valid


def timed_cli(root: Path, year: int) -> float:
    """Best of 3 ``apptool plan YEAR --dry-run`` in a new process (start-up, table output)."""
    command = [
        *apptool_command(),
        "--workspace",
        str(root),
        "plan",
        str(year),
        "--today",
        str(date(year - 2, 1, 1)),
        "--dry-run",
    ]

    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    seconds, _ = best_of(3, run)
    print(f"  CLI `apptool plan {year} --dry-run`, {year - 1} as context: {seconds:6.3f} s")
    return seconds


def bench_size(groups: int, year: int, seed: int, cli: bool) -> SizeResult:
    """Plan a synthetic workspace: the year alone (calendar written), then the next year with
    the first as calendar of record (its sessions set each group's rhythm)."""
    print(f"{groups} monthly groups:")
    with tempfile.TemporaryDirectory(prefix="apptool-bench-") as tmp:
        root = make_workspace(Path(tmp) / "ws", groups, year, seed)
        first, valid = timed_plan(root, year, f"plan {year}", write=True)
        timings = [(f"plan {year}", first)]
        if valid:
            following, valid = timed_plan(root, year + 1, f"plan {year + 1}", write=False)
            timings.append((f"plan {year + 1} after {year}", following))
        if valid and cli:
            timings.append((f"CLI plan {year + 1} after {year}", timed_cli(root, year + 1)))
    return SizeResult(groups, timings, valid)


def apptool_command() -> list[str]:
    """The installed ``apptool`` script next to this Python, else ``python -m apptool``."""
    script = Path(sys.executable).parent / "apptool"
    if script.exists():
        return [str(script)]
    found = shutil.which("apptool")
    return [found] if found else [sys.executable, "-m", "apptool"]


def bench_help() -> float:
    command = [*apptool_command(), "--help"]

    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run()  # warm the file-system cache and the bytecode
    seconds, _ = best_of(5, run)
    return seconds


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--groups",
        default="10,20,40",
        help="comma-separated numbers of monthly groups (default 10,20,40)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--year", type=int, default=2026, help="year to plan (default 2026)")
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.groups.split(",") if part.strip()]

    print(f"planning {args.year}, seed {args.seed}, best of 3 (Python {sys.version.split()[0]})")
    results = [
        bench_size(size, args.year, args.seed, cli=size == PLAN_TARGET_GROUPS) for size in sizes
    ]
    help_seconds = bench_help()
    print(f"apptool --help: {help_seconds:.3f} s (best of 5)")

    ok = True
    print()
    for result in results:
        if not result.valid:
            ok = False
            print(f"FAIL  {result.groups} groups: no valid plan")
        elif result.groups == PLAN_TARGET_GROUPS:
            for label, seconds in result.timings:
                passed = seconds < PLAN_TARGET_SECONDS
                ok &= passed
                print(
                    f"{verdict(passed)}  {result.groups} groups, {label}: {seconds:.3f} s "
                    f"(target < {PLAN_TARGET_SECONDS} s)"
                )
    help_ok = help_seconds < HELP_TARGET_SECONDS
    ok &= help_ok
    print(
        f"{verdict(help_ok)}  apptool --help in {help_seconds:.3f} s "
        f"(target < {HELP_TARGET_SECONDS} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
