"""scan and the cluster's own CustomResourceDefinitions (storedVersions, custom resources written in a deprecated or
unserved version), and scan --all-contexts; the real command against the fake API server."""

from __future__ import annotations

import json

from conftest import assert_one_line_error, use_contexts

CRD = "widgets.g0001.example.com"
CRD_LIST = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
OLD_OPERATOR = {
    "name": "w1", "namespace": "default",
    "managedFields": [
        {"manager": "old-operator", "operation": "Update", "apiVersion": "g0001.example.com/v1beta1",
         "time": "2024-05-01T00:00:00Z"},
        {"manager": "new-operator", "operation": "Apply", "apiVersion": "g0001.example.com/v1"},
    ],
}
LEGACY_WEB = {
    "name": "web", "namespace": "default",
    "managedFields": [{"manager": "legacy-ci", "operation": "Update", "apiVersion": "extensions/v1beta1"}],
}


def _cluster(fake_apiserver, tmp_path, release="1.29", **config):
    api = fake_apiserver(release=release, token="s3cret", crd_groups=1, **config)
    return api, api.write_kubeconfig(tmp_path / "kubeconfig")


def _json(cli, *args):
    result = cli("scan", *args, "-o", "json")
    assert result.returncode in (0, 2, 3), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_stored_version_the_crd_no_longer_serves_is_reported(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, crd_versions=["v1"], crd_unserved=["v1alpha1"],
                               crd_stored=["v1alpha1", "v1"])
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--kube-version", "1.29")
    [f] = [f for f in answer["findings"] if f["origin"] == "storedVersions"]
    assert (f["finding"], f["resource"], f["apiVersion"], f["kind"], f["crd"]) == (
        "not-served", CRD, "g0001.example.com/v1alpha1", "Widget", CRD)
    assert f["replacement"] == "g0001.example.com/v1/Widget" and f["replacementServed"] is True
    assert "does not serve it (served: false)" in f["detail"]
    assert "migrate them to the storage version v1" in f["detail"] and "remove v1alpha1 from status.storedVersions" in f["detail"]
    assert answer["scanned"]["crds"] == 1 and status == 3
    table = cli("scan", "--kubeconfig", str(kubeconfig), "--kube-version", "1.29")
    assert "g0001.example.com/v1alpha1" in table.stdout and "(storedVersions)" in table.stdout
    assert "1 CustomResourceDefinition" in table.stderr


def test_only_the_storage_version_stored_is_no_finding(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, crd_versions=["v1"], crd_unserved=["v1alpha1"])
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--kube-version", "1.29")
    assert answer["findings"] == [] and answer["scanned"]["crds"] == 1 and status == 0


def test_a_deprecated_version_still_written_is_reported_with_the_crds_warning(fake_apiserver, cli, tmp_path):
    warning = "g0001.example.com/v1beta1 Widget is deprecated; use g0001.example.com/v1"
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, crd_versions=["v1", "v1beta1"],
                               crd_deprecated={"v1beta1": warning}, crd_stored=["v1beta1", "v1"],
                               objects={"g0001.example.com/v1/widgets": [OLD_OPERATOR]})
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--kube-version", "1.29")
    [written] = [f for f in answer["findings"] if f["origin"] == "managedFields"]
    assert (written["finding"], written["resource"], written["apiVersion"], written["manager"], written["crd"]) == (
        "deprecated", CRD, "g0001.example.com/v1beta1", "old-operator", CRD)
    assert warning in written["detail"] and written["objects"] == 1 and written["names"] == ["default/w1"]
    assert written["lastWritten"] == "2024-05-01T00:00:00Z"
    [stored] = [f for f in answer["findings"] if f["origin"] == "storedVersions"]
    assert (stored["finding"], stored["apiVersion"]) == ("deprecated", "g0001.example.com/v1beta1")
    assert warning in stored["detail"] and status == 2


def test_a_custom_resource_written_in_an_unserved_version_is_not_served(fake_apiserver, cli, tmp_path):
    gone = {**OLD_OPERATOR, "managedFields": [{"manager": "old-operator", "operation": "Update",
                                              "apiVersion": "g0001.example.com/v1alpha1"}]}
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, crd_versions=["v1"], crd_unserved=["v1alpha1"],
                               objects={"g0001.example.com/v1/widgets": [gone]})
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--kube-version", "1.29")
    [f] = answer["findings"]
    assert (f["finding"], f["origin"], f["manager"], f["crd"]) == ("not-served", "managedFields", "old-operator", CRD)
    assert "sets served: false for v1alpha1" in f["detail"] and status == 3


def test_a_forbidden_crd_list_is_one_line_and_the_rest_is_scanned(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, crd_unserved=["v1alpha1"], crd_stored=["v1alpha1", "v1"],
                               objects={"apps/v1/deployments": [LEGACY_WEB]}, status_override={CRD_LIST: 403})
    result = cli("scan", "--kubeconfig", str(kubeconfig), "--kube-version", "1.25")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: cannot list {CRD} (403): CRDs' storedVersions and the versions custom resources "
                        "are written in are not scanned".replace(CRD, "customresourcedefinitions.apiextensions.k8s.io")]
    assert "legacy-ci" in result.stdout and result.returncode == 3
    assert "not scanned: customresourcedefinitions.apiextensions.k8s.io" in result.stderr
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--kube-version", "1.25")
    assert [s["part"] for s in answer["skipped"]] == ["customresourcedefinitions.apiextensions.k8s.io"]
    assert answer["skipped"][0]["permission"] == "list customresourcedefinitions.apiextensions.k8s.io"
    assert answer["scanned"]["crds"] is None and not any(f["origin"] == "storedVersions" for f in answer["findings"])


def test_resources_narrowed_to_built_ins_does_not_list_the_crds(fake_apiserver, cli, tmp_path):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, crd_unserved=["v1alpha1"], crd_stored=["v1alpha1", "v1"])
    api.reset()
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--resources", "deployments", "--kube-version", "1.29")
    assert answer["scanned"]["crds"] is None and answer["findings"] == []
    scans = [r for r in api.requests()["requests"] if r["path"] == CRD_LIST and r["query"].startswith("limit=20")]
    assert scans == []  # the snapshot's own CRD facts (limit=100) are discovery's, not scan's
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--resources", "widgets", "--kube-version", "1.29")
    assert [(f["origin"], f["resource"]) for f in answer["findings"]] == [("storedVersions", CRD)]
    scans = [r for r in api.requests()["requests"] if r["path"] == CRD_LIST and r["query"].startswith("limit=20")]
    assert len(scans) == 1 and scans[0]["headers"]["Accept"].startswith("application/json")


def test_the_crds_are_paged_and_each_read_once(fake_apiserver, cli, tmp_path):
    api = fake_apiserver(release="1.29", token="s3cret", crd_groups=25, crd_unserved=["v1alpha1"],
                         crd_stored=["v1alpha1", "v1"])
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    api.reset()
    status, answer, _ = _json(cli, "--kubeconfig", str(kubeconfig), "--kube-version", "1.29")
    assert answer["scanned"]["crds"] == 25
    assert len([f for f in answer["findings"] if f["origin"] == "storedVersions"]) == 25
    scans = [r for r in api.requests()["requests"] if r["path"] == CRD_LIST and r["query"].startswith("limit=20")]
    assert [("continue=" in r["query"]) for r in scans] == [False, True]


def test_all_contexts_scans_each_and_warns_once_of_one_unreachable(fake_apiserver, cli, tmp_path):
    old = fake_apiserver(release="1.24", token="s3cret", objects={"apps/v1/deployments": [LEGACY_WEB]})
    new = fake_apiserver(release="1.29", token="s3cret", crd_groups=1, crd_unserved=["v1alpha1"],
                         crd_stored=["v1alpha1", "v1"])
    gone = fake_apiserver(release="1.29", token="s3cret")
    use_contexts(cli, tmp_path, {"old": old, "new": new, "gone": gone})
    gone.stop()
    status, answer, stderr = _json(cli, "--all-contexts", "--kube-version", "1.29")
    assert answer["kind"] == "ScanResult" and set(answer) == {
        "kind", "target", "clusters", "contextsNotScanned", "scanned", "skipped", "findings", "summary"}
    assert [c["context"] for c in answer["clusters"]] == ["new", "old"]
    assert [c["cluster"]["kubernetesVersion"] for c in answer["clusters"]] == ["1.29", "1.24"]
    assert sorted((f["context"], f["origin"], f["apiVersion"]) for f in answer["findings"]) == [
        ("new", "storedVersions", "g0001.example.com/v1alpha1"), ("old", "managedFields", "extensions/v1beta1")]
    assert [n["context"] for n in answer["contextsNotScanned"]] == ["gone"]
    assert answer["summary"]["contextsNotScanned"] == 1 and answer["scanned"]["contexts"] == 2 and status == 3
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: context gone was not scanned: "), stderr
    table = cli("scan", "--all-contexts", "--kube-version", "1.29")
    assert table.stdout.splitlines()[0].split()[:2] == ["CONTEXT", "RESOURCE"]
    assert any(line.startswith("old ") and "legacy-ci" in line for line in table.stdout.splitlines())
    assert "in 2 contexts (new, old)" in table.stderr and "not scanned: context gone" in table.stderr
    assert table.returncode == 3


def test_all_contexts_with_context_is_a_usage_error(cli):
    assert_one_line_error(cli("scan", "--all-contexts", "--context", "x"), "--all-contexts", "--context")


def test_all_contexts_progress_on_a_terminal_names_the_slow_context(fake_apiserver, cli, tmp_path):
    import os
    import select
    import subprocess

    from conftest import COMMAND

    quick = fake_apiserver(release="1.29", token="s3cret")
    slow = fake_apiserver(release="1.29", token="s3cret", latency_ms=150)
    use_contexts(cli, tmp_path, {"quick": quick, "slow": slow})
    master, terminal = os.openpty()
    try:
        done = subprocess.run([str(COMMAND), "scan", "--all-contexts", "-o", "json"], stdout=subprocess.PIPE,
                              stderr=terminal, env=cli.env, cwd=cli.home, timeout=120)
        seen = b""
        while select.select([master], [], [], 0.2)[0]:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(terminal)
        os.close(master)
    assert done.returncode == 0, seen
    text = seen.decode()
    assert "scanned 1/2 contexts; still scanning slow (" in text and "quick (" not in text
    assert text.rstrip().endswith("scanned 2/2 contexts")
    assert [c["context"] for c in json.loads(done.stdout)["clusters"]] == ["quick", "slow"]


def test_stored_versions_judged_from_the_crd_object_alone():
    from kubectl_apiinfo.answers.crd_scan import stored_findings
    from kubectl_apiinfo.kube.crd_storage import read

    crd = {"metadata": {"name": "gadgets.example.com"},
           "spec": {"group": "example.com", "names": {"kind": "Gadget", "plural": "gadgets"},
                    "versions": [{"name": "v1beta1", "served": True, "storage": True, "deprecated": True,
                                  "schema": {"openAPIV3Schema": {"type": "object"}}}]},
           "status": {"storedVersions": ["v1alpha1", "v1beta1", 7, "v1beta1"]}}
    facts = read(crd)
    assert facts.stored == ["v1alpha1", "v1beta1"] and [v.name for v in facts.versions] == ["v1beta1"]
    gone, current = stored_findings([facts])
    assert (gone["finding"], gone["apiVersion"]) == ("not-served", "example.com/v1alpha1")
    assert "no longer lists it in spec.versions" in gone["detail"] and gone["replacement"] == "example.com/v1beta1/Gadget"
    assert (current["finding"], current["replacement"]) == ("deprecated", None)
    assert "v1beta1 is the storage version, so objects are still written in it" in current["detail"]
    assert read({"spec": {}}) is None and read([]) is None
