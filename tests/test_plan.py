"""plan --to TARGET [--from CURRENT] -f PATH: an upgrade hop by hop, through the real command.  What each
hop stops serving, and the windows, are checked against the served ranges 'kubectl apiinfo RESOURCE -o json'
gives in its history, never written out here."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from conftest import COMMAND, assert_one_line_error, clean_env
from test_ci_formats import _valid_sarif, sarif_schema  # noqa: F401 - sarif_schema: the fixture, shared

# The done-when stream of issue 21: each object an API a release between 1.22 and 1.30 stops serving.
STREAM = """\
apiVersion: flowcontrol.apiserver.k8s.io/v1beta1
kind: FlowSchema
metadata:
  name: fs
spec:
  priorityLevelConfiguration: {name: global-default}
---
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: nightly
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
---
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata:
  name: web
---
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
"""
RELEASES = [f"1.{n}" for n in range(15, 38)]


RESOURCES = ("flowschemas", "cronjobs", "podsecuritypolicies", "poddisruptionbudgets", "horizontalpodautoscalers",
             "ingresses")


@lru_cache(maxsize=None)
def _ranges() -> dict:
    """{group/version/Kind: the [first, last] ranges a default API server serves it}, from show's history."""
    found: dict = {}
    for resource in RESOURCES:
        result = subprocess.run([str(COMMAND), resource, "--kube-version", "1.22", "-o", "json"],
                                capture_output=True, text=True, env=clean_env(Path("/nonexistent")))
        assert result.returncode == 0, result.stderr
        for h in json.loads(result.stdout)["history"]:
            found[f"{h['groupVersion']}/{h['kind']}"] = h["served"]
    return found


def served(release: str) -> frozenset:
    """The group/version/Kinds of RESOURCES a default API server of the release serves."""
    n = RELEASES.index(release)
    return frozenset(gvk for gvk, ranges in _ranges().items()
                     if any(RELEASES.index(a) <= n <= RELEASES.index(b) for a, b in ranges))


def _after(release: str) -> str:
    return RELEASES[RELEASES.index(release) + 1]


def _before(release: str) -> str:
    return RELEASES[RELEASES.index(release) - 1]


def _write(tmp_path: Path, text: str = STREAM) -> Path:
    path = tmp_path / "stream.yaml"
    path.write_text(text)
    return path


def _plan(cli, path: Path, *args: str):
    return cli("plan", "--from", "1.22", "--to", "1.30", "-f", str(path), *args)


def test_the_done_when_stream_gets_each_hop_window_and_advice(cli, tmp_path):
    result = _plan(cli, _write(tmp_path), "-o", "json")
    assert result.returncode == 3, result.stderr  # things stop being served: blocking, as check says
    answer = json.loads(result.stdout)
    assert (answer["kind"], answer["from"], answer["to"], answer["objects"]) == ("PlanResult", "1.22", "1.30", 6)
    assert [h["release"] for h in answer["hops"]] == [f"1.{n}" for n in range(23, 31)]
    removals = [f for f in answer["findings"] if f["finding"] == "not-served"]
    assert {f["kind"] for f in answer["findings"]} == {"FlowSchema", "CronJob", "PodSecurityPolicy",
                                                       "PodDisruptionBudget", "HorizontalPodAutoscaler"}
    for f in removals:
        hop = f["hop"]
        # the version in use is served before the hop and not at it
        uses, kind = f"{f['uses']}/{f['kind']}", f["kind"]
        assert uses in served(_before(hop)) and uses not in served(hop), f
        assert uses in next(x["stopsServing"] for x in answer["hops"] if x["release"] == hop)
        if f["write"] is None:
            continue
        # the version to write is served where the change is made (before the hop) and at the hop
        write = f"{f['write']}/{kind}"
        assert write in served(_before(hop)) and write in served(hop), f
        first, last = f["window"]
        for r in RELEASES[RELEASES.index(first): RELEASES.index(last) + 1]:
            assert {uses, write} <= served(r), (f, r)
        for edge in (first, last):  # the window is the whole run: just outside it one of the two is not served
            outside = _before(edge) if edge == first else _after(edge)
            if outside in RELEASES and edge not in (RELEASES[0], RELEASES[-1]):
                assert not {uses, write} <= served(outside), (f, outside)
        if RELEASES.index(first) <= RELEASES.index("1.22"):
            assert "migrate now (the replacement is served in 1.22)" in f["advice"], f
        else:
            assert f"migrate at the {first} hop, before {hop}" in f["advice"], f
        assert f["advice"].startswith(f"write {f['write']}:")

    by_kind: dict = {}
    for f in answer["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    # FlowSchema: a chain, each written version served by every cluster on the way
    flow = by_kind["FlowSchema"]
    assert [f["uses"] for f in flow][0] == "flowcontrol.apiserver.k8s.io/v1beta1"
    for a, b in zip(flow, flow[1:]):
        assert a["write"] == b["uses"], flow  # the next step starts from what the previous one wrote
    writes = [f["write"].rpartition("/")[2] for f in flow]
    assert writes == ["v1beta2", "v1beta3", "v1"], flow
    # each from the hop where it is first served: v1beta2 from 1.23, v1beta3 from 1.26, v1 from 1.29
    for f in flow:
        first_served = next(r for r in RELEASES if f"{f['write']}/FlowSchema" in served(r))
        assert f["window"][0] == first_served, f
    assert flow[-1]["finding"] == "deprecated" and f"{flow[-1]['uses']}/FlowSchema" in next(
        h["deprecates"] for h in answer["hops"] if h["release"] == flow[-1]["hop"])
    assert "flowcontrol.apiserver.k8s.io/v1/FlowSchema" in served("1.30")
    # PSP: no replacement API, and what replaces it named
    [psp] = by_kind["PodSecurityPolicy"]
    assert psp["write"] is None and psp["window"] is None
    assert psp["advice"].startswith("no replacement: remove or replace") and "Pod Security admission" in psp["advice"]
    # the others: one hop each, to their stable version
    for kind, want in (("CronJob", "batch/v1"), ("PodDisruptionBudget", "policy/v1"),
                       ("HorizontalPodAutoscaler", "autoscaling/v2")):
        [f] = by_kind[kind]
        assert f["write"] == want, f
    assert answer["summary"]["byFinding"] == {"not-served": len(removals), "deprecated": 1}
    # findings come hop by hop
    hops = [f["hop"] for f in answer["findings"]]
    assert hops == sorted(hops, key=lambda h: RELEASES.index(h))


def test_the_table_has_a_row_per_object_and_hop(cli, tmp_path):
    result = _plan(cli, _write(tmp_path))
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["HOP", "LOCATION", "KIND/NAME", "APIVERSION", "WINDOW", "ADVICE"]
    flows = [line for line in lines if "FlowSchema/fs" in line]
    assert [line.split()[0] for line in flows] == ["1.26", "1.29", "1.29"]
    assert "plan 1.22 to 1.30: 7 changes" in result.stderr
    assert not any("Deployment" in line for line in lines)


def test_a_replacement_in_another_group_and_an_api_not_served_at_from(cli, tmp_path):
    ingress = _write(tmp_path, "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: ing}\n")
    result = cli("plan", "--from", "1.18", "--to", "1.23", "-f", str(ingress), "-o", "json")
    assert result.returncode == 3, result.stderr
    [f] = json.loads(result.stdout)["findings"]
    uses, write = "extensions/v1beta1/Ingress", f"{f['write']}/Ingress"
    assert f["hop"] == next(r for r in RELEASES[RELEASES.index("1.18"):] if uses not in served(r))
    assert write in served(_before(f["hop"])) and write in served("1.23") and f["write"].startswith("networking.k8s.io/")
    assert f["window"][0] == next(r for r in RELEASES if {uses, write} <= served(r))
    gone = cli("plan", "--from", "1.25", "--to", "1.26", "-f", str(ingress), "-o", "json")
    [f] = json.loads(gone.stdout)["findings"]
    assert (gone.returncode, f["hop"], f["write"]) == (3, "1.25", None)
    assert "no longer served in 1.25" in f["detail"] and "fix it first" in f["advice"]


def test_exit_statuses_as_check(cli, tmp_path):
    fine = _write(tmp_path, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n")
    result = _plan(cli, fine)
    assert (result.returncode, result.stdout) == (0, "")
    assert "Nothing to change from 1.22 to 1.30" in result.stderr
    # only a deprecation before the target: 2; ignored: 0
    hpa = _write(tmp_path, "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n")
    deprecated = cli("plan", "--from", "1.22", "--to", "1.24", "-f", str(hpa), "-o", "json")
    assert deprecated.returncode == 2, deprecated.stderr
    [f] = json.loads(deprecated.stdout)["findings"]
    assert (f["finding"], f["write"]) == ("deprecated", "autoscaling/v2")
    assert cli("plan", "--from", "1.22", "--to", "1.24", "-f", str(hpa), "--ignore-deprecations").returncode == 0
    assert _plan(cli, hpa, "--fail-on", "deprecated").returncode == 0, "not-served does not fail when not chosen"
    broken = _write(tmp_path, STREAM + "---\n: [\n")
    assert_one_line_error(_plan(cli, broken), "stream.yaml")


@pytest.mark.parametrize("args, fragments", [
    (["--from", "1.30", "--to", "1.22"], ["--to 1.22 is not after --from 1.30"]),
    (["--from", "1.22", "--to", "1.22"], ["is not after"]),
    (["--from", "1.22", "--to", "1.99"], ["--to 1.99", "newer than the catalog"]),
    (["--from", "1.2", "--to", "1.30"], ["--from 1.2", "not in the catalog"]),
    (["--from", "banana", "--to", "1.30"], ["--from 'banana' is not a Kubernetes version"]),
    (["--from", "1.22"], ["--to"]),
    (["--to", "1.30"], ["give --from"]),  # no cluster configured
])
def test_bad_ends_are_one_line_errors(cli, tmp_path, args, fragments):
    assert_one_line_error(cli("plan", *args, "-f", str(_write(tmp_path))), *fragments)


def test_no_manifests_is_an_error(cli, tmp_path):
    assert_one_line_error(cli("plan", "--from", "1.22", "--to", "1.30"), "needs manifests")
    empty = _write(tmp_path, "")
    assert_one_line_error(_plan(cli, empty), "no objects")
    assert _plan(cli, empty, "--allow-empty").returncode == 0


def test_from_defaults_to_the_cached_clusters_version(fake_apiserver, cli, tmp_path):
    server = fake_apiserver(release="1.24", token="t0ken")
    cli.env["KUBECONFIG"] = str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    assert cli("refresh").returncode == 0
    server.stop()  # the snapshot answers
    result = cli("plan", "--to", "1.26", "-f", str(_write(tmp_path)), "-o", "json")
    assert result.returncode == 3, result.stderr
    answer = json.loads(result.stdout)
    assert answer["from"] == "1.24"
    assert [h["release"] for h in answer["hops"]] == ["1.25", "1.26"]
    cron = next(f for f in answer["findings"] if f["kind"] == "CronJob")
    assert "migrate now (the replacement is served in 1.24)" in cron["advice"]


def test_every_format_parses(cli, tmp_path, sarif_schema):  # noqa: F811
    path = _write(tmp_path)
    answer = json.loads(_plan(cli, path, "-o", "json").stdout)
    count = len(answer["findings"])
    assert yaml.safe_load(_plan(cli, path, "-o", "yaml").stdout) == answer
    rows = list(csv.reader(io.StringIO(_plan(cli, path, "-o", "csv").stdout)))
    assert rows[0] == ["HOP", "LOCATION", "KIND/NAME", "APIVERSION", "WINDOW", "ADVICE"] and len(rows) == count + 1
    markdown = _plan(cli, path, "-o", "markdown").stdout.splitlines()
    assert markdown[0].startswith("| HOP") and len(markdown) == count + 2
    assert any(line.startswith("| 1.29 ") for line in markdown), "a release stays text, as typed (a number would be right-aligned, and 1.30 shown as 1.3)"
    suites = ET.fromstring(_plan(cli, path, "-o", "junit").stdout)
    assert suites.get("tests") == "6" and suites.get("failures") == "5"  # every object a case; the Deployment passes
    log = _valid_sarif(_plan(cli, path, "-o", "sarif").stdout, sarif_schema)
    results = log["runs"][0]["results"]
    assert len(results) == count and {r["ruleId"] for r in results} == {"not-served", "deprecated"}
    github = _plan(cli, path, "-o", "github").stdout.splitlines()
    assert len(github) == count and all(line.startswith(("::error file=", "::warning file=")) for line in github)
    assert any("at the 1.26 hop" in line for line in github)
    for output in ("table", "json", "yaml", "markdown", "csv", "junit", "sarif", "github"):
        assert _plan(cli, path, "-o", output).returncode == 3, output


# --- --live: the cluster's objects, as scan reads them --------------------------------------------


def _written(manager: str, api_version: str) -> list:
    return [{"manager": manager, "operation": "Update", "apiVersion": api_version, "time": "2024-03-01T10:00:00Z"}]


def test_live_plans_for_the_versions_the_clusters_objects_are_written_with(fake_apiserver, cli, tmp_path):
    server = fake_apiserver(release="1.22", token="t0ken", objects={
        "batch/v1/cronjobs": [{"name": "nightly", "namespace": "default",
                               "managedFields": _written("legacy-ci", "batch/v1beta1")}],
        "flowcontrol.apiserver.k8s.io/v1beta1/flowschemas": [{"name": "fs",
                                                              "managedFields": _written("helm", "flowcontrol.apiserver.k8s.io/v1beta1")}],
        "apps/v1/deployments": [{"name": "web", "namespace": "default", "managedFields": _written("kubectl", "apps/v1")}],
    })
    cli.env["KUBECONFIG"] = str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    result = cli("plan", "--to", "1.30", "--live", "-o", "json")
    assert result.returncode == 3, result.stderr
    answer = json.loads(result.stdout)
    assert answer["from"] == "1.22", "--from defaults to the cluster's version"
    assert answer["live"]["resources"] > 0 and answer["objects"] >= 3
    by_manager: dict = {}
    for f in answer["findings"]:
        by_manager.setdefault(f["manager"], []).append(f)
    assert "kubectl" not in by_manager, "apps/v1 is served all the way"
    [cron] = by_manager["legacy-ci"]
    assert (cron["resource"], cron["uses"], cron["write"], cron["objects"], cron["names"]) == (
        "cronjobs.batch", "batch/v1beta1", "batch/v1", 1, ["default/nightly"])
    # the same steps as for a manifest of the same apiVersion and kind
    path = _write(tmp_path, STREAM)
    from_files = json.loads(_plan(cli, path, "-o", "json").stdout)["findings"]
    for manager, kind in (("legacy-ci", "CronJob"), ("helm", "FlowSchema")):
        want = [(f["hop"], f["uses"], f["write"], f["window"], f["advice"]) for f in from_files if f["kind"] == kind]
        assert [(f["hop"], f["uses"], f["write"], f["window"], f["advice"]) for f in by_manager[manager]] == want
    table = cli("plan", "--to", "1.30", "--live")
    assert "cronjobs.batch by legacy-ci" in table.stdout and "default/nightly" in table.stdout
    assert "plan 1.22 to 1.30: 4 changes (3 not-served, 1 deprecated) in " in table.stderr and "resources read" in table.stderr
    sarif = json.loads(cli("plan", "--to", "1.30", "--live", "-o", "sarif").stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"not-served", "deprecated"}


def test_live_refuses_manifests_and_offline(cli, tmp_path):
    assert_one_line_error(cli("plan", "--to", "1.30", "--live", "-f", str(_write(tmp_path))), "--live", "pick one")
    assert_one_line_error(cli("plan", "--to", "1.30", "--live", "--offline"), "--offline")
    assert_one_line_error(cli("plan", "--to", "1.30", "--from", "1.22", "--live"), "none is configured")
