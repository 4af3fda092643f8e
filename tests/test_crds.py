"""check reads custom resources against the CustomResourceDefinitions it is given: in the input, or with --crds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import assert_one_line_error, crd_head

STACK = "rendered/prometheus-community-2021/kube-prometheus-stack.yaml"

CRD = crd_head("Widget", "widgets") + """\
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              free: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {known: {type: string}}}
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    deprecationWarning: "example.com/v1beta1 Widget is going away; use example.com/v1"
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1alpha1
    served: false
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""

WIDGETS = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: typo}
spec: {size: 1, sise: 2, free: {anything: 1}}
---
apiVersion: example.com/v1beta1
kind: Widget
metadata: {name: old}
---
apiVersion: example.com/v1alpha1
kind: Widget
metadata: {name: disabled}
---
apiVersion: example.com/v2
kind: Widget
metadata: {name: future}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _findings(answer: dict) -> dict:
    out: dict = {}
    for f in answer["findings"]:
        out.setdefault(f["name"], []).append(f)
    return out


def _check(cli, *args: str):
    result = cli("check", *args, "--kube-version", "1.33", "-o", "json")
    assert result.returncode in (0, 2, 3), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_a_crd_in_the_stream_serves_its_resources_with_its_schema_and_lifecycle(cli, tmp_path):
    both = _write(tmp_path, "chart.yaml", CRD + "---\n" + WIDGETS)
    status, answer = _check(cli, "-f", str(both))
    found = _findings(answer)
    assert [(f["finding"], f["field"]) for f in found["typo"]] == [("unknown-field", "spec.sise")]
    assert "CustomResourceDefinition widgets.example.com" in found["typo"][0]["detail"]
    assert [f["finding"] for f in found["old"]] == ["deprecated"]
    assert "going away; use example.com/v1" in found["old"][0]["detail"]  # the CRD's own warning
    assert [f["finding"] for f in found["disabled"]] == ["not-served"] and "served: false" in found["disabled"][0]["detail"]
    assert [f["finding"] for f in found["future"]] == ["not-served"]
    assert "defines only v1, v1beta1, v1alpha1; use example.com/v1" in found["future"][0]["detail"]
    assert status == 3


def test_without_its_crd_a_custom_resource_is_an_unknown_kind_as_before(cli, tmp_path):
    alone = _write(tmp_path, "widgets.yaml", WIDGETS)
    status, answer = _check(cli, "-f", str(alone))
    assert {f["finding"] for f in answer["findings"]} == {"unknown-kind"} and status == 0


def test_crds_from_a_directory_given_with_the_crds_flag(cli, tmp_path):
    (tmp_path / "crds" / "deep").mkdir(parents=True)
    _write(tmp_path / "crds" / "deep", "widget.yaml", CRD)
    only_deprecated = _write(tmp_path, "old.yaml", WIDGETS.split("---\n")[1])
    status, answer = _check(cli, "-f", str(only_deprecated), "--crds", str(tmp_path / "crds"))
    assert [f["finding"] for f in answer["findings"]] == ["deprecated"] and status == 2
    assert answer["objects"] == 1  # a CRD given with --crds is read, not checked
    assert_one_line_error(cli("check", "-f", str(only_deprecated), "--crds", str(tmp_path / "nope")), "--crds", "nope")


def test_the_inputs_crd_wins_over_one_of_the_same_name_from_the_crds_flag(cli, tmp_path):
    served_v1alpha1 = CRD.replace("    served: false\n", "    served: true\n")
    flag_crds = _write(tmp_path, "flag-crds.yaml", served_v1alpha1)
    stream = _write(tmp_path, "stream.yaml", CRD + "---\n" + WIDGETS.split("---\n")[2])
    _, answer = _check(cli, "-f", str(stream), "--crds", str(flag_crds))
    assert [f["finding"] for f in answer["findings"]] == ["not-served"]
    _, answer = _check(cli, "-f", str(_write(tmp_path, "off.yaml", WIDGETS.split("---\n")[2])), "--crds", str(flag_crds))
    assert answer["findings"] == []


def test_a_v1beta1_crd_gives_its_shared_validation_schema_to_every_version(cli, tmp_path):
    legacy = """\
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  version: v1
  names: {kind: Gadget, plural: gadgets}
  scope: Cluster
  validation:
    openAPIV3Schema:
      properties:
        spec: {properties: {colour: {type: string}}}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g}
spec: {color: red}
"""
    result = cli("check", "-f", str(_write(tmp_path, "legacy.yaml", legacy)), "--kube-version", "1.15", "-o", "json")
    gadget = [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "Gadget"]
    assert [(f["finding"], f["field"]) for f in gadget] == [("unknown-field", "spec.color")]


def test_a_rendered_chart_with_its_crds_has_its_custom_resources_checked(cli, tmp_path, shared_manifests):
    stack = shared_manifests / STACK
    _, answer = _check(cli, "-f", str(stack))
    assert not [f for f in answer["findings"] if f["finding"] == "unknown-kind"]  # every CR's CRD is in the chart
    text = stack.read_text()
    marker = "kind: ServiceMonitor\nmetadata:\n  name: rel-kube-prometheus-stack-alertmanager\n"
    assert marker in text
    start = text.index(marker)
    end = text.index("  endpoints:\n", start)
    broken = _write(tmp_path, "stack.yaml", text[:end] + "  endpointz:\n" + text[end + len("  endpoints:\n"):])
    _, answer = _check(cli, "-f", str(broken))
    typo = [f for f in answer["findings"] if f["finding"] == "unknown-field"]
    assert [(f["kind"], f["field"]) for f in typo] == [("ServiceMonitor", "spec.endpointz")]
    assert "servicemonitors.monitoring.coreos.com" in typo[0]["detail"]


CLUSTER_WIDGETS = """\
apiVersion: g0001.example.com/v1
kind: Widget
metadata: {name: current}
spec: {size: small}
---
apiVersion: g0001.example.com/v1beta1
kind: Widget
metadata: {name: old}
spec: {size: small}
---
apiVersion: g0001.example.com/v1alpha1
kind: Widget
metadata: {name: disabled}
spec: {size: small}
"""


def test_a_clusters_crds_say_which_versions_are_deprecated_or_not_served(cli, fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", crd_groups=1, crd_versions=["v1", "v1beta1"],
                         crd_deprecated={"v1beta1": "g0001.example.com/v1beta1 Widget is deprecated; use v1"},
                         crd_unserved=["v1alpha1"])
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig", context_name="prod"))
    widgets = _write(tmp_path, "widgets.yaml", CLUSTER_WIDGETS)
    result = cli("check", "-f", str(widgets), "-o", "json")
    assert result.returncode == 3, result.stderr
    found = _findings(json.loads(result.stdout))
    assert "current" not in found
    assert [f["finding"] for f in found["old"]] == ["deprecated"]
    assert found["old"][0]["detail"].endswith(": g0001.example.com/v1beta1 Widget is deprecated; use v1")
    assert [f["finding"] for f in found["disabled"]] == ["not-served"]
    assert "served: false for v1alpha1; use g0001.example.com/v1" in found["disabled"][0]["detail"]
    listed = [r for r in api.requests()["requests"] if r["path"].endswith("/customresourcedefinitions")]
    assert listed and all("limit=" in r["query"] for r in listed)  # paged, as kubectl lists
    api.stop()  # kept in the snapshot: answered offline too
    offline = cli("check", "-f", str(widgets), "-o", "json", "--offline")
    assert {f["name"]: f["finding"] for f in json.loads(offline.stdout)["findings"]} == {"old": "deprecated", "disabled": "not-served"}


def test_crds_the_user_may_not_list_are_unknown_and_said_once(cli, fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", crd_groups=1, crd_versions=["v1", "v1beta1"],
                         crd_deprecated={"v1beta1": "going away"},
                         status_override={"/apis/apiextensions.k8s.io/v1/customresourcedefinitions": 403})
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig", context_name="prod"))
    result = cli("check", "-f", str(_write(tmp_path, "widgets.yaml", CLUSTER_WIDGETS.split("---\n")[1])))
    assert result.returncode == 0, result.stderr  # discovery serves v1beta1; its deprecation is unknown, not absent
    lines = [line for line in result.stderr.splitlines() if "CustomResourceDefinitions" in line]
    assert len(lines) == 1 and "403 Forbidden" in lines[0] and "not reported" in lines[0], result.stderr
    assert "t0ken" not in result.stderr


def test_a_crd_later_in_the_input_or_in_json_serves_the_resources_before_it(cli, tmp_path):
    """Objects are checked a file at a time; the CRDs of the whole input are read first, wherever they stand."""
    import subprocess

    import yaml

    from conftest import COMMAND

    (tmp_path / "in").mkdir()
    _write(tmp_path / "in", "a-widgets.yaml", WIDGETS.split("---\n")[0])
    _write(tmp_path / "in", "z-crd.json", json.dumps(yaml.safe_load(CRD), indent=1))
    _, answer = _check(cli, "-f", str(tmp_path / "in"))
    assert [(f["finding"], f["field"]) for f in answer["findings"]] == [("unknown-field", "spec.sise")]
    piped = subprocess.run([str(COMMAND), "check", "-f", "-", "--kube-version", "1.33", "-o", "json"],
                           input=WIDGETS.split("---\n")[0] + "---\n" + CRD, capture_output=True, text=True, env=cli.env)
    assert [f["field"] for f in json.loads(piped.stdout)["findings"]] == ["spec.sise"], piped.stderr


@pytest.mark.parametrize("versions", ["versions: 5", "versions: {v1: {served: true}}", "version: 7", "versions: [3, {served: true}]"])
def test_a_crd_of_the_wrong_shape_serves_nothing_and_breaks_nothing(cli, tmp_path, versions):
    """A CRD the API server would refuse defines nothing: it is itself a finding, its custom resources stay
    unknown kinds, and the run ends as any check does, with no internal error."""
    broken = crd_head("Widget", "widgets").replace("  versions:\n", f"  {versions}\n")
    result = cli("check", "-f", str(_write(tmp_path, "broken.yaml", broken + "---\n" + WIDGETS.split("---\n")[0])),
                 "--kube-version", "1.33", "-o", "json")
    assert result.returncode == 3 and "unexpected" not in result.stderr, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [f["finding"] for f in findings if f["kind"] == "Widget"] == ["unknown-kind"]
    assert {f["finding"] for f in findings if f["kind"] == "CustomResourceDefinition"} & {"invalid-value", "missing-required"}
