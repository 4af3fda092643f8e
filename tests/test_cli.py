"""The installed command, run in a subprocess, answering from the offline catalog."""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml

from conftest import assert_one_line_error


def versions_of(answer, qualified):
    res = next(r for r in answer["resources"] if r["qualifiedName"] == qualified)
    return {v["groupVersion"]: v for v in res["versions"]}


def test_deployments_in_1_15_lists_four_group_versions_with_lifecycle(cli):
    answer = cli.json("deployments", "--kube-version", "1.15")
    # In discovery order: the kube-aggregator lists extensions first, so kubectl takes it.
    assert [r["qualifiedName"] for r in answer["resources"]] == ["deployments.extensions", "deployments.apps"]
    assert answer["kubectlPick"]["groupVersion"] == "extensions/v1beta1"
    assert answer["kubectlPickNote"] == "extensions comes first in discovery"
    versions = {**versions_of(answer, "deployments.apps"), **versions_of(answer, "deployments.extensions")}
    assert set(versions) == {"apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"}
    assert all(v["served"] for v in versions.values())
    ext = versions["extensions/v1beta1"]["lifecycle"]
    assert (ext["deprecated"], ext["removed"], ext["replacement"]) == ("1.8", "1.16", "apps/v1/Deployment")
    assert versions["apps/v1beta2"]["lifecycle"]["deprecated"] == "1.9"
    assert versions["apps/v1"]["preferred"] and versions["apps/v1"]["stability"] == "stable"
    assert answer["resources"][1]["apiVersion"] == "apps/v1"

    text = cli("deployments", "--kube-version", "1.15")
    assert text.returncode == 0
    assert "KUBECTL: kubectl picks deployments in extensions/v1beta1 (extensions comes first in discovery)" in text.stdout
    for gv in versions:
        assert re.search(rf"^\s*{re.escape(gv)}\s+beta|^\s*{re.escape(gv)}\s+stable", text.stdout, re.M), gv
    assert "removed in 1.16 (still re-enableable in 1.16–1.17)" in text.stdout
    assert "apps/v1 Deployment" in text.stdout


def test_deployments_in_1_16_only_apps_v1_is_served(cli):
    answer = cli.json("deployments", "--kube-version", "1.16")
    served = {v["groupVersion"] for r in answer["resources"] for v in r["versions"] if v["served"]}
    contained = {v["groupVersion"] for r in answer["resources"] for v in r["versions"]}
    assert served == {"apps/v1"}
    assert contained == {"apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"}
    assert answer["kubectlPick"] == {"resource": "deployments", "group": "apps", "version": "v1", "groupVersion": "apps/v1"}
    text = cli("deployments", "--kube-version", "v1.16.3").stdout
    assert re.search(r"^\s*extensions/v1beta1\s+beta\s+yes\s+no\s", text, re.M)
    assert re.search(r"^\s*apps/v1\s+stable\s+yes\s+yes\s", text, re.M)


def test_history_spans_the_catalog(cli):
    answer = cli.json("deployments")  # the newest release
    history = {h["groupVersion"]: h for h in answer["history"]}
    assert history["extensions/v1beta1"]["served"] == [["1.15", "1.15"]]
    assert history["extensions/v1beta1"]["contained"] == [["1.15", "1.17"]]
    assert history["apps/v1"]["served"] == [["1.15", answer["source"]["kubernetesVersion"]]]


def test_explain_fields(cli):
    res = cli.json("pods", "--kube-version", "1.33")["resources"][0]
    assert (res["kind"], res["namespaced"], res["shortNames"], res["categories"]) == ("Pod", True, ["po"], ["all"])
    subs = {s["name"]: s for s in res["versions"][0]["subresources"]}
    assert subs["eviction"]["groupVersion"] == "policy/v1" and subs["eviction"]["kind"] == "Eviction"
    assert "exec" in subs and subs["exec"]["kind"] == "PodExecOptions"
    text = cli("pods", "--kube-version", "1.33").stdout
    assert re.search(r"^SCOPE:\s+Namespaced$", text, re.M)
    assert re.search(r"^SHORT NAMES:\s+po$", text, re.M)
    assert "eviction (policy/v1 Eviction: create)" in text


def test_events_shows_both_groups_and_kubectls_pick(cli):
    answer = cli.json("events", "--kube-version", "1.33")
    assert [r["qualifiedName"] for r in answer["resources"]] == ["events", "events.events.k8s.io"]
    assert answer["kubectlPick"]["groupVersion"] == "v1"
    assert "KUBECTL: kubectl picks events in v1" in cli("events", "--kube-version", "1.33").stdout


def test_connect_subresources_and_the_source_of_every_release(cli):
    answer = cli.json("pods", "--kube-version", "1.15")
    subs = {s["name"] for s in answer["resources"][0]["versions"][0]["subresources"]}
    assert {"exec", "attach", "portforward", "proxy"} <= subs
    assert answer["source"]["origin"] == "OpenAPI v2 spec"
    assert any("OpenAPI v2 spec of Kubernetes 1.15" in n for n in answer["source"]["notes"])
    nodes = cli.json("nodes", "--kube-version", "1.25")
    assert "proxy" in {s["name"] for s in nodes["resources"][0]["versions"][0]["subresources"]}
    assert nodes["source"]["origin"] == "OpenAPI v3 documents"
    origins = {r["version"]: r["origin"] for r in cli.json("releases")["releases"]}
    assert origins["1.23"] == "resource table (cross-checked against v3 paths)"
    assert origins["1.37"] == "resource table and connect operations"
    # The newest release, without a raw spec, has its connect subresources as the release before has them.
    names = list(origins)
    connect = lambda release: [  # noqa: E731
        s for s in cli.json("pods", "--kube-version", release)["resources"][0]["versions"][0]["subresources"]
        if s["name"] in ("exec", "attach", "portforward", "proxy")
    ]
    assert len(connect(names[-1])) == 4 and connect(names[-1]) == connect(names[-2])
    wide = cli("releases", "-o", "wide").stdout
    assert re.search(r"^1\.25\s.*OpenAPI v3 documents$", wide, re.M)
    assert re.search(r"^1\.23\s.*resource table \(cross-checked against v3 paths\)$", wide, re.M)


def test_ingresses_in_1_20_and_events_pick_as_kubectl_does(cli):
    answer = cli.json("ingresses", "--kube-version", "1.20")
    assert answer["kubectlPick"]["groupVersion"] == "extensions/v1beta1"
    assert "KUBECTL: kubectl picks ingresses in extensions/v1beta1 (extensions comes first in discovery)" in cli(
        "ingresses", "--kube-version", "1.20"
    ).stdout
    assert cli.json("events")["kubectlPick"]["group"] == ""


def test_derived_replacements_and_introduced_say_what_they_are(cli):
    answer = cli.json("runtimeclasses", "--kube-version", "1.22")
    beta = versions_of(answer, "runtimeclasses.node.k8s.io")["node.k8s.io/v1beta1"]["lifecycle"]
    assert (beta["replacement"], beta["replacementDerived"]) == ("node.k8s.io/v1/RuntimeClass", True)
    text = cli("runtimeclasses", "--kube-version", "1.22").stdout
    assert "node.k8s.io/v1 RuntimeClass (derived)" in text
    ic = {h["groupVersion"]: h["lifecycle"] for h in cli.json("ingressclasses")["history"]}["networking.k8s.io/v1beta1"]
    assert (ic["replacement"], ic["replacementUpstream"]) == ("networking.k8s.io/v1/IngressClass", "networking.k8s.io/v1/IngressClassList")
    ext = versions_of(cli.json("deployments", "--kube-version", "1.15"), "deployments.extensions")["extensions/v1beta1"]
    assert ext["lifecycle"]["replacementDerived"] is False
    auth = {h["groupVersion"]: h["lifecycle"] for h in cli.json("selfsubjectaccessreviews")["history"]}["authorization.k8s.io/v1"]
    assert (auth["introduced"], auth["introducedUpstream"], auth["introducedNote"]) == (None, "1.19", "in every release since 1.15")
    text = cli("selfsubjectaccessreviews").stdout
    assert re.search(r"^\s*authorization\.k8s\.io/v1\s.*\s1\.15–1\.37\s+in every release since 1\.15 \(upstream 1\.19\)\s", text, re.M)


def test_the_newest_release_is_labelled_as_the_release_it_is(cli):
    answer = cli.json("deployments")
    assert "developmentCycle" not in answer["source"] and answer["source"]["kubernetesVersion"] == "1.37"
    assert "SOURCE:         Kubernetes 1.37 (offline catalog; SERVED means served by a default API server)" in cli("deployments").stdout
    assert_one_line_error(cli("deploymnets"), "Kubernetes 1.37 has no resource type")
    rows = cli.json("releases")["releases"]
    assert all(r["developmentCycle"] is False for r in rows)
    assert re.search(r"^1\.37\s+yes\s", cli("releases").stdout, re.M)
    for args in (["deployments"], ["releases"], ["deployments", "-o", "json"], ["explain", "pods"]):
        assert "development" not in cli(*args).stdout, args


def test_a_removed_resource_shows_its_history_and_fails(cli):
    result = cli("podsecuritypolicies")
    assert_one_line_error(result, "last served by policy/v1beta1 in 1.24")
    assert re.search(r"^\s*policy/v1beta1\s+PodSecurityPolicy\s+1\.15–1\.24\s", result.stdout, re.M)


def test_a_resource_not_yet_introduced_says_from_when_not_removed(cli):
    """Asked of a release before any served it, the answer is when it comes, never "last served in" a later one."""
    import json as _json

    answer = _json.loads(cli("validatingadmissionpolicies", "--kube-version", "1.37", "-o", "json").stdout)
    first = min((s[0] for h in answer["history"] for s in h["served"]), key=lambda r: tuple(map(int, r.split("."))))
    result = cli("validatingadmissionpolicies", "--kube-version", "1.20")
    assert_one_line_error(result, "is not served by Kubernetes 1.20 yet", f"serves it from {first}")
    assert "last served" not in result.stderr


def _columns(line: str) -> list[int]:
    return [m.start() for m in re.finditer(r"(?:^|(?<=\s{3}))\S", line)]


def test_resources_matches_the_kube_apiserver_default_lists(cli, k8s_data):
    lists = json.loads((k8s_data / "default-enabled.json").read_text())["releases"]["1.33"]
    enabled = set(lists["enabledGroupVersions"]) | set(lists["otherServersEnabled"]["groupVersions"])
    raw = json.loads((k8s_data / "resources" / "v1.33.json").read_text())["resources"]
    expected = {
        (r["resource"], r["group"])
        for r in raw
        if (f"{r['group']}/{r['version']}" if r["group"] else r["version"]) in enabled
    }
    rows = cli.json("resources", "--kube-version", "1.33")["resources"]
    assert {(r["name"], r["group"]) for r in rows} == expected
    assert all(r["apiVersion"] in enabled for r in rows)

    table = cli("resources", "--kube-version", "1.33").stdout.splitlines()
    assert table[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert len(table) == len(expected) + 1
    # kubectl's ordering: by group (core first), ties by name
    groups = [r["group"] for r in rows]
    assert groups == sorted(groups) and rows[0]["group"] == ""
    # Every KIND cell starts where the KIND header does, three spaces after the widest cell.
    kind_col = table[0].index("KIND")
    assert all(line[kind_col - 1] == " " and line[kind_col] != " " for line in table)
    deploy = next(line for line in table if line.startswith("deployments "))
    assert deploy.split() == ["deployments", "deploy", "apps/v1", "true", "Deployment"]


def test_versions_matches_the_kube_apiserver_default_lists(cli, k8s_data):
    lists = json.loads((k8s_data / "default-enabled.json").read_text())["releases"]["1.33"]
    enabled = set(lists["enabledGroupVersions"]) | set(lists["otherServersEnabled"]["groupVersions"])
    listed = cli("versions", "--kube-version", "1.33", "-o", "name").stdout.split()
    assert listed == sorted(enabled)
    rows = {r["groupVersion"]: r for r in cli.json("versions", "--kube-version", "1.24")["versions"]}
    assert rows["autoscaling/v2"]["preferred"] and not rows["autoscaling/v1"]["preferred"]
    assert rows["autoscaling/v2beta2"]["stability"] == "beta"  # served only through a legacy beta resource
    assert rows["autoscaling/v2beta2"]["resources"] == 1


def test_resources_filters(cli):
    def rows(*args):
        return cli.json("resources", "--kube-version", "1.33", *args)["resources"]

    everything = rows()
    assert {r["group"] for r in rows("--api-group", "apps")} == {"apps"}
    assert [r["name"] for r in rows("--api-group", "")] == sorted(r["name"] for r in everything if r["group"] == "")
    cluster = rows("--namespaced=false")
    assert cluster and not any(r["namespaced"] for r in cluster)
    assert len(cluster) + len(rows("--namespaced")) == len(everything)
    watchable = rows("--verbs", "create,watch")
    assert watchable and all({"create", "watch"} <= set(r["verbs"]) for r in watchable)
    assert rows("--verbs", "create", "--verbs", "watch") == watchable
    assert {r["name"] for r in rows("--categories", "all")} == {
        "pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets",
        "statefulsets", "horizontalpodautoscalers", "cronjobs", "jobs",
    }
    kinds = [r["kind"] for r in rows("--sort-by", "kind")]
    assert kinds == sorted(kinds)
    names = cli("resources", "--kube-version", "1.33", "--api-group", "apps", "-o", "name").stdout.split()
    assert "deployments.apps" in names and all(n.endswith(".apps") for n in names)
    bare = cli("resources", "--kube-version", "1.33", "--no-headers").stdout.splitlines()
    assert len(bare) == len(everything) and not bare[0].startswith("NAME")
    wide = cli("resources", "--kube-version", "1.33", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES"]
    assert any(line.startswith("pods ") and line.endswith(" create,delete,deletecollection,get,list,patch,update,watch   all") for line in wide)


def test_releases(cli):
    rows = cli.json("releases")["releases"]
    assert [r["version"] for r in rows] == [f"1.{n}" for n in range(15, 38)]
    assert [r["version"] for r in rows if r["defaultsDerived"]] == ["1.22", "1.32"]
    assert cli("releases", "-o", "name").stdout.split()[-1] == "1.37"


def test_yaml_and_json_say_the_same(cli):
    as_json = cli.json("ingresses", "--kube-version", "1.19")
    as_yaml = yaml.safe_load(cli("ingresses", "--kube-version", "1.19", "-o", "yaml").stdout)
    assert as_yaml == as_json
    assert cli("ingresses", "--kube-version", "1.19", "-o", "name").stdout.split() == [
        "ingresses.extensions",
        "ingresses.networking.k8s.io",
    ]


def test_flags_anywhere_and_subcommands_win(cli):
    before = cli("--kube-version", "1.15", "-o", "json", "deployments")
    after = cli("deployments", "--kube-version", "1.15", "-o", "json")
    assert before.returncode == 0 and before.stdout == after.stdout
    assert cli("-o", "name", "releases").stdout.split()[0] == "1.15"
    # 'show' is the explicit spelling: the word after it is always a resource.
    assert_one_line_error(cli("show", "releases"), "no resource type 'releases'")
    assert cli("show", "deploy", "--kube-version", "1.33", "-o", "name").stdout == "deployments.apps\n"


def test_help(cli):
    for bare, usage in (([], "kubectl apiinfo (RESOURCE | COMMAND)"), (["cache"], "kubectl apiinfo cache SUBCOMMAND")):
        shown = cli(*bare)  # no command words: help, as with kubectl (tests/test_help.py checks its layout)
        assert shown.returncode == 0 and f"Usage:\n  {usage}" in shown.stdout and shown.stderr == ""
    top = cli("--help")
    assert top.returncode == 0
    for command in ("show", "resources", "versions", "releases"):
        assert command in top.stdout
    sub = cli("deployments", "--help")
    assert sub.returncode == 0 and "--kube-version" in sub.stdout


def test_commands_that_read_no_cluster_take_kubectls_connection_flags(cli, tmp_path):
    # kubectl takes --kubeconfig, --context ... on every command; an alias that adds them must not break these
    connection = ["--kubeconfig", str(tmp_path / "absent"), "--context", "x", "--request-timeout", "5s", "-s", "https://h"]
    assert cli("releases", "-o", "name", *connection).stdout.split()[0] == "1.15"
    listed = cli("cache", "list", *connection)
    assert listed.returncode == 0 and listed.stdout.split()[:2] == ["NAME", "SERVER"], listed.stderr
    exported = cli("cache", "export", str(tmp_path / "b.json"), *connection)
    assert exported.returncode == 0 and "exported 0 snapshots" in exported.stderr, exported.stderr
    imported = cli("cache", "import", str(tmp_path / "b.json"), *connection)
    assert imported.returncode == 0 and imported.stderr == "imported 0 snapshots\n", imported.stderr
    assert cli("cache", "clear", *connection).returncode == 0
    # still checked as values, and kept out of help, where they would promise an effect they do not have
    assert_one_line_error(cli("cache", "list", "--request-timeout", "soon"), "not a duration")
    assert "--kubeconfig" not in cli("cache", "list", "--help").stdout


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["deploymnets"], "did you mean 'deployments'"),
        (["deployments", "--kube-version", "1.14"], "1.15 to 1.37"),
        (["deployments", "--kube-version", "1.99"], "newer than the catalog, whose newest release is 1.37"),
        (["deployments", "--kube-version", "latest"], "not a Kubernetes version"),
        (["deployments", "-o", "bogus"], "--output 'bogus' is not available"),
        (["resources", "--sort-by", "age"], "--sort-by accepts only name or kind"),
        (["resources", "--namespaced=maybe"], "--namespaced takes true or false"),
        (["resources", "--bogus"], "--bogus"),
        (["resources", "--bogus"], "see 'kubectl apiinfo resources --help'"),
        (["deployments", "extra"], "unexpected extra argument"),
    ],
)
def test_bad_input_gets_one_line(cli, args, fragment):
    assert_one_line_error(cli(*args), fragment)


def test_python_dash_m_from_another_directory(cli, tmp_path):
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "kubectl_apiinfo", "deploy", "--kube-version", "1.30", "-o", "name"],
        capture_output=True, text=True, cwd=tmp_path, env=cli.env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "deployments.apps\n"


@pytest.mark.parametrize("args, shown", [(["pods", "-o"], "'o' in -o"), (["pods", "--output"], "--output"),
                                         (["check", "--kube-version", "1.33", "-f"], "'f' in -f")])
def test_a_flag_missing_its_value_is_named_as_pflag_names_it(cli, args, shown):
    """Not "Missing argument 'RESOURCE'": the flag at the end of the line is what lacks a value."""
    assert_one_line_error(cli(*args), f"flag needs an argument: {shown}")


@pytest.mark.parametrize(
    "args",
    [["explain", "{long}"], ["check", "-f", "{long}"], ["diff", "1.33", "{long}"], ["deployments", "--kubeconfig", "{long}"]],
    ids=["explain", "check", "diff", "kubeconfig"],
)
def test_a_long_argument_is_not_echoed_whole(cli, args):
    long = "x" * 3000
    result = cli(*[a.format(long=long) for a in args])
    assert_one_line_error(result, "x" * 50)
    assert "x" * 201 not in result.stderr
    assert len(result.stderr) < 600
