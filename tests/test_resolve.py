import pytest

from kubectl_apiinfo.answers import show as show_answers
from kubectl_apiinfo.model import release_key
from kubectl_apiinfo.sources import select
from kubectl_apiinfo.sources.catalog import releases
from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, SnapshotSource
from kubectl_apiinfo.answers.resolve import kubectl_pick, resolve


def names(matches):
    return [m.qualified_name for m in matches]


@pytest.mark.parametrize(
    "word",
    ["deployments", "deployment", "deploy", "Deployment", "DEPLOYMENTS", "deployments.apps", "deploy.apps", "deployments.v1.apps"],
)
def test_every_spelling_kubectl_accepts(word):
    matches = resolve(releases.load_release("1.33"), word)
    assert names(matches) == ["deployments.apps"]
    assert [gv.version for gv, _ in matches[0].versions] == ["v1"]


def test_resource_version_group_selects_that_version_only():
    matches = resolve(releases.load_release("1.19"), "ingresses.v1beta1.networking.k8s.io")
    assert names(matches) == ["ingresses.networking.k8s.io"]
    assert [gv.version for gv, _ in matches[0].versions] == ["v1beta1"]
    # A version the group doesn't have falls back to reading the rest as a group, which fails.
    assert resolve(releases.load_release("1.19"), "ingresses.v9.networking.k8s.io") == []


def test_same_name_in_several_groups_core_first():
    matches = resolve(releases.load_release("1.33"), "events")
    assert names(matches) == ["events", "events.events.k8s.io"]
    assert kubectl_pick(matches).group.name == ""
    assert names(resolve(releases.load_release("1.33"), "events.events.k8s.io")) == ["events.events.k8s.io"]


def test_renamed_resources_across_groups_in_an_old_release():
    matches = resolve(releases.load_release("1.15"), "deploy")
    # Discovery order: the kube-aggregator lists extensions (17900) above apps (17800).
    assert names(matches) == ["deployments.extensions", "deployments.apps"]
    assert [gv.version for gv, _ in matches[1].versions] == ["v1", "v1beta2", "v1beta1"]
    assert kubectl_pick(matches).qualified_name == "deployments.extensions"


@pytest.mark.parametrize(
    "release,word,expected",
    [
        ("1.15", "deployments", "extensions/v1beta1"),
        ("1.15", "daemonsets", "extensions/v1beta1"),
        ("1.16", "deployments", "apps/v1"),  # extensions/v1beta1 is off by default from 1.16
        ("1.20", "ingresses", "extensions/v1beta1"),
        ("1.21", "ingresses", "extensions/v1beta1"),
        ("1.22", "ingresses", "networking.k8s.io/v1"),
        ("1.15", "events", "v1"),
        ("1.37", "events", "v1"),
    ],
)
def test_kubectls_pick_offline(release, word, expected):
    answer = show_answers.explain(select.release(release), word)
    assert answer["kubectlPick"]["groupVersion"] == expected
    if len([r for r in answer["resources"] if r["served"]]) > 1:
        group = answer["kubectlPick"]["group"]
        assert answer["kubectlPickNote"] == (f"{group} comes first in discovery" if group else "the core group comes first")


def test_a_group_of_unknown_place_leaves_the_pick_open():
    source = select.release("1.15")
    source.snapshot.source.group_order_unknown = ["apps"]
    answer = show_answers.explain(source, "deployments")
    assert answer["kubectlPick"] is None
    assert "does not know where apps comes" in answer["kubectlPickNote"]
    assert "deployments.extensions, deployments.apps" in answer["kubectlPickNote"]


def _every_answer():
    """The explain answer for every resource the catalog ever had, from each release that has it, and the newest."""
    newest = select.release(releases.newest())
    for plural, entries in releases.history().items():
        yield show_answers.explain(newest, plural)
        for release in {r for e in entries for r in (e.contained[0][0], e.contained[-1][1])}:
            yield show_answers.explain(select.release(release), plural)


def _lifecycles(answer):
    for h in answer["history"]:
        yield h["groupVersion"], h["kind"], h["contained"], h["lifecycle"]
    for res in answer["resources"]:
        for v in res["versions"]:
            entry = releases.history_of(res["group"], v["version"], v["kind"])
            yield v["groupVersion"], v["kind"], entry.contained, v["lifecycle"]


def row_served(gv, kind):
    group, _, version = gv.rpartition("/")
    entry = releases.history_of(group, version, kind)
    return entry.served if entry else []


def test_no_answer_says_a_kind_was_introduced_after_a_release_that_contains_it():
    rows = 0
    for answer in _every_answer():
        for gv, kind, contained, lc in _lifecycles(answer):
            rows += 1
            first = contained[0][0]
            if lc["introduced"]:
                assert release_key(lc["introduced"]) <= release_key(first), (gv, kind, lc, contained)
            served = row_served(gv, kind)
            if lc["removed"] and served:
                # Nothing is served by default in or after the release planned to remove it.
                last = max((end for _, end in served), key=release_key)
                assert release_key(last) < release_key(lc["removed"]), (gv, kind, lc)
            if lc["introducedNote"]:
                # The upstream value is kept beside what the releases show.
                assert lc["introducedUpstream"] and lc["introducedUpstream"] != lc["introduced"], (gv, kind, lc)
                assert first in lc["introducedNote"], (gv, kind, lc)
    assert rows > 500


def test_derived_replacements_are_marked_in_every_answer():
    seen = set()
    for answer in _every_answer():
        for gv, kind, _, lc in _lifecycles(answer):
            if lc["replacementDerived"]:
                seen.add(f"{gv}/{kind}")
                assert lc["replacement"].rsplit("/", 1)[0].rpartition("/")[0] == gv.rpartition("/")[0], (gv, kind, lc)
            else:
                assert lc["replacementUpstream"] is None
    assert {"events.k8s.io/v1beta1/Event", "node.k8s.io/v1beta1/RuntimeClass"} <= seen


def test_unserved_resources_are_found_but_not_picked():
    matches = resolve(releases.load_release("1.16"), "deployments.extensions")
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
    assert resolve(releases.load_release("1.33"), "deploymnets") == []
