import pytest

from kubectl_apiinfo.sources import catalog
from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, SnapshotSource
from kubectl_apiinfo.answers.resolve import kubectl_pick, resolve


def names(matches):
    return [m.qualified_name for m in matches]


@pytest.mark.parametrize(
    "word",
    ["deployments", "deployment", "deploy", "Deployment", "DEPLOYMENTS", "deployments.apps", "deploy.apps", "deployments.v1.apps"],
)
def test_every_spelling_kubectl_accepts(word):
    matches = resolve(catalog.load_release("1.33"), word)
    assert names(matches) == ["deployments.apps"]
    assert [gv.version for gv, _ in matches[0].versions] == ["v1"]


def test_resource_version_group_selects_that_version_only():
    matches = resolve(catalog.load_release("1.19"), "ingresses.v1beta1.networking.k8s.io")
    assert names(matches) == ["ingresses.networking.k8s.io"]
    assert [gv.version for gv, _ in matches[0].versions] == ["v1beta1"]
    # A version the group doesn't have falls back to reading the rest as a group, which fails.
    assert resolve(catalog.load_release("1.19"), "ingresses.v9.networking.k8s.io") == []


def test_same_name_in_several_groups_core_first():
    matches = resolve(catalog.load_release("1.33"), "events")
    assert names(matches) == ["events", "events.events.k8s.io"]
    assert kubectl_pick(matches).group.name == ""
    assert names(resolve(catalog.load_release("1.33"), "events.events.k8s.io")) == ["events.events.k8s.io"]


def test_renamed_resources_across_groups_in_an_old_release():
    matches = resolve(catalog.load_release("1.15"), "deploy")
    assert names(matches) == ["deployments.apps", "deployments.extensions"]
    assert [gv.version for gv, _ in matches[0].versions] == ["v1", "v1beta2", "v1beta1"]


def test_unserved_resources_are_found_but_not_picked():
    matches = resolve(catalog.load_release("1.16"), "deployments.extensions")
    assert names(matches) == ["deployments.extensions"]
    assert matches[0].served_versions == []
    assert kubectl_pick(matches) is None


def _synthetic() -> APISnapshot:
    return APISnapshot(
        SnapshotSource("catalog", "synthetic"),
        [
            Group("a.example", [GroupVersion("v1", [Resource("widgets", "Widget", True, ["get"], short_names=["gadgets"])])]),
            Group("b.example", [GroupVersion("v1", [Resource("gadgets", "Gadget", True, ["get"], singular="gizmo")])]),
        ],
    )


def test_a_full_name_wins_over_a_short_name():
    assert names(resolve(_synthetic(), "gadgets")) == ["gadgets.b.example"]
    assert names(resolve(_synthetic(), "gizmo")) == ["gadgets.b.example"]  # the declared singular
    assert names(resolve(_synthetic(), "gadget")) == ["gadgets.b.example"]  # the Kind, lower-cased
    assert names(resolve(_synthetic(), "Widget")) == ["widgets.a.example"]


def test_unknown_word():
    assert resolve(catalog.load_release("1.33"), "deploymnets") == []
