"""``apptool plan 2025`` on the example, its calendar of record kept (issue 15: 0.567 s,
target <= 0.25 s).

The example workspace is planned once (``plan 2025 --today 2024-01-01``); each timed run
plans 2025 again on a fresh copy of it: every session is already in the calendar and stays.

Usage: ``python benchmarks/plan_kept_bench.py [-n RUNS]``.
"""

from __future__ import annotations

import sys

from harness import bench_planned_example

TARGET = 0.25


def main() -> int:
    return bench_planned_example(
        __doc__,
        "apptool plan 2025 (calendar kept)",
        lambda copy: ["plan", "2025", "--today", "2024-01-01"],
        TARGET,
        line=-1,
    )


if __name__ == "__main__":
    sys.exit(main())
