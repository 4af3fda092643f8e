"""scan reads Helm v3 releases: each release's current revision, decoded in memory and checked as check checks a
file, against real chart renders (../shared/manifests) served by the fake API server as Helm stores them."""

from __future__ import annotations

import json
import re

import pytest

ETCD = "rendered/bitnami-2021/etcd.yaml"  # bitnami etcd 6.1.3: policy/v1beta1 PodDisruptionBudget (removed in 1.25)
COUCHDB = "rendered/helm-stable-2020/prometheus-couchdb-exporter.yaml"  # extensions/v1beta1 PSP, a misplaced probe field
MARKER = "zq-leak-marker-7f3a9c"


def _render(shared_manifests, name: str) -> str:
    return (shared_manifests / name).read_text()


def _documents(text: str, *templates: str) -> str:
    """The documents of a render whose `# Source:` is one of templates, as helm joins them."""
    docs = [d for d in re.split(r"(?m)^---\s*$", text) if d.strip()]
    chosen = [d.strip("\n") for d in docs if any(f"# Source: {t}\n" in d for t in templates)]
    assert len(chosen) == len(templates), templates
    return "---\n" + "\n---\n".join(chosen) + "\n"


def _release(manifest: str, name="rel", namespace="demo", chart="etcd", version="6.1.3", revision=1, status="deployed",
             driver="secret", **more) -> dict:
    return {"name": name, "namespace": namespace, "chart": chart, "chart_version": version, "revision": revision,
            "status": status, "driver": driver, "manifest": manifest, **more}


def _cluster(fake_apiserver, tmp_path, releases: list, release="1.29", **config):
    api = fake_apiserver(release=release, token="s3cret", helm_releases=releases, **config)
    return api, api.write_kubeconfig(tmp_path / "kubeconfig")


def _scan(cli, kubeconfig, *args):
    result = cli("scan", "--kubeconfig", str(kubeconfig), *args)
    assert result.returncode in (0, 2, 3), result.stderr
    return result


def _json(cli, kubeconfig, *args):
    result = _scan(cli, kubeconfig, "-o", "json", *args)
    return result.returncode, json.loads(result.stdout), result.stderr


def _helm(answer: dict) -> list:
    return [f for f in answer["findings"] if f["origin"] == "helm"]


def _warnings(stderr: str) -> list:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def test_a_release_rendering_a_policy_v1beta1_pdb_is_reported_with_release_chart_and_template(
        fake_apiserver, cli, tmp_path, shared_manifests):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, [_release(_render(shared_manifests, ETCD), revision=2)])
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    [f] = _helm(answer)
    assert (f["finding"], f["resource"], f["apiVersion"], f["kind"]) == (
        "not-served", "poddisruptionbudgets.policy", "policy/v1beta1", "PodDisruptionBudget")
    assert (f["release"], f["namespace"], f["chart"], f["revision"], f["template"]) == (
        "rel", "demo", "etcd-6.1.3", 2, "etcd/templates/pdb.yaml")
    assert f["names"] == ["demo/rel-etcd"] and f["replacement"] == "policy/v1/PodDisruptionBudget"
    assert "removed in 1.25" in f["detail"] and status == 3
    assert answer["scanned"]["helmReleases"] == 1 and answer["summary"]["byFinding"] == {"not-served": 1}
    table = _scan(cli, kubeconfig, "--kube-version", "1.25")
    [row] = [line for line in table.stdout.splitlines() if "policy/v1beta1" in line]
    assert "demo/rel (revision 2, etcd-6.1.3)" in row and "etcd/templates/pdb.yaml" in row and "(helm)" in row
    assert "1 Helm release" in table.stderr
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.21")  # deprecated in 1.21, still served
    assert [f["finding"] for f in _helm(answer)] == ["deprecated"] and status == 2
    assert _scan(cli, kubeconfig, "--kube-version", "1.21", "--ignore-deprecations").returncode == 0


def test_fields_are_checked_as_check_checks_a_file(fake_apiserver, cli, tmp_path, shared_manifests):
    couchdb = _render(shared_manifests, COUCHDB)
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, [_release(couchdb, name="couch", namespace="mon",
                                                                    chart="prometheus-couchdb-exporter", version="0.1.1")])
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    fields = [f for f in _helm(answer) if f["finding"] == "unknown-field"]
    assert {f["field"] for f in fields} == {"spec.template.spec.containers.livenessProbe.httpGet.initialDelaySeconds",
                                            "spec.template.spec.containers.readinessProbe.httpGet.initialDelaySeconds"}
    assert {f["template"] for f in fields} == {"prometheus-couchdb-exporter/templates/deployment.yaml"}
    assert ("not-served", "extensions/v1beta1", "prometheus-couchdb-exporter/templates/podsecuritypolicy.yaml") in {
        (f["finding"], f["apiVersion"], f["template"]) for f in _helm(answer)}
    assert "unknown-field" in answer["summary"]["failOn"] and answer["summary"]["byFinding"]["unknown-field"] == 2
    assert status == 3
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25", "--fail-on", "unknown-field")
    assert status == 3 and answer["summary"]["failing"] == 2


def test_the_deployed_revision_is_checked_not_a_superseded_or_failed_one(fake_apiserver, cli, tmp_path, shared_manifests):
    etcd, couchdb = _render(shared_manifests, ETCD), _render(shared_manifests, COUCHDB)
    releases = [
        _release(couchdb, revision=1, status="superseded"),
        _release(etcd, revision=2, status="deployed"),
        _release(couchdb, revision=3, status="failed"),  # a failed upgrade: revision 2 is still what runs
        _release(couchdb, name="new", chart="prometheus-couchdb-exporter", version="0.1.1", revision=1,
                 status="pending-install"),
    ]
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, releases)
    status, answer, stderr = _json(cli, kubeconfig, "--kube-version", "1.25")
    rel = [f for f in _helm(answer) if f["release"] == "rel"]
    assert {(f["revision"], f["apiVersion"]) for f in rel} == {(2, "policy/v1beta1")}
    new = [f for f in _helm(answer) if f["release"] == "new"]
    assert new and {f["revision"] for f in new} == {1}  # none deployed: the latest revision, and said so
    assert "demo/new (revision 1" in stderr and "none is deployed" in stderr and "pending-install" in stderr
    assert answer["scanned"]["helmReleases"] == 2


def test_the_configmap_driver_is_read_gzipped_or_not(fake_apiserver, cli, tmp_path, shared_manifests):
    etcd = _render(shared_manifests, ETCD)
    pdb = _documents(etcd, "etcd/templates/pdb.yaml")
    releases = [_release(etcd, driver="configmap", revision=4),
                _release(pdb, name="plain", namespace="other", driver="configmap", encoding="plain")]
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, releases)
    api.reset()
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    assert sorted((f["namespace"], f["release"], f["revision"], f["template"]) for f in _helm(answer)) == [
        ("demo", "rel", 4, "etcd/templates/pdb.yaml"), ("other", "plain", 1, "etcd/templates/pdb.yaml")]
    lists = [r for r in api.requests()["requests"] if "owner%3Dhelm" in r["query"]]
    assert sorted(r["path"] for r in lists) == ["/api/v1/configmaps", "/api/v1/secrets"]
    secrets = next(r for r in lists if r["path"] == "/api/v1/secrets")
    assert "fieldSelector=type%3Dhelm.sh%2Frelease.v1" in secrets["query"] and secrets["query"].startswith("limit=")


def test_release_records_are_paged(fake_apiserver, cli, tmp_path, shared_manifests):
    pdb = _documents(_render(shared_manifests, ETCD), "etcd/templates/pdb.yaml")
    releases = [_release(pdb, name=f"r{i:02d}") for i in range(40)]
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, releases)
    api.reset()
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    assert len(_helm(answer)) == 40 and answer["scanned"]["helmReleases"] == 40
    pages = [r for r in api.requests()["requests"] if r["path"] == "/api/v1/secrets" and "owner%3Dhelm" in r["query"]]
    assert [("continue=" in r["query"]) for r in pages] == [False, True, True]


def test_a_damaged_or_oversized_record_is_one_line_and_the_rest_is_scanned(fake_apiserver, cli, tmp_path, shared_manifests):
    etcd = _render(shared_manifests, ETCD)
    releases = [_release(etcd, name="broken", encoding="damaged"), _release(etcd, name="bomb", encoding="bomb"),
                _release(etcd, name="good", driver="configmap")]
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, releases)
    result = _scan(cli, kubeconfig, "--kube-version", "1.25")
    warnings = _warnings(result.stderr)
    assert len(warnings) == 2, result.stderr
    [broken] = [w for w in warnings if "demo/broken" in w]
    [bomb] = [w for w in warnings if "demo/bomb" in w]
    assert "gzip" in broken and "64 MiB" in bomb and all(w.endswith("not scanned") for w in warnings)
    assert "demo/good" in result.stdout and result.returncode == 3
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    assert [f["release"] for f in _helm(answer)] == ["good"]
    assert sorted(s["part"] for s in answer["skipped"]) == [
        "secret demo/sh.helm.release.v1.bomb.v1", "secret demo/sh.helm.release.v1.broken.v1"]


@pytest.mark.parametrize("resource, driver", [("secrets", "configmap"), ("configmaps", "secret")])
def test_a_forbidden_driver_is_one_line_and_the_rest_is_scanned(fake_apiserver, cli, tmp_path, shared_manifests,
                                                                resource, driver):
    etcd = _render(shared_manifests, ETCD)
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, [_release(etcd, driver=driver)],
                               status_override={f"/api/v1/{resource}": 403})
    result = _scan(cli, kubeconfig, "--kube-version", "1.25")
    assert _warnings(result.stderr) == [
        f"warning: cannot list {resource} in any namespace (403): their managedFields and Helm releases are not scanned"]
    assert "demo/rel" in result.stdout and result.returncode == 3
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    [skipped] = answer["skipped"]
    assert (skipped["part"], skipped["permission"]) == (resource, f"list {resource}") and "Helm releases" in skipped["reason"]
    assert [f["release"] for f in _helm(answer)] == ["rel"]


def test_narrowing_or_no_helm_reads_no_release(fake_apiserver, cli, tmp_path, shared_manifests):
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, [_release(_render(shared_manifests, ETCD))])
    for args in (["--no-helm"], ["--resources", "deployments"]):
        api.reset()
        status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25", *args)
        assert _helm(answer) == [] and answer["scanned"]["helmReleases"] is None, args
        assert not [r for r in api.requests()["requests"] if "owner%3Dhelm" in r["query"]], args


def test_release_contents_leak_nowhere(fake_apiserver, cli, tmp_path, shared_manifests):
    """A marker in a release's ConfigMap data, Secret data, values and an unreadable document: in no output, no
    message and no cached file, whatever the format."""
    etcd = _render(shared_manifests, ETCD)
    extra = (f"---\n# Source: etcd/templates/extra.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
             f"data:\n  note: {MARKER}\n---\n# Source: etcd/templates/secret.yaml\napiVersion: v1\nkind: Secret\n"
             f"metadata:\n  name: creds\nstringData:\n  password: {MARKER}\n"
             f"---\n# Source: etcd/templates/broken.yaml\nkey: [{MARKER}\n")
    releases = [_release(etcd + extra, revision=2, values={"password": MARKER}),
                _release(etcd + extra, name="cm", driver="configmap", values={"password": MARKER}),
                _release(etcd + extra, name="bad", encoding="damaged")]
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, releases)
    cache = tmp_path / "cache"
    cli.env["KUBECTL_APIINFO_CACHE_DIR"] = str(cache)
    seen = ""
    for output in ("table", "json", "yaml", "markdown", "csv"):
        result = _scan(cli, kubeconfig, "--kube-version", "1.25", "-o", output)
        assert "demo/rel" in result.stdout and "etcd/templates/pdb.yaml" in result.stdout, output
        assert MARKER not in result.stdout and MARKER not in result.stderr, output
        seen += result.stderr
    assert "etcd/templates/broken.yaml" in seen and "could not be read" in seen  # the unreadable document is named
    assert any(cache.rglob("*")), "the scan cached its discovery there"
    for path in cache.rglob("*"):
        assert not path.is_file() or MARKER.encode() not in path.read_bytes(), path


def test_a_record_decodes_within_its_bound_and_its_errors_carry_no_content():
    import base64
    import gzip

    from kubectl_apiinfo.kube.helm_releases import MAX_DECOMPRESSED, Record, Unreadable, decode

    doc = {"name": "web", "namespace": "apps", "version": 3, "info": {"status": "deployed"}, "config": {"k": MARKER},
           "chart": {"metadata": {"name": "c", "version": "1.0.0"}, "templates": [{"data": MARKER}]}, "manifest": "m"}
    helm = base64.b64encode(gzip.compress(json.dumps(doc).encode()))
    release = decode(Record("secret", "sh.helm.release.v1.web.v3", "apps", "web", 3, "deployed",
                            base64.b64encode(helm).decode()))
    assert (release.name, release.namespace, release.revision, release.chart_label, release.status, release.manifest) == (
        "web", "apps", 3, "c-1.0.0", "deployed", "m")
    assert MARKER not in repr([getattr(release, s) for s in release.__slots__ if s != "record"])  # values, templates dropped
    bad = {
        "not base64": f"{MARKER}!!",
        "past the bound": base64.b64encode(gzip.compress(b"{" + b" " * MAX_DECOMPRESSED)).decode(),
        "not JSON": base64.b64encode(MARKER.encode()).decode(),
        "cut short": base64.b64encode(gzip.compress(MARKER.encode() * 100)[:30]).decode(),
    }
    for what, data in bad.items():
        with pytest.raises(Unreadable) as raised:
            decode(Record("configmap", "sh.helm.release.v1.web.v1", "apps", "web", 1, "deployed", data))
        error = raised.value  # its words are ours, and no decoding error with the data rides along
        assert MARKER not in str(error) and error.__cause__ is None and (error.__context__ is None or error.__suppress_context__), what


def test_a_value_a_finding_quotes_is_printed_but_never_kept_in_the_cache_or_a_bundle(fake_apiserver, cli, tmp_path,
                                                                                     shared_manifests):
    """An invalid value quotes what the release's manifest gives (that is the finding), but the scan kept for
    --offline and 'cache export' holds names and findings without the release's values."""
    etcd = _render(shared_manifests, ETCD)
    bad = ("---\n# Source: etcd/templates/extra.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: extra\n"
           f"spec:\n  ports:\n  - port: {MARKER}\n")
    api, kubeconfig = _cluster(fake_apiserver, tmp_path, [_release(etcd + bad)])
    cache = tmp_path / "cache"
    cli.env["KUBECTL_APIINFO_CACHE_DIR"] = str(cache)
    status, answer, _ = _json(cli, kubeconfig, "--kube-version", "1.25")
    [value] = [f for f in _helm(answer) if f["finding"] == "invalid-value"]
    assert MARKER in value["detail"] and value["template"] == "etcd/templates/extra.yaml"
    for path in cache.rglob("*"):
        assert not path.is_file() or MARKER.encode() not in path.read_bytes(), path
    bundle = tmp_path / "bundle.json"
    assert cli("cache", "export", str(bundle)).returncode == 0
    assert MARKER not in bundle.read_text()
    api.stop()
    kept = cli("scan", "--kubeconfig", str(kubeconfig), "--offline", "-o", "json")
    [offline] = [f for f in json.loads(kept.stdout)["findings"] if f["finding"] == "invalid-value"]
    assert offline["template"] == "etcd/templates/extra.yaml" and "not kept" in offline["detail"]
    assert MARKER not in kept.stdout
