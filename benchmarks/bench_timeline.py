#!/usr/bin/env python3
"""timeline's speed, side by side with kubectl api-resources --cached in the same run.

    python benchmarks/bench_timeline.py [--runs N]

Starts the tests' fake API server (release 1.33), fills kubectl's discovery cache from it, then times whole
processes: kubectl api-resources --cached, and kubectl-apiinfo timeline deployments from the catalog (no
kubeconfig, and --kube-version 1.33), from the cluster's cached snapshot, and timeline --all.  Prints medians
and each one's ratio to kubectl's, and PASS/FAIL for the budget: timeline deployments from the catalog takes
at most half what kubectl api-resources --cached takes.  Exit status 1 if the budget fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench import COMMAND, Report, base_env, measure, ms, ratio  # noqa: E402
from fakeapi.fixtures import load_kubectl_fetcher, make_certs, start_server  # noqa: E402

BUDGET = 0.5  # of kubectl api-resources --cached


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per case, after one warm-up (at least 5)")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    kubectl = load_kubectl_fetcher().ensure_kubectl()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "kubectl_apiinfo")], check=True)
    report = Report()
    report.out(f"# timeline against kubectl api-resources --cached (medians of {args.runs} runs after a warm-up)")
    report.out()
    with tempfile.TemporaryDirectory(prefix="kubectl-apiinfo-bench-timeline-") as tmp:
        work = Path(tmp)
        (work / "certs").mkdir()
        certs = make_certs(work / "certs")
        api = start_server(work / "server", certs, release="1.33", token="bench-token")
        try:
            # This checkout's package, whichever one the environment's script was installed from.
            env = base_env(work / "home", KUBECONFIG=str(api.write_kubeconfig(work / "kubeconfig")), PYTHONPATH=str(ROOT))
            catalog_env = {k: v for k, v in base_env(work / "home-catalog", PYTHONPATH=str(ROOT)).items()}
            subprocess.run([str(kubectl), "api-resources"], env=env, check=True, capture_output=True)  # fills ~/.kube/cache
            subprocess.run([str(COMMAND), "refresh"], env=env, check=True, capture_output=True)
            cases = [
                ("kubectl api-resources --cached", [str(kubectl), "api-resources", "--cached"], env),
                # The floor under any command of ours: the interpreter, and the CLI doing nothing.
                ("python -c pass", [sys.executable, "-c", "pass"], env),
                ("kubectl-apiinfo version", [str(COMMAND), "version"], env),
                ("show deployments --kube-version 1.33 (catalog)", [str(COMMAND), "deployments", "--kube-version", "1.33"], env),
                ("timeline deployments (catalog, no kubeconfig)", [str(COMMAND), "timeline", "deployments"], catalog_env),
                ("timeline deployments --kube-version 1.33 (catalog)",
                 [str(COMMAND), "timeline", "deployments", "--kube-version", "1.33"], env),
                ("timeline deployments (cluster cache)", [str(COMMAND), "timeline", "deployments"], env),
                ("timeline --all (catalog)", [str(COMMAND), "timeline", "--all", "--kube-version", "1.33"], env),
            ]
            results = {label: measure(cmd, case_env, args.runs) for label, cmd, case_env in cases}
        finally:
            api.stop()
    kubectl_cached = results["kubectl api-resources --cached"]["median"]
    report.table(
        ["case", "median", "min-max", "peak RSS", "vs kubectl --cached"],
        [[label, ms(r["median"]), f"{ms(r['min'])}-{ms(r['max'])}", f"{r['rss'] / 1024:.1f} MiB", ratio(r["median"], kubectl_cached)]
         for label, r in results.items()],
    )
    rows = []
    for label in ("timeline deployments (catalog, no kubeconfig)", "timeline deployments --kube-version 1.33 (catalog)"):
        ours = results[label]["median"]
        rows.append(report.budget(f"{label} <= {BUDGET}x kubectl --cached", ours <= BUDGET * kubectl_cached,
                                  f"{ms(ours)} vs {ms(kubectl_cached)} ({ratio(ours, kubectl_cached)})"))
    report.table(["budget", "measured", "verdict"], rows)
    report.out("Result: " + ("all budgets PASS" if not report.failed else f"FAILED: {', '.join(report.failed)}"))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
