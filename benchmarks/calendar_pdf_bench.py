"""``apptool calendar 2025 --format pdf`` on the example (issue 15: 2.6 s, target <= 1.0 s).

The example is planned once; each timed run distributes the calendar (version 1, a PDF/A-3b)
from a fresh copy.

Usage: ``python benchmarks/calendar_pdf_bench.py [-n RUNS]``.
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

TARGET = 1.0


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    with bench_environment() as folder:
        planned = example_workspace(folder)
        run_apptool("-w", str(planned), "plan", "2025", "--today", "2024-01-01")
        copy = folder / "run"
        command = [
            *apptool_command(),
            *("-w", str(copy), "calendar", "2025", "--format", "pdf"),
            *("--output", str(copy / "out"), "--today", "2025-03-01"),
        ]
        result = measure(
            "apptool calendar 2025 --format pdf", command, args.runs, fresh_copy(planned, copy)
        )
    print(result.output.strip().splitlines()[0])
    return 0 if report(result, TARGET) else 1


if __name__ == "__main__":
    sys.exit(main())
