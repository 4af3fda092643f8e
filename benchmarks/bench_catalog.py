#!/usr/bin/env python3
"""Catalog figures: size on disk (explain's schemas included), the wheel's size,
time to load one release, time to build it all, and whether the build is deterministic.

    python benchmarks/bench_catalog.py [--runs N]

Prints a table and PASS/FAIL against the budgets (the catalog, schemas included,
at most 3 MB on disk; the wheel at most 3 MB; one release loads in at most
10 ms, and so do the lifecycle and history facts; two builds give the same
bytes as the committed catalog).  Budgets live here, not in timed unit tests.
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

from kubectl_apiinfo.sources.catalog import releases as catalog_releases  # noqa: E402

SIZE_BUDGET = 3 * 1024 * 1024  # the installed catalog, explain's schemas included
WHEEL_BUDGET = 3 * 1024 * 1024
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
        catalog_releases.load_release(name)  # reads and parses the file every time: nothing is memoised
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
        print(f"{label:<44}{size / 1024:>13.0f} KB  <= {SIZE_BUDGET // 1024} KB {verdict}")
    schemas_apparent, schemas_allocated = disk_usage(data / "schemas")
    print(f"{'  of which explain schemas (bytes / blocks)':<44}{schemas_apparent / 1024:>13.0f} KB  ({schemas_allocated / 1024:.0f} KB in blocks)")
    wheel = wheel_size()
    if wheel is None:
        print(f"{'wheel size':<44}{'(pip wheel failed)':>16}  <= {WHEEL_BUDGET // 1024} KB FAIL")
        ok = False
    else:
        verdict = "PASS" if wheel <= WHEEL_BUDGET else "FAIL"
        ok &= verdict == "PASS"
        print(f"{'wheel size':<44}{wheel / 1024:>13.0f} KB  <= {WHEEL_BUDGET // 1024} KB {verdict}")

    largest = max(catalog_releases.release_names(), key=lambda n: (data / "releases" / f"{n}.json").stat().st_size)
    load_times_ms(largest, 3)  # warm the page cache
    times = load_times_ms(largest, args.runs)
    median = statistics.median(times)
    verdict = "PASS" if median <= LOAD_BUDGET_MS else "FAIL"
    ok &= verdict == "PASS"
    print(f"{'load one release (' + largest + ', median of ' + str(args.runs) + ')':<44}{median:>13.2f} ms  <= {LOAD_BUDGET_MS:.0f} ms {verdict}")
    print(f"{'  (max of the same runs)':<44}{max(times):>13.2f} ms")

    facts = []
    for _ in range(args.runs):
        catalog_releases.lifecycle.cache_clear()
        catalog_releases.history.cache_clear()
        start = time.perf_counter()
        catalog_releases.lifecycle()  # parsed into Lifecycle and HistoryEntry records, once per process
        catalog_releases.history()
        facts.append((time.perf_counter() - start) * 1000)
    median = statistics.median(facts)
    verdict = "PASS" if median <= LOAD_BUDGET_MS else "FAIL"
    ok &= verdict == "PASS"
    print(f"{'load lifecycle + history (median of ' + str(args.runs) + ')':<44}{median:>13.2f} ms  <= {LOAD_BUDGET_MS:.0f} ms {verdict}")

    with tempfile.TemporaryDirectory() as tmp:
        builds = []
        for n in (1, 2):
            out = Path(tmp) / f"build{n}"
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, str(ROOT / "catalog" / "build_catalog.py"), "--out", str(out)], check=True, stdout=subprocess.DEVNULL
            )
            builds.append((time.perf_counter() - start, out))
        print(f"{'build the whole catalog (' + str(len(catalog_releases.release_names())) + ' releases)':<44}{builds[0][0]:>13.2f} s")
        same = file_bytes(builds[0][1]) == file_bytes(builds[1][1]) == file_bytes(data)
        ok &= same
        print(f"{'build deterministic (2 builds = committed)':<44}{'yes' if same else 'no':>16}  {'PASS' if same else 'FAIL'}")
    return 0 if ok else 1


def file_bytes(path: Path) -> dict:
    return {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def wheel_size():
    """Bytes of the wheel pip builds from this checkout (the catalog inside the package), or None."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp, str(ROOT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            return None
        return wheels[0].stat().st_size


if __name__ == "__main__":
    sys.exit(main())
