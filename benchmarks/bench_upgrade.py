#!/usr/bin/env python3
"""Upgrade planning's budgets: `check` of 10,000 objects in 200 files, of hostile input, and `diff 1.15 1.36 --fields`.

    python benchmarks/bench_upgrade.py [--runs N]

Writes 200 manifest files of 50 objects each (Deployments, Services,
ConfigMaps, CronJobs, Ingresses and a few APIs long removed, as a repository of
charts renders them), runs the real command on them --runs times in a
subprocess, and prints medians and PASS/FAIL against the budgets: check at most
3 s, diff at most 2 s.  Hostile input must cost its size, not more: one object
with 80,000 unknown keys, and CRDs whose schema a YAML alias at each of 40
levels expands to 2**40 nodes (through allOf, and through typed maps and
items), each checked within 2 s.  Budgets live here, not in timed unit tests.  Exit
status 1 if a budget fails.
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

COMMAND = Path(sys.executable).parent / "kubectl-apiinfo"
CHECK_BUDGET_S = 3.0
DIFF_BUDGET_S = 2.0
HOSTILE_BUDGET_S = 2.0
FILES, PER_FILE = 200, 50

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: team-{team}
  labels: {{app: app-{n}, team: team-{team}}}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{{"apiVersion":"extensions/v1beta1"}}'
spec:
  replicas: 3
  selector:
    matchLabels: {{app: app-{n}}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata:
      labels: {{app: app-{n}}}
    spec:
      serviceAccountName: app-{n}
      securityContext: {{runAsNonRoot: true, fsGroup: 2000}}
      containers:
      - name: app
        image: registry.example.com/app:{n}
        args: ["--port=8080", "--log-level=info"]
        ports:
        - {{name: http, containerPort: 8080, protocol: TCP}}
        env:
        - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
        - {{name: MODE, value: production}}
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{memory: 256Mi}}
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
          periodSeconds: 10
        volumeMounts:
        - {{name: config, mountPath: /etc/app}}
      volumes:
      - name: config
        configMap: {{name: app-{n}}}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: app-{n}
  namespace: team-{team}
spec:
  type: ClusterIP
  selector: {{app: app-{n}}}
  ports:
  - {{name: http, port: 80, targetPort: http, protocol: TCP}}
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{n}
  namespace: team-{team}
data:
  config.yaml: |
    listen: :8080
    workers: 4
"""
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: job-{n}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {{name: job, image: busybox, args: [sh, -c, date]}}
"""
INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app-{n}
spec:
  ingressClassName: nginx
  rules:
  - host: app-{n}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {{name: app-{n}, port: {{number: 80}}}}
"""
LEGACY = """\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: legacy-{n}
spec:
  rules:
  - host: legacy-{n}.example.com
"""
TEMPLATES = (DEPLOYMENT, SERVICE, CONFIGMAP, CRONJOB, INGRESS)


def write_inputs(directory: Path) -> int:
    count = 0
    for f in range(FILES):
        docs = []
        for i in range(PER_FILE):
            n = f * PER_FILE + i
            template = LEGACY if i == PER_FILE - 1 and f % 10 == 0 else TEMPLATES[i % len(TEMPLATES)]
            docs.append(f"# Source: chart-{f}/templates/t{i}.yaml\n" + template.format(n=n, team=f % 7))
            count += 1
        (directory / f"release-{f:03d}.yaml").write_text("---\n" + "---\n".join(docs))
    return count


def write_hostile(directory: Path) -> dict:
    """{name: path} of inputs built to cost more than their size: many unknown keys, a schema of aliases."""
    import json

    wide = directory / "wide.json"
    keys = {f"k{i:05d}": i for i in range(80_000)}
    wide.write_text(json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": keys}))
    aliases = directory / "aliases.yaml"
    levels = [f"  - &l{i} {{x-{i}: 1, allOf: [*l{i - 1}, *l{i - 1}]}}" for i in range(2, 41)]
    aliases.write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w.example.com}\n"
        "spec:\n versions:\n - name: v1\n   schema:\n    openAPIV3Schema:\n     allOf:\n"
        + "     - &l1 {x-1: 1}\n" + "\n".join("   " + line for line in levels) + "\n     - *l40\n"
    )
    maps = directory / "maps.yaml"  # the same through typed maps: a properties map's values and an array's items
    levels = [f"     l{i}: &l{i} {{x-{i}: 1, properties: {{a: *l{i - 1}}}, items: *l{i - 1}}}" for i in range(2, 41)]
    maps.write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: m.example.com}\n"
        "spec:\n versions:\n - name: v1\n   schema:\n    openAPIV3Schema:\n     properties:\n"
        + "      l1: &l1 {x-1: 1}\n" + "\n".join(" " + line for line in levels) + "\n      last: *l40\n"
    )
    return {"check: one object with 80,000 unknown keys": wide, "check: a CRD schema of 40 nested aliases": aliases,
            "check: 40 nested aliases in a CRD's typed maps": maps}


def timed(args: list, runs: int, ok_statuses: tuple) -> tuple:
    times = []
    result = None
    for _ in range(runs + 1):  # the first run warms the file cache
        start = time.perf_counter()
        result = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - start)
        if result.returncode not in ok_statuses:
            sys.exit(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return statistics.median(times[1:]), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import yaml

    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; PyYAML {yaml.__version__} (libyaml: {yaml.__with_libyaml__})")
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        objects = write_inputs(directory)
        median, result = timed(["check", "-f", str(directory), "--kube-version", "1.33", "-o", "json"], args.runs, (3,))
        import json

        answer = json.loads(result.stdout)
        assert answer["objects"] == objects, (answer["objects"], objects)
        verdict = "PASS" if median <= CHECK_BUDGET_S else "FAIL"
        if verdict == "FAIL":
            failed.append("check")
        print(f"{'check: ' + str(objects) + ' objects in ' + str(FILES) + ' files':<52}{median:>8.2f} s  <= {CHECK_BUDGET_S:.0f} s {verdict}"
              f"  ({len(answer['findings'])} findings)")
        for title, path in write_hostile(directory).items():
            median, result = timed(["check", "-f", str(path), "--kube-version", "1.33", "-o", "json"], args.runs, (3,))
            verdict = "PASS" if median <= HOSTILE_BUDGET_S else "FAIL"
            if verdict == "FAIL":
                failed.append(title)
            found = len(json.loads(result.stdout)["findings"])
            print(f"{title:<52}{median:>8.2f} s  <= {HOSTILE_BUDGET_S:.0f} s {verdict}  ({found} findings)")
    median, result = timed(["diff", "1.15", "1.36", "--fields", "-o", "json"], args.runs, (0,))
    verdict = "PASS" if median <= DIFF_BUDGET_S else "FAIL"
    if verdict == "FAIL":
        failed.append("diff")
    print(f"{'diff 1.15 1.36 --fields':<52}{median:>8.2f} s  <= {DIFF_BUDGET_S:.0f} s {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
