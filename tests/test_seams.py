"""The layers' seams, in-process, on the real catalog: answers as data, printers of that data, and the
order in which sources answer (catalog, our snapshot, kubectl's cache, the last seen release)."""

from __future__ import annotations

import json
import os
import time

import pytest

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.answers import show as show_answers
from kubectl_apiinfo.cli import spec, validate
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.printers import listings as listing_printers
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers import show as show_printer
from kubectl_apiinfo.sources import select
from kubectl_apiinfo.sources.cluster.access import load_access, open_cache
from kubectl_apiinfo.sources.cluster.flags import ClusterFlags
from kubectl_apiinfo.sources.catalog import releases
from kubectl_apiinfo.sources.snapshots.entry import Entry


# --- answers and printers ---------------------------------------------------------------


def test_the_show_answer_is_data_and_every_printer_says_the_same():
    answer = show_answers.explain(select.release("1.16"), "deploy")
    names = [r["qualifiedName"] for r in answer["resources"]]
    assert set(names) == {"deployments.apps", "deployments.extensions"}
    apps = next(r for r in answer["resources"] if r["group"] == "apps")
    assert apps["apiVersion"] == "apps/v1" and apps["served"]
    extensions = next(r for r in answer["resources"] if r["group"] == "extensions")
    assert extensions["apiVersion"] is None, "extensions/v1beta1 is in 1.16 but off by default"
    assert answer["kubectlPick"]["groupVersion"] == "apps/v1"
    assert answer["write"]["apiVersion"] == answer["write"]["kubectlPicks"] == "apps/v1"
    assert json.loads(pick(show_printer.FORMATS, "json")(answer)) == answer
    text = pick(show_printer.FORMATS, "table")(answer)
    assert text.startswith("WRITE: apps/v1 Deployment: stable and not deprecated\n\nRESOURCE:")
    for r in answer["resources"]:
        assert f"RESOURCE:       {r['qualifiedName']}\n" in text
    assert pick(show_printer.FORMATS, "name")(answer).split() == names
    assert show_answers.not_served_message(answer) is None


def test_a_removed_resource_answers_with_its_history_and_a_message():
    answer = show_answers.explain(select.release("1.30"), "podsecuritypolicies")
    assert answer["resources"] == [] and answer["history"]
    assert "last served by policy/v1beta1 in 1.24" in show_answers.not_served_message(answer)
    with pytest.raises(UserError, match="did you mean 'deployments'"):
        show_answers.explain(select.release("1.30"), "deploymnets")


def test_listings_and_their_tables_agree():
    snapshot = releases.load_release("1.33")
    rows = listings.resources(snapshot, namespaced=False)
    assert rows and all(not r["namespaced"] for r in rows)
    table = pick(listing_printers.RESOURCES, "table")(rows, no_headers=False).splitlines()
    assert table[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert [line.split()[0] for line in table[1:]] == [r["name"] for r in rows]
    versions = listings.versions(snapshot)
    assert pick(listing_printers.VERSIONS, "name")(versions, no_headers=False).split() == [v["groupVersion"] for v in versions]
    assert json.loads(pick(listing_printers.VERSIONS, "json")(versions, no_headers=False)) == {"versions": versions}


# --- the formats: a command's -o words are its printer table's keys ----------------------


def _commands_with_output():
    """(path, command, its -o option, its command module's table of printers) for every command with -o."""
    import importlib

    for path, command in spec.leaves():
        option = command.option(spec.OUTPUT.name)
        if option is not None:
            yield path, command, option, importlib.import_module(f"kubectl_apiinfo.commands.{command.handler}").FORMATS


def test_every_format_a_command_offers_has_a_printer_and_every_printer_is_offered():
    seen = [path for path, _, _, _ in _commands_with_output()]
    assert len(seen) == 12, seen  # show, explain, resources, versions, releases, refresh, cache list, check, scan, plan, diff, timeline
    for path, _, option, formats in _commands_with_output():
        assert tuple(formats) == option.choices, path  # the same words, in the order help and errors list them
        assert option.default in formats, path
        assert all(callable(printer) for printer in formats.values()), path


def test_an_unknown_format_is_one_error_naming_the_formats_worded_as_validation_words_it():
    for path, command, option, formats in _commands_with_output():
        with pytest.raises(UserError) as from_table:
            pick(formats, "sarif\nx")
        message = str(from_table.value)
        name = spec.OUTPUT.name
        assert "\n" not in message and message.startswith(f"{name} 'sarif\\nx' is not available; {name} accepts only ")
        assert message.endswith(", ".join(option.choices[:-1]) + f" or {option.choices[-1]}"), path
        with pytest.raises(UserError) as from_validation:
            validate.complete(path, command, {"output": "sarif\nx"})
        assert str(from_validation.value) == message, path


def test_every_printer_prints_the_catalog_answers():
    from kubectl_apiinfo.answers import diff
    from kubectl_apiinfo.printers import upgrade
    source = select.release("1.25")
    snapshot = source.snapshot
    for rows, formats in (
        (listings.resources(snapshot), listing_printers.RESOURCES),
        (listings.versions(snapshot), listing_printers.VERSIONS),
        (listings.releases(), listing_printers.RELEASES),
    ):
        for output, printer in formats.items():
            for no_headers in (False, True):
                assert printer(rows, no_headers).count("\n") >= len(rows), output
    answer = show_answers.explain(source, "cronjobs")
    for output, printer in show_printer.FORMATS.items():
        assert "cronjobs.batch" in printer(answer), output
    before, after = select.release("1.24"), select.release("1.25")
    try:
        changes = diff.diff(before, after)
    finally:
        before.close()
        after.close()
    for output, printer in upgrade.DIFF.items():
        assert "policy/v1beta1" in printer(changes, False), output


# --- the order in which sources answer ----------------------------------------------------


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith(("KUBE", "KUBECTL_APIINFO"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    return tmp_path


def _unreachable_kubeconfig(home) -> str:
    path = home / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: me, user: {token: t0ken}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: me}}]\n"
    )
    return str(path)


def test_a_release_named_is_the_catalog(isolated):
    source = select.for_query(ClusterFlags(), "1.20")
    assert (source.describe()["kind"], source.snapshot.source.kubernetes_version) == ("catalog", "1.20")


def test_no_kubeconfig_is_the_newest_catalog_release_with_a_note(isolated):
    source = select.for_query(ClusterFlags(), None)
    snapshot = source.snapshot
    assert snapshot.source.kind == "catalog" and snapshot.source.kubernetes_version == releases.newest()
    assert any("No cluster is configured" in n for n in snapshot.source.notes)


def test_offline_order_our_snapshot_then_the_last_seen_release_then_an_error(isolated, monkeypatch, capsys):
    monkeypatch.setenv("KUBECONFIG", _unreachable_kubeconfig(isolated))
    flags = ClusterFlags(offline=True)
    with pytest.raises(UserError, match="no snapshot of gone is cached"):
        select.for_query(flags, None)
    access = load_access(flags)
    with open_cache(flags) as cache:
        cache.remember_version(access.identity, "1.29")
    fallback = select.for_query(flags, None).snapshot
    assert (fallback.source.kind, fallback.source.kubernetes_version) == ("catalog", "1.29")
    assert "its last seen version" in capsys.readouterr().err
    cluster = releases.load_release("1.31")
    cluster.source.kind, cluster.source.name = "cluster", "gone"
    with open_cache(flags) as cache:
        cache.put(Entry(access.identity, "gone", access.display_server, cluster, time.time()))
    ours = select.for_query(flags, None).snapshot
    assert (ours.source.kind, ours.source.kubernetes_version) == ("cluster", "1.31"), "our snapshot comes first"


# --- commands in-process, with any source ------------------------------------------------


def _run(line: list, source, contexts=None):
    """A command run in-process as main() runs it, but handed these sources; (status, what it printed)."""
    from kubectl_apiinfo.cli import router, validate
    from kubectl_apiinfo.commands.factory import FixedSources

    parsed = router.parse(line)
    options = validate.complete(parsed.path, parsed.command, parsed.values)
    factory = FixedSources(options, source, contexts)
    module = __import__(f"kubectl_apiinfo.commands.{parsed.command.handler}", fromlist=["run"])
    return module.run(options, factory) or 0, "".join(factory.printed)


def _as_cluster(release: str, name: str):
    """A catalog release's snapshot dressed as a cluster's discovery: a ClusterSnapshot with no documents."""
    from kubectl_apiinfo.sources.source import ClusterSnapshot

    snapshot = releases.load_release(release)
    snapshot.source.kind, snapshot.source.name, snapshot.source.server = "cluster", name, "https://example:6443"
    return ClusterSnapshot(snapshot, release)


def test_a_command_runs_in_process_on_any_source(cli):
    status, text = _run(["resources", "--kube-version", "1.16"], select.release("1.16"))
    assert status == 0 and text == cli("resources", "--kube-version", "1.16").stdout
    # The same command on a cluster's snapshot: the same rows, where they come from said in -o json.
    status, text = _run(["deployments", "-o", "json"], _as_cluster("1.16", "prod"))
    answer = json.loads(text)
    assert answer["source"]["kind"] == "cluster" and answer["source"]["name"] == "prod"
    assert {r["qualifiedName"] for r in answer["resources"]} == {"deployments.apps", "deployments.extensions"}


def test_check_asks_its_source_not_which_kind_it_is(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    status, text = _run(["check", "-f", str(manifest), "-o", "json"], select.release("1.30"))
    release_finding = json.loads(text)["findings"][0]
    status, text = _run(["check", "-f", str(manifest), "-o", "json"], _as_cluster("1.30", "prod"))
    cluster_finding = json.loads(text)["findings"][0]
    assert release_finding["finding"] == cluster_finding["finding"] == "unknown-kind"
    assert "a CustomResourceDefinition must serve it" in release_finding["detail"]  # a default API server lacks it
    assert "install its CustomResourceDefinition" in cluster_finding["detail"]  # this cluster does not serve it yet


def test_diff_takes_its_sides_from_the_factory():
    status, text = _run(["diff", "prod", "1.25", "-o", "json"], None, {"prod": _as_cluster("1.24", "prod")})
    removed = {r["groupVersion"] for r in json.loads(text)["groupVersions"] if r["change"] == "removed"}
    assert "policy/v1beta1" in removed and "batch/v1beta1" in removed


def test_the_cache_policy_wraps_the_server_as_client_gos_cached_discovery(fake_apiserver, isolated, monkeypatch):
    """fresh() says whether the server answered just now; invalidate() sends the next question to it;
    past the TTL the server is asked whether the cached snapshot still holds (revalidated)."""
    from kubectl_apiinfo.sources.cluster.cached import CachedDiscovery

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    monkeypatch.setenv("KUBECONFIG", str(api.write_kubeconfig(isolated / "kubeconfig")))
    flags = ClusterFlags(cache_ttl=3600)

    def discovery(**changes):
        return CachedDiscovery(flags.replace(**changes), lambda: open_cache(flags))

    first = discovery()
    assert first.remembered() is None, "nothing is cached yet"
    assert first.snapshot().group("apps") is not None and first.fresh()
    first.close()
    api.reset()
    second = discovery()
    assert second.remembered(["deployments"]) is not None and not second.fresh()
    assert api.requests()["count"] == 0, "a cached answer asks nothing"
    second.invalidate()
    assert second.remembered() is None
    second.snapshot()
    assert second.fresh() and api.requests()["count"] > 0
    second.close()
    api.reset()
    with select.for_query(flags.replace(cache_ttl=0)) as source:
        assert source.revalidated and source.from_cache
    assert api.requests()["count"] > 0, "past its TTL the snapshot is checked with the server"
