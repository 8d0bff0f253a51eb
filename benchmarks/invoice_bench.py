"""``apptool invoice --month 2025-05`` on the example: a Factur-X PDF checked against the XSD
and both Schematrons (issue 15: 2.0-2.3 s, target <= 1.0 s).

The example is planned once; each timed run issues May 2025's invoice in a fresh copy.

Usage: ``python benchmarks/invoice_bench.py [-n RUNS]``.
"""

from __future__ import annotations

import sys

from harness import bench_planned_example

TARGET = 1.0


def main() -> int:
    return bench_planned_example(
        __doc__,
        "apptool invoice --month 2025-05",
        lambda copy: ["invoice", "--month", "2025-05", "--today", "2025-06-02"],
        TARGET,
        line=0,
    )


if __name__ == "__main__":
    sys.exit(main())
