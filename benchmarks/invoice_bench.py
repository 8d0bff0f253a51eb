"""``apptool invoice --month 2025-05`` on the example: a Factur-X PDF checked against the XSD
and both Schematrons (issue 15: 2.0-2.3 s, target <= 1.0 s).

The example is planned once; each timed run issues May 2025's invoice in a fresh copy.

Usage: ``python benchmarks/invoice_bench.py [-n RUNS]``.
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
            *("-w", str(copy), "invoice", "--month", "2025-05", "--today", "2025-06-02"),
        ]
        result = measure(
            "apptool invoice --month 2025-05", command, args.runs, fresh_copy(planned, copy)
        )
    print(result.output.strip().splitlines()[0])
    return 0 if report(result, TARGET) else 1


if __name__ == "__main__":
    sys.exit(main())
