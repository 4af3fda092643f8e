"""CustomResourceDefinition objects read as what they serve: resources, each version's schema and lifecycle.

A CRD in the checked input (Helm charts ship theirs) or given with --crds is
applied before its custom resources, so a check reads those resources against
it: served where the CRD serves them, with the CRD's schema, deprecated where
the CRD says so.  apiextensions.k8s.io/v1 and v1beta1 are both read (v1beta1
may hold one schema for every version in spec.validation).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.model import Group, GroupVersion, Record, Resource, Subresource

CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_STANDARD_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]


class CustomVersion(Record):
    """One version of a custom resource as its CRD declares it."""

    __slots__ = ("crd", "group", "version", "kind", "served", "storage", "deprecated", "warning")

    def __init__(self, crd: str, group: str, version: str, kind: str, served: bool, storage: bool,
                 deprecated: bool = False, warning: str = ""):
        self.crd = crd  # the CRD's name, plural.group
        self.group = group
        self.version = version
        self.kind = kind
        self.served = served
        self.storage = storage
        self.deprecated = deprecated
        self.warning = warning  # the CRD's deprecationWarning, if it has one


class CustomDefinition(Record):
    """What one CRD object defines: its resource, its versions and each version's raw schema (or None)."""

    __slots__ = ("name", "group", "resource", "versions", "schemas", "where")

    def __init__(self, name: str, group: str, resource: Resource, versions: list, schemas: dict, where: str):
        self.name = name
        self.group = group
        self.resource = resource
        self.versions = versions  # [CustomVersion]
        self.schemas = schemas  # version -> openAPIV3Schema (a dict) or None
        self.where = where  # where it was read, for messages


def is_crd(obj: dict) -> bool:
    api_version = obj.get("apiVersion")
    return obj.get("kind") == CRD_KIND and isinstance(api_version, str) and api_version.startswith(CRD_GROUP + "/")


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _map(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _strings(value) -> list:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def read(obj: dict, where: str) -> Optional[CustomDefinition]:
    """The definition a CRD object makes, or None where it is too incomplete to serve anything (no group,
    kind, plural or version): such a CRD would be refused by the API server, and check says nothing of it."""
    spec = _map(obj.get("spec"))
    names = _map(spec.get("names"))
    group, kind, plural = _text(spec.get("group")), _text(names.get("kind")), _text(names.get("plural"))
    if not (group and kind and plural):
        return None
    shared_schema = _map(_map(spec.get("validation")).get("openAPIV3Schema")) or None  # v1beta1: every version's
    shared_subresources = _map(spec.get("subresources"))
    entries = [v for v in _list(spec.get("versions")) if isinstance(v, dict) and _text(v.get("name"))]
    if not entries and _text(spec.get("version")):  # v1beta1's single-version form
        entries = [{"name": spec["version"], "served": True, "storage": True}]
    if not entries:
        return None
    name = f"{plural}.{group}"
    versions, schemas = [], {}
    subresources: set = set()
    for v in entries:
        version = v["name"]
        versions.append(CustomVersion(
            name, group, version, kind, served=v.get("served") is not False, storage=v.get("storage") is True,
            deprecated=v.get("deprecated") is True, warning=_text(v.get("deprecationWarning")),
        ))
        schemas[version] = _map(_map(v.get("schema")).get("openAPIV3Schema")) or shared_schema
        subresources.update(_map(v.get("subresources")) or shared_subresources)
    resource = Resource(
        plural, kind, namespaced=_text(spec.get("scope")) != "Cluster", verbs=list(_STANDARD_VERBS),
        singular=_text(names.get("singular")) or kind.lower(), short_names=_strings(names.get("shortNames")),
        categories=_strings(names.get("categories")),
        subresources=[Subresource(s, "Scale" if s == "scale" else kind, "autoscaling" if s == "scale" else group,
                                  "v1", ["get", "patch", "update"]) for s in sorted(subresources & {"status", "scale"})],
    )
    return CustomDefinition(name, group, resource, versions, schemas, where)


def groups(definitions: list) -> list:
    """The definitions as discovery would list them once applied: a Group per API group."""
    by_group: dict = {}
    for d in definitions:
        versions = by_group.setdefault(d.group, {})
        for v in d.versions:
            served = v.served
            versions.setdefault(v.version, []).append(d.resource.replace(served=served))
    return [Group(name, [GroupVersion(version, resources) for version, resources in versions.items()])
            for name, versions in by_group.items()]


def root_schema(raw: Optional[dict], meta_defs) -> Optional[tuple]:
    """(Definitions, the custom resource's schema) in the one form, as the API server publishes it:
    apiVersion and kind strings and ObjectMeta added to the CRD's own; None without a schema."""
    from kubectl_apiinfo.sources.openapi import schema_form

    if not raw:
        return None
    root = schema_form.normalize(raw)
    properties = dict(root.get("properties") or {})
    properties["apiVersion"] = {"type": "string"}
    properties["kind"] = {"type": "string"}
    # Without the target's ObjectMeta, metadata's fields go unchecked rather than guessed.
    properties["metadata"] = {"$ref": OBJECT_META} if meta_defs is not None else {"type": "object"}
    root["properties"] = properties
    return (meta_defs or schema_form.DocumentDefinitions({})), root


def from_facts(facts) -> dict:
    """(group, version, kind) -> CustomVersion from a cluster snapshot's customResourceVersions (a bundle's too:
    an entry of the wrong shape is left out, never believed)."""
    out: dict = {}
    if not isinstance(facts, dict):
        return out
    for key, fact in facts.items():
        group, _, rest = key.partition("/") if isinstance(key, str) else ("", "", "")
        version, _, kind = rest.partition("/")
        if not (group and version and kind and isinstance(fact, dict) and isinstance(fact.get("crd"), str)):
            continue
        flags = [fact.get(f) for f in ("served", "storage", "deprecated")]
        if not all(isinstance(f, bool) for f in flags):
            continue
        warning = fact.get("warning") if isinstance(fact.get("warning"), str) else ""
        out[(group, version, kind)] = CustomVersion(fact["crd"], group, version, kind, *flags, warning=warning)
    return out
