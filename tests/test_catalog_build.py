"""The catalog builder against the real Kubernetes data in shared/k8s-data."""

from __future__ import annotations

import gzip
import json

import pytest

import build_catalog
from conftest import HAVE_K8S_DATA, K8S_DATA, ROOT
from kubectl_apiinfo.model import APISnapshot, group_version, stability

CATALOG = ROOT / "catalog" / "data"
CONNECT_SUBRESOURCES = {"exec", "attach", "portforward", "proxy"}  # missing from the tables (data README)
# Read at import: without the data these are empty, and the tests built from them skip (k8s_data).
SPECS = sorted(p.name.split(".json")[0][1:] for p in (K8S_DATA / "openapi-v2").glob("v*.json*")) if HAVE_K8S_DATA else []
V3 = sorted(p.name[1:] for p in (K8S_DATA / "openapi-v3").glob("v*") if p.is_dir()) if HAVE_K8S_DATA else []
V3_WITH_ACTIONS = [r for r in V3 if r != "1.23"]  # 1.23's v3 documents name no x-kubernetes-action (data README)
RECONSTRUCTED = K8S_DATA / "openapi-v2-reconstructed"
# Releases whose raw spec is out of reach: their connect operations come in a list of their own (1.37).
CONNECT_LISTS = sorted(p.name.split(".connect")[0][1:] for p in RECONSTRUCTED.glob("v*.connect.json")) if HAVE_K8S_DATA else []
# One placeholder when there is no data, so that the test skips with the reason every such test gives
# rather than pytest's "got empty parameter set".
SPEC_RELEASES = [("v2", r) for r in SPECS] + [("v3", r) for r in V3_WITH_ACTIONS] or [pytest.param(None, None, id="no-k8s-data")]


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


def v3_documents(k8s_data, release: str) -> list[dict]:
    return [build_catalog.load_json(p) for p in sorted((k8s_data / "openapi-v3" / f"v{release}").glob("*.json.gz"))]


def spec_documents(k8s_data, fmt: str, release: str) -> list[dict]:
    if fmt == "v2":
        return [build_catalog.load_json(k8s_data / "openapi-v2" / f"v{release}.json.gz")]
    return v3_documents(k8s_data, release)


@pytest.mark.parametrize("fmt,release", SPEC_RELEASES)
def test_spec_derived_release_matches_the_resource_tables(k8s_data, fmt, release):
    from_spec = {_key(r): r for r in build_catalog.records_from_documents(spec_documents(k8s_data, fmt, release))}
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


@pytest.mark.parametrize("fmt,release", [("v2", "1.33"), ("v3", "1.33"), ("v3", "1.25"), ("v2", "1.15")])
def test_spec_converter_keeps_connect_subresources(k8s_data, fmt, release):
    records = build_catalog.records_from_documents(spec_documents(k8s_data, fmt, release))
    pods = {_key(r): r for r in records}[("", "v1", "pods")]
    subs = {s["subresource"]: s for s in pods["subresources"]}
    assert subs["exec"]["kind"] == "PodExecOptions" and subs["exec"]["verbs"] == ["create", "get"]
    assert subs["proxy"]["verbs"] == ["create", "delete", "get", "patch", "update"]
    assert subs["eviction"]["group"] == "policy" and subs["eviction"]["kind"] == "Eviction"
    nodes = {_key(r): r for r in records}[("", "v1", "nodes")]
    assert "proxy" in {s["subresource"] for s in nodes["subresources"]}


def test_v2_and_v3_give_the_same_resources_where_both_exist(k8s_data):
    both = sorted(set(SPECS) & set(V3_WITH_ACTIONS))
    assert both, "the data has releases with both a v2 spec and v3 documents"
    for release in both:
        v2 = build_catalog.records_from_documents(spec_documents(k8s_data, "v2", release))
        v3 = build_catalog.records_from_documents(spec_documents(k8s_data, "v3", release))
        assert v2 == v3, release


def test_documents_without_resources_do_not_hide_the_actions(k8s_data):
    # A live server's /openapi/v3 also has /api and /apis/G documents, whose operations name no action.
    group_doc = {"openapi": "3.0.0", "paths": {"/apis/apps/": {"get": {"operationId": "getAppsAPIGroup"}}}}
    docs = v3_documents(k8s_data, "1.25")
    assert build_catalog.has_actions(docs + [group_doc])
    assert build_catalog.records_from_documents(docs + [group_doc]) == build_catalog.records_from_documents(docs)
    assert not build_catalog.has_actions([group_doc])
    assert not build_catalog.has_actions(docs + v3_documents(k8s_data, "1.23"))


def test_1_23_comes_from_its_table_cross_checked_against_the_v3_urls(k8s_data):
    docs = v3_documents(k8s_data, "1.23")
    assert docs and not build_catalog.has_actions(docs)
    table = json.loads((k8s_data / "resources" / "v1.23.json").read_text())["resources"]
    urls = build_catalog.resource_urls(docs)
    assert build_catalog.cross_check_table(table, urls) == []
    # The URLs hold the connect subresources the table lacks, and nothing else beyond it.
    extra = {s for key, u in urls.items() for s in u["subresources"]} - {
        s["subresource"] for r in table for s in r["subresources"]
    }
    assert extra == CONNECT_SUBRESOURCES
    # The cross-check can fail: a table with a resource the documents lack, or a wrong scope.
    bogus = table + [dict(table[0], resource="widgets")]
    assert build_catalog.cross_check_table(bogus, urls) == [f"{table[0]['group']}/{table[0]['version']}/widgets is in the table but has no URL"]
    flipped = [dict(r, namespaced=not r["namespaced"]) if r["resource"] == "pods" else r for r in table]
    assert any("pods: namespaced" in p for p in build_catalog.cross_check_table(flipped, urls))
    index = json.loads((CATALOG / "index.json").read_text())
    origins = {r["version"]: r["origin"] for r in index["releases"]}
    assert origins["1.23"] == build_catalog.ORIGIN_TABLE_CHECKED


def _connect(records: list[dict]) -> dict:
    return {
        (r["resource"], s["subresource"]): (s["kind"], s["group"], s["version"], sorted(s["verbs"]))
        for r in records
        for s in r["subresources"]
        if s["subresource"] in CONNECT_SUBRESOURCES and r["group"] == ""
    }


def test_1_23s_connect_subresources_read_from_its_v3_documents_agree_with_its_neighbours(k8s_data):
    table = json.loads((k8s_data / "resources" / "v1.23.json").read_text())["resources"]
    docs = v3_documents(k8s_data, "1.23")
    found = _connect(build_catalog.with_connect_subresources(table, build_catalog.connect_subresources(docs)))
    assert {("pods", "exec"), ("pods", "portforward"), ("nodes", "proxy"), ("services", "proxy")} <= found.keys()
    for neighbour in ("1.22", "1.24"):
        fmt = "v2" if neighbour in SPECS else "v3"
        assert found == _connect(build_catalog.records_from_documents(spec_documents(k8s_data, fmt, neighbour))), neighbour
    assert _connect(load_release_records("1.23")) == found


def load_release_records(name: str) -> list[dict]:
    return [
        {"group": g.name, "resource": r.name, "subresources": [
            {"subresource": s.name, "kind": s.kind, "group": s.group, "version": s.version, "verbs": s.verbs}
            for s in r.subresources
        ]}
        for g, gv, r in load_release(name).iter_resources(False)
    ]


def test_every_release_records_where_it_came_from(k8s_data):
    origins = {r["version"]: r["origin"] for r in json.loads((CATALOG / "index.json").read_text())["releases"]}
    for release, origin in origins.items():
        if release in SPECS:
            expected = build_catalog.ORIGIN_V2
        elif release in V3_WITH_ACTIONS:
            expected = build_catalog.ORIGIN_V3
        elif release in V3:
            expected = build_catalog.ORIGIN_TABLE_CHECKED
        elif release in CONNECT_LISTS:
            expected = build_catalog.ORIGIN_TABLE_CONNECT
        else:
            expected = build_catalog.ORIGIN_TABLE
        assert origin == expected, release
        snapshot = load_release(release)
        assert snapshot.source.origin == origin
        # Every release with documents has the connect subresources the tables lack.
        pods = next(r for g, gv, r in snapshot.iter_resources(False) if (g.name, r.name) == ("", "pods"))
        has_connect = CONNECT_SUBRESOURCES <= {s.name for s in pods.subresources}
        assert has_connect == (origin != build_catalog.ORIGIN_TABLE), release


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
    assert index["releases"][-1] == {"version": "1.38", "origin": "OpenAPI v2 spec", "defaultsDerived": True}
    assert not any(r.get("developmentCycle") for r in index["releases"])
    new = APISnapshot.from_dict(json.loads((out / "releases" / "1.38.json").read_text()))
    assert new.source.name == "Kubernetes 1.38" and "OpenAPI v2 spec of Kubernetes 1.38" in new.source.notes[0]
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


def test_a_future_release_is_added_from_its_v3_documents(k8s_data, tmp_path):
    folder = tmp_path / "v3"
    folder.mkdir()
    for p in (k8s_data / "openapi-v3" / "v1.35").glob("*.json.gz"):
        with gzip.open(p, "rb") as f:
            (folder / p.name.removesuffix(".gz")).write_bytes(f.read())  # plain .json, as a server serves them
    out = tmp_path / "out"
    build_catalog.main(["--data", str(k8s_data), "--out", str(out), "--spec", f"1.38={folder}"])
    index = json.loads((out / "index.json").read_text())
    assert index["releases"][-1]["origin"] == build_catalog.ORIGIN_V3
    new = APISnapshot.from_dict(json.loads((out / "releases" / "1.38.json").read_text()))
    shape = lambda snap: {(g.name, gv.version, r.name, r.kind, r.namespaced, tuple(r.verbs)) for g, gv, r in snap.iter_resources(False)}
    assert shape(new) == shape(load_release("1.35"))


def test_every_release_is_named_as_the_release_it_is(k8s_data):
    # The data's newest release is out (data README): none is a development-cycle snapshot, the newest included,
    # though it has no raw spec.
    index = json.loads((CATALOG / "index.json").read_text())
    spec_built = [r["version"] for r in index["releases"] if r["origin"] in build_catalog.SPEC_ORIGINS]
    assert build_catalog.parse_release(spec_built[-1]) < build_catalog.parse_release(index["newest"])
    defaults = json.loads((k8s_data / "default-enabled.json").read_text())["releases"]
    for row in index["releases"]:
        assert set(row) == {"version", "origin", "defaultsDerived"}, row
        source = load_release(row["version"]).source
        assert source.name == f"Kubernetes {row['version']}"
        assert "developmentCycle" not in source.facts()
        assert not any("development-cycle snapshot" in n or "not released" in n for n in source.notes), row["version"]
        # Lists copied before the release branch existed are still said to be such, in words about the lists.
        early = defaults.get(row["version"], {}).get("match", "").startswith("content-fingerprint (development cycle)")
        assert any("not from the release branch" in n for n in source.notes) == early, row["version"]


def test_groups_are_in_the_kube_aggregators_discovery_order(k8s_data):
    priorities = json.loads((k8s_data / "group-priorities.json").read_text())["groupPriorityMinimum"]
    for name in json.loads((CATALOG / "index.json").read_text())["releases"]:
        snapshot = load_release(name["version"])
        order = [g.name for g in snapshot.groups]
        unknown = snapshot.source.group_order_unknown or []
        assert order[:2] == ["", "apiregistration.k8s.io"], name
        known = [g for g in order[2:] if g not in unknown]
        assert order[2:] == known + sorted(unknown)
        numbers = [priorities[g] for g in known]
        assert numbers == sorted(numbers, reverse=True), name["version"]
        assert all(g not in priorities for g in unknown)
    assert [g.name for g in load_release("1.15").groups][2:4] == ["extensions", "apps"]
    # A tie (16700) goes to the smaller APIService name, as the aggregator sorts: v1.admissionregistration...
    order = [g.name for g in load_release("1.33").groups]
    assert order.index("admissionregistration.k8s.io") + 1 == order.index("apiextensions.k8s.io")


def _lifecycle() -> dict:
    return json.loads((CATALOG / "lifecycle.json").read_text())


def _contained() -> dict:
    """group/version/Kind -> the releases containing it, in order."""
    names = [r["version"] for r in json.loads((CATALOG / "index.json").read_text())["releases"]]
    found: dict[str, list[str]] = {}
    for entries in json.loads((CATALOG / "history.json").read_text()).values():
        for e in entries:
            members = found.setdefault(f"{group_version(e['group'], e['version'])}/{e['kind']}", [])
            for first, last in e["contained"]:
                members.extend(names[names.index(first) : names.index(last) + 1])
    return {k: sorted(set(v), key=names.index) for k, v in found.items()}


def test_replacements_read_as_expected():
    lc = _lifecycle()
    derived = {
        "events.k8s.io/v1beta1/Event": "events.k8s.io/v1/Event",
        "node.k8s.io/v1beta1/RuntimeClass": "node.k8s.io/v1/RuntimeClass",
        "admissionregistration.k8s.io/v1alpha1/ValidatingAdmissionPolicy": "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy",
        "admissionregistration.k8s.io/v1alpha1/ValidatingAdmissionPolicyBinding": "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding",
        "resource.k8s.io/v1beta1/ResourceClaim": "resource.k8s.io/v1/ResourceClaim",
        "resource.k8s.io/v1beta1/DeviceClass": "resource.k8s.io/v1/DeviceClass",
        "storagemigration.k8s.io/v1alpha1/StorageVersionMigration": "storagemigration.k8s.io/v1beta1/StorageVersionMigration",
        "networking.k8s.io/v1beta1/IngressClass": "networking.k8s.io/v1/IngressClass",
    }
    for old, new in derived.items():
        assert (lc[old]["replacement"], lc[old].get("replacementDerived")) == (new, True), old
    # The upstream typo is kept beside the fix.
    assert lc["networking.k8s.io/v1beta1/IngressClass"]["replacementUpstream"] == "networking.k8s.io/v1/IngressClassList"
    # Kubernetes statements stay as they are, cross-group ones included.
    assert lc["extensions/v1beta1/Deployment"]["replacement"] == "apps/v1/Deployment"
    assert lc["extensions/v1beta1/Ingress"]["replacement"] == "networking.k8s.io/v1/Ingress"
    assert not any(lc[k].get("replacementDerived") for k in ("extensions/v1beta1/Deployment", "apps/v1beta1/Deployment"))
    # No successor, no replacement: PodSecurityPolicy went without one.
    assert "replacement" not in lc["policy/v1beta1/PodSecurityPolicy"]


def test_replacements_are_never_empty_when_a_successor_exists():
    lc, contained = _lifecycle(), _contained()
    names = [r["version"] for r in json.loads((CATALOG / "index.json").read_text())["releases"]]
    kinds = {}
    for release in names:
        for g, gv, r in load_release(release).iter_resources(False):
            kinds.setdefault((release, g.name, r.kind), set()).add(gv.version)
    from kubectl_apiinfo.model import version_priority_key

    for key, releases in contained.items():
        facts = lc.get(key, {})
        gv, kind = key.rsplit("/", 1)
        group, _, version = gv.rpartition("/")
        rep = facts.get("replacement")
        if rep:
            rep_gv = rep.rsplit("/", 1)[0]
            rep_group = rep_gv.rpartition("/")[0]
            # A replacement is a kind the catalog has, or a Kubernetes statement naming another group.
            assert rep in contained or rep_group != group, key
            if facts.get("replacementDerived"):
                assert rep_group == group and rep in contained, key
            continue
        on_its_way_out = releases[-1] != names[-1] or facts.get("removed") or facts.get("deprecated")
        if not on_its_way_out:
            continue
        target = names[-1] if releases[-1] == names[-1] else names[names.index(releases[-1]) + 1]
        newer = [v for v in kinds.get((target, group, kind), ()) if version_priority_key(v) < version_priority_key(version)]
        assert not newer, f"{key} has no replacement though {target} has {kind} in {newer}"


def test_introduced_never_follows_a_release_that_contains_the_kind():
    lc, contained = _lifecycle(), _contained()
    first_release = json.loads((CATALOG / "index.json").read_text())["releases"][0]["version"]
    checked = 0
    for key, releases in contained.items():
        facts = lc.get(key, {})
        if facts.get("introduced"):
            checked += 1
            assert build_catalog.parse_release(facts["introduced"]) <= build_catalog.parse_release(releases[0]), key
        if "introducedUpstream" in facts:
            assert facts["introducedNote"]
            if releases[0] == first_release:
                assert "introduced" not in facts and facts["introducedNote"].endswith(first_release)
            else:
                assert facts["introduced"] == releases[0]
    assert checked > 100
    auth = lc["authorization.k8s.io/v1/SelfSubjectAccessReview"]
    assert (auth.get("introduced"), auth["introducedUpstream"], auth["introducedNote"]) == (None, "1.19", "in every release since 1.15")
    ctb = lc["certificates.k8s.io/v1alpha1/ClusterTrustBundle"]
    assert (ctb["introduced"], ctb["introducedUpstream"], ctb["introducedNote"]) == ("1.27", "1.26", "first in the 1.27 spec")
    for key in ("networking.k8s.io/v1alpha1/ServiceCIDR", "flowcontrol.apiserver.k8s.io/v1alpha1/FlowSchema",
                "discovery.k8s.io/v1beta1/EndpointSlice", "storage.k8s.io/v1alpha1/CSIStorageCapacity"):
        assert lc[key]["introducedNote"].startswith("first in the "), key


def _connect_list(spec: dict) -> list[dict]:
    """A raw spec's connect operations in the form of openapi-v2-reconstructed/v1.N.connect.json."""
    return [
        {"path": path, "methods": sorted(m for m, op in item.items() if isinstance(op, dict) and op.get("x-kubernetes-action") == "connect")}
        for path, item in sorted(spec["paths"].items())
        if any(isinstance(op, dict) and op.get("x-kubernetes-action") == "connect" for op in item.values())
    ]


def test_a_connect_list_gives_what_the_raw_spec_gives(k8s_data):
    # Where the truth is known: the newest raw spec's connect operations, in a list's form, with the kinds of the
    # release before, make the very subresources that spec's own paths and kinds make.
    newest, before = SPECS[-1], SPECS[-2]
    spec = build_catalog.load_json(k8s_data / "openapi-v2" / f"v{newest}.json.gz")
    from_spec = build_catalog.records_from_documents([spec])
    table = json.loads((k8s_data / "resources" / f"v{newest}.json").read_text())["resources"]
    connect = build_catalog.connect_operations(_connect_list(spec))
    assert build_catalog.cross_check_connect(table, connect) == []
    unnamed = build_catalog.with_connect_subresources(table, connect)
    assert any(s["kind"] == "" for r in unnamed for s in r["subresources"])
    previous = build_catalog.records_from_documents(spec_documents(k8s_data, "v2", before))
    named = build_catalog.connect_kinds_from(unnamed, previous, newest, before)
    assert _connect(named) == _connect(from_spec) and _connect(named)
    # A connect subresource the release before lacks has no kind to take: the build stops rather than guess.
    widened = build_catalog.with_connect_subresources(table, {("", "v1", "pods"): {"debug": {"kind": "", "verbs": {"create"}}}})
    with pytest.raises(SystemExit, match="pods/debug"):
        build_catalog.connect_kinds_from(widened, previous, newest, before)
    # Connect operations on a resource the table lacks are refused.
    assert build_catalog.cross_check_connect([r for r in table if r["resource"] != "nodes"], connect) == ["/v1/nodes has connect operations but is not in the table"]


@pytest.mark.parametrize("release", CONNECT_LISTS or [pytest.param(None, id="no-k8s-data")])
def test_a_release_without_a_raw_spec_has_the_connect_subresources_of_its_list(k8s_data, release):
    entries = json.loads((RECONSTRUCTED / f"v{release}.connect.json").read_text())
    listed = build_catalog.connect_operations(entries)
    assert {(key[2], sub) for key, subs in listed.items() for sub in subs} >= {
        ("pods", "exec"), ("pods", "attach"), ("pods", "portforward"), ("pods", "proxy"), ("services", "proxy"), ("nodes", "proxy")
    }
    found = _connect(load_release_records(release))
    # Every listed operation is in the catalog with the verbs its methods give (HEAD and OPTIONS give none) ...
    for (group, version, resource), subs in listed.items():
        for sub, c in subs.items():
            kind, _, _, verbs = found[(resource, sub)]
            methods = {m for e in entries for m in e["methods"] if f"/{resource}/{{name}}/{sub}" in e["path"]}
            assert verbs == sorted(build_catalog.CONNECT_METHOD_VERBS[m] for m in methods if m in build_catalog.CONNECT_METHOD_VERBS)
            assert kind, (resource, sub)
    assert set(found) == {(key[2], sub) for key, subs in listed.items() for sub in subs}
    # ... and its kind is the one the release before has for it.
    names = [r["version"] for r in json.loads((CATALOG / "index.json").read_text())["releases"]]
    before = _connect(load_release_records(names[names.index(release) - 1]))
    assert {k: v[0] for k, v in found.items()} == {k: before[k][0] for k in found}
    snapshot = load_release(release)
    assert snapshot.source.origin == build_catalog.ORIGIN_TABLE_CONNECT
    assert f"{release}.connect.json" in snapshot.source.notes[0]
