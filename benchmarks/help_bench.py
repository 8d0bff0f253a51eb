"""Start-up: ``apptool --help`` (issue 15: 0.112 s, target <= 0.10 s).

Usage: ``python benchmarks/help_bench.py [-n RUNS]`` (from the repository, in its venv).
"""

from __future__ import annotations

import sys

from harness import apptool_command, arguments, bench_environment, measure, report

TARGET = 0.10


def main() -> int:
    args = arguments(__doc__.splitlines()[0], runs=11)
    with bench_environment():
        result = measure("apptool --help", [*apptool_command(), "--help"], args.runs)
    return 0 if report(result, TARGET) else 1


if __name__ == "__main__":
    sys.exit(main())
