"""The fake API server is faithful: a real kubectl (1.35) reads it like a cluster.

Every expectation is computed from the catalog snapshot the server serves, never
from the server's own code.  Each kubectl run gets its own --cache-dir, so
kubectl's discovery cache never hides a request.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import selectors
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from conftest import clean_env
from fakeapi.fixtures import FakeAPIServerError
from kubectl_apiinfo.sources.catalog import releases
from kubectl_apiinfo.model import APISnapshot, group_version

RELEASE = "1.33"
KUBECTL_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
UNAUTHORIZED = "the server has asked for the client to provide credentials"  # client-go's words for a 401
WIDE_COLUMNS = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES"]
METRICS_ROWS = {
    ("nodes", "", "metrics.k8s.io/v1beta1", "false", "NodeMetrics", "get,list", ""),
    ("pods", "", "metrics.k8s.io/v1beta1", "true", "PodMetrics", "get,list", ""),
}

# --- expectations, from the snapshot ------------------------------------------------


@pytest.fixture(scope="module")
def snapshot() -> APISnapshot:
    return releases.load_release(RELEASE)


def served_group_versions(snap: APISnapshot) -> set[str]:
    return {
        group_version(g.name, gv.version)
        for g in snap.groups
        for gv in g.versions
        if any(r.served for r in gv.resources)
    }


def served_paths(snap: APISnapshot) -> set[str]:
    return {("/api/" if "/" not in gv else "/apis/") + gv for gv in served_group_versions(snap)}


def preferred_rows(snap: APISnapshot) -> set[tuple]:
    """What kubectl api-resources -o wide shows: each resource once, from the group's
    preferred version if it is there, else from the highest-priority version that has it."""
    rows = set()
    for g in snap.groups:
        served = [gv for gv in g.versions if any(r.served for r in gv.resources)]
        if not served:
            continue
        preferred = g.preferred if g.preferred in [gv.version for gv in served] else served[0].version
        ordered = sorted(served, key=lambda gv: gv.version != preferred)  # stable: priority order otherwise
        seen = set()
        for gv in ordered:
            for r in gv.resources:
                if r.served and r.name not in seen:
                    seen.add(r.name)
                    rows.add(
                        (
                            r.name,
                            ",".join(r.short_names),
                            group_version(g.name, gv.version),
                            "true" if r.namespaced else "false",
                            r.kind,
                            ",".join(r.verbs),
                            ",".join(r.categories),
                        )
                    )
    return rows


# --- running kubectl ---------------------------------------------------------------


class Kubectl:
    """A real kubectl with a clean environment and a fresh --cache-dir for every run."""

    def __init__(self, binary: Path, home: Path):
        self.binary = binary
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.env = clean_env(home)
        self._runs = itertools.count()

    def __call__(
        self, kubeconfig: Path, *args: str, cache: Path | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        cache = cache or self.home / f"cache-{next(self._runs)}"
        return subprocess.run(
            [str(self.binary), "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )

    def ok(self, kubeconfig: Path, *args: str, cache: Path | None = None) -> str:
        result = self(kubeconfig, *args, cache=cache)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture
def kc(kubectl, tmp_path) -> Kubectl:
    return Kubectl(kubectl, tmp_path / "home")


def parse_wide(text: str) -> list[tuple]:
    """Rows of 'kubectl api-resources -o wide', cut at the header's column starts."""
    lines = text.splitlines()
    header = lines[0]
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", header)]
    assert [w for _, w in words] == WIDE_COLUMNS, header
    starts = [s for s, _ in words] + [None]
    return [tuple(line[starts[i] : starts[i + 1]].strip() for i in range(len(WIDE_COLUMNS))) for line in lines[1:]]


def parse_no_headers(text: str) -> list[tuple]:
    """Rows of 'kubectl api-resources --no-headers' (NAME [SHORTNAMES] APIVERSION NAMESPACED KIND)."""
    rows = []
    for line in text.splitlines():
        tokens = line.split()
        assert len(tokens) in (4, 5), line
        short = tokens[1] if len(tokens) == 5 else ""
        rows.append((tokens[0], short, tokens[-3], tokens[-2], tokens[-1]))
    return rows


def api_resources(kc: Kubectl, kubeconfig: Path, expect_ok: bool = True) -> tuple[list[tuple], subprocess.CompletedProcess]:
    result = kc(kubeconfig, "api-resources", "-o", "wide")
    if expect_ok:
        assert result.returncode == 0, result.stderr
    rows = parse_wide(result.stdout) if result.stdout.strip() else []
    assert len(rows) == len(set(rows)), "a resource listed twice"
    return rows, result


# --- kubectl against the fake server ----------------------------------------------


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated", "legacy-only"])
def test_api_versions_lists_exactly_the_served_group_versions(fake_apiserver, kc, tmp_path, snapshot, aggregated):
    api = fake_apiserver(release=RELEASE, aggregated=aggregated, token="t0ken")
    out = kc.ok(api.write_kubeconfig(tmp_path / "kubeconfig"), "api-versions")
    expected = served_group_versions(snapshot)
    assert out.splitlines() == sorted(expected)
    # the catalog's unserved versions really are left out
    assert "resource.k8s.io/v1beta2" not in out.splitlines() and "storage.k8s.io/v1beta1" not in out.splitlines()
    paths = api.requests()["paths"]
    if aggregated:
        assert paths == ["/api", "/apis"]
    else:
        # kubectl's discovery cache fills itself completely, even for api-versions
        assert paths[:2] == ["/api", "/apis"] and Counter(paths[2:]) == Counter(served_paths(snapshot))


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated", "legacy-only"])
def test_api_resources_wide_matches_the_snapshot(fake_apiserver, kc, tmp_path, snapshot, aggregated):
    api = fake_apiserver(release=RELEASE, aggregated=aggregated, token="t0ken")
    rows, _ = api_resources(kc, api.write_kubeconfig(tmp_path / "kubeconfig"))
    expected = preferred_rows(snapshot)
    assert set(rows) == expected
    by_name = {(r[0], r[2]): r for r in rows}
    # spot checks that the expectation itself means something
    assert by_name[("deployments", "apps/v1")][1:] == (
        "deploy", "apps/v1", "true", "Deployment", "create,delete,deletecollection,get,list,patch,update,watch", "all"
    )
    assert ("horizontalpodautoscalers", "autoscaling/v2") in by_name
    assert ("horizontalpodautoscalers", "autoscaling/v1") not in by_name  # v2 is preferred
    assert not any("/" in r[0] for r in rows)  # subresources are not listed


def test_api_resources_no_headers_lists_the_same_rows(fake_apiserver, kc, tmp_path, snapshot):
    api = fake_apiserver(release=RELEASE, token="t0ken")
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    out = kc.ok(kubeconfig, "api-resources", "--no-headers")
    assert not out.startswith("NAME")
    rows = parse_no_headers(out)
    assert sorted(rows) == sorted(r[:5] for r in preferred_rows(snapshot))


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated", "legacy-only"])
def test_request_pattern_of_kubectl(fake_apiserver, kc, tmp_path, snapshot, aggregated):
    api = fake_apiserver(release=RELEASE, aggregated=aggregated, token="t0ken")
    kc.ok(api.write_kubeconfig(tmp_path / "kubeconfig"), "api-resources")
    log = api.requests()
    paths = log["paths"]
    assert log["count"] == len(paths)
    assert paths[:2] == ["/api", "/apis"]
    first = log["requests"][0]["headers"]
    assert "g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" in first["Accept"]
    if aggregated:
        assert paths == ["/api", "/apis"]  # no per-group-version fetches at all
    else:
        # every served group/version exactly once (none of /apis/<group>), in parallel order
        assert Counter(paths[2:]) == Counter(served_paths(snapshot))
        for entry in log["requests"][2:]:
            assert "apidiscovery" not in entry["headers"]["Accept"]
    assert all(e["status"] == 200 for e in log["requests"])


def test_many_crd_groups_and_metrics_in_parallel(fake_apiserver, kc, tmp_path, snapshot):
    n = 150
    api = fake_apiserver(
        release=RELEASE, aggregated=False, token="t0ken", metrics=True, crd_groups=n, crd_versions=["v1", "v1beta1"]
    )
    started = time.monotonic()
    rows, _ = api_resources(kc, api.write_kubeconfig(tmp_path / "kubeconfig"))
    elapsed = time.monotonic() - started
    crd_rows = {r for r in rows if r[2].endswith(".example.com/v1")}
    assert crd_rows == {
        ("widgets", "", f"g{i:04d}.example.com/v1", "true", "Widget",
         "delete,deletecollection,get,list,patch,create,update,watch", "")
        for i in range(1, n + 1)
    }
    assert not any(r[2].endswith("/v1beta1") and ".example.com" in r[2] for r in rows)
    assert METRICS_ROWS <= set(rows)
    assert set(rows) - crd_rows - METRICS_ROWS == preferred_rows(snapshot)
    assert api.requests()["count"] == 2 + len(served_paths(snapshot)) + 1 + 2 * n
    assert elapsed < 20, f"{2 * n} group/versions took {elapsed:.1f} s"


def test_aggregated_crd_groups_in_two_requests(fake_apiserver, kc, tmp_path):
    api = fake_apiserver(release=RELEASE, token="t0ken", metrics=True, crd_groups=400)
    out = kc.ok(api.write_kubeconfig(tmp_path / "kubeconfig"), "api-versions")
    lines = out.splitlines()
    assert "g0400.example.com/v1" in lines and "metrics.k8s.io/v1beta1" in lines
    assert len([line for line in lines if line.endswith(".example.com/v1")]) == 400
    log = api.requests()
    assert log["paths"] == ["/api", "/apis"]


def test_failed_metrics_legacy_server_kubectl_lists_the_rest(fake_apiserver, kc, tmp_path, snapshot):
    api = fake_apiserver(
        release=RELEASE, aggregated=False, token="t0ken", metrics=True, fail_group_versions=["metrics.k8s.io/v1beta1"]
    )
    rows, result = api_resources(kc, api.write_kubeconfig(tmp_path / "kubeconfig"), expect_ok=False)
    assert result.returncode != 0
    assert "metrics.k8s.io/v1beta1" in result.stderr
    assert "unable to retrieve the complete list of server APIs" in result.stderr
    assert set(rows) == preferred_rows(snapshot)  # everything else, metrics not
    statuses = {e["path"]: e["status"] for e in api.requests()["requests"]}
    assert statuses["/apis/metrics.k8s.io/v1beta1"] == 503


def test_stale_metrics_aggregated_server(fake_apiserver, kc, tmp_path, snapshot):
    """A Stale version in aggregated discovery: kubectl 1.35 drops it without a word."""
    api = fake_apiserver(release=RELEASE, token="t0ken", metrics=True)
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    rows, _ = api_resources(kc, kubeconfig)
    assert set(rows) == preferred_rows(snapshot) | METRICS_ROWS  # healthy first

    api.set_faults(fail_group_versions=["metrics.k8s.io/v1beta1"])
    rows, result = api_resources(kc, kubeconfig, expect_ok=False)
    assert set(rows) == preferred_rows(snapshot)
    assert "metrics.k8s.io/v1beta1" not in kc.ok(kubeconfig, "api-versions").splitlines()
    # client-go turns a Stale version into a discovery error that kubectl's cache drops
    assert result.returncode == 0, result.stderr


def test_kubectl_revalidates_its_cache_with_etags(fake_apiserver, kc, tmp_path, snapshot):
    """With a kept --cache-dir, kubectl asks again with If-None-Match and takes a 304."""
    api = fake_apiserver(release=RELEASE, token="t0ken", metrics=True)
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    cache = tmp_path / "kept-cache"
    first = kc.ok(kubeconfig, "api-resources", "-o", "wide", cache=cache)
    second = kc.ok(kubeconfig, "api-resources", "-o", "wide", cache=cache)
    assert first == second and set(parse_wide(second)) == preferred_rows(snapshot) | METRICS_ROWS
    log = api.requests()["requests"]
    assert [(e["path"], e["status"]) for e in log] == [("/api", 200), ("/apis", 200), ("/api", 304), ("/apis", 304)]
    assert "If-None-Match" not in log[0]["headers"] and log[2]["headers"]["If-None-Match"].startswith('"')
    # a changed /apis (metrics going Stale) has a new tag: kubectl gets the new document
    api.reset()
    api.set_faults(fail_group_versions=["metrics.k8s.io/v1beta1"])
    third = kc.ok(kubeconfig, "api-resources", "-o", "wide", cache=cache)
    assert set(parse_wide(third)) == preferred_rows(snapshot)
    assert [(e["path"], e["status"]) for e in api.requests()["requests"]] == [("/api", 304), ("/apis", 200)]


def test_wrong_token_is_unauthorized(fake_apiserver, kc, tmp_path):
    api = fake_apiserver(release=RELEASE, token="right-token")
    result = kc(api.write_kubeconfig(tmp_path / "bad", token="wrong-token"), "api-resources")
    assert result.returncode != 0
    assert "You must be logged in to the server" in result.stderr
    assert UNAUTHORIZED in result.stderr
    assert result.stdout == ""
    log = api.requests()
    assert log["count"] >= 1 and {e["status"] for e in log["requests"]} == {401}
    # and the right token works
    kc.ok(api.write_kubeconfig(tmp_path / "good"), "api-versions")


def test_client_certificate_user(fake_apiserver, kc, tmp_path, snapshot):
    api = fake_apiserver(release=RELEASE, token="t0ken", client_cert_auth=True)
    for embed in (False, True):
        out = kc.ok(api.write_kubeconfig(tmp_path / f"cert-{embed}", user="cert", embed=embed), "api-versions")
        assert out.splitlines() == sorted(served_group_versions(snapshot))
    assert {e["headers"].get("Authorization") for e in api.requests()["requests"]} == {None}
    api.reset()
    result = kc(api.write_kubeconfig(tmp_path / "stranger", user="stranger-cert"), "api-versions")
    assert result.returncode != 0
    assert api.requests()["count"] == 0  # refused in the TLS handshake


def test_faults_switched_at_run_time(fake_apiserver, kc, tmp_path):
    api = fake_apiserver(release=RELEASE, token="t0ken")
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    kc.ok(kubeconfig, "api-versions")
    assert api.set_faults(unauthorized=True)["unauthorized"] is True
    result = kc(kubeconfig, "api-versions")
    assert result.returncode != 0 and UNAUTHORIZED in result.stderr
    api.set_faults(unauthorized=False, status_override={"/apis": 500})
    result = kc(kubeconfig, "api-versions")
    assert result.returncode != 0
    api.set_faults(status_override={})
    kc.ok(kubeconfig, "api-versions")


def test_kubectl_version_reads_version_info(fake_apiserver, kc, tmp_path):
    api = fake_apiserver(release=RELEASE, token="t0ken")
    out = json.loads(kc.ok(api.write_kubeconfig(tmp_path / "kubeconfig"), "version", "-o", "json"))
    assert out["serverVersion"]["gitVersion"] == "v1.33.0"
    assert (out["serverVersion"]["major"], out["serverVersion"]["minor"]) == ("1", "33")
    assert api.requests()["paths"] == ["/version"]


def test_plain_http_server(fake_apiserver, kc, tmp_path, snapshot):
    api = fake_apiserver(release=RELEASE, http=True)
    assert api.url.startswith("http://") and api.ca_path is None
    out = kc.ok(api.write_kubeconfig(tmp_path / "kubeconfig", user="none"), "api-versions")
    assert out.splitlines() == sorted(served_group_versions(snapshot))


def test_kubectl_proxy_in_front_of_the_fake_server(fake_apiserver, kc, tmp_path):
    api = fake_apiserver(release=RELEASE, token="t0ken")
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    proxy = subprocess.Popen(
        [str(kc.binary), "--kubeconfig", str(kubeconfig), "proxy", "--port=0", "--address=127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=kc.env,
    )
    try:
        port = _proxy_port(proxy)
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(base + "/apis", timeout=10) as resp:
            through_proxy = json.loads(resp.read())
            assert resp.headers["Content-Type"] == "application/json"
        status, _, direct = api.fetch("/apis", headers={"Accept": "application/json"})
        assert status == 200 and through_proxy == json.loads(direct)
        assert through_proxy["kind"] == "APIGroupList"
        # the proxy passes the Accept header on, so aggregated discovery works through it too
        req = urllib.request.Request(base + "/apis", headers={"Accept": KUBECTL_ACCEPT})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["Content-Type"] == V2
            assert json.loads(resp.read())["kind"] == "APIGroupDiscoveryList"
        # the proxy authenticated with the kubeconfig's token on our behalf
        proxied = [e for e in api.requests()["requests"] if e["path"] == "/apis"]
        assert len(proxied) == 3
        assert all(e["status"] == 200 and e["headers"]["Authorization"] == "Bearer <redacted>" for e in proxied)
    finally:
        proxy.terminate()
        try:
            proxy.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proxy.kill()
            proxy.wait()
        proxy.stdout.close()
        proxy.stderr.close()


def _proxy_port(proxy: subprocess.Popen, timeout: float = 15) -> int:
    sel = selectors.DefaultSelector()
    sel.register(proxy.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    try:
        while time.monotonic() < deadline:
            if sel.select(deadline - time.monotonic()):
                chunk = os.read(proxy.stdout.fileno(), 1024)
                if not chunk:
                    break
                buf += chunk
                m = re.search(rb"Starting to serve on 127\.0\.0\.1:(\d+)", buf)
                if m:
                    return int(m.group(1))
    finally:
        sel.close()
    raise AssertionError(f"kubectl proxy did not start: {buf!r} {proxy.stderr.read1(4096) if proxy.poll() is not None else b''!r}")


def test_stopped_server_refuses_connections(fake_apiserver, kc, tmp_path):
    api = fake_apiserver(release=RELEASE, token="t0ken")
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    api.stop()
    assert not api.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", api.port), timeout=2).close()
    result = kc(kubeconfig, "api-versions", "--request-timeout=5s")
    assert result.returncode != 0 and "connection refused" in result.stderr


# --- the server's own wire format -------------------------------------------------


def test_content_negotiation(fake_apiserver):
    api = fake_apiserver(release=RELEASE, token="t0ken")

    def ctype(accept, path="/apis"):
        status, headers, _ = api.fetch(path, headers={} if accept is None else {"Accept": accept})
        return status, headers.get("Content-Type")

    assert ctype(KUBECTL_ACCEPT) == (200, V2)
    assert ctype(KUBECTL_ACCEPT, "/api") == (200, V2)
    assert ctype(V2BETA1 + ",application/json") == (200, V2BETA1)
    # parameters in any order, with spaces and quotes
    assert ctype('application/json; as=APIGroupDiscoveryList; v="v2"; g=apidiscovery.k8s.io') == (200, V2)
    # q-values beat header order
    assert ctype("application/json;q=0.9," + V2 + ";q=0.5") == (200, "application/json")
    assert ctype("application/json;q=0.5," + V2) == (200, V2)
    assert ctype("application/json;q=0.5," + V2BETA1 + ";q=0.7," + V2 + ";q=0.6") == (200, V2BETA1)
    assert ctype(V2 + ";q=0," + V2BETA1) == (200, V2BETA1)
    assert ctype(None) == (200, "application/json")
    assert ctype("*/*") == (200, "application/json")
    assert ctype("application/vnd.kubernetes.protobuf")[0] == 406
    assert ctype(V2)[0] == 200
    assert ctype(V2, "/apis/apps/v1")[0] == 406  # only /api and /apis speak aggregated discovery
    legacy = fake_apiserver(release=RELEASE, aggregated=False)
    status, headers, body = legacy.fetch("/apis", headers={"Accept": KUBECTL_ACCEPT})
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body)["kind"] == "APIGroupList"


def _get_json(api, path, accept="application/json"):
    status, headers, body = api.fetch(path, headers={"Accept": accept})
    assert status == 200, body
    return json.loads(body)


def test_aggregated_and_legacy_discovery_agree(fake_apiserver, snapshot):
    """Turn the aggregated documents back into legacy lists: they must match what the
    legacy endpoints serve, group for group and resource for resource."""
    api = fake_apiserver(release=RELEASE, token="t0ken", metrics=True)
    agg_api = _get_json(api, "/api", V2)
    agg_apis = _get_json(api, "/apis", V2)
    assert agg_api["kind"] == agg_apis["kind"] == "APIGroupDiscoveryList"
    assert agg_apis["apiVersion"] == "apidiscovery.k8s.io/v2"
    assert [i["metadata"].get("name", "") for i in agg_api["items"]] == [""]
    group_list = _get_json(api, "/apis")
    assert group_list["kind"] == "APIGroupList"
    assert [g["name"] for g in group_list["groups"]] == [i["metadata"]["name"] for i in agg_apis["items"]]
    assert _get_json(api, "/api")["versions"] == ["v1"]
    for item, group in zip(agg_apis["items"], group_list["groups"]):
        versions = [v["version"] for v in item["versions"]]
        assert [v["version"] for v in group["versions"]] == versions
        assert group["preferredVersion"]["version"] == versions[0]
        assert _get_json(api, f"/apis/{group['name']}") == {"kind": "APIGroup", "apiVersion": "v1", **group}
    for item in agg_api["items"] + agg_apis["items"]:
        name = item["metadata"].get("name", "")
        for v in item["versions"]:
            assert v["freshness"] == "Current"
            gv = group_version(name, v["version"])
            legacy = _get_json(api, ("/apis/" if name else "/api/") + gv)
            assert legacy["kind"] == "APIResourceList" and legacy["groupVersion"] == gv
            assert _as_legacy(name, v["version"], v["resources"]) == legacy["resources"]
    # what both say matches the snapshot (plus metrics)
    served = {(gv, r["name"]) for gv, r in _all_legacy(api, agg_api, agg_apis) if "/" not in r["name"]}
    expected = {(group_version(g.name, gv.version), r.name) for g, gv, r in snapshot.iter_resources()}
    assert served == expected | {("metrics.k8s.io/v1beta1", "nodes"), ("metrics.k8s.io/v1beta1", "pods")}


def _all_legacy(api, agg_api, agg_apis):
    for item in agg_api["items"] + agg_apis["items"]:
        name = item["metadata"].get("name", "")
        for v in item["versions"]:
            gv = group_version(name, v["version"])
            for r in _get_json(api, ("/apis/" if name else "/api/") + gv)["resources"]:
                yield gv, r


def _as_legacy(group: str, version: str, resources: list) -> list:
    out = []
    for r in resources:
        kind = r["responseKind"]
        e = {"name": r["resource"], "singularName": r["singularResource"], "namespaced": r["scope"] == "Namespaced"}
        assert (kind["group"], kind["version"]) == ("", "")
        e["kind"] = kind["kind"]
        e["verbs"] = r["verbs"]
        for key in ("shortNames", "categories"):
            if r.get(key):
                e[key] = r[key]
        out.append(e)
        for s in r.get("subresources", []):
            sk = s["responseKind"]
            se = {"name": f"{r['resource']}/{s['subresource']}", "singularName": "", "namespaced": e["namespaced"]}
            if sk["group"] or sk["version"]:
                assert (sk["group"], sk["version"]) != (group, version), "same group/version must be left empty"
                se["group"], se["version"] = sk["group"], sk["version"]
            se["kind"] = sk["kind"]
            se["verbs"] = s["verbs"]
            out.append(se)
    return sorted(out, key=lambda e: e["name"])


def test_discovery_shapes_of_well_known_resources(fake_apiserver):
    api = fake_apiserver(release=RELEASE, token="t0ken", metrics=True)
    apps = next(i for i in _get_json(api, "/apis", V2)["items"] if i["metadata"]["name"] == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["responseKind"] == {"group": "", "version": "", "kind": "Deployment"}
    assert deployments["scope"] == "Namespaced" and deployments["singularResource"] == "deployment"
    assert deployments["shortNames"] == ["deploy"] and deployments["categories"] == ["all"]
    subs = {s["subresource"]: s for s in deployments["subresources"]}
    assert subs["scale"]["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert subs["status"]["responseKind"] == {"group": "", "version": "", "kind": "Deployment"}
    legacy = {r["name"]: r for r in _get_json(api, "/apis/apps/v1")["resources"]}
    assert legacy["deployments/scale"]["group"] == "autoscaling" and legacy["deployments/scale"]["version"] == "v1"
    assert legacy["deployments/scale"]["kind"] == "Scale"
    assert "group" not in legacy["deployments/status"]
    metrics = next(i for i in _get_json(api, "/apis", V2)["items"] if i["metadata"]["name"] == "metrics.k8s.io")
    by_name = {r["resource"]: r for r in metrics["versions"][0]["resources"]}
    assert by_name["nodes"]["scope"] == "Cluster" and by_name["nodes"]["verbs"] == ["get", "list"]
    assert by_name["pods"]["responseKind"]["kind"] == "PodMetrics" and by_name["pods"]["scope"] == "Namespaced"
    core = _get_json(api, "/api/v1")
    assert "apiVersion" not in core and core["groupVersion"] == "v1"


def test_etag_and_not_modified(fake_apiserver):
    api = fake_apiserver(release=RELEASE, token="t0ken", metrics=True)
    status, headers, body = api.fetch("/apis", headers={"Accept": KUBECTL_ACCEPT})
    etag = headers["ETag"]
    assert status == 200 and etag.startswith('"') and headers["Vary"] == "Accept"
    status, headers304, body304 = api.fetch("/apis", headers={"Accept": KUBECTL_ACCEPT, "If-None-Match": etag})
    assert (status, body304, headers304["ETag"]) == (304, b"", etag)
    _, plain_headers, _ = api.fetch("/apis", headers={"Accept": "application/json"})
    assert plain_headers["ETag"] != etag  # another representation, another tag
    assert api.fetch("/apis", headers={"Accept": "application/json", "If-None-Match": etag})[0] == 200
    # a change in what is served (a version going Stale) changes the tag
    api.set_faults(fail_group_versions=["metrics.k8s.io/v1beta1"])
    status, headers, body = api.fetch("/apis", headers={"Accept": KUBECTL_ACCEPT, "If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag
    metrics = next(i for i in json.loads(body)["items"] if i["metadata"]["name"] == "metrics.k8s.io")
    assert metrics["versions"] == [{"version": "v1beta1", "freshness": "Stale"}]


def test_auth_status_bodies_and_counting(fake_apiserver):
    api = fake_apiserver(release=RELEASE, token="t0ken")
    status, headers, body = api.fetch("/version", auth=False)
    assert status == 401 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
    }
    status, _, body = api.fetch("/apis/no.such.group/v1")
    assert status == 404 and json.loads(body)["reason"] == "NotFound"
    assert _get_json(api, "/version")["gitVersion"] == "v1.33.0"
    log = api.requests()
    assert log["count"] == 3 and log["paths"] == ["/version", "/apis/no.such.group/v1", "/version"]
    assert [e["status"] for e in log["requests"]] == [401, 404, 200]
    api.reset()
    assert api.requests() == {"count": 0, "paths": [], "requests": []}


def test_faults_malformed_override_latency_and_gzip(fake_apiserver):
    api = fake_apiserver(release=RELEASE, token="t0ken", malformed=["/apis"], status_override={"/api": 500})
    status, _, body = api.fetch("/apis")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)
    status, _, body = api.fetch("/api")
    assert status == 500 and json.loads(body)["code"] == 500
    api.set_faults(malformed=[], status_override={}, latency_ms=300)
    started = time.monotonic()
    assert _get_json(api, "/apis")["kind"] == "APIGroupList"
    assert time.monotonic() - started >= 0.3
    with pytest.raises(FakeAPIServerError, match="no_such_fault"):
        api.set_faults(no_such_fault=True)
    # big bodies are gzipped for clients that ask, like a real server
    big = fake_apiserver(release=RELEASE, crd_groups=600)
    status, headers, body = big.fetch("/apis", headers={"Accept": V2, "Accept-Encoding": "gzip"})
    assert headers.get("Content-Encoding") == "gzip"
    assert len(json.loads(gzip.decompress(body))["items"]) > 600
    status, headers, body = big.fetch("/apis", headers={"Accept": V2})
    assert "Content-Encoding" not in headers and len(json.loads(body)["items"]) > 600


def test_start_failure_reports_the_servers_stderr(fake_apiserver):
    with pytest.raises(FakeAPIServerError, match="not in the catalog"):
        fake_apiserver(release="0.1")
