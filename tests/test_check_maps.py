"""check inside typed maps (issue 18): a CRD's schema is a map[string]JSONSchemaProps all the way down, and its
items, additionalProperties and dependencies are JSONSchemaProps too; a typo there is an unknown field, a real
field of the target's JSONSchemaProps is not, and the corpus's real CRDs stay clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import K8S_DATA, crd_head

SCHEMA = "spec.versions.schema.openAPIV3Schema"
CORPUS = K8S_DATA.parent / "manifests"  # the shared data's real manifests ($K8S_DATA/../manifests)

WIDGET = crd_head("Widget", "widgets") + """\
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-map-type: atomic
            x-kubernetes-validations:
            - rule: "self.a > 0"
              messageExpressionz: "x"
            properties:
              a: {type: integer, tpye: x}
            additionalProperties:
              type: string
              bogus: 1
"""

# Every JSONSchemaProps*Or* form, each right once and wrong once: only the planted keys are findings.
GADGET = crd_head("Gadget", "gadgets") + """\
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        additionalProperties: false
        properties:
          list:
            type: array
            x-kubernetes-list-type: map
            x-kubernetes-list-map-keys: [name]
            items:
              type: object
              x-kubernetes-validations: [{rule: "true"}]
              properties:
                name: {type: string}
                tuple: {type: array, items: [{type: string, formatt: x}, {type: integer}]}
          m:
            type: object
            additionalProperties:
              type: object
              x-kubernetes-preserve-unknown-fields: true
              additionalProperties: true
          d:
            type: object
            dependencies: {a: [b, c], e: {required: [f], requird: [g]}}
            additionalItems: false
            not: {nott: 1}
            default: {whatever: 1, nested: {any: thing}}
            example: {whatever: 1}
            enum: [{x: 1}]
            x-kubernetes-preserve-unknown-fields: true
          s: {type: string, x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
"""


def _check(cli, tmp_path: Path, text: str, release: str) -> tuple:
    path = tmp_path / "crd.yaml"
    path.write_text(text)
    result = cli("check", "-f", str(path), "--kube-version", release, "-o", "json", timeout=30)
    assert result.returncode in (0, 3), result.stderr
    return result, json.loads(result.stdout)["findings"]


def test_typos_in_a_crds_properties_map_are_unknown_fields_and_its_real_extensions_are_not(cli, tmp_path):
    result, findings = _check(cli, tmp_path, WIDGET, "1.33")
    assert result.returncode == 3
    fields = {f["field"]: f for f in findings}
    assert set(fields) == {
        f"{SCHEMA}.properties.x-kubernetes-validations.messageExpressionz",
        f"{SCHEMA}.properties.properties.tpye",
        f"{SCHEMA}.properties.additionalProperties.bogus",
    }
    assert all(f["finding"] == "unknown-field" and f["added"] is None for f in findings)
    # explain's notation leaves a map's keys out: the detail names them, so the user finds the place
    assert f"{SCHEMA}.properties.properties.tpye (in properties[spec].properties[a]) is not a field" in (
        fields[f"{SCHEMA}.properties.properties.tpye"]["detail"])
    assert "(in properties[spec])" in fields[f"{SCHEMA}.properties.additionalProperties.bogus"]["detail"]


def test_a_field_a_map_value_has_only_in_later_releases_names_the_release(cli, tmp_path):
    """x-kubernetes-validations came in 1.23, x-kubernetes-map-type in 1.17: their history is found through maps."""
    _, at_1_22 = _check(cli, tmp_path, WIDGET, "1.22")
    [validations] = [f for f in at_1_22 if f["field"] == f"{SCHEMA}.properties.x-kubernetes-validations"]
    assert validations["added"] == "1.23" and "it was added in 1.23" in validations["detail"]
    assert not any(f["field"].endswith(("x-kubernetes-map-type", "messageExpressionz")) for f in at_1_22)
    _, at_1_16 = _check(cli, tmp_path, WIDGET, "1.16")
    [map_type] = [f for f in at_1_16 if f["field"] == f"{SCHEMA}.properties.x-kubernetes-map-type"]
    assert map_type["added"] == "1.17"


def test_items_additional_properties_and_dependencies_are_json_schema_props(cli, tmp_path):
    """JSONSchemaPropsOrArray, OrBool and OrStringArray are free-form in the documents: an object there is a
    JSONSchemaProps, a list of items holds them, a bool or a list of names is not walked, JSON values never."""
    _, findings = _check(cli, tmp_path, GADGET, "1.33")
    assert {f["field"]: f["detail"].split(" is not")[0].split(" (in ")[-1] for f in findings} == {
        f"{SCHEMA}.properties.items.properties.items.formatt": "properties[list].items.properties[tuple])",
        f"{SCHEMA}.properties.dependencies.requird": "properties[d].dependencies[e])",
        f"{SCHEMA}.properties.not.nott": "properties[d])",
    }
    _, at_1_22 = _check(cli, tmp_path, GADGET, "1.22")
    [under_items] = [f for f in at_1_22 if f["field"] == f"{SCHEMA}.properties.items.x-kubernetes-validations"]
    assert under_items["added"] == "1.23", "a field's history is found through an OrArray as through a map"


def test_the_corpus_crds_are_clean_and_a_typo_deep_inside_one_is_its_only_finding(cli, tmp_path):
    chart = CORPUS / "rendered" / "prometheus-community-2021" / "kube-prometheus-stack.yaml"
    if not chart.is_file():
        pytest.skip(f"needs the shared manifests: {chart} is absent")
    text = chart.read_text()
    for release in ("1.29", "1.33"):
        result = cli("check", "-f", str(chart), "--kube-version", release, "-o", "json", timeout=60)
        found = [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "CustomResourceDefinition"]
        assert found == [], found[:3]
    # the first port of a container below items, below properties: planted once, found once, where it is
    planted = text.replace("x-kubernetes-int-or-string: true", "x-kubernetes-int-or-strng: true", 1)
    assert planted != text
    (tmp_path / "planted.yaml").write_text(planted)
    result = cli("check", "-f", str(tmp_path / "planted.yaml"), "--kube-version", "1.33", "-o", "json", timeout=60)
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "CustomResourceDefinition"]
    assert finding["field"].startswith(f"{SCHEMA}.properties.") and finding["field"].endswith(".x-kubernetes-int-or-strng")
    assert ".items." in finding["field"] and "properties[spec]" in finding["detail"]


def _alias_built_map(depth: int) -> str:
    """A CRD whose properties map holds each level twice through a YAML alias, once as a map value and once
    as an array's items (2**depth places from ~80 bytes a level), each level with a key JSONSchemaProps lacks."""
    head = WIDGET.split("        type: object\n")[0]
    lines = [head.rstrip("\n"), "        type: object", "        properties:", "          top:",
             "            &l1 {x-bogus-1: 1, type: string}"]
    lines += [f"          l{i}: &l{i} {{x-bogus-{i}: 1, properties: {{a: *l{i - 1}}}, items: *l{i - 1}}}"
              for i in range(2, depth + 1)]
    return "\n".join(lines + [f"          last: *l{depth}", ""])


def test_an_alias_built_map_costs_its_size_and_each_unknown_field_is_one_finding(cli, tmp_path):
    result, findings = _check(cli, tmp_path, _alias_built_map(40), "1.33")  # expanded: 2**40 schemas
    assert result.returncode == 3
    fields = [f["field"] for f in findings]
    assert len(fields) == len(set(fields)) < 2 * 40  # each level once as a map value, once as items at most
    assert {field.rsplit(".", 1)[-1] for field in fields} == {f"x-bogus-{i}" for i in range(1, 41)}
    assert fields[0] == f"{SCHEMA}.properties.x-bogus-1"
