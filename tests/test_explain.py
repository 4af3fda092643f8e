"""explain RESOURCE[.field.path]: kubectl explain's text, offline, for every catalog release.

The reference for -o plaintext is a real kubectl 1.35 run against the fake API
server, which serves the release's real OpenAPI v3 documents (and CRDs' schemas).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COMMAND, HAVE_K8S_DATA, K8S_DATA, ROOT, assert_one_line_error, clean_env
from test_cluster import Env, user

SCHEMAS = ROOT / "catalog" / "data" / "schemas"
# The catalog's releases with schemas, oldest first: a field's history runs to the newest of them.
SCHEMA_RELEASES = json.loads(gzip.decompress((SCHEMAS / "history.json.gz").read_bytes()))["releases"]
NEWEST = SCHEMA_RELEASES[-1]
# Releases whose schemas are the data's reconstructed v2 definitions (no raw spec): 1.37.
RECONSTRUCTED = sorted(
    p.name.split(".json")[0][1:] for p in (K8S_DATA / "openapi-v2-reconstructed").glob("v*.json.gz")
) if HAVE_K8S_DATA else []

BUILTIN_PATHS = [
    ("deployments",),
    ("deployments.spec",),
    ("deployments.spec.strategy",),
    ("deployments.spec.template.spec.containers",),
    ("deployments.spec.template.spec.containers.resizePolicy",),
    ("deploy.spec.replicas",),
    ("deployments.apps.spec.paused",),
    ("Deployment.spec.selector",),
    ("pods.spec.containers.ports",),
    ("pods.spec.overhead",),
    ("pods.metadata.labels",),
    ("pods.metadata.creationTimestamp",),
    ("pods.status.conditions",),
    ("services.spec.ports.targetPort",),
    ("cronjobs.spec.jobTemplate.spec.podFailurePolicy",),
    ("nodes.status.capacity",),
    ("configmaps",),
    ("configmaps.data",),
    ("ingresses.spec.rules.http.paths.backend",),
    ("persistentvolumeclaims.spec.resources",),
    ("statefulsets.spec.volumeClaimTemplates",),
    ("customresourcedefinitions.spec.versions.schema.openAPIV3Schema",),
    ("customresourcedefinitions.spec.versions.schema.openAPIV3Schema.properties",),
    ("horizontalpodautoscalers", "--api-version", "autoscaling/v1"),
    ("hpa.spec.metrics",),
    ("events", "--api-version", "events.k8s.io/v1"),
    ("jobs.spec.template.spec.containers.env.valueFrom.fieldRef",),
    ("leases.spec",),
    ("deployments.spec", "--recursive"),
    ("customresourcedefinitions.spec.versions.schema", "--recursive"),
    ("pods", "--recursive"),
    ("validatingadmissionpolicies.spec.matchConstraints", "--recursive"),
]


def explain(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), "explain", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(home)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, certs, kubectl):
    """kubectl 1.35's explain against a 1.33 fake server: (server, kubeconfig, run(args) -> stdout)."""
    from fakeapi.fixtures import start_server

    d = tmp_path_factory.mktemp("explain-ref")
    server = start_server(d / "server", certs, release="1.33", crd_groups=2, token="t0ken")
    kubeconfig = server.write_kubeconfig(d / "kubeconfig")
    env = clean_env(d, KUBECONFIG=str(kubeconfig))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(kubectl), "explain", *args, "--cache-dir", str(d / "kubectl-cache")],
            capture_output=True, text=True, env=env, timeout=120,
        )

    try:
        yield server, kubeconfig, run
    finally:
        server.stop()


@pytest.mark.parametrize("args", BUILTIN_PATHS, ids=lambda a: " ".join(a))
def test_plaintext_from_the_catalog_is_kubectls_explain(reference, env, args):
    _, _, kubectl_explain = reference
    want = kubectl_explain(*args)
    assert want.returncode == 0, want.stderr
    got = explain(env, *args, "-o", "plaintext", "--kube-version", "1.33")
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout


V2_PATHS = [
    ("deployments",),
    ("deployments.spec",),
    ("deployments.spec.template.spec.containers",),
    ("deployments.spec.replicas",),
    ("pods.spec.overhead",),
    ("pods.metadata.labels",),
    ("pods.metadata.managedFields.fieldsV1",),
    ("services.spec.ports.targetPort",),
    ("nodes.status.capacity",),
    ("cronjobs.spec.jobTemplate.spec.podFailurePolicy",),
    ("horizontalpodautoscalers", "--api-version", "autoscaling/v1"),
    ("events", "--api-version", "events.k8s.io/v1"),
    ("deployments.spec", "--recursive"),
    ("customresourcedefinitions.spec.versions.schema", "--recursive"),
    ("pods", "--recursive"),
]


@pytest.mark.parametrize("args", V2_PATHS, ids=lambda a: " ".join(a))
def test_plaintext_openapiv2_from_the_catalog_is_kubectls(reference, env, args):
    _, _, kubectl_explain = reference
    want = kubectl_explain(*args, "-o", "plaintext-openapiv2")
    assert want.returncode == 0, want.stderr
    got = explain(env, *args, "-o", "plaintext-openapiv2", "--kube-version", "1.33")
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout


def test_a_field_added_later_says_from_when(env):
    path = "deployments.spec.template.spec.containers.resizePolicy"
    old = explain(env, path, "--kube-version", "1.26")
    assert_one_line_error(old, 'field "resizePolicy" does not exist', "1.26", "it exists from 1.27")
    new = explain(env, path, "--kube-version", "1.30")
    assert new.returncode == 0, new.stderr
    assert new.stdout.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: resizePolicy <[]ContainerResizePolicy>\n")
    assert f"resizePolicy exists in 1.27–{NEWEST}" in new.stdout


def test_history_names_the_fields_not_in_every_release(env):
    out = explain(env, "pods.spec.containers", "--kube-version", "1.36")
    assert out.returncode == 0, out.stderr
    history = out.stdout.split(f"HISTORY (v1 Pod in the offline catalog, 1.15–{NEWEST}):\n", 1)[1]
    assert f"  spec.containers exists in 1.15–{NEWEST}\n" in history
    rows = {line.split()[0]: line.split()[1] for line in history.splitlines()[2:]}
    assert rows["resizePolicy"] == f"1.27–{NEWEST}"
    assert rows["startupProbe"] == f"1.16–{NEWEST}"
    assert "image" not in rows  # in every release


def _layout(text: str) -> list[str]:
    """The headings of an explain answer, in order, without what follows them."""
    return [line.split(":")[0].split(" (")[0] for line in text.splitlines() if line and not line[0].isspace()]


@pytest.mark.parametrize("release", RECONSTRUCTED or [pytest.param(None, id="no-k8s-data")])
def test_a_release_without_a_raw_spec_explains_from_its_reconstructed_definitions(env, k8s_data, release):
    definitions = json.loads(gzip.decompress((k8s_data / "openapi-v2-reconstructed" / f"v{release}.json.gz").read_bytes()))["definitions"]
    container = definitions["io.k8s.api.core.v1.Container"]
    before = SCHEMA_RELEASES[SCHEMA_RELEASES.index(release) - 1]
    out = explain(env, "pods.spec.containers", "--kube-version", release)
    assert out.returncode == 0, out.stderr
    reference = explain(env, "pods.spec.containers", "--kube-version", before)
    assert _layout(out.stdout) == _layout(reference.stdout)
    assert f"\nSOURCE: Kubernetes {release} (offline catalog)\n" in out.stdout
    data = json.loads(explain(env, "pods.spec.containers", "-o", "json", "--kube-version", release).stdout)
    assert {f["name"] for f in data["fields"]} == set(container["properties"])
    assert {f["name"] for f in data["fields"] if f["required"]} == set(container.get("required", []))
    assert data["field"]["description"].startswith(definitions["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]["description"])
    # A field the release's definitions have and the release before lacks is explained, and dated.
    pod_spec = definitions["io.k8s.api.core.v1.PodSpec"]["properties"]
    older = {f["name"] for f in json.loads(explain(env, "pods.spec", "-o", "json", "--kube-version", before).stdout)["fields"]}
    new = sorted(set(pod_spec) - older)
    assert new, f"the data's {release} PodSpec has no field {before} lacks: pick another definition"
    field = json.loads(explain(env, f"pods.spec.{new[0]}", "-o", "json", "--kube-version", release).stdout)
    assert field["history"]["contained"][-1] == [release, release] and field["field"]["description"].startswith(pod_spec[new[0]]["description"])
    assert_one_line_error(explain(env, f"pods.spec.{new[0]}", "--kube-version", before), f'field "{new[0]}" does not exist')
    if release == NEWEST:
        # The newest release answers explain by default, without a stand-in release.
        assert explain(env, "pods.spec.containers").stdout == out.stdout


def test_an_unknown_field_suggests_the_nearest(env):
    out = explain(env, "deployments.spec.replicaz", "--kube-version", "1.33")
    assert_one_line_error(out, 'field "replicaz" does not exist', "'replicas'")
    assert out.stdout == ""


def test_unknown_resource_and_bad_flags_are_one_line(env):
    assert_one_line_error(explain(env, "deploymnets.spec", "--kube-version", "1.33"), "no resource type 'deploymnets'")
    assert_one_line_error(explain(env, "deployments", "-o", "table", "--kube-version", "1.33"), "--output 'table'")
    assert_one_line_error(explain(env, "deployments", "--api-version", "apps/v9", "--kube-version", "1.33"), "apps/v9")


def test_json_has_the_field_and_its_direct_fields(env):
    out = explain(env, "deployments.spec.strategy", "-o", "json", "--kube-version", "1.33")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["groupVersion"], data["kind"], data["path"]) == ("apps/v1", "Deployment", ["spec", "strategy"])
    assert data["field"]["type"] == "DeploymentStrategy"
    assert data["field"]["description"].startswith("The deployment strategy to use")
    by_name = {f["name"]: f for f in data["fields"]}
    assert set(by_name) == {"rollingUpdate", "type"}
    assert by_name["type"]["type"] == "string" and by_name["type"]["required"] is False
    assert by_name["type"]["history"]["contained"] == [["1.15", NEWEST]]
    assert data["history"]["contained"] == [["1.15", NEWEST]]
    replicas = json.loads(explain(env, "deployments.spec.replicas", "-o", "json", "--kube-version", "1.33").stdout)
    assert replicas["field"]["format"] == "int32" and replicas["field"]["type"] == "integer"
    pods = json.loads(explain(env, "pods.spec.containers", "-o", "json", "--kube-version", "1.33").stdout)
    assert {f["name"]: f["required"] for f in pods["fields"]}["name"] is True


def test_yaml_is_the_same_data(env):
    import yaml

    as_json = json.loads(explain(env, "configmaps", "-o", "json", "--kube-version", "1.20").stdout)
    as_yaml = yaml.safe_load(explain(env, "configmaps", "-o", "yaml", "--kube-version", "1.20").stdout)
    assert as_json == as_yaml


def test_schema_build_is_deterministic_and_committed(k8s_data, tmp_path):
    import build_schemas

    build_schemas.write_schemas(k8s_data, tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in (tmp_path / "schemas").rglob("*.json.gz"))
    committed_root = ROOT / "catalog" / "data"
    committed = sorted(p.relative_to(committed_root) for p in (committed_root / "schemas").rglob("*.json.gz"))
    assert built == committed
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (committed_root / rel).read_bytes(), f"{rel} is stale"


def test_definitions_are_stored_once(k8s_data):
    """Content-addressed: a definition unchanged across releases is one entry, under the hash of its content."""
    from kubectl_apiinfo.sources.openapi import schema_form

    base = ROOT / "catalog" / "data" / "schemas"
    packs = {}
    for p in (base / "defs").glob("*.json.gz"):
        packs.update(json.loads(gzip.decompress(p.read_bytes())))
    for h, definition in list(packs.items())[:200]:
        assert schema_form.content_hash(definition) == h
    index = lambda r: json.loads(gzip.decompress((base / "releases" / f"{r}.json.gz").read_bytes()))
    name = "io.k8s.api.core.v1.ContainerResizePolicy"
    assert name not in index("1.26")["defs"]
    assert index("1.33")["defs"][name] == index("1.34")["defs"][name] or index("1.33")["defs"][name] in packs
    hashes = [index(f"1.{n}")["defs"].get("io.k8s.api.core.v1.ConfigMapKeySelector") for n in range(15, 37)]
    assert len(set(hashes)) < len(hashes) / 2  # the same definition, stored once for many releases
    # Reconstructed definitions are stored like a raw spec's: one equal to the release before's is that entry.
    for release in RECONSTRUCTED:
        before = SCHEMA_RELEASES[SCHEMA_RELEASES.index(release) - 1]
        new, old = index(release), index(before)
        assert new["source"] == "OpenAPI v2 definitions (reconstructed)"
        same = [n for n in new["defs"] if old["defs"].get(n) == new["defs"][n]]
        assert len(same) > len(new["defs"]) / 2, release
        # Every kind of the release's resource table has its definition (data README).
        table = json.loads((k8s_data / "resources" / f"v{release}.json").read_text())["resources"]
        for r in table:
            gv = f"{r['group']}/{r['version']}" if r["group"] else r["version"]
            assert new["kinds"][gv][r["kind"]] in new["defs"], (gv, r["kind"])


# --- from a cluster -------------------------------------------------------------

CLUSTER_PATHS = [
    ("widgets",),
    ("widgets.spec",),
    ("widgets.spec.ports",),
    ("widgets.spec.ports.protocol",),
    ("widgets.spec.size",),
    ("widgets.spec.labels",),
    # Map values, list items and a field with no type (only x-kubernetes-* flags): kubectl's maps and lists.
    ("widgets.spec.annotations",),
    ("widgets.spec.limits",),
    ("widgets.spec.extensions",),
    ("widgets.spec.opaque",),
    ("widgets.spec.template.containers.env",),
    ("widgets.status.phase",),
    ("widgets", "--recursive"),
    ("widgets.spec", "--recursive"),
    ("widgets.g0002.example.com.spec.priority",),
    ("widgets.metadata.ownerReferences",),
    ("deployments.spec.template.spec.containers",),
    ("customresourcedefinitions.spec.versions.schema", "--recursive"),
    ("horizontalpodautoscalers.spec", "--api-version", "autoscaling/v1"),
]


def test_a_value_with_only_x_kubernetes_flags_is_still_there():
    """A structural schema may give a map's values, a list's items or a field nothing but
    x-kubernetes-preserve-unknown-fields or x-kubernetes-int-or-string; kubectl counts such a schema as
    present (map[string]Object, []Object), so the form keeps the flag instead of leaving {} (absent)."""
    from kubectl_apiinfo.sources.openapi import schema_form

    defs = schema_form.DocumentDefinitions({})
    raw = {
        "type": "object",
        "properties": {
            "notes": {"type": "object", "additionalProperties": {"x-kubernetes-preserve-unknown-fields": True}},
            "limits": {"type": "object", "additionalProperties": {"anyOf": [{"type": "integer"}, {"type": "string"}],
                                                                  "x-kubernetes-int-or-string": True}},
            "extras": {"type": "array", "items": {"x-kubernetes-preserve-unknown-fields": True}},
            "opaque": {"x-kubernetes-preserve-unknown-fields": True},
        },
    }
    form = schema_form.normalize(raw)
    assert schema_form.normalize(form) == form  # what a bundle brings is checked this way
    types = {name: schema_form.type_guess(defs, sub) for name, sub, _ in schema_form.field_names(defs, form)}
    assert types == {"extras": "[]Object", "limits": "map[string]Object", "notes": "map[string]Object", "opaque": "Object"}
    assert schema_form.locate(defs, form, ["opaque"]) is not None


def _paths(server) -> list:
    return [p for p in server.requests()["paths"]]


def test_cluster_explain_fetches_once_then_answers_offline(reference, env, tmp_path):
    server, kubeconfig, kubectl_explain = reference
    env = dict(env, KUBECONFIG=str(kubeconfig))
    server.reset()
    first = explain(env, "widgets.spec", "-o", "plaintext")
    assert first.returncode == 0, first.stderr
    openapi = [p for p in _paths(server) if p.startswith("/openapi")]
    assert openapi == ["/openapi/v3", "/openapi/v3/apis/g0001.example.com/v1"]
    hashes = [r["query"] for r in server.requests()["requests"] if r["path"].startswith("/openapi/v3/")]
    assert hashes[0].startswith("hash=") and len(hashes[0]) == len("hash=") + 128
    assert first.stdout == kubectl_explain("widgets.spec").stdout
    server.reset()
    again = explain(env, "widgets.spec.ports", "-o", "plaintext")
    assert again.returncode == 0, again.stderr
    assert server.requests()["count"] == 0
    # The cache holds plain JSON under keys of its own, and nothing secret.
    cache = Path(env["HOME"]) / ".cache" / "kubectl-apiinfo"
    for f in cache.rglob("*"):
        if f.is_file():
            assert b"t0ken" not in f.read_bytes()


@pytest.mark.parametrize("output", ["plaintext", "plaintext-openapiv2"])
@pytest.mark.parametrize("args", CLUSTER_PATHS, ids=lambda a: " ".join(a))
def test_plaintext_from_a_cluster_is_kubectls_explain(reference, env, args, output):
    _, kubeconfig, kubectl_explain = reference
    want = kubectl_explain(*args, "-o", output)
    assert want.returncode == 0, want.stderr
    got = explain(dict(env, KUBECONFIG=str(kubeconfig)), *args, "-o", output)
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout


def test_crd_fields_explain_with_the_server_stopped_and_on_another_machine(fake_apiserver, kubectl, env, tmp_path):
    server = fake_apiserver(release="1.33", crd_groups=1, token="s3cret")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    env = dict(env, KUBECONFIG=str(kubeconfig))
    kenv = clean_env(tmp_path, KUBECONFIG=str(kubeconfig))
    paths = [("widgets.spec.ports",), ("widgets", "--recursive"), ("deployments.spec.strategy",)]
    want = {}
    for args in paths:
        want[args] = subprocess.run([str(kubectl), "explain", *args, "--cache-dir", str(tmp_path / "kc")],
                                    capture_output=True, text=True, env=kenv, timeout=120).stdout
        got = explain(env, *args, "-o", "plaintext")
        assert got.stdout == want[args], got.stderr
    server.stop()
    for args in paths:
        got = explain(env, *args, "-o", "plaintext")
        assert (got.returncode, got.stdout) == (0, want[args]), got.stderr
    # Another machine: a 'cache export' bundle carries the schemas (its "openapi" part).
    bundle = tmp_path / "bundle.json"
    export = subprocess.run([str(COMMAND), "cache", "export", str(bundle)], capture_output=True, text=True, env=env)
    assert export.returncode == 0, export.stderr
    assert len(json.loads(bundle.read_text())["openapi"]["documents"]) >= 2
    other_home = tmp_path / "other"
    other_home.mkdir()
    other = clean_env(other_home, KUBECONFIG=str(kubeconfig))
    broken = tmp_path / "broken.json"
    data = json.loads(bundle.read_text())
    data["openapi"]["documents"]["not-a-hash"] = {}
    broken.write_text(json.dumps(data))
    refused = subprocess.run([str(COMMAND), "cache", "import", str(broken)], capture_output=True, text=True, env=other)
    assert_one_line_error(refused, "openapi.documents: a malformed document; nothing was imported")
    listed = subprocess.run([str(COMMAND), "cache", "list", "-o", "name"], capture_output=True, text=True, env=other)
    assert listed.stdout == "", "a refused bundle imports no snapshot either"
    imported = subprocess.run([str(COMMAND), "cache", "import", "-"], input=bundle.read_text(), capture_output=True,
                              text=True, env=other)
    assert imported.returncode == 0, imported.stderr
    for args in paths:
        got = explain(other, *args, "-o", "plaintext")
        assert (got.returncode, got.stdout) == (0, want[args]), got.stderr


def test_a_stale_hash_is_redirected_and_a_matching_one_immutable(fake_apiserver):
    server = fake_apiserver(release="1.33", crd_groups=1)
    status, headers, body = server.fetch("/openapi/v3")
    assert status == 200 and headers["Cache-Control"] == "no-cache, private"
    url = json.loads(body)["paths"]["apis/apps/v1"]["serverRelativeURL"]
    digest = url.split("hash=")[1]
    status, headers, body = server.fetch(url)
    import hashlib

    assert status == 200 and headers["Cache-Control"] == "public, immutable"
    assert hashlib.sha512(body).hexdigest().upper() == digest
    assert json.loads(body)["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    import http.client
    import ssl

    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ssl.create_default_context(cafile=str(server.ca_path)))
    conn.request("GET", "/openapi/v3/apis/apps/v1?hash=" + "0" * 128)
    stale = conn.getresponse()
    assert stale.status == 301 and stale.getheader("Location") == url
    conn.close()


def test_no_schema_cached_answers_from_the_catalog_release_and_says_so(fake_apiserver, env, tmp_path):
    server = fake_apiserver(release="1.30", openapi_v3=False, openapi_v2=False, token="t")
    env = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    out = explain(env, "deployments.spec.strategy", "-o", "plaintext")
    assert out.returncode == 0, out.stderr
    assert "answering from the catalog release 1.30" in out.stderr
    assert out.stdout == explain(env, "deployments.spec.strategy", "-o", "plaintext", "--kube-version", "1.30").stdout


def test_a_server_without_openapi_v3_is_read_through_v2(fake_apiserver, kubectl, env, tmp_path):
    """kubectl explain falls back to its v2 layout on such a server; so does -o plaintext."""
    server = fake_apiserver(release="1.33", openapi_v3=False, token="t", crd_groups=1)
    env = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    for args in (("deployments.spec.strategy",), ("widgets.spec",), ("widgets", "--recursive")):
        want = subprocess.run([str(kubectl), "explain", *args, "--cache-dir", str(tmp_path / "kc")],
                              capture_output=True, text=True, env=env, timeout=120)
        assert want.returncode == 0, want.stderr
        out = explain(env, *args, "-o", "plaintext")
        assert (out.returncode, out.stderr) == (0, ""), out.stderr
        assert out.stdout == want.stdout
    assert "/openapi/v2" in _paths(server)
    assert out.stdout.startswith("KIND:     Widget\nVERSION:  g0001.example.com/v1\n")


def test_a_release_before_openapi_v3_explains_as_kubectl_does(fake_apiserver, kubectl, env, tmp_path):
    server = fake_apiserver(release="1.20", token="t")  # no v3 documents in 1.20: /openapi/v2 only
    env = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    for args in (("ingresses.spec.rules",), ("cronjobs.spec.jobTemplate", "--recursive")):
        want = subprocess.run([str(kubectl), "explain", *args, "--cache-dir", str(tmp_path / "kc")],
                              capture_output=True, text=True, env=env, timeout=120)
        assert want.returncode == 0, want.stderr
        assert explain(env, *args, "-o", "plaintext").stdout == want.stdout


def _python(env: dict, code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_refresh_schemas_fetches_every_document_at_once(fake_apiserver, env, tmp_path):
    server = fake_apiserver(release="1.33", crd_groups=3, metrics=True, token="s3cret",
                            fail_group_versions=["metrics.k8s.io/v1beta1"])
    env = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    refresh = [str(COMMAND), "refresh", "--schemas"]
    out = subprocess.run(refresh, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    index = json.loads(server.fetch("/openapi/v3")[2])["paths"]
    fetched = {p for p in _paths(server) if p.startswith("/openapi/v3/")}
    assert fetched == {"/openapi/v3/" + p for p in index}
    warnings = out.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: ") and "apis/metrics.k8s.io/v1beta1" in warnings[0]
    # Everything is cached: a second refresh fetches the index and tries the failed document again, nothing
    # else; explain makes no request at all.
    server.reset()
    assert subprocess.run(refresh, capture_output=True, text=True, env=env).returncode == 0
    assert [p for p in _paths(server) if p.startswith("/openapi")] == ["/openapi/v3", "/openapi/v3/apis/metrics.k8s.io/v1beta1"]
    explain(env, "deployments")  # the discovery snapshot
    server.reset()
    for args in (("widgets.g0003.example.com.spec",), ("pods.spec.containers",), ("leases",)):
        got = explain(env, *args, "-o", "plaintext")
        assert got.returncode == 0, got.stderr
    assert server.requests()["count"] == 0


def test_history_of_a_crd_says_the_catalog_has_none(reference, env):
    _, kubeconfig, _ = reference
    out = explain(dict(env, KUBECONFIG=str(kubeconfig)), "widgets.spec")
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith(
        "HISTORY: g0001.example.com/v1 is not a built-in API (a CRD or an aggregated API): the catalog has no history of it\n"
    )


def test_field_paths_complete(env):
    code = (
        "import sys; from kubectl_apiinfo.cli.completion import field_completions\n"
        "from kubectl_apiinfo.sources.cluster.flags import ClusterFlags\n"
        "print('\\n'.join(field_completions(ClusterFlags(), sys.argv[1], sys.argv[2])))"
    )
    got = _python(env, code, "1.30", "deployments.spec.template.spec.containers.res").stdout.split()
    assert got == ["deployments.spec.template.spec.containers." + f for f in ("resizePolicy", "resources", "restartPolicy")]
    old = _python(env, code, "1.26", "deploy.spec.template.spec.containers.res").stdout.split()
    assert old == ["deploy.spec.template.spec.containers.resources"]
    assert _python(env, code, "1.30", "nosuchthing.sp").stdout.strip() == ""


def test_kubectls_http_cache_is_read_when_it_holds_the_document(fake_apiserver, kubectl, env, tmp_path):
    server = fake_apiserver(release="1.33", crd_groups=1, token="s3cret")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    kube_cache = tmp_path / "kube-cache"
    env = dict(env, KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(kube_cache))
    want = subprocess.run([str(kubectl), "explain", "widgets.spec.ports"], capture_output=True, text=True, env=env, timeout=120)
    assert want.returncode == 0, want.stderr
    assert (kube_cache / "http").is_dir()
    # Reachable: the index is read, but the document comes from kubectl's cache, not the server.
    server.reset()
    got = explain(env, "widgets.spec.ports", "-o", "plaintext")
    assert (got.returncode, got.stdout) == (0, want.stdout), got.stderr
    assert not [p for p in _paths(server) if p.startswith("/openapi/v3/")]
    # Out of reach, with nothing of ours cached: kubectl's discovery cache and HTTP cache answer.
    server.stop()
    fresh_home = tmp_path / "fresh"
    fresh_home.mkdir()
    fresh = dict(clean_env(fresh_home), KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(kube_cache))
    got = explain(fresh, "widgets.spec.ports", "-o", "plaintext")
    assert (got.returncode, got.stdout) == (0, want.stdout), got.stderr


def test_history_names_type_changes(env):
    out = explain(env, "persistentvolumeclaims.spec", "--kube-version", "1.30").stdout
    assert f"    resources                   1.15–{NEWEST}   type ResourceRequirements → VolumeResourceRequirements in 1.29\n" in out
    out = explain(env, "pods.spec.containers.lifecycle.postStart", "--kube-version", "1.30").stdout
    assert "  its type changed: Handler → LifecycleHandler in 1.23\n" in out
    data = json.loads(explain(env, "persistentvolumeclaims.spec", "-o", "json", "--kube-version", "1.30").stdout)
    resources = next(f for f in data["fields"] if f["name"] == "resources")
    assert resources["history"]["typeChanges"] == ["ResourceRequirements → VolumeResourceRequirements in 1.29"]
    # 1.23's alpha v3 documents typed IntOrString as a string; that is no change of the field's type.
    out = explain(env, "services.spec.ports", "--kube-version", "1.30").stdout
    assert "targetPort" not in out.split("HISTORY", 1)[1]


def test_refresh_rereads_the_index_and_only_changed_documents(fake_apiserver, env, tmp_path):
    server = fake_apiserver(release="1.33", crd_groups=1, token="t")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    env = dict(env, KUBECONFIG=str(kubeconfig))
    assert explain(env, "widgets.spec", "-o", "plaintext").returncode == 0
    server.reset()
    again = explain(env, "widgets.spec", "-o", "plaintext", "--refresh")
    assert again.returncode == 0, again.stderr
    openapi = [p for p in _paths(server) if p.startswith("/openapi")]
    assert openapi == ["/openapi/v3"]  # the index again; the document's hash is unchanged, so not the document
    server.reset()
    offline = explain(env, "widgets.spec", "-o", "plaintext", "--offline")
    assert (offline.returncode, offline.stdout) == (0, again.stdout)
    assert server.requests()["count"] == 0


@pytest.mark.parametrize("release", ["1.24", "1.28", "1.35"])
def test_plaintext_matches_kubectl_for_other_releases(fake_apiserver, kubectl, env, tmp_path, release):
    server = fake_apiserver(release=release, token="t")
    kenv = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    for args in (("pods.spec.containers",), ("deployments.spec", "--recursive"), ("services.spec.ports",),
                 ("cronjobs.spec.jobTemplate.spec.template.spec.securityContext",), ("nodes",)):
        want = subprocess.run([str(kubectl), "explain", *args, "--cache-dir", str(tmp_path / "kc")],
                              capture_output=True, text=True, env=kenv, timeout=120)
        assert want.returncode == 0, want.stderr
        got = explain(env, *args, "-o", "plaintext", "--kube-version", release)
        assert (got.returncode, got.stdout) == (0, want.stdout), (args, got.stderr)


@pytest.mark.parametrize("release", ["1.15", "1.20", "1.22"])
def test_plaintext_of_a_release_before_openapi_v3_is_kubectls_v2_layout(fake_apiserver, kubectl, env, tmp_path, release):
    """A server of a release before 1.24 serves no /openapi/v3 by default, so kubectl explain prints its v2
    layout there; the offline answer for that release is what kubectl prints against such a server."""
    server = fake_apiserver(release=release, token="t")  # the data has no v3 documents before 1.23: /openapi/v2 only
    kenv = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    for args in (("deployments",), ("deployments.spec",), ("pods.spec.containers",), ("deployments.spec", "--recursive"),
                 ("services.spec.ports.targetPort",), ("nodes.status.capacity",), ("pods.metadata.labels",)):
        want = subprocess.run([str(kubectl), "explain", *args, "--cache-dir", str(tmp_path / "kc")],
                              capture_output=True, text=True, env=kenv, timeout=120)
        assert want.returncode == 0, want.stderr
        assert want.stdout.startswith("KIND:     ")
        got = explain(env, *args, "-o", "plaintext", "--kube-version", release)
        assert (got.returncode, got.stdout) == (0, want.stdout), (args, got.stderr)
    text = explain(env, "deployments.spec", "--kube-version", release)
    assert text.stdout.startswith("KIND:     Deployment\n") and "\nHISTORY (" in text.stdout, text.stderr


def test_openapi_v3_layout_starts_with_the_release_that_served_it_by_default(env):
    """1.23's OpenAPIV3 gate is alpha (off): its servers, like older ones, get kubectl's v2 layout; 1.24's is on."""
    old = explain(env, "deployments.spec", "-o", "plaintext", "--kube-version", "1.23")
    assert old.stdout.startswith("KIND:     Deployment\nVERSION:  apps/v1\n\nRESOURCE: spec <Object>\n"), old.stderr
    new = explain(env, "deployments.spec", "-o", "plaintext", "--kube-version", "1.24")
    assert new.stdout.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: spec <DeploymentSpec>\n")
    # The v2 layout is what -o plaintext-openapiv2 prints for the same release.
    assert old.stdout == explain(env, "deployments.spec", "-o", "plaintext-openapiv2", "--kube-version", "1.23").stdout


def test_a_crd_offline_without_its_document_says_what_to_do(fake_apiserver, env, tmp_path):
    server = fake_apiserver(release="1.33", crd_groups=1, token="t")
    env = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    assert explain(env, "deployments.spec", "-o", "plaintext").returncode == 0  # discovery and apps/v1 only
    server.stop()
    out = explain(env, "widgets.spec", "-o", "plaintext")
    assert_one_line_error(out, "the OpenAPI document of g0001.example.com/v1 could not be read (cannot connect",
                          "none is cached for fake", "refresh --schemas")


def test_a_group_the_server_publishes_no_document_for_says_so(fake_apiserver, env, tmp_path):
    """An aggregated API may publish no OpenAPI document: the server's /openapi/v3 index has no entry for it.
    That is said as such, without advice to run again; only where no index was ever had is it not known."""
    server = fake_apiserver(release="1.33", metrics=True, token="t", openapi_unpublished=["metrics.k8s.io/v1beta1"])
    env = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    assert "apis/metrics.k8s.io/v1beta1" not in json.loads(server.fetch("/openapi/v3")[2])["paths"]
    server.reset()
    # Unknown: discovery is cached, the index never read, and --offline keeps it so.
    assert subprocess.run([str(COMMAND), "podmetrics"], capture_output=True, text=True, env=env).returncode == 0
    assert not [p for p in _paths(server) if p.startswith("/openapi")]
    unknown = explain(env, "podmetrics.containers", "-o", "plaintext", "--offline")
    assert_one_line_error(unknown, "no OpenAPI document of metrics.k8s.io/v1beta1 is cached for fake", "refresh --schemas")
    published_none = "fake publishes no OpenAPI document for metrics.k8s.io/v1beta1, so its fields cannot be explained"
    reached = explain(env, "podmetrics.containers", "-o", "plaintext")
    assert_one_line_error(reached, published_none)
    assert "/openapi/v3" in _paths(server) and "refresh" not in reached.stderr
    # The cached index says the same with the server gone.
    server.stop()
    assert_one_line_error(explain(env, "podmetrics", "-o", "plaintext"), published_none)


def test_a_cached_cluster_explains_within_its_ttl_and_revalidates_after(fake_apiserver, env, tmp_path):
    server = fake_apiserver(release="1.33", crd_groups=1, token="s3cret")
    env = dict(env, KUBECONFIG=str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    assert explain(env, "widgets.spec").returncode == 0  # discovery and the document, fetched once
    server.reset()
    fresh = explain(env, "widgets.spec", "-o", "plaintext")
    assert fresh.returncode == 0 and _paths(server) == [], "within the TTL nothing is asked"
    stale = explain(env, "widgets.spec", "-o", "plaintext", "--cache-ttl", "0")
    assert stale.stdout == fresh.stdout, stale.stderr
    assert {"/api", "/apis"} <= set(_paths(server)), "after the TTL the snapshot is revalidated, as for every query"


@pytest.mark.parametrize(
    "damage",
    [
        lambda doc: doc["defs"].__setitem__("io.k8s.api.apps.v1.DeploymentSpec", "a string"),
        lambda doc: doc["defs"]["io.k8s.api.apps.v1.DeploymentSpec"].__setitem__("description", 5),
        lambda doc: doc["defs"]["io.k8s.api.apps.v1.DeploymentSpec"].__setitem__("properties", ["replicas"]),
        lambda doc: doc["defs"]["io.k8s.api.apps.v1.DeploymentSpec"].__setitem__("required", [1, 2]),
        lambda doc: doc["defs"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"].__setitem__("allOf", {"$ref": 5}),
        lambda doc: doc["kinds"].__setitem__("apps/v1", ["Deployment"]),
        lambda doc: doc["kinds"]["apps/v1"].__setitem__("Deployment", 7),
    ],
    ids=["def-not-a-mapping", "description-a-number", "properties-a-list", "required-numbers", "allOf-a-mapping",
         "kinds-a-list", "kind-names-a-number"],
)
def test_a_bundles_wrongly_typed_schemas_are_refused_whole(fake_apiserver, tmp_path, damage):
    """explain walks what a bundle brings: a document whose parts are not the types explain reads is
    refused at import, with nothing imported, instead of crashing explain later."""
    api = fake_apiserver(release="1.33", token="t0ken")
    exporter = user(tmp_path / "a", api)
    assert exporter("explain", "deployments.spec").returncode == 0
    bundle = tmp_path / "bundle.json"
    assert exporter("cache", "export", str(bundle)).returncode == 0
    data = json.loads(bundle.read_text())
    doc = next(d for d in data["openapi"]["documents"].values() if "io.k8s.api.apps.v1.DeploymentSpec" in d["defs"])
    damage(doc)
    bundle.write_text(json.dumps(data))
    importer = Env(tmp_path / "b" / "home", None)
    refused = importer("cache", "import", str(bundle))
    assert_one_line_error(refused, "openapi.documents: a malformed document; nothing was imported")
    assert importer("cache", "list", "-o", "name").stdout == ""


@pytest.mark.parametrize("layout", [[], ["-o", "plaintext-openapiv2"]], ids=["v3", "v2"])
def test_a_path_below_a_primitive_does_not_exist_in_either_layout(cli, layout):
    """kubectl's v2 lookup explains `name <string>` as `x <string>` for pods.metadata.name.x; a string has no
    fields, and both layouts say so."""
    fine = cli("explain", "pods.metadata.name", "--kube-version", "1.33", *layout)
    assert fine.returncode == 0 and "name <string>" in fine.stdout, fine.stderr
    for path, missing in (("pods.metadata.name.x", "x"), ("pods.spec.containers.name.y", "y")):
        result = cli("explain", path, "--kube-version", "1.33", *layout)
        assert_one_line_error(result, f'field "{missing}" does not exist in v1 Pod')
        assert result.stdout == ""


@pytest.mark.parametrize(
    "word, flags",
    [("deployments.v1.apps.spec.replicas", ["deployments.spec.replicas", "--api-version", "apps/v1"]),
     ("ingresses.v1beta1.networking.k8s.io.spec", ["ingresses.spec", "--api-version", "networking.k8s.io/v1beta1"])],
)
def test_resource_version_group_names_the_version_as_kubectl_get_does(cli, word, flags):
    """RESOURCE.VERSION.GROUP (kubectl get's form) is the resource in that version, not fields named v1 and apps."""
    got = cli("explain", word, "--kube-version", "1.21", "-o", "plaintext")
    want = cli("explain", *flags, "--kube-version", "1.21", "-o", "plaintext")
    assert got.returncode == 0 == want.returncode, got.stderr
    assert got.stdout == want.stdout


@pytest.mark.parametrize("query", ["deployments.spec.strategy", "cronjobs", "customresourcedefinitions.spec.versions.schema"])
def test_json_with_recursive_carries_the_fields_of_fields_plaintext_lists(cli, query):
    """-o json --recursive nests each field's fields: the same names, in the same order and depth, as the
    plaintext --recursive list (a recursive definition such as JSONSchemaProps cut where it recurs)."""
    def names(fields, depth=1):
        out = []
        for f in fields:
            out += ["  " * depth + f["name"], *names(f["fields"], depth + 1)]
        return out

    args = ["explain", query, "--recursive", "--kube-version", "1.33"]
    answer = json.loads(cli(*args, "-o", "json", timeout=60).stdout)
    text = cli(*args, "-o", "plaintext").stdout
    listed = [line.split("\t")[0] for line in text.split("FIELDS:\n")[1].splitlines() if line.strip()]
    assert names(answer["fields"]) == listed and len(listed) > 3
    flat = json.loads(cli("explain", query, "--kube-version", "1.33", "-o", "json").stdout)
    assert all("fields" not in f for f in flat["fields"]), "without --recursive, one level as before"
