"""``apptool plan 2025`` on the example, its calendar of record kept (issue 15: 0.567 s,
target <= 0.25 s).

The example workspace is planned once (``plan 2025 --today 2024-01-01``); each timed run
plans 2025 again on a fresh copy of it: every session is already in the calendar and stays.

Usage: ``python benchmarks/plan_kept_bench.py [-n RUNS]``.
"""

from __future__ import annotations

import sys

from harness import (
    apptool_command,
    arguments,
    bench_environment,
    example_workspace,
    fresh_copy,
    measure,
    report,
    run_apptool,
)

TARGET = 0.25


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    with bench_environment() as folder:
        planned = example_workspace(folder)
        run_apptool("-w", str(planned), "plan", "2025", "--today", "2024-01-01")
        copy = folder / "run"
        command = [*apptool_command(), "-w", str(copy), "plan", "2025", "--today", "2024-01-01"]
        result = measure(
            "apptool plan 2025 (calendar kept)", command, args.runs, fresh_copy(planned, copy)
        )
    print(result.output.strip().splitlines()[-1])
    return 0 if report(result, TARGET) else 1


if __name__ == "__main__":
    sys.exit(main())
