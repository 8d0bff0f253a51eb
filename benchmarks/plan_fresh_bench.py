"""``apptool plan 2027 --fresh`` on the example: every session placed (issue 15: 0.580 s,
target <= 0.30 s).

Usage: ``python benchmarks/plan_fresh_bench.py [-n RUNS]``.
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
)

TARGET = 0.30


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    with bench_environment() as folder:
        example = example_workspace(folder)
        copy = folder / "run"
        command = [
            *apptool_command(),
            *("-w", str(copy), "plan", "2027", "--fresh", "--today", "2026-01-01"),
        ]
        result = measure("apptool plan 2027 --fresh", command, args.runs, fresh_copy(example, copy))
    print(result.output.strip().splitlines()[-1])
    return 0 if report(result, TARGET) else 1


if __name__ == "__main__":
    sys.exit(main())
