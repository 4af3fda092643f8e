"""check and diff, as people run them before an upgrade: real manifests (a Helm-rendered
stream, a kustomize-style List, JSON, a broken file) against catalog releases and
against the fake API server's cached snapshot with CRDs; exit statuses asserted."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import COMMAND, ROOT, assert_one_line_error, use_contexts

MANIFESTS = Path(__file__).parent / "manifests"


def by_name(answer: dict) -> dict:
    found: dict = {}
    for f in answer["findings"]:
        found.setdefault(f"{f['kind']}/{f['name']}", []).append(f)
    return found


# --- the acceptance cases ---------------------------------------------------------


def test_legacy_manifest_against_1_25_reports_each_api_and_exits_3(cli):
    result = cli("check", "-f", str(MANIFESTS / "legacy.yaml"), "--kube-version", "1.25", "-o", "json")
    assert result.returncode == 3, result.stderr
    found = by_name(json.loads(result.stdout))
    assert set(found) == {"Deployment/web", "CronJob/nightly-report", "PodDisruptionBudget/web", "Pod/resizable"}
    expect = {
        "Deployment/web": ("apps/v1/Deployment", "1.16"),
        "CronJob/nightly-report": ("batch/v1/CronJob", "1.25"),
        "PodDisruptionBudget/web": ("policy/v1/PodDisruptionBudget", "1.25"),
    }
    for name, (replacement, removed) in expect.items():
        [f] = found[name]
        assert (f["finding"], f["replacement"], f["replacementServed"], f["removed"]) == ("not-served", replacement, True, removed)
        assert f"removed in {removed}" in f["detail"]
    [pod] = found["Pod/resizable"]
    assert (pod["finding"], pod["field"], pod["added"]) == ("unknown-field", "spec.containers.resizePolicy", "1.27")
    lines = (MANIFESTS / "legacy.yaml").read_text().splitlines()
    for f in json.loads(result.stdout)["findings"]:
        assert lines[f["line"] - 1] == f"apiVersion: {f['apiVersion']}"  # the object's own first line


def test_the_same_manifest_against_1_27_has_the_field(cli):
    answer = json.loads(cli("check", "-f", str(MANIFESTS / "legacy.yaml"), "--kube-version", "1.27", "-o", "json").stdout)
    assert "Pod/resizable" not in by_name(answer)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


FLOWSCHEMA = """\
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata:
  name: batch
spec:
  priorityLevelConfiguration:
    name: workload-low
  matchingPrecedence: 1000
"""


def test_only_a_deprecated_but_served_api_exits_2(cli, tmp_path):
    # flowcontrol v1beta3 is deprecated in 1.29 and served by default until its removal in 1.32.
    path = _write(tmp_path, "fs.yaml", FLOWSCHEMA)
    result = cli("check", "-f", str(path), "--kube-version", "1.31", "-o", "json")
    assert result.returncode == 2, result.stderr
    [f] = json.loads(result.stdout)["findings"]
    assert (f["finding"], f["deprecated"], f["removed"], f["replacement"]) == (
        "deprecated", "1.29", "1.32", "flowcontrol.apiserver.k8s.io/v1/FlowSchema")
    assert cli("check", "-f", str(path), "--kube-version", "1.31", "--ignore-deprecations").returncode == 0
    assert cli("check", "-f", str(path), "--kube-version", "1.28").returncode == 0  # not deprecated yet
    assert cli("check", "-f", str(path), "--kube-version", "1.33").returncode == 3  # removed in 1.32


def test_fail_on_chooses_what_fails(cli, tmp_path):
    path = _write(tmp_path, "fs.yaml", FLOWSCHEMA)
    assert cli("check", "-f", str(path), "--kube-version", "1.33", "--fail-on", "deprecated").returncode == 0
    assert cli("check", "-f", str(path), "--kube-version", "1.33", "--fail-on", "not-served,deprecated").returncode == 3
    crd = _write(tmp_path, "crd.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    assert cli("check", "-f", str(crd), "--kube-version", "1.33").returncode == 0  # unknown-kind warns
    assert cli("check", "-f", str(crd), "--kube-version", "1.33", "--fail-on", "unknown-kind").returncode == 3
    assert_one_line_error(cli("check", "-f", str(crd), "--fail-on", "typo"), "--fail-on 'typo'", "not-served")


def test_diff_1_24_1_25_lists_the_removals_and_a_resources_new_fields(cli):
    everything = cli.json("diff", "1.24", "1.25")
    removed = {r["groupVersion"] for r in everything["groupVersions"] if r["change"] == "removed"}
    assert {"batch/v1beta1", "policy/v1beta1", "autoscaling/v2beta1", "discovery.k8s.io/v1beta1",
            "events.k8s.io/v1beta1", "node.k8s.io/v1beta1"} <= removed
    assert {"policy/v1beta1", "batch/v1beta1"} & {r["groupVersion"] for r in everything["groupVersions"] if r["change"] == "added"} == set()
    gone = {r["kind"] for r in everything["resources"] if r["change"] == "removed"}
    assert "PodSecurityPolicy" in gone
    assert everything["fields"] == []
    answer = cli.json("diff", "1.24", "1.25", "deployments")
    assert (answer["groupVersions"], answer["resources"]) == ([], [])  # apps/v1 stays, nothing else serves Deployment
    added = {(r["groupVersion"], r["kind"], r["field"]) for r in answer["fields"] if r["change"] == "added"}
    assert ("apps/v1", "Deployment", "spec.template.spec.hostUsers") in added
    assert {r["kind"] for r in answer["fields"]} == {"Deployment"}
    table = cli("diff", "1.24", "1.25", "deployments")
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()
    assert rows[0].split() == ["WHAT", "CHANGE", "NAME", "DETAIL"]
    whats = [r.split()[0] for r in rows[1:]]
    assert whats == sorted(whats, key=["group/version", "resource", "field"].index)  # grouped


def test_diff_fields_for_all_resources_and_the_reverse_direction(cli):
    forward = cli.json("diff", "1.26", "1.27", "--fields")
    back = cli.json("diff", "1.27", "1.26", "--fields")
    key = lambda r: (r["groupVersion"], r["kind"], r["field"])  # noqa: E731
    assert {key(r) for r in forward["fields"] if r["change"] == "added"} == {key(r) for r in back["fields"] if r["change"] == "removed"}
    assert ("v1", "Pod", "spec.containers.resizePolicy") in {key(r) for r in forward["fields"] if r["change"] == "added"}
    assert len({r["kind"] for r in forward["fields"]}) > 5


# --- inputs as people give them -------------------------------------------------


def test_helm_stream_from_stdin_names_the_templates(cli):
    text = (MANIFESTS / "helm-rendered.yaml").read_text()
    result = subprocess.run([str(COMMAND), "check", "-f", "-", "--kube-version", "1.26", "-o", "json"], input=text,
                            capture_output=True, text=True, env=cli.env, timeout=60)
    assert result.returncode == 3, result.stderr
    answer = json.loads(result.stdout)
    assert answer["objects"] == 5
    [f] = answer["findings"]  # the last-applied annotation that mentions extensions/v1beta1 is no finding
    assert (f["location"], f["kind"], f["finding"], f["file"]) == ("shop/templates/hpa.yaml", "HorizontalPodAutoscaler", "not-served", "<stdin>")
    assert "autoscaling/v2 HorizontalPodAutoscaler" in f["detail"]
    # before its removal in 1.26 the same chart is only deprecated
    older = subprocess.run([str(COMMAND), "check", "-f", "-", "--kube-version", "1.25"], input=text,
                           capture_output=True, text=True, env=cli.env, timeout=60)
    assert older.returncode == 2, older.stderr
    assert "shop/templates/hpa.yaml" in older.stdout and "deprecated" in older.stdout


def test_kustomize_list_items_have_their_own_lines(cli):
    answer = json.loads(cli("check", "-f", str(MANIFESTS / "kustomize-list.yaml"), "--kube-version", "1.33", "-o", "json").stdout)
    [f] = answer["findings"]
    assert answer["objects"] == 3
    lines = (MANIFESTS / "kustomize-list.yaml").read_text().splitlines()
    assert lines[f["line"] - 1] == "- apiVersion: flowcontrol.apiserver.k8s.io/v1beta3"


def test_json_list_against_the_catalog_is_unknown_kinds(cli):
    result = cli("check", "-f", str(MANIFESTS / "crd-objects.json"), "--kube-version", "1.33", "-o", "json")
    assert result.returncode == 0, result.stderr
    found = by_name(json.loads(result.stdout))
    assert [f["finding"] for f in found["Widget/small"]] == ["unknown-kind"]
    lines = (MANIFESTS / "crd-objects.json").read_text().splitlines()
    assert lines[found["Widget/small"][0]["line"] - 1].strip() == "{"
    assert '"g0001.example.com/v1"' in lines[found["Widget/small"][0]["line"]]


def test_a_broken_file_is_reported_with_its_line_and_the_rest_is_checked(cli, tmp_path):
    shutil.copy(MANIFESTS / "broken.yaml", tmp_path / "broken.yaml")
    shutil.copy(MANIFESTS / "legacy.yaml", tmp_path / "legacy.yaml")
    result = cli("check", "-f", str(tmp_path), "--kube-version", "1.25")
    assert_one_line_error(result, "broken.yaml:11", "not valid YAML", "the rest was checked")
    assert result.returncode == 1
    assert "CronJob/after-the-break" in result.stdout  # the document after the broken one
    assert "Deployment/web" in result.stdout  # the other file
    assert "invalid" in result.stdout
    answer = json.loads(cli("check", "-f", str(tmp_path), "--kube-version", "1.25", "-o", "json").stdout)
    assert [(Path(p["file"]).name, p["line"]) for p in answer["problems"]] == [("broken.yaml", 11)]


def test_directories_are_read_recursively_only_with_R(cli, tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(MANIFESTS / "legacy.yaml", tmp_path / "sub" / "legacy.yml")
    (tmp_path / "notes.txt").write_text("apiVersion: [not a manifest")
    flat = cli("check", "-f", str(tmp_path), "--kube-version", "1.25", "-o", "json")
    assert_one_line_error(flat, f"no objects in {tmp_path} (0 files)", "--recursive reads subdirectories too")
    deep = json.loads(cli("check", "-f", str(tmp_path), "-R", "--kube-version", "1.25", "-o", "json").stdout)
    assert (deep["files"], deep["objects"]) == (1, 4)


def test_bad_lines_are_one_error_line(cli, tmp_path):
    assert_one_line_error(cli("check", "--kube-version", "1.25"), "-f")
    assert_one_line_error(cli("check", "-f", str(tmp_path / "missing.yaml"), "--kube-version", "1.25"), "missing.yaml", "does not exist")
    assert_one_line_error(cli("check", "-f", "x.yaml", "--kube-version", "1.25", "--all-contexts"), "--all-contexts")
    assert_one_line_error(cli("diff", "1.24", "1.99"), "1.99", "newer than the catalog")
    assert_one_line_error(cli("diff", "1.14", "1.24"), "1.14", "not in the catalog")
    assert_one_line_error(cli("diff", "1.24", "1.25", "nosuchthings"), "nosuchthings")
    # a side named by a positional word: no "--context" the user never typed, and where a kubeconfig comes from
    unknown_side = cli("diff", "1.24", "nosuchctx")
    assert_one_line_error(unknown_side, "'nosuchctx' is neither", "set KUBECONFIG")
    assert "--context" not in unknown_side.stderr and "defines no contexts" not in unknown_side.stderr
    bad = _write(tmp_path, "scalar.yaml", "just a string\n")
    assert_one_line_error(cli("check", "-f", str(bad), "--kube-version", "1.25"), "scalar.yaml:1")


def test_output_formats_carry_the_same_rows(cli):
    args = ("check", "-f", str(MANIFESTS / "legacy.yaml"), "--kube-version", "1.25")
    answer = json.loads(cli(*args, "-o", "json").stdout)
    assert yaml.safe_load(cli(*args, "-o", "yaml").stdout) == answer
    rows = list(csv.reader(io.StringIO(cli(*args, "-o", "csv").stdout)))
    assert rows[0] == ["LOCATION", "KIND/NAME", "APIVERSION", "FINDING", "DETAIL"]
    assert [r[3] for r in rows[1:]] == [f["finding"] for f in answer["findings"]]
    markdown = cli(*args, "-o", "markdown").stdout.splitlines()
    assert markdown[0].startswith("| LOCATION") and set(markdown[1]) <= set("|-: ")
    assert len(markdown) == 2 + len(answer["findings"])
    table = cli(*args, "--no-headers").stdout.splitlines()
    assert len(table) == len(answer["findings"]) and not table[0].startswith("LOCATION")
    clean = cli("check", "-f", str(MANIFESTS / "kustomize-list.yaml"), "--kube-version", "1.28")
    assert (clean.returncode, clean.stdout) == (0, "")
    assert "No findings: 3 objects" in clean.stderr


def test_markdown_and_yaml_are_imported_only_for_their_outputs(cli, tmp_path):
    probe = (
        "import sys, runpy; sys.argv = ['kubectl-apiinfo'] + sys.argv[1:]\n"
        "from kubectl_apiinfo.cli import main\n"
        "try:\n    main.main()\nexcept SystemExit:\n    pass\n"
        "print('tabulate' in sys.modules, file=sys.stderr)"
    )
    import sys

    for output, want in (("table", "False"), ("markdown", "True")):
        result = subprocess.run([sys.executable, "-c", probe, "diff", "1.24", "1.25", "-o", output],
                                capture_output=True, text=True, env=cli.env, timeout=60)
        assert result.stderr.strip().splitlines()[-1] == want, result.stderr


# --- against a cluster's cached snapshot and schemas, CRDs included -------------


@pytest.fixture
def widget_cluster(fake_apiserver, tmp_path, cli):
    server = fake_apiserver(release="1.33", crd_groups=1, token="s3cret")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    cli.env["KUBECONFIG"] = str(kubeconfig)
    return server


def test_crd_fields_are_checked_against_the_clusters_schema_and_offline_afterwards(cli, widget_cluster):
    args = ("check", "-f", str(MANIFESTS / "crd-objects.json"), "-o", "json")
    result = cli(*args)
    assert result.returncode == 3, result.stderr
    answer = json.loads(result.stdout)
    assert answer["targets"][0]["kind"] == "cluster"
    found = by_name(answer)
    fields = sorted(f["field"] for f in found["Widget/small"])
    # config preserves unknown fields and labels is a map: neither is reported
    assert fields == ["spec.colour", "spec.ports.protocool"]
    assert [f["finding"] for f in found["Gadget/missing"]] == ["unknown-kind"]
    assert "install its CustomResourceDefinition" in found["Gadget/missing"][0]["detail"]
    widget_cluster.stop()
    again = cli(*args)
    assert (again.returncode, json.loads(again.stdout)["findings"]) == (3, answer["findings"]), again.stderr


def test_a_single_context_without_its_documents_says_which_fields_went_unchecked(cli, widget_cluster):
    assert cli("refresh").returncode == 0  # the snapshot, no OpenAPI document
    result = cli("check", "-f", str(MANIFESTS / "crd-objects.json"), "--offline")
    lines = [line for line in result.stderr.splitlines() if "were not checked" in line]
    assert lines == ["warning: fields of CRDs in fake were not checked: no OpenAPI document cached; "
                     "run 'kubectl apiinfo refresh --schemas'"], result.stderr


def test_a_cluster_serving_a_deprecated_api_exits_2(cli, fake_apiserver, tmp_path):
    from kubectl_apiinfo.sources.catalog import releases

    snapshot = releases.load_release("1.33")
    for g in snapshot.groups:
        for gv in g.versions:
            if (g.name, gv.version) == ("admissionregistration.k8s.io", "v1beta1"):
                for r in gv.resources:
                    r.served = True  # as --runtime-config=admissionregistration.k8s.io/v1beta1=true does
    server = fake_apiserver(snapshot=snapshot, git_version="v1.33.2", token="t0ken")
    cli.env["KUBECONFIG"] = str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    path = _write(tmp_path, "vap.yaml", (
        "apiVersion: admissionregistration.k8s.io/v1beta1\nkind: ValidatingAdmissionPolicy\n"
        "metadata:\n  name: demo\nspec:\n  failurePolicy: Fail\n"
    ))
    result = cli("check", "-f", str(path), "-o", "json")
    assert result.returncode == 2, result.stderr
    [f] = json.loads(result.stdout)["findings"]
    assert (f["finding"], f["deprecated"], f["removed"]) == ("deprecated", "1.31", "1.34")
    # the catalog's 1.33 contains it, but a default API server does not serve it
    off = cli("check", "-f", str(path), "--kube-version", "1.33", "-o", "json")
    assert off.returncode == 3
    assert json.loads(off.stdout)["findings"][0]["finding"] == "off-by-default"


def test_all_contexts_adds_a_context_column(cli, fake_apiserver, tmp_path):
    a = fake_apiserver(release="1.24", token="a-token")
    b = fake_apiserver(release="1.33", crd_groups=1, token="b-token")
    use_contexts(cli, tmp_path, {"old": a, "new": b})
    assert cli("refresh", "--all-contexts").returncode == 0
    a.stop()
    b.stop()  # every cached context answers offline
    result = cli("check", "-f", str(MANIFESTS / "legacy.yaml"), "--all-contexts", "-o", "json")
    assert result.returncode == 3, result.stderr
    answer = json.loads(result.stdout)
    assert sorted(t["context"] for t in answer["targets"]) == ["new", "old"]
    cron = {f["context"]: f["finding"] for f in answer["findings"] if f["kind"] == "CronJob"}
    assert cron == {"old": "deprecated", "new": "not-served"}
    table = cli("check", "-f", str(MANIFESTS / "legacy.yaml"), "--all-contexts").stdout.splitlines()
    assert table[0].split()[:2] == ["CONTEXT", "LOCATION"]


def test_all_contexts_checks_crd_fields_in_every_context_or_says_it_could_not(cli, fake_apiserver, tmp_path):
    """Issue 18: --all-contexts read each context's cached snapshot and left its OpenAPI documents unfetched, so a
    CRD object's unknown field went unreported ("No findings") unless kubectl's HTTP cache happened to hold them.
    Each context fetches its documents as a single-context check does; one that cannot says so, once."""
    east = fake_apiserver(release="1.33", crd_groups=1, token="east-token")
    west = fake_apiserver(release="1.33", crd_groups=1, token="west-token")
    use_contexts(cli, tmp_path, {"east": east, "west": west})
    kube_cache = tmp_path / "kubectl-cache"  # kubectl's HTTP cache, empty: no answer may lean on it
    cli.env["KUBECACHEDIR"] = str(kube_cache)
    widget = _write(tmp_path, "widget.yaml", (
        "apiVersion: g0001.example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: small, colour: blue}\n"))
    args = ("check", "-f", str(widget), "--all-contexts")
    assert cli("refresh", "--all-contexts").returncode == 0  # snapshots only: no OpenAPI document is cached

    def unchecked(result) -> list:
        return sorted(line for line in result.stderr.splitlines() if "were not checked" in line)

    def warning(context: str) -> str:
        return (f"warning: fields of CRDs in context {context} were not checked: no OpenAPI document cached; "
                f"run 'kubectl apiinfo refresh --schemas --context {context}'")

    offline = cli(*args, "--offline")
    assert offline.returncode == 0, offline.stderr
    assert unchecked(offline) == [warning("east"), warning("west")], offline.stderr
    assert "fine for" not in offline.stderr  # never a plain "No findings ... fine" for fields not checked

    reachable = cli(*args, "-o", "json")
    assert reachable.returncode == 3, reachable.stderr
    found = {(f["context"], f["field"]) for f in json.loads(reachable.stdout)["findings"]}
    assert found == {("east", "spec.colour"), ("west", "spec.colour")}
    assert unchecked(reachable) == [], reachable.stderr
    again = cli(*args, "--offline", "-o", "json")  # now cached: offline answers the same
    assert {(f["context"], f["field"]) for f in json.loads(again.stdout)["findings"]} == found, again.stderr

    # a fresh cache, east out of reach: west fetches and reports, east says it could not check
    fresh = ("--cache-dir", str(tmp_path / "fresh"))
    assert cli("refresh", "--all-contexts", *fresh).returncode == 0
    east.stop()
    split = cli(*args, *fresh, "-o", "json")
    assert split.returncode == 3, split.stderr
    assert {(f["context"], f["field"]) for f in json.loads(split.stdout)["findings"]} == {("west", "spec.colour")}
    [line] = unchecked(split)
    assert line.startswith("warning: fields of CRDs in context east were not checked: no OpenAPI document cached")
    assert line.endswith("run 'kubectl apiinfo refresh --schemas --context east'")


def test_diff_a_release_against_a_cached_cluster(cli, widget_cluster):
    assert cli("refresh").returncode == 0
    answer = cli.json("diff", "1.32", "fake", "widgets")
    assert answer["to"]["kind"] == "cluster"
    added = {r["groupVersion"] for r in answer["groupVersions"] if r["change"] == "added"}
    assert "g0001.example.com/v1" in added
    assert {r["resource"] for r in answer["resources"] if r["change"] == "added"} >= {"widgets.g0001.example.com"}
    same = cli.json("diff", "context/fake", "fake")
    assert same["groupVersions"] == [] and same["resources"] == []
    quiet = cli("diff", "context/fake", "fake")
    assert (quiet.returncode, quiet.stdout) == (0, "") and "No changes between fake and fake" in quiet.stderr


def test_kubectl_get_output_and_comma_separated_files(cli, tmp_path):
    # what 'kubectl get deployments,ingresses -o yaml' prints: a v1 List; 'kubectl get deploy -o json': a DeploymentList
    listed = _write(tmp_path, "get.yaml", (
        "apiVersion: v1\nitems:\n- apiVersion: networking.k8s.io/v1beta1\n  kind: Ingress\n  metadata:\n    name: old\n"
        "kind: List\nmetadata:\n  resourceVersion: \"\"\n"
    ))
    typed = _write(tmp_path, "get.json", json.dumps({
        "apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {"resourceVersion": "42"},
        "items": [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicaz": 1}}],
    }, indent=1))
    answer = json.loads(cli("check", "-f", f"{listed},{typed}", "--kube-version", "1.30", "-o", "json").stdout)
    assert answer["files"] == 2 and answer["objects"] == 2
    found = by_name(answer)
    assert found["Ingress/old"][0]["finding"] == "not-served" and found["Ingress/old"][0]["line"] == 3
    assert found["Deployment/d"][0]["field"] == "spec.replicaz"
    assert "no Kubernetes release has it" in found["Deployment/d"][0]["detail"]


def test_markdown_cells_keep_pipes_escaped(cli, tmp_path):
    path = _write(tmp_path, "pipe.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nspec: {x: 1}\nwhat|ever: 1\n")
    rows = cli("check", "-f", str(path), "--kube-version", "1.30", "-o", "markdown").stdout.splitlines()
    assert len(rows) == 4 and all(r.count("|") - r.count("\\|") == 6 for r in rows)


def test_all_contexts_of_one_release_walk_each_object_once_and_answer_as_each_context_alone(cli, fake_apiserver, tmp_path, monkeypatch):
    """Issue 19: a hundred contexts cost a hundred times one (1.6 GB, 3.6x the time of 20).  Contexts whose schemas
    are one document walk each object once; the answer is still each context's own, in the kubeconfig's order,
    whatever order the releases come in.  The budgets live in benchmarks/bench_contexts.py."""
    from kubectl_apiinfo.answers import check, schema_walks
    from kubectl_apiinfo.inputs import manifests
    from kubectl_apiinfo.sources import select
    from kubectl_apiinfo.sources.cluster.flags import ClusterFlags

    new = fake_apiserver(release="1.33", crd_groups=1, token="new-token")
    old = fake_apiserver(release="1.30", token="old-token")
    names = ["c0", "c1", "c2", "c3", "c4"]
    servers = [new, old, new, new, old]  # the releases interleaved
    configs = [yaml.safe_load(s.write_kubeconfig(tmp_path / n, context_name=n).read_text()) for n, s in zip(names, servers)]
    config = configs[0]
    for other in configs[1:]:
        for section in ("clusters", "users", "contexts"):
            config[section] += other[section]
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
    cli.env.update(KUBECONFIG=str(tmp_path / "kubeconfig"), KUBECTL_APIINFO_CACHE_DIR=str(tmp_path / "cache"))
    assert cli("refresh", "--all-contexts", "--schemas").returncode == 0
    new.stop()
    old.stop()
    path = _write(tmp_path, "mixed.yaml", (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 3x\n  replicaz: 1\n"
        "  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n"
        "    spec: {containers: [{name: c, image: i, colour: red}]}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {a: 1}\nbinaryDta: {}\n"
        "---\napiVersion: g0001.example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: huge, colour: blue}\n"
        "---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n"
    ))
    every = cli("check", "-f", str(path), "--all-contexts", "--offline", "-o", "json")
    assert every.returncode == 3, every.stderr
    answer = json.loads(every.stdout)
    assert [t["context"] for t in answer["targets"]] == names
    assert [f["context"] for f in answer["findings"]] == sorted(f["context"] for f in answer["findings"])
    for name in names:
        alone = json.loads(cli("check", "-f", str(path), "--context", name, "--offline", "-o", "json").stdout)
        mine = [{k: v for k, v in f.items() if k != "context"} for f in answer["findings"] if f["context"] == name]
        assert mine == alone["findings"], name
    widget = {f["context"]: f["finding"] for f in answer["findings"] if f["kind"] == "Widget" and f["finding"] != "invalid-value"}
    assert widget == {"c0": "unknown-field", "c1": "unknown-kind", "c2": "unknown-field", "c3": "unknown-field", "c4": "unknown-kind"}

    walked = []

    class Counted(schema_walks.UnknownFields):
        def __init__(self, shapes):
            super().__init__(shapes)
            walked.append(self)

    monkeypatch.setattr(schema_walks, "UnknownFields", Counted)
    flags = ClusterFlags(kubeconfig=str(tmp_path / "kubeconfig"), cache_dir=str(tmp_path / "cache"), offline=True)
    targets = select.cached_contexts(flags)
    records = list(manifests.parse(path.read_text(), str(path)))
    try:
        run = check.CheckRun(targets)
        run.add(records)
        again = run.answer(1)
    finally:
        for t in targets:
            t.close()
    assert [f["detail"] for f in again["findings"]] == [f["detail"] for f in answer["findings"]]
    # 1.33: the Deployment, the ConfigMap and the Widget; 1.30: the first two (the Ingress is served by neither)
    assert len(walked) == 3 + 2  # not 3 x 3 + 2 x 2: one walk per object and release, not per context


def test_all_contexts_skips_a_context_with_nothing_cached(cli, fake_apiserver, tmp_path):
    server = fake_apiserver(release="1.30", token="t")
    config = yaml.safe_load(server.write_kubeconfig(tmp_path / "k", context_name="seen").read_text())
    never = dict(config["contexts"][0], name="never")
    never["context"] = dict(never["context"], cluster=never["context"]["cluster"])
    config["contexts"].append(never)
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
    cli.env["KUBECONFIG"] = str(tmp_path / "kubeconfig")
    assert cli("refresh", "--context", "seen").returncode == 0
    server.stop()
    result = cli("check", "-f", str(MANIFESTS / "legacy.yaml"), "--all-contexts", "-o", "json")
    assert result.returncode == 3, result.stderr
    assert [t["context"] for t in json.loads(result.stdout)["targets"]] == ["seen"]
    assert "never" in result.stderr


def test_names_cannot_drive_the_terminal_or_break_rows_and_json_stays_standard(cli, tmp_path):
    """Control characters and bidi overrides in a manifest's names are escaped in every format;
    a YAML .nan is written as a string, never as JSON's non-standard NaN."""
    path = _write(tmp_path, "evil.yaml", (
        'apiVersion: extensions/v1beta1\nkind: Ingress\n'
        'metadata: {name: "x\\e[31mred\\nfake|row\\u202e", namespace: .nan}\nspec: {}\n'
    ))
    for output in ("table", "csv", "markdown", "yaml"):
        result = cli("check", "-f", str(path), "--kube-version", "1.25", "-o", output)
        assert result.returncode == 3, result.stderr
        assert "\x1b" not in result.stdout and "\u202e" not in result.stdout, output
        assert "\\x1b[31mred" in result.stdout or output == "yaml", output
    markdown = cli("check", "-f", str(path), "--kube-version", "1.25", "-o", "markdown").stdout
    assert all(line.startswith("|") for line in markdown.splitlines()), "a newline in a name does not split a row"
    answer = json.loads(cli("check", "-f", str(path), "--kube-version", "1.25", "-o", "json").stdout,
                        parse_constant=lambda name: pytest.fail(f"non-standard JSON value {name}"))
    assert answer["findings"][0]["namespace"] == "NaN"


def test_a_document_beyond_bounds_is_one_invalid_row_and_the_rest_is_checked(cli, tmp_path):
    """Nesting deeper than can be read, a number longer than Python converts, or a List whose metadata is
    not a mapping: each is one invalid row with its file and line; every other document is still checked."""
    deep = "[" * 20000 + "]" * 20000
    files = [
        _write(tmp_path, "deep.yaml", f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: d}}\ndata: {{x: {deep}}}\n"),
        _write(tmp_path, "deep.json", '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + deep + "}"),
        _write(tmp_path, "big.json", '{"apiVersion": "v1", "kind": "ConfigMap", "n": ' + "9" * 5000 + "}"),
        _write(tmp_path, "list.yaml", "apiVersion: v1\nkind: FooList\nmetadata: 5\nitems: []\n"),
        _write(tmp_path, "good.yaml", "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\n"),
    ]
    result = cli("check", "-f", ",".join(str(f) for f in files), "--kube-version", "1.25", "-o", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    answer = json.loads(result.stdout)
    assert {p["file"].rsplit("/", 1)[-1] for p in answer["problems"]} >= {"deep.yaml", "deep.json", "big.json"}
    assert [f["name"] for f in answer["findings"] if f["file"].endswith("good.yaml")] == ["old"], "the rest is checked"


@pytest.mark.parametrize("what", ["manifest", "kubeconfig", "bundle"])
def test_a_device_or_fifo_is_refused_before_a_byte_is_read(cli, tmp_path, what):
    """/dev/zero would fill memory and a FIFO with no writer would hang: only regular files (or stdin) are read."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        if what == "manifest":
            result = cli("check", "-f", path, "--kube-version", "1.30", timeout=20)
        elif what == "kubeconfig":
            result = cli("deployments", "--kubeconfig", path, timeout=20)
        else:
            result = cli("cache", "import", path, timeout=20)
        assert_one_line_error(result, "is not a regular file")


@pytest.mark.parametrize(
    "what, size_mb, message",
    [("manifest", 256, "the most a manifest may be"), ("kubeconfig", 16, "the most a kubeconfig may be"),
     ("bundle", 64, "the most a bundle may be")],
)
def test_a_file_over_its_size_limit_is_one_line(cli, tmp_path, what, size_mb, message):
    """A 200 MB kubeconfig printed a traceback: each input has a limit, and a file over it is one line (a sparse
    file: its size is known before a byte is read)."""
    big = tmp_path / f"big-{what}"
    with open(big, "wb") as f:
        f.truncate((size_mb << 20) + 1)
    if what == "manifest":
        result = cli("check", "-f", str(big), "--kube-version", "1.30", timeout=20)
    elif what == "kubeconfig":
        result = cli("deployments", "--kubeconfig", str(big), timeout=20)
    else:
        result = cli("cache", "import", str(big), timeout=20)
    assert_one_line_error(result, f"is over {size_mb} MB, {message}")


def _alias_built_crd(depth: int) -> str:
    """A CRD whose schema holds each level twice through a YAML alias (2**depth places from ~60 bytes a level),
    each level with a key no JSONSchemaProps has."""
    lines = [
        "apiVersion: apiextensions.k8s.io/v1", "kind: CustomResourceDefinition", "metadata: {name: widgets.example.com}",
        "spec:", "  group: example.com", "  names: {kind: Widget, plural: widgets}", "  scope: Namespaced", "  versions:",
        "  - name: v1", "    served: true", "    storage: true", "    schema:", "      openAPIV3Schema:", "        allOf:",
        "        - &l1 {x-bogus-1: 1, type: object}",
    ]
    lines += [f"        - &l{i} {{x-bogus-{i}: 1, allOf: [*l{i - 1}, *l{i - 1}]}}" for i in range(2, depth + 1)]
    return "\n".join(lines + [f"        - *l{depth}", ""])


def test_an_alias_built_schema_costs_its_size_and_each_unknown_field_is_one_finding(cli, tmp_path):
    crd = _write(tmp_path, "crd.yaml", _alias_built_crd(40))  # expanded: 2**40 schemas
    result = cli("check", "-f", str(crd), "--kube-version", "1.33", "-o", "json", timeout=30)
    assert result.returncode == 3, result.stderr
    fields = [f["field"] for f in json.loads(result.stdout)["findings"]]
    assert len(fields) == len(set(fields)) == 40
    assert fields[0] == "spec.versions.schema.openAPIV3Schema.allOf.x-bogus-1"
    assert fields[-1] == "spec.versions.schema.openAPIV3Schema.allOf.x-bogus-40"


def test_eighty_thousand_unknown_keys_are_checked_in_seconds(cli, tmp_path):
    keys = {f"k{i:05d}": i for i in range(80_000)}
    keys["replicas"] = 2
    manifest = tmp_path / "wide.json"
    manifest.write_text(json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": keys}))
    result = cli("check", "-f", str(manifest), "--kube-version", "1.33", "-o", "json", timeout=30)
    assert result.returncode == 3, result.stderr
    fields = [f["field"] for f in json.loads(result.stdout)["findings"] if f["finding"] == "unknown-field"]
    assert fields == [f"spec.k{i:05d}" for i in range(80_000)]  # (and selector and template are missing)


def test_the_release_a_field_was_added_in_agrees_with_explains_walk():
    """check finds a field's first release by looking a name up among those one step below its parent;
    that must be what explain's walk (locate) finds for the whole path, in every release."""
    from kubectl_apiinfo.sources.catalog import schemas
    from kubectl_apiinfo.sources.openapi import schema_form

    cases = {
        ("apps/v1", "Deployment"): [("spec", "template", "spec"), ("spec",), ("spec", "template", "spec", "containers")],
        ("v1", "Pod"): [("spec",), ("spec", "ephemeralContainers"), ("spec", "securityContext")],
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): [("spec", "versions", "schema", "openAPIV3Schema")],
        ("batch/v1", "CronJob"): [("spec", "jobTemplate", "spec", "template", "spec")],
    }
    compared = 0
    for (gv, kind), parents in cases.items():
        find = schemas.catalog_root_finder(gv, kind)
        for release in schemas.schema_releases():
            got = find(release)
            if got is None:
                continue
            defs, root = got
            for parent in parents:
                located = schema_form.locate(defs, root, list(parent))
                if located is None:
                    continue
                names = schema_form.step_names(defs, located.target)
                asked = {name for name, _, _ in schema_form.field_names(defs, located.target)} | {"nope", "status", "items"}
                for name in asked:
                    whole = schema_form.locate(defs, root, list(parent) + [name]) is not None
                    assert (name in names) is whole, (gv, kind, release, parent, name)
                    compared += 1
    assert compared > 2000


def test_a_plain_equals_sign_is_a_string_as_kubectl_reads_it(cli, tmp_path):
    """YAML 1.1's `=` (the "value" tag) is a plain string to kubectl's go-yaml; prometheus-operator's CRDs use it."""
    manifest = _write(tmp_path, "eq.yaml", (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: matchers}\ndata:\n  matchType: =\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {op: =}\n"
        "spec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n"
        "    spec:\n      containers: [{name: c, image: i, args: [=, '=']}]\n"
    ))
    result = cli("check", "-f", str(manifest), "--kube-version", "1.33", "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["objects"] == 2 and answer["problems"] == [] and answer["findings"] == []


@pytest.mark.parametrize("empty", ["directory", "file", "comments", "list", "stdin"])
def test_no_objects_is_an_error_unless_allowed(cli, tmp_path, empty):
    """A failed `helm template` renders nothing: checking nothing must not pass CI."""
    stdin = None
    if empty == "directory":
        path = tmp_path / "charts"
        path.mkdir()
        (path / "README.txt").write_text("not a manifest")
    elif empty == "stdin":
        path, stdin = "-", ""
    else:
        text = {"file": "", "comments": "# Source: chart/templates/x.yaml\n---\n# nothing\n",
                "list": "apiVersion: v1\nkind: List\nitems: []\n"}[empty]
        path = _write(tmp_path, "rendered.yaml", text)
    args = ["check", "-f", str(path), "--kube-version", "1.33"]
    result = subprocess.run([str(COMMAND), *args], input=stdin, capture_output=True, text=True, env=cli.env, timeout=60)
    assert_one_line_error(result, "no objects ", "nothing was checked", "--allow-empty")
    assert result.returncode == 1
    allowed = subprocess.run([str(COMMAND), *args, "--allow-empty", "-o", "json"], input=stdin, capture_output=True,
                             text=True, env=cli.env, timeout=60)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["objects"] == 0


def test_a_group_whose_discovery_failed_is_unknown_not_the_manifests_fault(cli, fake_apiserver, tmp_path):
    """A 503 from one group/version is the cluster's hiccup: its objects are 'discovery-failed' (one warning naming
    the group and --refresh), not 'not-served' or 'install its CRD first', and the run does not fail by default."""
    api = fake_apiserver(release="1.33", crd_groups=1, token="t0ken", fail_group_versions=["batch/v1", "g0001.example.com/v1"])
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    manifest = _write(tmp_path, "jobs.yaml", (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec: {schedule: '@daily', jobTemplate: {}}\n---\n"
        "apiVersion: g0001.example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n"
        "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\n"
    ))
    result = cli("check", "-f", str(manifest), "-o", "json")
    assert result.returncode == 3, result.stderr  # the removed Ingress still fails: only the unknown do not
    findings = {f["name"]: f for f in json.loads(result.stdout)["findings"]}
    assert {findings[n]["finding"] for n in ("nightly", "w")} == {"discovery-failed"}
    assert findings["old"]["finding"] == "not-served"
    assert "--refresh" in findings["nightly"]["detail"] and "batch/v1" in findings["nightly"]["detail"]
    warning = [line for line in result.stderr.splitlines() if "could not be checked" in line]
    assert len(warning) == 1 and "batch/v1, g0001.example.com/v1" in warning[0] and "2 objects" in warning[0], result.stderr
    only_unknown = _write(tmp_path, "cron.yaml", manifest.read_text().split("---\n")[0])
    assert cli("check", "-f", str(only_unknown)).returncode == 0
    assert cli("check", "-f", str(only_unknown), "--fail-on", "discovery-failed").returncode == 3

# --- the newest release, whose schemas are reconstructed v2 definitions (data README) ------------


def _reconstructed(k8s_data: Path) -> list[tuple[str, str, dict, dict]]:
    """(release, the release before it, its definitions, the before's) for each release with reconstructed
    definitions, the before's from its raw v2 spec."""
    index = json.loads((ROOT / "catalog" / "data" / "index.json").read_text())
    names = [r["version"] for r in index["releases"]]
    found = []
    for path in sorted((k8s_data / "openapi-v2-reconstructed").glob("v*.json.gz")):
        release = path.name.split(".json")[0][1:]
        before = names[names.index(release) - 1]
        with gzip.open(path) as f, gzip.open(k8s_data / "openapi-v2" / f"v{before}.json.gz") as g:
            found.append((release, before, json.load(f)["definitions"], json.load(g)["definitions"]))
    assert found, "the data has releases with reconstructed definitions"
    return found


def _new_spec_fields(new: dict, old: dict) -> set:
    """(groupVersion, Kind, "spec.<field>") for each field a kind's spec definition has in new and not in old."""
    out = set()
    for definition in new.values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            ref = definition.get("properties", {}).get("spec", {}).get("$ref", "").rsplit("/", 1)[-1]
            if ref in new and ref in old:
                gv = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                out |= {(gv, gvk["kind"], f"spec.{p}") for p in set(new[ref].get("properties", {})) - set(old[ref].get("properties", {}))}
    return out


def _sample(schema: dict):
    return {"array": [], "string": "x", "integer": 1, "boolean": True}.get(schema.get("type"), {})


def test_the_newest_release_checks_fields_and_names_those_new_in_it(cli, k8s_data, tmp_path):
    for release, before, new, old in _reconstructed(k8s_data):
        pod_spec = new["io.k8s.api.core.v1.PodSpec"]["properties"]
        added = sorted(set(pod_spec) - set(old["io.k8s.api.core.v1.PodSpec"]["properties"]))
        assert added, f"the data's {release} PodSpec has no field {before} lacks: pick another definition"
        manifest = _write(tmp_path, "web.yaml", yaml.safe_dump({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {added[0]: _sample(pod_spec[added[0]]), "containers": [{"name": "web", "image": "nginx", "imagePullPolicyy": "Always"}]},
            }},
        }))
        result = cli("check", "-f", str(manifest), "--kube-version", release, "-o", "json")
        assert result.returncode == 3, result.stderr
        findings = [(f["finding"], f["field"]) for f in json.loads(result.stdout)["findings"]]
        assert findings == [("unknown-field", "spec.template.spec.containers.imagePullPolicyy")]
        earlier = json.loads(cli("check", "-f", str(manifest), "--kube-version", before, "-o", "json").stdout)["findings"]
        by_field = {f["field"]: f for f in earlier}
        assert by_field[f"spec.template.spec.{added[0]}"]["added"] == release
        assert "spec.template.spec.containers.imagePullPolicyy" in by_field


def test_diff_into_the_newest_release_compares_its_fields(cli, k8s_data):
    for release, before, new, old in _reconstructed(k8s_data):
        def resource_kinds(name: str) -> set:
            rows = json.loads((k8s_data / "resources" / f"v{name}.json").read_text())["resources"]
            return {(f"{r['group']}/{r['version']}" if r["group"] else r["version"], r["kind"]) for r in rows}

        # diff compares the kinds of resources both releases have (not a subresource's, such as TokenRequest)
        both = resource_kinds(before) & resource_kinds(release)
        expected = {e for e in _new_spec_fields(new, old) if e[:2] in both}
        assert expected
        forward = cli.json("diff", before, release, "--fields")
        key = lambda r: (r["groupVersion"], r["kind"], r["field"])  # noqa: E731
        added = {key(r) for r in forward["fields"] if r["change"] == "added"}
        assert expected <= added
        assert not any("not compared" in n for n in forward.get("notes", []))
        back = cli.json("diff", release, before, "--fields")
        assert {key(r) for r in back["fields"] if r["change"] == "removed"} == added


def test_a_release_newer_than_the_catalog_names_the_newest_and_the_cluster(cli):
    newest = json.loads((ROOT / "catalog" / "data" / "index.json").read_text())["newest"]
    major, minor = (int(n) for n in newest.split("."))
    later = f"{major}.{minor + 1}"
    for args in (["deployments", "--kube-version", later], ["explain", "pods", "--kube-version", f"v{later}.0"],
                 ["check", "-f", str(MANIFESTS / "legacy.yaml"), "--kube-version", later], ["diff", newest, later]):
        result = cli(*args)
        assert result.returncode == 1, args
        assert_one_line_error(result, f"Kubernetes {later} is newer than the catalog, whose newest release is {newest}",
                              f"a {later} cluster answers from its own discovery and OpenAPI documents")
    # A release older than the catalog is no question of a newer catalog: the range is named instead.
    first = json.loads((ROOT / "catalog" / "data" / "index.json").read_text())["releases"][0]["version"]
    older = f"{major}.{int(first.split('.')[1]) - 1}"
    assert_one_line_error(cli("deployments", "--kube-version", older), f"Kubernetes {older} is not in the catalog, which has {first} to {newest}")


def test_an_unknown_kind_in_a_built_in_group_is_not_served_not_a_missing_crd(cli, tmp_path):
    """No CRD can serve v1 or extensions: a kind no release has there fails (exit 3), with the right spelling when
    only its case is wrong; a kind of a group of one's own still asks for its CRD."""
    manifest = _write(tmp_path, "kinds.yaml", (
        "apiVersion: v1\nkind: configmap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: SkipThisKind\nmetadata: {name: b}\n---\n"
        "apiVersion: extensions/v1beta1\nkind: ThirdPartyResource\nmetadata: {name: c}\n---\n"
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: d}\n"
    ))
    result = cli("check", "-f", str(manifest), "--kube-version", "1.33", "-o", "json")
    assert result.returncode == 3, result.stderr
    found = {f["name"]: f for f in json.loads(result.stdout)["findings"]}
    assert [found[n]["finding"] for n in "abcd"] == ["not-served", "not-served", "not-served", "unknown-kind"]
    assert "did you mean ConfigMap?" in found["a"]["detail"]
    assert all("CustomResourceDefinition must serve it" not in found[n]["detail"] for n in "abc")


def test_diff_names_kinds_a_surviving_group_version_stops_serving(cli):
    """1.22 drops storage.k8s.io/v1beta1's CSIDriver, CSINode, StorageClass and VolumeAttachment while the group/version
    lives on for CSIStorageCapacity: manifests naming those pairs break, and diff says so."""
    answer = cli.json("diff", "1.21", "1.22")
    assert "storage.k8s.io/v1beta1" not in {r["groupVersion"] for r in answer["groupVersions"] if r["change"] == "removed"}
    gone = {r["resource"] for r in answer["resources"] if r["change"] == "version-removed" and "storage.k8s.io/v1beta1" in r["detail"]}
    assert gone == {"csidrivers.storage.k8s.io", "csinodes.storage.k8s.io", "storageclasses.storage.k8s.io",
                    "volumeattachments.storage.k8s.io"}
    reverse = cli.json("diff", "1.22", "1.21")
    assert not [r for r in reverse["resources"] if r["change"] == "version-removed"]


def test_diff_of_one_resource_is_about_that_resource_in_every_section(cli):
    """Issue 18: 'diff 1.21 1.22 csidrivers' listed every group/version and resource that changed, then
    CSIDriver's fields. With a RESOURCE every section is about it: the group/versions that serve it on either
    side, its own resource rows (every group that serves the word on either side), its fields."""
    answer = cli.json("diff", "1.21", "1.22", "csidrivers")
    assert answer["groupVersions"] == []  # storage.k8s.io/v1beta1 lives on in 1.22 (CSIStorageCapacity)
    assert [(r["change"], r["resource"]) for r in answer["resources"]] == [("version-removed", "csidrivers.storage.k8s.io")]
    assert {r["kind"] for r in answer["fields"]} == {"CSIDriver"}
    table = cli("diff", "1.21", "1.22", "csidrivers")
    assert table.returncode == 0, table.stderr
    assert [row.split()[:3] for row in table.stdout.splitlines()[1:3]] == [
        ["resource", "version-removed", "csidrivers.storage.k8s.io"], ["field", "added", "storage.k8s.io/v1"]]
    # Ingress moved group: kubectl on 1.21 names ingresses.extensions first, so its removal is on topic
    ingress = cli.json("diff", "1.21", "1.22", "ingresses")
    assert {(r["change"], r["groupVersion"]) for r in ingress["groupVersions"]} == {
        ("removed", "extensions/v1beta1"), ("removed", "networking.k8s.io/v1beta1")}
    assert [(r["change"], r["resource"]) for r in ingress["resources"]] == [("removed", "ingresses.extensions")]
    assert {r["kind"] for r in ingress["fields"]} == {"Ingress"}
    for output in ("yaml", "csv", "markdown"):
        text = cli("diff", "1.21", "1.22", "ingresses", "-o", output).stdout
        assert "extensions/v1beta1" in text and "rbac.authorization.k8s.io" not in text and "csinodes" not in text, output


@pytest.mark.parametrize(
    "text, message",
    [
        ("apiVersion: 123\nkind: ConfigMap\n", "the object's apiVersion is an integer, not a string like apps/v1"),
        ("apiVersion: v1\nkind: [ConfigMap]\n", "the object's kind is a list, not a string like Deployment"),
        ("5\n", "a manifest is a mapping with apiVersion and kind, not an integer"),
        ("apiVersion: v1\n", "the object has no kind"),
    ],
    ids=["numeric-apiVersion", "list-kind", "integer-document", "no-kind"],
)
def test_a_wrongly_typed_manifest_is_named_for_what_it_is(cli, tmp_path, text, message):
    result = cli("check", "-f", str(_write(tmp_path, "odd.yaml", text)), "--kube-version", "1.33")
    assert_one_line_error(result, message)


def test_small_words_of_check(cli, tmp_path):
    one = _write(tmp_path, "one.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    fine = cli("check", "-f", str(one), "--kube-version", "1.33")
    assert fine.returncode == 0 and "1 object in 1 file is fine for Kubernetes 1.33" in fine.stderr, fine.stderr
    assert_one_line_error(cli("check", "-f", str(one), "--kube-version", "1.33", "--fail-on", ""),
                          "--fail-on needs at least one finding")
    version = cli("--version")
    assert version.returncode == 0 and version.stdout == cli("version").stdout and version.stdout.strip()


def test_diff_with_a_cluster_whose_discovery_failed_says_unknown_not_removed(cli, fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", fail_group_versions=["batch/v1"])
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig", context_name="prod"))
    assert cli("deployments").returncode == 0  # the snapshot, batch/v1 failed
    for before, after in (("1.33", "prod"), ("prod", "1.33")):
        answer = cli.json("diff", before, after)
        rows = [r for r in answer["groupVersions"] if r["groupVersion"] == "batch/v1"]
        assert [r["change"] for r in rows] == ["unknown"], rows
        assert "discovery failed in prod" in rows[0]["detail"] and "--refresh" in rows[0]["detail"]
        assert not [r for r in answer["resources"] if r["resource"] in ("jobs.batch", "cronjobs.batch")]
    # narrowed to a resource, the failed group/version is still named when it might serve it, and only then
    assert [r["groupVersion"] for r in cli.json("diff", "1.33", "prod", "cronjobs")["groupVersions"]] == ["batch/v1"]
    assert cli.json("diff", "1.33", "prod", "deployments")["groupVersions"] == []


def test_diff_of_a_release_and_a_cluster_of_that_release_lists_no_defaults_and_no_crd_as_default(cli, fake_apiserver, tmp_path):
    """A 1.33 cluster serves what a default 1.33 serves: its off-by-default group/versions are not 'removed', and
    its CRD groups are served by the cluster, not 'served by default'."""
    api = fake_apiserver(release="1.33", token="t0ken", crd_groups=1)
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig", context_name="prod"))
    for before, after in (("1.33", "prod"), ("prod", "1.33")):
        answer = cli.json("diff", before, after)
        rows = {(r["change"], r["groupVersion"]): r["detail"] for r in answer["groupVersions"]}
        assert all(gv.endswith(".example.com/v1") for _, gv in rows), rows
        crd = ("added", "g0001.example.com/v1") if after == "prod" else ("removed", "g0001.example.com/v1")
        assert crd in rows and "by default" not in rows[crd]


@pytest.mark.parametrize("args", [["check", "-f", str(MANIFESTS / "legacy.yaml"), "--kube-version", "1.25"], ["diff", "1.21", "1.22"]])
def test_markdown_without_its_header_row_is_refused(cli, args):
    """A markdown table without its header row is no table: GitHub shows the rows as text."""
    assert_one_line_error(cli(*args, "-o", "markdown", "--no-headers"), "a markdown table needs its header row")
    assert cli(*args, "-o", "markdown").stdout.startswith("|")
