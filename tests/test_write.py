"""WRITE: the apiVersion a new manifest should use, which the resource answer opens with, and why kubectl's
pick differs where it does; the real command on the catalog and on a fake cluster's CRDs."""

from __future__ import annotations

import pytest

from kubectl_apiinfo.answers import show as show_answers
from kubectl_apiinfo.sources import select


def _first_line(cli, *args: str) -> str:
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "" and lines[2].startswith("RESOURCE:"), "WRITE: opens the answer, then its blocks"
    return lines[0]


def test_a_word_of_two_groups_has_one_write_line_and_says_why_kubectl_differs(cli):
    write = cli.json("ingresses", "--kube-version", "1.21")["write"]
    assert write == {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "resource": "ingresses.networking.k8s.io",
        "stability": "stable", "served": True, "deprecated": False, "reason": "stable and not deprecated",
        "kubectlPicks": "extensions/v1beta1", "kubectlPicksBecause": "extensions comes first in discovery",
    }
    assert _first_line(cli, "ingresses", "--kube-version", "1.21") == (
        "WRITE: networking.k8s.io/v1 Ingress: stable and not deprecated "
        "(kubectl picks extensions/v1beta1 because extensions comes first in discovery)")
    text = cli("ingresses", "--kube-version", "1.21", "-o", "wide").stdout
    assert text.count("WRITE: ") == 1 and text.startswith("WRITE: networking.k8s.io/v1 Ingress")


def test_where_kubectl_agrees_the_line_says_only_why():
    for release, word, want in (("1.37", "deployments", "apps/v1"), ("1.16", "deploy", "apps/v1"),
                                ("1.33", "events", "v1"), ("1.33", "hpa", "autoscaling/v2")):
        write = show_answers.explain(select.release(release), word)["write"]
        assert (write["apiVersion"], write["reason"], write["kubectlPicks"], write["kubectlPicksBecause"]) == (
            want, "stable and not deprecated", want, None), (release, word)


def test_no_stable_version_writes_the_newest_beta_and_says_when_it_goes(cli):
    write = cli.json("flowschemas", "--kube-version", "1.25")["write"]
    assert (write["apiVersion"], write["stability"], write["deprecated"]) == (
        "flowcontrol.apiserver.k8s.io/v1beta2", "beta", False), "v1beta1 is deprecated in 1.25; v1beta2 only in 1.26"
    assert write["reason"] == ("beta and not deprecated (Kubernetes 1.25 serves no stable version of it); "
                               "deprecated in 1.26, removed in 1.29")
    assert write["kubectlPicks"] == write["apiVersion"]


def test_an_alpha_api_is_said_to_be_alpha_and_off_by_default(cli):
    write = cli.json("validatingadmissionpolicies", "--kube-version", "1.27")["write"]
    assert (write["apiVersion"], write["stability"], write["served"], write["kubectlPicks"]) == (
        "admissionregistration.k8s.io/v1alpha1", "alpha", False, None)
    assert write["reason"].startswith("alpha and off by default: Kubernetes 1.27 serves no version of it")
    assert _first_line(cli, "validatingadmissionpolicies", "--kube-version", "1.27").startswith(
        "WRITE: admissionregistration.k8s.io/v1alpha1 ValidatingAdmissionPolicy: alpha and off by default")


def test_only_deprecated_versions_served_is_said(cli):
    write = cli.json("podsecuritypolicies", "--kube-version", "1.22")["write"]
    assert (write["apiVersion"], write["deprecated"]) == ("policy/v1beta1", True)
    assert write["reason"] == ("deprecated since 1.21, removed in 1.25, but Kubernetes 1.22 serves no version of it "
                               "that is not deprecated")


def test_nothing_served_has_nothing_to_write(cli):
    result = cli("podsecuritypolicies", "--kube-version", "1.30", "-o", "json")
    assert result.returncode == 1
    import json

    assert json.loads(result.stdout)["write"] is None
    assert not cli("podsecuritypolicies", "--kube-version", "1.30").stdout.startswith("WRITE")


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_write_is_in_the_structured_answers(cli, output):
    text = cli("ingresses", "--kube-version", "1.21", "-o", output).stdout
    assert "networking.k8s.io/v1" in text and "kubectlPicksBecause" in text


def test_a_crd_writes_its_served_version_that_is_not_deprecated(cli, fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", crd_groups=1, crd_versions=["v1", "v2beta1"],
                         crd_deprecated={"v1": "g0001.example.com/v1 Widget is deprecated; use v2beta1"})
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig", context_name="prod"))
    answer = cli.json("widgets")
    [resource] = answer["resources"]
    write = answer["write"]
    assert (write["apiVersion"], write["stability"], write["deprecated"]) == ("g0001.example.com/v2beta1", "beta", False)
    assert write["reason"] == "beta and not deprecated (prod's stable versions of it are deprecated)"
    assert write["kubectlPicks"] == resource["apiVersion"] == "g0001.example.com/v1"
    assert write["kubectlPicksBecause"] == "v1 is the group's preferred version"
    api.stop()
