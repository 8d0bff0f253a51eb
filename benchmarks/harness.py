"""What every benchmark of ``benchmarks/`` shares: whole-process timings of ``apptool``,
side by side with ``python -c "import typer"`` in the same run.

The targets of issue 15 were measured on the project's 2-core machine in a run where
``python -c "import typer"`` took :data:`REFERENCE_TYPER` seconds. A machine twice as slow,
or busy, takes about twice as long for both: the ratio of a command's time to that
yardstick's, taken run by run (command, yardstick, command, yardstick...), is what holds,
and what each benchmark compares with its target (``target / REFERENCE_TYPER``).

Each run is a new process (start-up included), timed with ``time.perf_counter`` around
``subprocess.run``; a ``prepare`` function (a fresh copy of a workspace...) runs before each
run, outside the timing. The figures printed are medians. Before timing, the package's
bytecode is compiled (as ``pip install`` does for an installed tool) and the holiday cache
is warmed, in a temporary cache folder (``APPTOOL_CACHE_DIR``): the user's is not touched.

Timings belong here, never in the unit tests.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import apptool

#: ``python -c "import typer"`` in the reference run of issue 15 (seconds).
REFERENCE_TYPER = 0.072
YARDSTICK = [sys.executable, "-c", "import typer"]
ROOT = Path(__file__).resolve().parent.parent


def apptool_command() -> list[str]:
    """The installed ``apptool`` script next to this Python, else ``python -m apptool``."""
    script = Path(sys.executable).parent / "apptool"
    if script.exists():
        return [str(script)]
    found = shutil.which("apptool")
    return [found] if found else [sys.executable, "-m", "apptool"]


@dataclass
class Result:
    label: str
    command: list[str]
    seconds: list[float]
    yardstick: list[float]
    codes: list[int]
    output: str

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def yardstick_median(self) -> float:
        return statistics.median(self.yardstick)

    @property
    def ratio(self) -> float:
        """The median of the run-by-run ratios to the yardstick."""
        return statistics.median(a / b for a, b in zip(self.seconds, self.yardstick, strict=True))


def _timed(command: Sequence[str], cwd: Path | None, env: dict[str, str]) -> tuple[float, int, str]:
    began = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    return time.perf_counter() - began, done.returncode, done.stdout + done.stderr


def measure(
    label: str,
    command: Sequence[str],
    runs: int,
    prepare: Callable[[], None] | None = None,
    cwd: Path | None = None,
    warmup: int = 1,
) -> Result:
    """Run ``command`` ``runs`` times, each followed by the yardstick; ``prepare`` before each
    run of the command (not timed). The first ``warmup`` pairs are not counted."""
    env = dict(os.environ)
    seconds: list[float] = []
    yardstick: list[float] = []
    codes: list[int] = []
    output = ""
    for number in range(warmup + runs):
        if prepare is not None:
            prepare()
        elapsed, code, output = _timed(command, cwd, env)
        reference, _, _ = _timed(YARDSTICK, None, env)
        if number >= warmup:
            seconds.append(elapsed)
            yardstick.append(reference)
            codes.append(code)
    return Result(label, list(command), seconds, yardstick, codes, output)


def describe(result: Result) -> None:
    """Print the medians and the ratio."""
    codes = sorted(set(result.codes))
    print(
        f"{result.label}: {result.median:.3f} s median of {len(result.seconds)} "
        f"(exit {', '.join(map(str, codes))}) | import typer {result.yardstick_median:.3f} s "
        f"| ratio {result.ratio:.2f}"
    )


def report(result: Result, target: float) -> bool:
    """Print the medians, the ratio and the target; whether the target is met."""
    limit = target / REFERENCE_TYPER
    passed = result.ratio <= limit
    describe(result)
    print(
        f"{'PASS' if passed else 'FAIL'}  target <= {target:.2f} s where import typer took "
        f"{REFERENCE_TYPER} s: ratio <= {limit:.2f}"
    )
    return passed


@contextmanager
def bench_environment() -> Iterator[Path]:
    """A temporary folder for the run, the holiday cache in it; bytecode compiled."""
    compileall.compile_dir(str(Path(apptool.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory(prefix="apptool-bench-") as tmp:
        folder = Path(tmp)
        saved = os.environ.get("APPTOOL_CACHE_DIR")
        os.environ["APPTOOL_CACHE_DIR"] = str(folder / "cache")
        try:
            yield folder
        finally:
            if saved is None:
                del os.environ["APPTOOL_CACHE_DIR"]
            else:
                os.environ["APPTOOL_CACHE_DIR"] = saved


def run_apptool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run apptool once (to set a workspace up), failing loudly if it fails."""
    done = subprocess.run(
        [*apptool_command(), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"setup failed: apptool {' '.join(args)}\n{done.stdout}{done.stderr}")
    return done


def example_workspace(folder: Path, name: str = "example") -> Path:
    """The shipped example workspace (CCAS de Dreux), as ``apptool init`` writes it."""
    root = folder / name
    run_apptool("init", str(root))
    return root


def fresh_copy(source: Path, target: Path) -> Callable[[], None]:
    """A ``prepare`` function: ``target`` becomes a fresh copy of ``source``."""

    def prepare() -> None:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)

    return prepare


def arguments(description: str, runs: int = 7) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-n", "--runs", type=int, default=runs, help=f"timed runs (default {runs})")
    return parser.parse_args()


def bench_planned_example(
    doc: str, label: str, apptool_args: Callable[[Path], list[str]], target: float, line: int = 0
) -> int:
    """The benchmark of one command on the example planned for 2025 (``plan 2025 --today
    2024-01-01`` once, untimed): each timed run starts from a fresh copy of it. Prints the
    command's ``line``-th output line and the figures; the exit code says if ``target`` holds.
    """
    args = arguments(doc.splitlines()[0])
    with bench_environment() as folder:
        planned = example_workspace(folder)
        run_apptool("-w", str(planned), "plan", "2025", "--today", "2024-01-01")
        copy = folder / "run"
        command = [*apptool_command(), "-w", str(copy), *apptool_args(copy)]
        result = measure(label, command, args.runs, fresh_copy(planned, copy))
    print(result.output.strip().splitlines()[line])
    return 0 if report(result, target) else 1
