#!/usr/bin/env python3
"""Catalog figures: size on disk, time to load one release, time to build it all.

    python benchmarks/bench_catalog.py [--runs N]

Prints a table and PASS/FAIL against the budgets (2 MB on disk; one release
loads in at most 10 ms, and so do the lifecycle and history facts).  Budgets live here, not in timed unit tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubectl_apiinfo.sources import catalog  # noqa: E402

SIZE_BUDGET = 2 * 1024 * 1024
LOAD_BUDGET_MS = 10.0


def disk_usage(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    apparent = sum(p.stat().st_size for p in files)
    allocated = sum(p.stat().st_blocks * 512 for p in files)
    return apparent, allocated


def load_times_ms(name: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        catalog.load_release(name)  # reads and parses the file every time: nothing is memoised
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    data = ROOT / "catalog" / "data"
    apparent, allocated = disk_usage(data)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'case':<44}{'figure':>16}  budget")
    ok = True

    for label, size in (("catalog size (bytes in files)", apparent), ("catalog size (disk blocks)", allocated)):
        verdict = "PASS" if size <= SIZE_BUDGET else "FAIL"
        ok &= verdict == "PASS"
        print(f"{label:<44}{size / 1024:>13.0f} KB  <= 2048 KB {verdict}")

    largest = max(catalog.release_names(), key=lambda n: (data / "releases" / f"{n}.json").stat().st_size)
    load_times_ms(largest, 3)  # warm the page cache
    times = load_times_ms(largest, args.runs)
    median = statistics.median(times)
    verdict = "PASS" if median <= LOAD_BUDGET_MS else "FAIL"
    ok &= verdict == "PASS"
    print(f"{'load one release (' + largest + ', median of ' + str(args.runs) + ')':<44}{median:>13.2f} ms  <= {LOAD_BUDGET_MS:.0f} ms {verdict}")
    print(f"{'  (max of the same runs)':<44}{max(times):>13.2f} ms")

    facts = []
    for _ in range(args.runs):
        catalog.lifecycle.cache_clear()
        catalog.history.cache_clear()
        start = time.perf_counter()
        catalog.lifecycle()  # parsed into Lifecycle and HistoryEntry records, once per process
        catalog.history()
        facts.append((time.perf_counter() - start) * 1000)
    median = statistics.median(facts)
    verdict = "PASS" if median <= LOAD_BUDGET_MS else "FAIL"
    ok &= verdict == "PASS"
    print(f"{'load lifecycle + history (median of ' + str(args.runs) + ')':<44}{median:>13.2f} ms  <= {LOAD_BUDGET_MS:.0f} ms {verdict}")

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(ROOT / "catalog" / "build_catalog.py"), "--out", tmp], check=True, stdout=subprocess.DEVNULL
        )
        build = time.perf_counter() - start
    print(f"{'build the whole catalog (' + str(len(catalog.release_names())) + ' releases)':<44}{build:>13.2f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
