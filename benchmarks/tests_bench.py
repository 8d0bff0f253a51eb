"""The README's test command, ``pytest`` from the repository (issue 15: 69 s when idle, 197 s
under load; target <= 45 s on 2 cores, same coverage).

Usage: ``python benchmarks/tests_bench.py [-n RUNS]`` (one run by default).
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness import ROOT, arguments, measure, report

TARGET = 45.0


def main() -> int:
    args = arguments(__doc__.splitlines()[0], runs=1)
    pytest = Path(sys.executable).parent / "pytest"
    command = [str(pytest)] if pytest.exists() else [sys.executable, "-m", "pytest"]
    result = measure("pytest", command, args.runs, cwd=ROOT, warmup=0)
    print(result.output.strip().splitlines()[-1])
    passed = report(result, TARGET) and set(result.codes) == {0}
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
