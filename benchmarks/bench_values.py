#!/usr/bin/env python3
"""check's values: the corpus beside kubernetes-validate, and 10,000 objects in 200 files.

    python benchmarks/bench_values.py [--runs N] [--corpus DIR] [--kubernetes-validate PATH]

1. `check` of the shared corpus (../shared/manifests: 1,102 files) at 1.29 beside
   `kubernetes-validate --strict --kubernetes-version 1.29.0` on the same files
   (its newest PyPI release, in a venv of its own; --kubernetes-validate names
   its command, else $KUBERNETES_VALIDATE, else /tmp/kv-venv/bin/kubernetes-validate,
   else the one on PATH).  Budget: check in at most a tenth of its time.  Both
   answers' value errors are counted side by side.
2. `check` of 10,000 generated objects in 200 files (as bench_upgrade.py writes
   them, with a wrong value in every tenth Deployment) at 1.29: at most 2 s, and
   memory flat: the values walk's peak allocation (tracemalloc, in process, the
   objects already read) for 10,000 objects at most 1.5 times that for 1,000.
   The command's peak RSS is printed too: it grows with the input, since check
   reads every object before it answers.
3. CEL rules (x-kubernetes-validations, with cel-expr-python installed): 2,000
   custom resources of a CRD with 5 rules in the same stream, beside the same
   run with the rules renamed away: the rules' 10,000 evaluations at most 0.5 s
   (each one's value is built from the object, as the API server sees it).
Medians of --runs runs (kubernetes-validate runs once: it takes tens of
seconds).  Budgets live here, not in timed unit tests.  Exit status 1 if a budget fails.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_upgrade  # noqa: E402  (its generated charts)

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "kubectl-apiinfo"
CORPUS = ROOT.parent / "shared" / "manifests"
RATIO_BUDGET = 0.1
GENERATED_BUDGET_S = 2.0
WALK_GROWTH_BUDGET = 1.5
VALUE_FINDINGS = ("invalid-value", "missing-required", "duplicate-key")
WRONG = {"replicas: 3": "replicas: '3x'", "cpu: 100m": "cpu: true", "protocol: TCP": "protocol: 22"}
CEL_BUDGET_S = 0.5
CEL_OBJECTS = 2000
CEL_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: scalers.example.com}
spec:
  group: example.com
  names: {kind: Scaler, plural: scalers}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-validations: [{rule: "self.metadata.name.startsWith('s-')"}]
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - {rule: self.minReplicas <= self.maxReplicas, message: minReplicas must not exceed maxReplicas}
            - {rule: "!has(self.window) || self.window.lowerAscii().endsWith('s')"}
            properties:
              minReplicas: {type: integer, default: 1}
              maxReplicas: {type: integer}
              window: {type: string}
              labels: {type: object, additionalProperties: {type: string}, x-kubernetes-validations: [{rule: "self.all(k, size(k) < 10)"}]}
              ports: {type: array, items: {type: integer}, x-kubernetes-validations: [{rule: "self.all(p, p > 0)"}]}
"""


def kubernetes_validate(option: str) -> str:
    for candidate in (option, os.environ.get("KUBERNETES_VALIDATE"), "/tmp/kv-venv/bin/kubernetes-validate",
                      shutil.which("kubernetes-validate")):
        if candidate and Path(candidate).is_file():
            return candidate
    sys.exit("no kubernetes-validate: pip install kubernetes-validate in a venv, and name it with --kubernetes-validate")


def run(args: list) -> tuple:
    """(seconds, stdout, stderr, exit status) of one run."""
    start = time.perf_counter()
    process = subprocess.run(args, capture_output=True, text=True, timeout=900)
    return time.perf_counter() - start, process.stdout, process.stderr, process.returncode


def peak_rss_mb(args: list) -> float:
    """The peak RSS of one run, measured in a child of its own so earlier runs do not count."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    return int(out) / 1024  # Linux reports kilobytes


def walk_peak_kb(directory: Path) -> float:
    """The values walk's peak allocation over every object of a directory, its findings dropped as it goes."""
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    from kubectl_apiinfo.answers import values
    from kubectl_apiinfo.inputs import manifests
    from kubectl_apiinfo.sources.catalog import schemas

    objects = [m.obj for m in manifests.read([str(directory)]) if hasattr(m, "obj")]
    rules: dict = {}
    for obj in objects[:100]:  # the kinds' schemas, read and merged before the count starts
        key = (obj["apiVersion"], obj["kind"])
        if key not in rules:
            found = schemas.single_release_root("1.29", *key)
            rules[key] = found and (values.Values(values.Views(found[0]), builtin=True), found[1])
            if found:
                rules[key][0].check(found[1], obj)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for obj in objects:
        if rules.get((obj["apiVersion"], obj["kind"])):
            walker, root = rules[(obj["apiVersion"], obj["kind"])]
            walker.check(root, obj)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 1024


def median_run(args: list, runs: int, ok: tuple) -> tuple:
    times, out = [], ""
    for _ in range(runs + 1):  # the first warms the file cache
        seconds, out, err, status = run(args)
        if status not in ok:
            sys.exit(f"{' '.join(map(str, args))} failed ({status}): {err.strip()[:300]}")
        times.append(seconds)
    return statistics.median(times[1:]), out


def write_generated(directory: Path, files: int) -> int:
    count = 0
    templates = bench_upgrade.TEMPLATES
    for f in range(files):
        docs = []
        for i in range(bench_upgrade.PER_FILE):
            n = f * bench_upgrade.PER_FILE + i
            text = templates[i % len(templates)].format(n=n, team=f % 7)
            if i % 10 == 0:  # every tenth Deployment carries the issue's wrong values
                for right, wrong in WRONG.items():
                    text = text.replace(right, wrong)
            docs.append(text)
            count += 1
        (directory / f"release-{f:03d}.yaml").write_text("---\n" + "---\n".join(docs))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--kubernetes-validate", default="")
    args = parser.parse_args()
    import yaml

    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; PyYAML {yaml.__version__} (libyaml: {yaml.__with_libyaml__})")
    failed = []
    corpus = Path(args.corpus)
    files = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    kv = kubernetes_validate(args.kubernetes_validate)
    version = subprocess.run([kv, "--version"], capture_output=True, text=True).stdout.strip()
    os.chdir(corpus)
    ours, out = median_run([str(COMMAND), "check", "-f", ".", "-R", "--kube-version", "1.29", "-o", "json"], args.runs, (0, 1, 2, 3))
    answer = json.loads(out)
    our_errors = sum(f["finding"] in VALUE_FINDINGS for f in answer["findings"])
    start = time.perf_counter()
    theirs = subprocess.run([kv, "--strict", "--quiet", "--no-warn", "--kubernetes-version", "1.29.0", *files],
                            capture_output=True, text=True, timeout=1800)
    their_time = time.perf_counter() - start
    lines = [line for line in theirs.stdout.splitlines() if line.startswith("ERROR")]
    their_values = sum("Additional properties" not in line for line in lines)
    verdict = "PASS" if ours <= RATIO_BUDGET * their_time else "FAIL"
    if verdict == "FAIL":
        failed.append("corpus")
    print(f"corpus at 1.29: {len(files)} files, {answer['objects']} objects")
    print(f"  {'kubectl-apiinfo check':<44}{ours:>8.2f} s  {our_errors} value errors")
    print(f"  {'kubernetes-validate --strict (' + version + ')':<44}{their_time:>8.2f} s  {their_values} value errors "
          f"(+{len(lines) - their_values} unknown fields; one error per object at most)")
    print(f"  {'ratio':<44}{ours / their_time:>8.3f}    <= {RATIO_BUDGET} {verdict}")
    with tempfile.TemporaryDirectory() as tmp:
        rss = {}
        for files_count in (20, 200):
            directory = Path(tmp) / str(files_count)
            directory.mkdir()
            objects = write_generated(directory, files_count)
            command = [str(COMMAND), "check", "-f", str(directory), "--kube-version", "1.29", "-o", "json"]
            median, out = median_run(command, args.runs, (3,))
            rss[objects] = (peak_rss_mb(command), walk_peak_kb(directory))
            found = sum(f["finding"] in VALUE_FINDINGS for f in json.loads(out)["findings"])
            label = f"check: {objects} objects in {files_count} files"
            if files_count == 200:
                verdict = "PASS" if median <= GENERATED_BUDGET_S else "FAIL"
                if verdict == "FAIL":
                    failed.append("generated")
                print(f"{label:<46}{median:>8.2f} s  <= {GENERATED_BUDGET_S:.0f} s {verdict}  ({found} value errors)")
            else:
                print(f"{label:<46}{median:>8.2f} s  ({found} value errors)")
        small, large = sorted(rss)
        growth = rss[large][1] / rss[small][1]
        verdict = "PASS" if growth <= WALK_GROWTH_BUDGET else "FAIL"
        if verdict == "FAIL":
            failed.append("memory")
        print(f"{'values walk peak: ' + str(small) + ' / ' + str(large) + ' objects':<46}{rss[small][1]:>6.0f} / {rss[large][1]:.0f} KB"
              f"  x{growth:.2f} <= {WALK_GROWTH_BUDGET} {verdict}")
        print(f"{'command peak RSS: ' + str(small) + ' / ' + str(large) + ' objects':<46}{rss[small][0]:>6.0f} / {rss[large][0]:.0f} MB")
        if cel_rules_time(Path(tmp), args.runs, failed) is None:
            print("CEL rules: cel-expr-python is not installed here (pip install '.[cel]'): not measured")
    sys.exit(1 if failed else 0)


def cel_rules_time(tmp: Path, runs: int, failed: list):
    """The CEL rules' cost: the same custom resources with their CRD's rules and with them renamed away."""
    try:
        import cel_expr_python  # noqa: F401  (only whether the command will find it)
    except ImportError:
        return None
    objects = "---\n".join(f"apiVersion: example.com/v1\nkind: Scaler\nmetadata: {{name: s-{i}}}\nspec: {{minReplicas: "
                           f"{i % 5}, maxReplicas: 3, window: 30s, labels: {{a: b, c: d}}, ports: [80, 443]}}\n"
                           for i in range(CEL_OBJECTS))
    times = {}
    for name, crd in (("rules", CEL_CRD), ("none", CEL_CRD.replace("x-kubernetes-validations", "x-unused"))):
        path = tmp / f"cel-{name}.yaml"
        path.write_text(crd + "---\n" + objects)
        times[name], out = median_run([str(COMMAND), "check", "-f", str(path), "--kube-version", "1.29", "-o", "json"],
                                      runs, (3,))
        if name == "rules":
            found = sum("celRule" in f for f in json.loads(out)["findings"])
    cost = times["rules"] - times["none"]
    verdict = "PASS" if cost <= CEL_BUDGET_S else "FAIL"
    if verdict == "FAIL":
        failed.append("cel")
    label = f"CEL rules: {CEL_OBJECTS} objects x 5 rules"
    print(f"{label:<46}{cost:>8.2f} s  <= {CEL_BUDGET_S} s {verdict}  ({times['rules']:.2f} s with, {times['none']:.2f} s "
          f"without; {found} rule failures)")
    return cost


if __name__ == "__main__":
    main()
