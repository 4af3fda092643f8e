"""scan: a live cluster's objects (managedFields), and the API server's count of deprecated APIs still requested,
against a target release; the real command against the fake API server."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import assert_one_line_error

LEGACY_WEB = {
    "name": "web", "namespace": "default",
    "managedFields": [
        {"manager": "legacy-ci", "operation": "Update", "apiVersion": "extensions/v1beta1", "time": "2024-03-01T10:00:00Z"},
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1"},
    ],
}
FLOWSCHEMA_SERIES = {"group": "flowcontrol.apiserver.k8s.io", "version": "v1beta3", "resource": "flowschemas",
                     "subresource": "", "removed_release": "1.32"}


def _cluster(fake_apiserver, tmp_path, release="1.29", **config):
    api = fake_apiserver(release=release, token="s3cret", **config)
    return api, api.write_kubeconfig(tmp_path / "kubeconfig")


def _scan(cli, kubeconfig, *args):
    result = cli("scan", "--kubeconfig", str(kubeconfig), *args)
    assert result.returncode in (0, 2, 3), result.stderr
    return result


def _json(cli, kubeconfig, *args):
    result = _scan(cli, kubeconfig, "-o", "json", *args)
    return result.returncode, json.loads(result.stdout), result.stderr


def test_an_object_written_through_a_removed_version_names_its_manager(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, objects={"apps/v1/deployments": [LEGACY_WEB]})
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.18")
    [f] = [f for f in answer["findings"] if f["origin"] == "managedFields"]
    assert (f["finding"], f["resource"], f["apiVersion"], f["manager"]) == (
        "not-served", "deployments.apps", "extensions/v1beta1", "legacy-ci")
    assert f["objects"] == 1 and f["names"] == ["default/web"] and f["operations"] == ["Update"]
    assert f["replacement"] == "apps/v1/Deployment" and f["lastWritten"] == "2024-03-01T10:00:00Z"
    assert "removed in 1.16" in f["detail"]
    assert status == 3
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.16")  # in 1.16-1.17, only re-enableable
    assert [(f["finding"], f["manager"]) for f in answer["findings"]] == [("off-by-default", "legacy-ci")] and status == 3
    table = _scan(cli, kubeconfig, "--kube-version", "1.25")
    assert "legacy-ci" in table.stdout and "kube-controller-manager" not in table.stdout
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.15")
    assert [(f["finding"], f["manager"]) for f in answer["findings"] if f["origin"] == "managedFields"] == [
        ("deprecated", "legacy-ci")]  # served in 1.15, deprecated since 1.8: not removed yet
    assert status == 2
    assert _scan(cli, kubeconfig, "--kube-version", "1.15", "--ignore-deprecations").returncode == 0


def test_the_metric_series_of_a_removed_version_is_reported(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, deprecated_api_series=[FLOWSCHEMA_SERIES])
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.32")
    [f] = [f for f in answer["findings"] if f["origin"] == "metrics"]
    assert (f["finding"], f["apiVersion"], f["resource"], f["kind"], f["removedRelease"]) == (
        "not-served", "flowcontrol.apiserver.k8s.io/v1beta3", "flowschemas.flowcontrol.apiserver.k8s.io", "FlowSchema", "1.32")
    assert "clients have requested flowschemas since the API server started" in f["detail"]
    assert answer["scanned"]["metrics"] is True and status == 3
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.31")
    assert [f["finding"] for f in answer["findings"]] == ["deprecated"] and status == 2


def test_a_forbidden_list_is_one_line_and_the_rest_is_scanned(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, objects={"apps/v1/deployments": [LEGACY_WEB]},
                               status_override={"/api/v1/secrets": 403})
    result = _scan(cli, kubeconfig, "--kube-version", "1.25")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    # secrets are listed twice (metadata for their managedFields, Helm's release records): one line for both
    assert warnings == ["warning: cannot list secrets in any namespace (403): their managedFields and Helm releases are not scanned"]
    assert "legacy-ci" in result.stdout
    assert "not scanned: secrets" in result.stderr and result.returncode == 3
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    assert answer["skipped"][0]["part"] == "secrets" and answer["skipped"][0]["permission"] == "list secrets"


def test_unknown_is_not_absent_with_nothing_found(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, status_override={"/api/v1/secrets": 403, "/metrics": 403})
    result = _scan(cli, kubeconfig)
    assert result.returncode == 0 and result.stdout == ""
    assert "No findings in what could be scanned" in result.stderr and "not scanned: secrets, /metrics" in result.stderr
    assert "cannot get /metrics (403)" in result.stderr


def test_lists_are_paged_and_ask_for_metadata_only(fake_apiserver, cli, tmp_path):
    many = {"v1/configmaps": {"count": 250, "namespaces": 3, "managers": [["helm", "v1"]]}}
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, generated=many, objects={"apps/v1/deployments": [LEGACY_WEB]})
    api.reset()
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    lists = [r for r in api.requests()["requests"] if r["path"] == "/api/v1/configmaps" and "owner%3Dhelm" not in r["query"]]
    assert [r["query"].split("&")[0] for r in lists] == ["limit=100"] * 3
    assert [("continue=" in r["query"]) for r in lists] == [False, True, True]
    assert all(r["headers"]["Accept"].startswith("application/json;as=PartialObjectMetadataList") for r in lists)
    assert answer["scanned"]["objects"] == 251
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"  # scan's own CRD list pages by 20, discovery's by 100
    scans = [r for r in api.requests()["requests"] if "PartialObjectMetadataList" in r["headers"]["Accept"]
             or r["path"] == "/metrics" or (r["path"] == crds and r["query"].startswith("limit=20"))
             or "owner%3Dhelm" in r["query"]]  # and Helm's release records
    assert answer["scanned"]["requests"] == len(scans)  # discovery's are not scan's


def test_resources_narrows_the_lists_and_skips_the_metrics(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, objects={"apps/v1/deployments": [LEGACY_WEB]},
                               deprecated_api_series=[FLOWSCHEMA_SERIES])
    api.reset()
    status, answer, _ = _json(cli, kubeconfig, "--resources", "deploy", "--kube-version", "1.32")
    assert answer["scanned"]["resources"] == 1 and answer["scanned"]["metrics"] is False
    scans = [r for r in api.requests()["requests"] if "PartialObjectMetadataList" in r["headers"]["Accept"] or r["path"] == "/metrics"]
    assert [r["path"] for r in scans] == ["/apis/apps/v1/deployments"]
    assert_one_line_error(cli("scan", "--kubeconfig", str(kubeconfig), "--resources", "nosuch"), "nosuch")


def test_last_applied_is_read_only_when_asked_and_labelled(fake_apiserver, cli, tmp_path):
    applied = json.dumps({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "api"}})
    api_obj = {"name": "api", "namespace": "default",
               "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied},
               "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1"}]}
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, objects={"apps/v1/deployments": [api_obj]})
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    assert answer["findings"] == [] and status == 0
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25", "--last-applied")
    [f] = answer["findings"]
    assert (f["origin"], f["manager"], f["apiVersion"], f["finding"]) == ("last-applied", None, "extensions/v1beta1", "not-served")
    assert "(last-applied)" in _scan(cli, kubeconfig, "--kube-version", "1.25", "--last-applied").stdout


def test_rows_are_grouped_not_one_per_object(fake_apiserver, cli, tmp_path):
    many = {"apps/v1/deployments": {"count": 40, "managers": [["legacy-ci", "extensions/v1beta1"], ["helm", "apps/v1"]]}}
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, generated=many)
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    [f] = answer["findings"]
    assert f["objects"] == 40 and len(f["names"]) == 3
    assert "40 (ns-000/deployment-000000, ns-000/deployment-000001, ns-000/deployment-000002, ...)" in _scan(
        cli, kubeconfig, "--kube-version", "1.25").stdout


def test_scan_needs_a_cluster(cli, tmp_path):
    assert_one_line_error(cli("scan"), "live cluster")
    assert_one_line_error(cli("scan", "--offline"), "live cluster")


def test_kubectl_lists_the_same_objects(fake_apiserver, cli, tmp_path, kubectl):
    many = {"apps/v1/deployments": {"count": 120, "namespaces": 4, "managers": [["legacy-ci", "extensions/v1beta1"]]}}
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, generated=many)
    got = subprocess.run([str(kubectl), "--kubeconfig", str(kubeconfig), "get", "deployments", "-A", "-o", "json",
                          "--show-managed-fields"], capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    items = json.loads(got.stdout)["items"]
    writers = {(m["manager"], m["apiVersion"]) for i in items for m in i["metadata"]["managedFields"]}
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25", "--resources", "deployments")
    [f] = answer["findings"]
    assert len(items) == f["objects"] == 120 and writers == {(f["manager"], f["apiVersion"])}


def test_a_list_past_its_bound_is_one_line_and_the_rest_is_scanned(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, objects={"apps/v1/deployments": [LEGACY_WEB]},
                               oversized={"/api/v1/configmaps": 40 * 1024 * 1024})
    result = _scan(cli, kubeconfig, "--kube-version", "1.25", "--no-helm")  # Helm's own list of configmaps is another
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "configmaps" in warnings[0] and "32 MB" in warnings[0] and "a page of a list" in warnings[0]
    assert "legacy-ci" in result.stdout and result.returncode == 3


def test_a_tally_is_as_small_as_its_writers_are_few():
    from kubectl_apiinfo.answers.scan import Listable, Tally
    from kubectl_apiinfo.kube.object_lists import ObjectFacts

    tally = Tally(Listable("", "v1", "configmaps", "ConfigMap", True))
    for page in range(100):
        tally.add([ObjectFacts(f"cm-{page}-{i}", "ns", [("helm", "Update", "v1", ""), ("helm", "Apply", "v1", "t")], None)
                   for i in range(100)])
    assert tally.objects == 10_000
    assert tally.rows == {("v1", "helm", "managedFields"): [10_000, ["ns/cm-0-0", "ns/cm-0-1", "ns/cm-0-2"], {"Update", "Apply"}, "t"]}


def test_the_metric_is_read_from_the_text_format_whatever_the_label_order():
    from kubectl_apiinfo.kube.api_metrics import parse

    text = (b'# TYPE apiserver_requested_deprecated_apis gauge\n'
            b'apiserver_requested_deprecated_apis{removed_release="1.25",version="v1beta1",group="policy",'
            b'resource="podsecuritypolicies",subresource=""} 1\n'
            b'apiserver_requested_deprecated_apis{group="batch",removed_release="1.25",resource="cronjobs",'
            b'subresource="",version="v1beta1"} 0\n'
            b'apiserver_requested_deprecated_apis_other{group="x"} 1\n')
    assert parse(text) == [{"group": "policy", "version": "v1beta1", "resource": "podsecuritypolicies",
                            "subresource": "", "removedRelease": "1.25"}]


def test_every_format_prints_the_findings_and_a_failed_group_is_not_scanned(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, metrics=True, fail_group_versions=["metrics.k8s.io/v1beta1"],
                               objects={"apps/v1/deployments": [LEGACY_WEB]})
    for output in ("table", "yaml", "markdown", "csv"):
        result = _scan(cli, kubeconfig, "--kube-version", "1.25", "-o", output)
        assert "legacy-ci" in result.stdout and result.returncode == 3, output
    assert "not scanned: metrics.k8s.io/v1beta1" in result.stderr
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    assert [s["part"] for s in answer["skipped"]] == ["metrics.k8s.io/v1beta1"]
    assert set(answer) == {"kind", "cluster", "target", "scanned", "scannedAt", "skipped", "findings", "summary"}
    assert answer["target"] == {"kind": "catalog", "name": "Kubernetes 1.25", "kubernetesVersion": "1.25"}
    assert answer["summary"]["byFinding"] == {"not-served": 1} and answer["summary"]["failOn"] == [
        "not-served", "off-by-default", "deprecated", "unknown-field", "invalid-value", "missing-required", "duplicate-key"]


def test_an_old_legacy_cluster_lists_each_storage_once(fake_apiserver, cli, tmp_path):
    old = {**LEGACY_WEB, "managedFields": [{"manager": "legacy-ci", "operation": "Update", "apiVersion": "extensions/v1beta1"}]}
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, release="1.15", aggregated=False,
                               objects={"apps/v1/deployments": [old], "extensions/v1beta1/deployments": [old]})
    api.reset()
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.22")
    [f] = answer["findings"]
    assert (f["resource"], f["objects"], f["finding"]) == ("deployments.apps", 1, "not-served")
    paths = [r["path"] for r in api.requests()["requests"]]
    assert "/apis/apps/v1/deployments" in paths and "/apis/extensions/v1beta1/deployments" not in paths
    assert paths.count("/api/v1/events") == 1 and "/apis/events.k8s.io/v1beta1/events" not in paths


def test_an_unreachable_cluster_is_one_line_that_does_not_offer_the_catalog(fake_apiserver, cli, tmp_path):
    """scan's --kube-version is the target, not a way to answer without the cluster: the query's hint would mislead."""
    api, kubeconfig = _cluster(fake_apiserver, tmp_path)
    api.stop()
    result = cli("scan", "--kubeconfig", str(kubeconfig))
    assert_one_line_error(result, "no cached snapshot")
    assert "--kube-version" not in result.stderr
    assert "--kube-version" in cli("resources", "--kubeconfig", str(kubeconfig)).stderr  # a query keeps it


def test_the_table_closes_with_the_counts_on_stderr_and_json_carries_them(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, objects={"apps/v1/deployments": [LEGACY_WEB]},
                               deprecated_api_series=[FLOWSCHEMA_SERIES])
    status, answer, stderr = _json(cli, kubeconfig, "--kube-version", "1.32")
    summary = answer["summary"]
    assert (summary["findings"], summary["byFinding"], summary["failing"]) == (2, {"not-served": 2}, 2)
    assert "finding" not in stderr, "a machine format carries its counts"
    table = _scan(cli, kubeconfig, "--kube-version", "1.32")
    assert table.returncode == status == 3
    closing = table.stderr.splitlines()[-1]
    assert closing.startswith("2 findings: 2 not-served; scanned ") and closing not in table.stdout
    assert table.stdout.splitlines()[0].split()[:2] == ["RESOURCE", "APIVERSION"]
