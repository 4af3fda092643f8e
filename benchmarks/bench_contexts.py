#!/usr/bin/env python3
"""check --all-contexts' budgets: 1,000 objects against 20 and against 100 cached contexts.

    python benchmarks/bench_contexts.py [--runs N] [--corpus DIR] [--answers DIR] [--keep DIR]

Starts one fake API server (tests/fakeapi/server.py, plain HTTP) per release
1.27 ... 1.33, three of them with CRD groups, and writes a kubeconfig of 100
contexts spread over them (each its own cluster and context name, so its own
cache identity); 'refresh --all-contexts --schemas' caches every context's
discovery and OpenAPI documents in a temporary cache, then the servers stop.
The input is the first files of the shared corpus (../shared/manifests) that
hold 1,000 objects, plus a few custom resources of the CRD groups.  Then
`check -f DIR --all-contexts --offline -o json` runs against the first 20
contexts and against all 100, --runs times each, its wall time and peak RSS
measured (the RSS of the command alone, through a small launcher: a child
inherits its parent's peak across exec).  Budgets: at 100 contexts at most
200 MB peak, and at most twice the time of 20 contexts.  --answers DIR keeps
each -o json answer (20.json, 100.json) to compare before and after a change;
--keep DIR sets up there instead of in a temporary directory, once: a later
run with the same DIR measures the same cache.
Budgets live here, not in timed unit tests.  Exit status 1 if a budget fails.
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
COMMAND = Path(sys.executable).parent / "kubectl-apiinfo"
SERVER = ROOT / "tests" / "fakeapi" / "server.py"
CORPUS = ROOT.parent / "shared" / "manifests"
RELEASES = ("1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33")
CRD_GROUPS = {"1.29": 2, "1.31": 3, "1.33": 3}  # releases whose clusters have CRDs
CONTEXTS = (20, 100)
OBJECTS = 1000
PEAK_BUDGET_MB = 200
SCALING_BUDGET = 2.0
WIDGETS = """\
apiVersion: g0001.example.com/v1
kind: Widget
metadata: {{name: w-{n}, namespace: team}}
spec:
  size: {size}
  replicas: 2
  ports: [{{name: http, port: 80}}]
"""

LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:], stdout=open(sys.argv[1] + '.out', 'wb'), stderr=open(sys.argv[1] + '.err', 'wb'))\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def start_server(release: str, workdir: Path) -> tuple:
    """(process, url) of a fake API server of a release, once it listens."""
    workdir.mkdir(parents=True)
    config = workdir / "config.json"
    config.write_text(json.dumps({"release": release, "http": True, "crd_groups": CRD_GROUPS.get(release, 0)}))
    process = subprocess.Popen([sys.executable, str(SERVER), "--config", str(config)], stdout=subprocess.PIPE,
                               stderr=open(workdir / "stderr", "wb"), stdin=subprocess.DEVNULL)
    line = process.stdout.readline()  # its ready line
    if not line:
        sys.exit(f"the fake API server of {release} did not start: {(workdir / 'stderr').read_text()[-500:]}")
    return process, json.loads(line)["url"]


def write_kubeconfig(path: Path, urls: list, count: int) -> None:
    """count contexts, context i on the server of release i mod len(urls): each a cluster of its own."""
    names = [f"ctx-{i:03d}" for i in range(count)]
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": names[0],
        "clusters": [{"name": f"cluster-{n}", "cluster": {"server": urls[i % len(urls)]}} for i, n in enumerate(names)],
        "users": [{"name": "bench", "user": {}}],
        "contexts": [{"name": n, "context": {"cluster": f"cluster-{n}", "user": "bench"}} for n in names],
    }
    path.write_text(json.dumps(doc, indent=1))
    os.chmod(path, 0o600)


def write_inputs(corpus: Path, directory: Path) -> int:
    """The corpus's first files (sorted) that hold OBJECTS objects, and a few Widgets; the number of files."""
    sys.path.insert(0, str(ROOT))
    from kubectl_apiinfo.inputs import manifests

    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
    count = written = 0
    for path in files:
        objects = [r for r in manifests.parse(path.read_text(errors="replace"), str(path)) if hasattr(r, "obj")]
        if not objects or count + len(objects) > OBJECTS - 10:
            continue
        shutil.copyfile(path, directory / f"{written:03d}-{path.name}")
        count += len(objects)
        written += 1
    widgets = [WIDGETS.format(n=n, size=("small", "huge")[n % 2]) for n in range(OBJECTS - count)]
    (directory / "widgets.yaml").write_text("---\n".join(widgets))
    return written + 1


def measured(args: list, env: dict, scratch: Path) -> tuple:
    """(seconds, peak RSS in MB, stdout, exit status) of one run of the command."""
    peak = scratch / "peak"
    start = time.perf_counter()
    status = subprocess.run([sys.executable, "-c", LAUNCHER, str(peak), str(COMMAND), *args], env=env).returncode
    seconds = time.perf_counter() - start
    out = Path(str(peak) + ".out").read_text()
    if status not in (0, 2, 3):
        sys.exit(f"{' '.join(args)} failed ({status}): {Path(str(peak) + '.err').read_text().strip()[-500:]}")
    return seconds, int(peak.read_text()) / 1024, out, status  # Linux reports kilobytes


def set_up(workdir: Path, env: dict, corpus: Path) -> None:
    """The servers, kubeconfigs, refreshed cache and input, in workdir; the servers stopped after."""
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    servers = []
    try:
        for release in RELEASES:
            servers.append(start_server(release, workdir / "servers" / release))
        urls = [url for _, url in servers]
        for count in CONTEXTS:
            write_kubeconfig(workdir / f"kubeconfig-{count}", urls, count)
        start = time.perf_counter()
        refresh = subprocess.run([str(COMMAND), "refresh", "--all-contexts", "--schemas", "-o", "json"],
                                 env={**env, "KUBECONFIG": str(workdir / f"kubeconfig-{max(CONTEXTS)}")},
                                 capture_output=True, text=True, timeout=1800)
        if refresh.returncode != 0:
            sys.exit(f"refresh --all-contexts --schemas failed: {refresh.stderr.strip()[-800:]}")
        setup = time.perf_counter() - start
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)
    inputs = workdir / "inputs"
    inputs.mkdir()
    files = write_inputs(corpus, inputs)
    print(f"setup: {len(RELEASES)} releases ({', '.join(RELEASES)}), {max(CONTEXTS)} contexts refreshed with their "
          f"schemas in {setup:.1f} s; input: {OBJECTS} objects in {files} files")


def measure(workdir: Path, env: dict, runs: int, answers: str) -> dict:
    """{contexts: (median seconds, peak RSS MB, findings)} of check against the first 20, then all 100 contexts."""
    figures = {}
    for count in CONTEXTS:
        run_env = {**env, "KUBECONFIG": str(workdir / f"kubeconfig-{count}")}
        command = ["check", "-f", str(workdir / "inputs"), "--all-contexts", "--offline", "-o", "json"]
        results = [measured(command, run_env, workdir) for _ in range(runs)]
        answer = json.loads(results[-1][2])
        assert answer["objects"] == OBJECTS and len(answer["targets"]) == count, (answer["objects"], len(answer["targets"]))
        if answers:
            Path(answers).mkdir(parents=True, exist_ok=True)
            (Path(answers) / f"{count}.json").write_text(results[-1][2])
        figures[count] = (statistics.median(r[0] for r in results), max(r[1] for r in results), len(answer["findings"]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--answers", default="", help="a directory to keep each -o json answer in")
    parser.add_argument("--keep", default="", help="set up in this directory, once, and keep it")
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep or tmp)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir / "home"), "NO_COLOR": "1",
               "KUBECTL_APIINFO_CACHE_DIR": str(workdir / "cache")}
        if not (workdir / "inputs").is_dir():
            set_up(workdir, env, Path(args.corpus))
        figures = measure(workdir, env, args.runs, args.answers)
    print(f"{'contexts':<10}{'median':>10}{'peak RSS':>12}{'findings':>12}")
    for count, (seconds, peak, findings) in figures.items():
        print(f"{count:<10}{seconds:>8.2f} s{peak:>9.0f} MB{findings:>12}")
    small, large = CONTEXTS
    peak = figures[large][1]
    verdict = "PASS" if peak <= PEAK_BUDGET_MB else "FAIL"
    if verdict == "FAIL":
        failed.append("memory")
    print(f"{'peak RSS at ' + str(large) + ' contexts':<40}{peak:>8.0f} MB  <= {PEAK_BUDGET_MB} MB {verdict}")
    ratio = figures[large][0] / figures[small][0]
    verdict = "PASS" if ratio <= SCALING_BUDGET else "FAIL"
    if verdict == "FAIL":
        failed.append("time")
    print(f"{'time ' + str(large) + ' / ' + str(small) + ' contexts':<40}{ratio:>8.2f} x   <= {SCALING_BUDGET:.0f} x   {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
