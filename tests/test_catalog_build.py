"""The catalog builder against the real Kubernetes data in shared/k8s-data."""

from __future__ import annotations

import gzip
import json

import pytest

import build_catalog
from conftest import K8S_DATA, ROOT
from kubectl_apiinfo.model import APISnapshot, group_version, stability

CATALOG = ROOT / "catalog" / "data"
CONNECT_SUBRESOURCES = {"exec", "attach", "portforward", "proxy"}  # missing from the tables (data README)
SPECS = sorted(p.name.split(".json")[0][1:] for p in (K8S_DATA / "openapi-v2").glob("v*.json*"))


def load_release(name: str) -> APISnapshot:
    return APISnapshot.from_dict(json.loads((CATALOG / "releases" / f"{name}.json").read_text()))


def _key(r: dict) -> tuple:
    return r["group"], r["version"], r["resource"]


def _subresources(r: dict) -> list:
    return sorted(
        (s["subresource"], s["kind"], s["group"], s["version"], tuple(sorted(s["verbs"])))
        for s in r["subresources"]
        if s["subresource"] not in CONNECT_SUBRESOURCES
    )


@pytest.mark.parametrize("release", SPECS)
def test_spec_derived_release_matches_the_resource_tables(k8s_data, release):
    spec = build_catalog.load_json(k8s_data / "openapi-v2" / f"v{release}.json.gz")
    from_spec = {_key(r): r for r in build_catalog.records_from_openapi(spec)}
    tables = {_key(r): r for r in json.loads((k8s_data / "resources" / f"v{release}.json").read_text())["resources"]}
    assert from_spec.keys() == tables.keys()
    differences = []
    for key, t in tables.items():
        s = from_spec[key]
        for field in ("kind", "namespaced"):
            if s[field] != t[field]:
                differences.append((key, field, s[field], t[field]))
        if sorted(s["verbs"]) != sorted(t["verbs"]):
            differences.append((key, "verbs", sorted(s["verbs"]), sorted(t["verbs"])))
        if _subresources(s) != _subresources(t):
            differences.append((key, "subresources", _subresources(s), _subresources(t)))
    # The one documented disagreement: the tables give componentstatuses a watch verb.
    assert differences == [(("", "v1", "componentstatuses"), "verbs", ["get", "list"], ["get", "list", "watch"])]


def test_spec_converter_keeps_connect_subresources(k8s_data):
    spec = build_catalog.load_json(k8s_data / "openapi-v2" / "v1.33.json.gz")
    pods = {_key(r): r for r in build_catalog.records_from_openapi(spec)}[("", "v1", "pods")]
    subs = {s["subresource"]: s for s in pods["subresources"]}
    assert subs["exec"]["kind"] == "PodExecOptions" and subs["exec"]["verbs"] == ["create", "get"]
    assert subs["proxy"]["verbs"] == ["create", "delete", "get", "patch", "update"]
    assert (subs["eviction"]["group"], subs["eviction"]["kind"]) == ("policy", "Eviction")


def test_committed_catalog_is_what_the_builder_makes(k8s_data, tmp_path):
    out = tmp_path / "out"
    build_catalog.main(["--data", str(k8s_data), "--out", str(out)])
    built = sorted(p.relative_to(out) for p in out.rglob("*.json"))
    committed = sorted(p.relative_to(CATALOG) for p in CATALOG.rglob("*.json"))
    assert built == committed
    for rel in built:
        assert (out / rel).read_bytes() == (CATALOG / rel).read_bytes(), f"{rel} is stale: rerun catalog/build_catalog.py"


def test_a_future_release_is_added_from_a_raw_swagger_json(k8s_data, tmp_path):
    swagger = tmp_path / "swagger.json"
    with gzip.open(k8s_data / "openapi-v2" / "v1.36.json.gz", "rb") as f:
        swagger.write_bytes(f.read())
    out = tmp_path / "out"
    build_catalog.main(["--data", str(k8s_data), "--out", str(out), "--spec", f"1.38={swagger}"])
    index = json.loads((out / "index.json").read_text())
    assert index["newest"] == "1.38"
    assert index["releases"][-1] == {"version": "1.38", "origin": "OpenAPI v2 spec of Kubernetes 1.38", "defaultsDerived": True}
    new = APISnapshot.from_dict(json.loads((out / "releases" / "1.38.json").read_text()))
    base = load_release("1.36")
    shape = lambda snap: {(g.name, gv.version, r.name, r.kind, r.namespaced) for g, gv, r in snap.iter_resources(False)}
    assert shape(new) == shape(base)
    served = {group_version(g.name, gv.version) for g, gv, _ in new.iter_resources()}
    # No default lists for 1.38: GA on, and every beta here is post-KEP-3136 and was off in 1.37.
    assert served and all(stability(gv.split("/")[-1]) == "stable" for gv in served)
    assert served == {group_version(g.name, gv.version) for g, gv, _ in new.iter_resources(False) if stability(gv.version) == "stable"}


def _lists_say_served(lists: dict, group: str, version: str, resource: str) -> bool:
    gv = group_version(group, version)
    if f"{gv}/{resource}" in lists["enabledBetaResources"]:
        return True
    if f"{gv}/{resource}" in lists["disabledByDefault"]:
        return False
    return gv in lists["enabledGroupVersions"] or gv in lists["otherServersEnabled"]["groupVersions"]


def test_served_flags_follow_the_kube_apiserver_lists(k8s_data):
    defaults = json.loads((k8s_data / "default-enabled.json").read_text())["releases"]
    index = json.loads((CATALOG / "index.json").read_text())
    assert [r["version"] for r in index["releases"]] == [f"1.{n}" for n in range(15, 38)]
    for entry in index["releases"]:
        name = entry["version"]
        lists = defaults.get(name)
        assert entry["defaultsDerived"] == (lists is None)
        if lists is None:
            continue
        for g, gv, r in load_release(name).iter_resources(served_only=False):
            assert r.served == _lists_say_served(lists, g.name, gv.version, r.name), (name, g.name, gv.version, r.name)


def test_known_facts_about_default_serving():
    def served(release, group, version, resource):
        snap = load_release(release)
        return next(r.served for g, gv, r in snap.iter_resources(False) if (g.name, gv.version, r.name) == (group, version, resource))

    assert served("1.15", "extensions", "v1beta1", "deployments")
    assert not served("1.16", "extensions", "v1beta1", "deployments")  # in the 1.16 spec, off by default
    assert served("1.16", "extensions", "v1beta1", "ingresses")
    assert not served("1.17", "apps", "v1beta2", "deployments")
    assert served("1.24", "autoscaling", "v2beta2", "horizontalpodautoscalers")  # a legacy beta kept on
    assert served("1.31", "flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas")
    for release in ("1.15", "1.22", "1.32", "1.37"):
        assert not any(r.served for g, gv, r in load_release(release).iter_resources(False) if gv.stability == "alpha")
    for release in ("1.32", "1.33", "1.36"):
        assert not any(r.served for g, gv, r in load_release(release).iter_resources(False) if gv.stability == "beta")


def test_derived_releases_agree_with_their_neighbours():
    def served_gvs(release):
        return {group_version(g.name, gv.version) for g, gv, _ in load_release(release).iter_resources()}

    def contained_gvs(release):
        return {group_version(g.name, gv.version) for g, gv, _ in load_release(release).iter_resources(False)}

    for before, derived, after in (("1.21", "1.22", "1.23"), ("1.31", "1.32", "1.33")):
        both = contained_gvs(derived)
        # Whatever both neighbours serve and the derived release contains, it serves, and vice versa.
        assert (served_gvs(before) & served_gvs(after)) & both <= served_gvs(derived)
        assert served_gvs(derived) <= (served_gvs(before) | served_gvs(after))
        assert any("derived" in n for n in load_release(derived).source.notes)


def test_catalog_fits_in_two_megabytes():
    total = sum(p.stat().st_size for p in CATALOG.rglob("*") if p.is_file())
    assert 0 < total <= 2 * 1024 * 1024
