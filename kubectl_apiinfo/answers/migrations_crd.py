"""CustomResourceDefinition apiextensions.k8s.io/v1beta1 -> v1, the one conversion that reshapes a whole spec.

Source: k8s.io/apiextensions-apiserver pkg/apis/apiextensions/v1beta1/conversion.go and v1/conversion.go
(Convert_apiextensions_CustomResourceDefinitionSpec_To_v1_CustomResourceDefinitionSpec: the top-level
validation, subresources and additionalPrinterColumns become each version's, the single version a
versions list), v1beta1/defaults.go (preserveUnknownFields defaulted true, conversionReviewVersions
[v1beta1]) and the v1 validation (a schema per version, structural, with a type at its root;
preserveUnknownFields true refused, x-kubernetes-preserve-unknown-fields in its place).
"""

from __future__ import annotations

import copy

from kubectl_apiinfo.answers.migrations_edit import give_comment, new_map, place, rename, take_comment

_PER_VERSION = ("validation", "subresources", "additionalPrinterColumns")


def _columns(columns) -> None:
    """v1beta1's JSONPath is v1's jsonPath (apiextensions v1 CustomResourceColumnDefinition)."""
    for column in columns or []:
        if isinstance(column, dict):
            rename(column, "JSONPath", "jsonPath")


def _typed(node) -> int:
    """Types written where a node's properties or items imply them (object, array): v1 takes only structural
    schemas, with a type on every node; how many were written."""
    if not isinstance(node, dict):
        return 0
    added = 0
    for key, implied in (("properties", "object"), ("items", "array")):
        if isinstance(node.get(key), dict) and "type" not in node:
            place(node, "type", implied, before=key)
            added += 1
    for child in (node.get("properties") or {}).values() if isinstance(node.get("properties"), dict) else ():
        added += _typed(child)
    for key in ("items", "additionalProperties"):
        added += _typed(node.get(key))
    return added


def _schema(version, preserve: bool, notes: list) -> None:
    """The version's schema as v1 requires it: present, with type object at its root; unknown fields preserved
    where v1beta1 preserved them (preserveUnknownFields, true by default)."""
    schema = version.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("openAPIV3Schema"), dict):
        schema = new_map(version)
        schema["openAPIV3Schema"] = new_map(version)
        place(version, "schema", schema)
        notes.append(f"version {version.get('name')}: no schema; v1 requires one: "
                     "type object with x-kubernetes-preserve-unknown-fields, which accepts anything")
    root = schema["openAPIV3Schema"]
    if "type" not in root:
        place(root, "type", "object", before=next(iter(root), None))
    added = _typed(root)
    if added:
        notes.append(f"version {version.get('name')}: type written on {added} schema node{'s' * (added != 1)} whose "
                     "properties or items imply it (v1 takes only structural schemas)")
    if preserve and "x-kubernetes-preserve-unknown-fields" not in root:
        root["x-kubernetes-preserve-unknown-fields"] = True
        if "properties" in root:
            notes.append(f"version {version.get('name')}: x-kubernetes-preserve-unknown-fields: true at the schema's "
                     "root, as v1beta1's preserveUnknownFields kept unknown fields; drop it to have them pruned")


def crd_to_v1(obj) -> list:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    notes: list = []
    versions = spec.get("versions")
    if not versions:
        entry = new_map(spec)
        entry["name"], entry["served"], entry["storage"] = spec.get("version"), True, True
        if "version" in spec:
            rename(spec, "version", "versions", [entry])
        else:
            place(spec, "versions", [entry])
        versions = spec["versions"]
    else:
        spec.pop("version", None)
    for key in _PER_VERSION:
        if key not in spec:
            continue
        said = take_comment(spec, key)
        value = spec.pop(key)
        name = "schema" if key == "validation" else key
        for i, version in enumerate(versions):
            if isinstance(version, dict) and name not in version:
                place(version, name, value if i == 0 else copy.deepcopy(value))
                if i == 0:
                    give_comment(version, name, said)
    preserve = spec.get("preserveUnknownFields", True) is not False
    spec.pop("preserveUnknownFields", None)
    for version in versions:
        if isinstance(version, dict):
            _columns(version.get("additionalPrinterColumns"))
            _schema(version, preserve, notes)
    conversion = spec.get("conversion")
    if isinstance(conversion, dict) and ("webhookClientConfig" in conversion or "conversionReviewVersions" in conversion):
        webhook = new_map(conversion)
        if "webhookClientConfig" in conversion:
            webhook["clientConfig"] = conversion.pop("webhookClientConfig")
        webhook["conversionReviewVersions"] = conversion.pop("conversionReviewVersions", None) or ["v1beta1"]
        place(conversion, "webhook", webhook)
    return notes
