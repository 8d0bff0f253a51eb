"""``apptool calendar 2025 --format pdf`` on the example (issue 15: 2.6 s, target <= 1.0 s).

The example is planned once; each timed run distributes the calendar (version 1, a PDF/A-3b)
from a fresh copy.

Usage: ``python benchmarks/calendar_pdf_bench.py [-n RUNS]``.
"""

from __future__ import annotations

import sys

from harness import bench_planned_example

TARGET = 1.0


def main() -> int:
    return bench_planned_example(
        __doc__,
        "apptool calendar 2025 --format pdf",
        lambda copy: [
            *("calendar", "2025", "--format", "pdf"),
            *("--output", str(copy / "out"), "--today", "2025-03-01"),
        ],
        TARGET,
        line=0,
    )


if __name__ == "__main__":
    sys.exit(main())
