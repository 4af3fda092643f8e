"""stale-rule, as check reports it: rules (RBAC, admission webhooks and policies, APIServices) that name APIs
a release or a cluster does not serve.  Handwritten objects with every shape of rule, the real corpus of
rendered charts (each finding cross-checked against the raw resource tables of the shared data), and a
cluster whose discovery knows a CRD group and failed for another."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import K8S_DATA

MANIFESTS = Path(__file__).parent / "manifests"
RULES = MANIFESTS / "stale-rules.yaml"
# The shared corpus of real manifests ($K8S_MANIFESTS, else beside the shared Kubernetes data).
CORPUS = Path(os.environ.get("K8S_MANIFESTS") or K8S_DATA.parent / "manifests")


def stale(answer: dict) -> set:
    return {(f["kind"], f["name"], f["rule"], f["stale"]) for f in answer["findings"] if f["finding"] == "stale-rule"}


def check(cli, path, *args):
    result = cli("check", "-f", str(path), *args, "-o", "json")
    assert result.returncode in (0, 2, 3), result.stderr
    return json.loads(result.stdout)


# --- handwritten rules against releases ---------------------------------------------------------------


def test_every_kind_of_rule_against_1_30_names_only_what_is_gone(cli):
    answer = check(cli, RULES, "--kube-version", "1.30")
    assert stale(answer) == {
        ("ClusterRole", "legacy", "rules[1]", "extensions/deployments"),
        ("ClusterRole", "legacy", "rules[1]", "extensions/ingresses"),
        ("ClusterRole", "legacy", "rules[2]", "policy/podsecuritypolicies"),
        ("ClusterRole", "aggregated", "rules[0]", "extensions/ingresses/status"),
        # apps and extensions x v1 and v1beta1: extensions/v1 never was, and is not named
        ("ValidatingWebhookConfiguration", "guard", "webhooks[0].rules[0]", "apps/v1beta1 deployments"),
        ("ValidatingWebhookConfiguration", "guard", "webhooks[0].rules[0]", "extensions/v1beta1 deployments"),
        ("ValidatingWebhookConfiguration", "guard", "webhooks[0].rules[3]", "networking.k8s.io/v1beta1 ingresses"),
        ("MutatingWebhookConfiguration", "old-hook", "webhooks[0].rules[0]", "batch/v1beta1 cronjobs"),
        ("ValidatingAdmissionPolicy", "budgets", "spec.matchConstraints.resourceRules[0]", "policy/v1beta1 poddisruptionbudgets"),
        ("ValidatingAdmissionPolicy", "budgets", "spec.matchConstraints.excludeResourceRules[0]",
         "autoscaling/v2beta2 horizontalpodautoscalers"),
        ("ValidatingAdmissionPolicyBinding", "budgets", "spec.matchResources.resourceRules[0]",
         "flowcontrol.apiserver.k8s.io/v1beta2 flowschemas"),
        ("APIService", "v1beta1.extensions", "spec", "extensions/v1beta1"),
    }
    found = {(f["name"], f["stale"]): f for f in answer["findings"] if f["finding"] == "stale-rule"}
    psp = found[("legacy", "policy/podsecuritypolicies")]
    assert psp["detail"] == "rules[2]: policy/podsecuritypolicies is not served in Kubernetes 1.30 (removed in 1.25)"
    assert (psp["removed"], psp["replacement"], psp["replacementServed"]) == ("1.25", None, None)
    ingress = found[("aggregated", "extensions/ingresses/status")]
    assert (ingress["removed"], ingress["replacement"], ingress["replacementServed"]) == (
        "1.22", "networking.k8s.io/ingresses/status", True)
    assert "use networking.k8s.io/ingresses/status, served in Kubernetes 1.30" in ingress["detail"]
    hpa = found[("budgets", "autoscaling/v2beta2 horizontalpodautoscalers")]
    assert (hpa["removed"], hpa["replacement"]) == ("1.26", "autoscaling/v2 horizontalpodautoscalers")


def test_rules_are_judged_at_the_release_asked(cli):
    at_1_21 = stale(check(cli, RULES, "--kube-version", "1.21"))
    assert {s for *_, s in at_1_21} == {
        "extensions/deployments",  # extensions/v1beta1 is still served in 1.21, without deployments
        "apps/v1beta1 deployments", "extensions/v1beta1 deployments",
        "flowcontrol.apiserver.k8s.io/v1beta2 flowschemas",  # not yet: served from 1.23
    }
    answer = check(cli, RULES, "--kube-version", "1.21")
    [future] = [f for f in answer["findings"] if f.get("stale", "").startswith("flowcontrol")]
    assert "(served from 1.23)" in future["detail"] and future["replacement"] is None
    at_1_24 = {s for *_, s in stale(check(cli, RULES, "--kube-version", "1.24"))}
    assert "policy/podsecuritypolicies" not in at_1_24 and "extensions/ingresses" in at_1_24
    assert "policy/podsecuritypolicies" in {s for *_, s in stale(check(cli, RULES, "--kube-version", "1.25"))}


def test_stale_rules_do_not_fail_unless_asked(cli, tmp_path):
    role = tmp_path / "role.yaml"
    role.write_text(RULES.read_text().split("---\n")[0])
    result = cli("check", "-f", str(role), "--kube-version", "1.29")
    assert result.returncode == 0, result.stderr
    assert "stale-rule" in result.stdout and "rules[2]: policy/podsecuritypolicies" in result.stdout
    assert cli("check", "-f", str(role), "--kube-version", "1.29", "--fail-on", "stale-rule").returncode == 3
    assert "stale-rule" in cli("check", "--help").stdout


def test_crd_groups_and_unknown_groups_say_nothing_against_a_release(cli, tmp_path):
    text = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cm}\nrules:\n"
        "- {apiGroups: [cert-manager.io], resources: [certificates, signers], verbs: [get]}\n---\n"
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: cm}\n"
        "webhooks:\n- name: cm.example.com\n  rules:\n"
        "  - {apiGroups: [cert-manager.io], apiVersions: [v1alpha2], resources: [certificates]}\n"
        "  - {apiGroups: [apps, cert-manager.io], apiVersions: [v1], resources: [deployments, certificates]}\n"
    )
    path = tmp_path / "cm.yaml"
    path.write_text(text)
    assert stale(check(cli, path, "--kube-version", "1.29")) == set()


# --- the real corpus ---------------------------------------------------------------------------------------


def served_table(k8s_data: Path, release: str) -> dict:
    """{(group, version): {plural, ...}} of a release, from the shared data's raw resource table."""
    rows = json.loads((k8s_data / "resources" / f"v{release}.json").read_text())["resources"]
    table: dict = {}
    for r in rows:
        table.setdefault((r["group"], r["version"]), set()).add(r["resource"])
    return table


@pytest.fixture(scope="module")
def corpus_answers(tmp_path_factory):
    from conftest import CLI

    if not CORPUS.is_dir():
        pytest.skip(f"no corpus of real manifests at {CORPUS}")
    home = tmp_path_factory.mktemp("home")
    cli = CLI(home)
    return {release: check(cli, CORPUS, "-R", "--kube-version", release) for release in ("1.22", "1.25", "1.29")}


def test_the_corpus_stale_rules_are_each_absent_from_the_raw_specs(corpus_answers, k8s_data):
    for release, answer in corpus_answers.items():
        table = served_table(k8s_data, release)
        groups = {g for g, _ in table}
        found = [f for f in answer["findings"] if f["finding"] == "stale-rule"]
        assert found, release
        for f in found:
            name = f["stale"]
            if f["kind"] in ("Role", "ClusterRole"):
                group, _, resource = name.partition("/")
                base = resource.split("/")[0]
                assert group not in groups or all(base not in t for (g, _), t in table.items() if g == group), f
            else:
                gv, _, resource = name.partition(" ")
                group, _, version = gv.rpartition("/")
                assert (group, version) not in table or resource.split("/")[0] not in table[(group, version)], f


def test_the_corpus_names_known_stale_rules_and_leaves_current_ones_alone(corpus_answers):
    by_release = {r: [f for f in a["findings"] if f["finding"] == "stale-rule"] for r, a in corpus_answers.items()}
    names = {r: {f["stale"] for f in fs} for r, fs in by_release.items()}
    # PodSecurityPolicy: served in policy/v1beta1 until 1.24 (raw specs), gone from 1.25
    assert "policy/podsecuritypolicies" not in names["1.22"]
    assert "policy/podsecuritypolicies" in names["1.25"] and "policy/podsecuritypolicies" in names["1.29"]
    psp = [f for f in by_release["1.25"] if f["stale"] == "policy/podsecuritypolicies" and f["kind"] == "ClusterRole"]
    assert psp and all(f["removed"] == "1.25" for f in psp)
    # extensions: its last version (ingresses) gone in 1.22
    assert {"extensions/ingresses", "extensions/podsecuritypolicies"} <= names["1.22"]
    ingress = [f for f in by_release["1.22"] if f["stale"] == "extensions/ingresses"]
    assert all(f["replacement"] == "networking.k8s.io/ingresses" and f["replacementServed"] for f in ingress)
    # ingress-nginx's admission webhook still names networking.k8s.io/v1beta1 (gone in 1.22)
    assert "networking.k8s.io/v1beta1 ingresses" in names["1.22"]
    for release, found in names.items():
        for name in found:
            assert name.startswith(("extensions/", "policy/podsecuritypolicies", "networking.k8s.io/v1beta1 ")), (release, name)
            assert not name.startswith(("apps/", "coordination.k8s.io/", "*")), (release, name)
        assert len(by_release[release]) == len({(f["file"], f["line"], f["rule"], f["stale"]) for f in by_release[release]})


# --- a cluster ------------------------------------------------------------------------------------------------


CLUSTER_RULES = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mixed}
rules:
- {apiGroups: [g0001.example.com], resources: [widgets, gadgets], verbs: [get]}
- {apiGroups: [extensions], resources: [ingresses], verbs: [get]}
- {apiGroups: [batch], resources: [cronjobs, jobs], verbs: [get]}
- {apiGroups: [cert-manager.io], resources: [certificates], verbs: [get]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: mixed}
webhooks:
- name: mixed.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {service: {name: mixed, namespace: mixed}}
  rules:
  - {apiGroups: [g0001.example.com], apiVersions: [v1alpha1], operations: [CREATE], resources: [widgets]}
  - {apiGroups: [g0001.example.com], apiVersions: [v1], operations: [CREATE], resources: [widgets]}
  - {apiGroups: [batch], apiVersions: [v1beta1], operations: [CREATE], resources: [cronjobs]}
  - {apiGroups: [cert-manager.io], apiVersions: [v1alpha2], operations: [CREATE], resources: [certificates]}
  - {apiGroups: [metrics.k8s.io], apiVersions: [v1beta1], operations: [CREATE], resources: [pods]}
"""

WIDGET_CRD = """\
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.g0001.example.com}
spec:
  group: g0001.example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget}
  versions:
  - {name: v1alpha1, served: true, storage: false, schema: {openAPIV3Schema: {type: object}}}
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
"""


def test_a_cluster_judges_the_groups_its_discovery_knows_and_no_other(cli, fake_apiserver, tmp_path):
    """The cluster knows g0001.example.com (a CRD group): its missing v1alpha1 is stale.  batch's discovery
    failed: unknown, not absent.  cert-manager.io and metrics.k8s.io it does not serve: maybe not installed
    yet, nothing said.  A CRD in the same input that defines a group takes it out of judgement."""
    api = fake_apiserver(release="1.33", crd_groups=1, token="t0ken", fail_group_versions=["batch/v1", "batch/v1beta1"])
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    path = tmp_path / "rules.yaml"
    path.write_text(CLUSTER_RULES)
    answer = check(cli, path)
    assert answer["targets"][0]["kind"] == "cluster"
    assert stale(answer) == {
        ("ClusterRole", "mixed", "rules[1]", "extensions/ingresses"),
        ("ValidatingWebhookConfiguration", "mixed", "webhooks[0].rules[0]", "g0001.example.com/v1alpha1"),
    }
    where = answer["targets"][0]["name"]
    details = sorted(f["detail"] for f in answer["findings"] if f["finding"] == "stale-rule")
    assert details == [
        f"rules[1]: extensions/ingresses is not served in {where} (removed in 1.22); use networking.k8s.io/ingresses, served in {where}",
        f"webhooks[0].rules[0]: g0001.example.com/v1alpha1 is not served in {where}",
    ]
    path.write_text(CLUSTER_RULES + WIDGET_CRD)
    assert {s for *_, s in stale(check(cli, path))} == {"extensions/ingresses"}
