"""The test suite's time on the same coverage as an older commit (issue 13: "at least 20 % faster").

The suite grew: comparing its whole wall time with an older, smaller suite's says little. This script
takes the test functions that existed at ``--base`` (``git show BASE:tests/...``, matched by function
name, since many files moved), and sums their time in today's suite: every test item whose function
name existed then, setup + call + teardown, from pytest's ``--durations=0`` report.

Either it runs them (``--run``: pytest on just those items, serially or on ``--workers`` xdist workers,
wall time measured) or it reads a report a run already printed (``--durations FILE``, the output of
``pytest --durations=0 ...``).

Run: python bench/bench_suite.py --run [--workers 0] [--base 3b39857]
     python bench/bench_suite.py --durations /tmp/speed-durations-full.txt
Prints what matched and the sums; docs/benchmarks.md ("The test suite") keeps the results.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DURATION = re.compile(r"^\s*(?P<seconds>[0-9.]+)s (?P<phase>setup|call|teardown)\s+(?P<item>.+?)\s*$")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def old_functions(base: str) -> set[str]:
    """The names of the test functions (top level or in classes) under tests/ at commit ``base``."""
    names: set[str] = set()
    for path in _git("ls-tree", "-r", "--name-only", base, "tests/").splitlines():
        if not (Path(path).name.startswith("test_") and path.endswith(".py")):
            continue
        tree = ast.parse(_git("show", f"{base}:{path}"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def function_of(item: str) -> str:
    """``tests/a/test_b.py::Class::test_c[param]`` -> ``test_c``."""
    return item.rsplit("::", 1)[-1].split("[", 1)[0]


def current_items() -> list[str]:
    """Every test item today's suite collects."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line.strip() for line in out.splitlines() if "::" in line]


def read_durations(text: str) -> dict[str, float]:
    """Seconds per test item (setup + call + teardown) from a ``--durations=0`` report."""
    seconds: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        match = DURATION.match(line)
        if match:
            seconds[match["item"]] += float(match["seconds"])
    return dict(seconds)


def run(items: list[str], workers: int) -> tuple[str, float]:
    """Run ``items`` with ``--durations=0``; the report and the wall time."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "--durations=0",
        "--durations-min=0",
    ]
    if workers:
        command += ["-n", str(workers), "--dist", "worksteal"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as args:
        args.write("\n".join(items))
    started = time.monotonic()
    done = subprocess.run([*command, f"@{args.name}"], cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    os.unlink(args.name)
    tail = "\n".join(done.stdout.splitlines()[-3:])
    print(f"pytest exit {done.returncode}; {tail}")
    return done.stdout, wall


def main() -> None:
    """Match the old test functions, sum their time today, print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="3b39857", help="the older commit whose test functions to match")
    parser.add_argument("--durations", type=Path, help="read this --durations=0 report instead of running")
    parser.add_argument("--run", action="store_true", help="run the matched items now (wall time too)")
    parser.add_argument("--workers", type=int, default=0, help="xdist workers for --run (0: serial)")
    parser.add_argument("--save", type=Path, help="with --run: keep pytest's whole report in this file")
    args = parser.parse_args()
    if not args.run and args.durations is None:
        parser.error("give --run or --durations FILE")

    old = old_functions(args.base)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; load {os.getloadavg()}")
    print(f"test functions at {args.base}: {len(old)}")
    if args.run:
        items = [item for item in current_items() if function_of(item) in old]
        report, wall = run(items, args.workers)
        if args.save is not None:
            args.save.write_text(report)
        print(f"wall time of the matched items: {wall:.1f} s ({args.workers or 'serial'} workers)")
    else:
        report = args.durations.read_text()
    seconds = read_durations(report)
    matched = {item: s for item, s in seconds.items() if function_of(item) in old}
    names = {function_of(item) for item in matched}
    print(f"matched by name in today's suite: {len(names)} of {len(old)} functions, {len(matched)} items")
    print(f"summed time of the matched items: {sum(matched.values()):.1f} s")
    print(f"summed time of all {len(seconds)} items in the report: {sum(seconds.values()):.1f} s")
    slowest = sorted(matched.items(), key=lambda pair: -pair[1])[:10]
    for item, s in slowest:
        print(f"  {s:7.2f} s  {item}")


if __name__ == "__main__":
    main()
