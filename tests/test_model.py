import pytest

from kubectl_apiinfo.model import (
    APISnapshot,
    Group,
    GroupVersion,
    Resource,
    SnapshotFormatError,
    SnapshotSource,
    Subresource,
    stability,
    version_priority_key,
)


def higher(a: str, b: str) -> bool:
    return version_priority_key(a) < version_priority_key(b)


@pytest.mark.parametrize(
    "a,b",
    [
        ("v10", "v2"),
        ("v1", "v2alpha1"),
        ("v1beta1", "v2alpha3"),
        ("v1alpha10", "v1alpha2"),
        ("bar", "foo"),
        ("version1", "version2"),
        ("version1", "version10"),
        ("v2beta1", "v1beta2"),
        ("v1alpha1", "foo"),
        ("v2", "v1"),
    ],
)
def test_version_priority(a, b):
    assert higher(a, b)
    assert not higher(b, a)


def test_kubernetes_documented_order():
    # The example order in the Kubernetes CRD versioning docs.
    expected = ["v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1", "v11alpha2", "foo1", "foo10"]
    assert sorted(reversed(expected), key=version_priority_key) == expected


@pytest.mark.parametrize(
    "version,level",
    [("v1", "stable"), ("v2beta1", "beta"), ("v1alpha2", "alpha"), ("v1beta", "other"), ("version1", "other")],
)
def test_stability(version, level):
    assert stability(version) == level


def _snapshot() -> APISnapshot:
    deploy = Resource(
        "deployments",
        "Deployment",
        True,
        ["get", "list"],
        short_names=["deploy"],
        categories=["all"],
        subresources=[Subresource("scale", "Scale", "autoscaling", "v1", ["get"])],
    )
    old = Resource("deployments", "Deployment", True, ["get"], served=False)
    return APISnapshot(
        SnapshotSource("catalog", "test"),
        [
            Group("apps", [GroupVersion("v1beta1", [old]), GroupVersion("v2alpha1", [old]), GroupVersion("v1", [deploy])]),
            Group("", [GroupVersion("v1", [Resource("pods", "Pod", True, ["get"])])]),
        ],
    )


def test_snapshot_orders_core_first_and_versions_by_priority():
    snap = _snapshot()
    assert [g.name for g in snap.groups] == ["", "apps"]
    assert [gv.version for gv in snap.group("apps").versions] == ["v1", "v1beta1", "v2alpha1"]


def test_preferred_version_is_highest_served():
    snap = _snapshot()
    apps = snap.group("apps")
    assert apps.preferred_version == "v1"
    apps.versions[0].resources[0].served = False
    assert apps.preferred_version is None  # nothing served any more
    apps.versions[1].resources[0].served = True
    assert apps.preferred_version == "v1beta1"


def test_json_round_trip_keeps_everything():
    snap = _snapshot()
    data = snap.to_dict()
    again = APISnapshot.from_dict(data)
    assert again == snap
    # Same-group subresource group/version are left out; a cross-group one is spelled out.
    scale = data["groups"][1]["versions"][0]["resources"][0]["subresources"][0]
    assert scale["group"] == "autoscaling" and scale["version"] == "v1"


@pytest.mark.parametrize(
    "mutate,where",
    [
        (lambda d: d.update(schemaVersion=99), "schemaVersion"),
        (lambda d: d.update(groups="nope"), "groups"),
        (lambda d: d["groups"][0].update(name=5), "groups[0].name"),
        (lambda d: d["groups"][1]["versions"][0]["resources"][0].update(verbs="get"), "verbs"),
        (lambda d: d["groups"][1]["versions"][0]["resources"][0].update(namespaced="yes"), "namespaced"),
        (lambda d: d["groups"].append(dict(d["groups"][0])), "appears twice"),
    ],
)
def test_malformed_snapshots_are_refused_with_a_location(mutate, where):
    data = _snapshot().to_dict()
    mutate(data)
    with pytest.raises(SnapshotFormatError, match=where.replace("[", r"\[").replace("]", r"\]")):
        APISnapshot.from_dict(data)


def test_cluster_flags_never_show_the_token():
    from kubectl_apiinfo.sources.cluster.flags import ClusterFlags

    flags = ClusterFlags(context="prod", token="s3cret-t0ken")
    assert "s3cret-t0ken" not in repr(flags) and "prod" in repr(flags)
    assert "s3cret-t0ken" not in repr(flags.replace(context="dev"))


def test_a_sources_facts_are_named_fields_and_keep_their_json_form():
    from kubectl_apiinfo.model import SnapshotSource

    source = SnapshotSource("cluster", "prod", "1.33", server="https://k8s.example:6443", discovery="aggregated",
                            failed_group_versions={"metrics.k8s.io/v1beta1": "503"})
    source.age, source.from_cache = "2m ago", True  # how this answer came about: not stored
    snapshot = APISnapshot(source, [])
    stored = snapshot.to_dict()["source"]
    assert stored["extra"] == {"server": "https://k8s.example:6443", "discovery": "aggregated",
                               "failedGroupVersions": {"metrics.k8s.io/v1beta1": "503"}}
    back = APISnapshot.from_dict(snapshot.to_dict()).source
    assert (back.server, back.discovery, back.failed_group_versions, back.age) == (
        "https://k8s.example:6443", "aggregated", {"metrics.k8s.io/v1beta1": "503"}, None)
    with pytest.raises(TypeError):
        SnapshotSource("cluster", "prod", colour="blue")
