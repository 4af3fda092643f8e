"""One form for OpenAPI schemas, whatever they came from: a release's v2 spec,
its v3 documents, or a cluster's /openapi/v3 (or /openapi/v2) answer.

The form is OpenAPI v3's as kubectl's explain reads it, trimmed to what explain
uses: description, type, format, items, additionalProperties, properties,
required, enum, default, allOf and $ref, plus the validation keywords a server
checks on write (check's values: nullable, pattern, the bounds, the x-kubernetes
list, int-or-string, preserve and embedded markers, a CRD's CEL rules), where $ref is a bare definition name
("io.k8s.api.apps.v1.DeploymentSpec").  A v2 reference with siblings becomes
``allOf: [{$ref}]`` plus the siblings, as a v3 server serves it.  A CRD's value may
carry nothing but the preserve or int-or-string flag: kept, it stays present
(a map's values, an array's items, a field) where {} would read as absent.
"""

from __future__ import annotations

import json
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Any, Optional

HASH_DIGITS = 16
PACKS = 256  # definition packs in the catalog; a name always lands in the same one
_KEPT = ("description", "type", "format", "required", "enum", "default")
# What check's values need besides (answers/values.py): the keywords a server validates on write.
_VALIDATION = (
    "nullable", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    "minLength", "maxLength", "minProperties", "maxProperties", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
    "x-kubernetes-validations",
)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _flag(v) -> bool:
    return isinstance(v, bool)


_RULE_FIELDS = {"rule": str, "message": str, "messageExpression": str, "reason": str, "fieldPath": str,
                "optionalOldSelf": bool}


def _rules(v) -> bool:
    """A CRD's CEL rules: a list of {rule, message, messageExpression, reason, fieldPath, optionalOldSelf}."""
    return isinstance(v, list) and all(
        isinstance(r, dict) and isinstance(r.get("rule"), str)
        and all(isinstance(r[k], t) for k, t in _RULE_FIELDS.items() if k in r) for r in v)


# What explain can print, or check can use: a value of another type, from a careless server or a doctored bundle, is left out.
_KEPT_TYPES = {
    "description": lambda v: isinstance(v, str),
    "type": lambda v: isinstance(v, str),
    "format": lambda v: isinstance(v, str),
    "required": lambda v: isinstance(v, list) and all(isinstance(name, str) for name in v),
    "enum": lambda v: isinstance(v, list),
    "default": lambda v: True,
    "nullable": _flag, "pattern": lambda v: isinstance(v, str),
    "minimum": _number, "maximum": _number, "exclusiveMinimum": _flag, "exclusiveMaximum": _flag,
    "minItems": _count, "maxItems": _count, "minLength": _count, "maxLength": _count,
    "minProperties": _count, "maxProperties": _count,
    "x-kubernetes-list-type": lambda v: isinstance(v, str),
    "x-kubernetes-list-map-keys": lambda v: isinstance(v, list) and all(isinstance(k, str) for k in v),
    "x-kubernetes-int-or-string": _flag, "x-kubernetes-preserve-unknown-fields": _flag,
    "x-kubernetes-embedded-resource": _flag, "x-kubernetes-validations": _rules,
}
_V2_PREFIX = "#/definitions/"
V3_ONE_OF = ("io.k8s.apimachinery.pkg.api.resource.Quantity", "io.k8s.apimachinery.pkg.util.intstr.IntOrString")
_V3_PREFIX = "#/components/schemas/"


def ref_name(ref: str) -> str:
    for prefix in (_V3_PREFIX, _V2_PREFIX):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def normalize(schema: Any, v2: bool = False) -> dict:
    if not isinstance(schema, dict):
        return {}
    out: dict = {}
    for key in _KEPT + _VALIDATION:
        if key in schema and _KEPT_TYPES[key](schema[key]):
            out[key] = schema[key]
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: normalize(v, v2) for k, v in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        out["items"] = normalize(schema["items"], v2)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = normalize(extra, v2)
    elif isinstance(extra, bool):
        out["additionalProperties"] = extra
    if isinstance(schema.get("allOf"), list):
        out["allOf"] = [normalize(s, v2) for s in schema["allOf"]]
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if v2 and out:
            # v3 keeps a reference's siblings by wrapping it: {allOf: [{$ref}], description, ...}
            out["allOf"] = [{"$ref": ref_name(ref)}] + out.get("allOf", [])
        else:
            out["$ref"] = ref_name(ref)
    return out


def _definitions(schemas: dict, v2: bool) -> tuple[dict, dict]:
    defs: dict = {}
    kinds: dict = {}
    for name in sorted(schemas):
        raw = schemas[name]
        if not isinstance(raw, dict):
            continue
        d = normalize(raw, v2)
        if v2 and name in V3_ONE_OF:
            d.pop("type", None)  # v3 serves these as oneOf [...] with no type, and explain names them
        defs[name] = d
        for gvk in raw.get("x-kubernetes-group-version-kind") or []:
            if not isinstance(gvk, dict) or not gvk.get("kind") or not gvk.get("version"):
                continue
            gv = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
            # kubectl takes the first definition, in name order, that carries the GVK
            kinds.setdefault(gv, {}).setdefault(gvk["kind"], name)
    return defs, kinds


def from_v3(doc: dict) -> tuple[dict, dict]:
    """A v3 document (one group/version) -> (definitions by name, {groupVersion: {Kind: name}})."""
    return _definitions(((doc.get("components") or {}).get("schemas")) or {}, v2=False)


def from_v2(spec: dict) -> tuple[dict, dict]:
    """A v2 spec (swagger.json) -> (definitions by name, {groupVersion: {Kind: name}})."""
    return _definitions(spec.get("definitions") or {}, v2=True)


def is_converted(defs: Any, kinds: Any) -> bool:
    """Whether (defs, kinds) is in the form from_v3 gives, every value of the type explain expects: what a
    bundle brings is checked before it is believed."""
    if not (isinstance(defs, dict) and isinstance(kinds, dict)):
        return False
    for group_version, by_kind in kinds.items():
        if not (isinstance(group_version, str) and isinstance(by_kind, dict)):
            return False
        if not all(isinstance(kind, str) and isinstance(name, str) for kind, name in by_kind.items()):
            return False
    try:
        return all(isinstance(name, str) and isinstance(d, dict) and normalize(d) == d for name, d in defs.items())
    except RecursionError:
        return False


def canonical(definition: Any) -> bytes:
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(definition: Any) -> str:
    import hashlib

    return hashlib.sha256(canonical(definition)).hexdigest()[:HASH_DIGITS]


def pack_of(name: str) -> int:
    return zlib.crc32(name.encode()) % PACKS


def primitive_types(defs: dict) -> dict:
    """Definitions whose type is neither object nor absent: what a reference to them shows as its type."""
    return {n: d["type"] for n, d in sorted(defs.items()) if d.get("type") and d["type"] != "object"}


def resources_from_paths(doc: dict) -> dict:
    """{groupVersion: {plural: {group, version, kind}}} from a document's operations, as kubectl finds a GVK."""
    found: dict = {}
    for path, item in sorted((doc.get("paths") or {}).items()):
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in ("api", "apis"):
            continue
        gv_parts = parts[1:2] if parts[0] == "api" else parts[1:3]
        rest = parts[1 + len(gv_parts):]
        if rest[:1] == ["namespaces"] and len(rest) >= 3 and rest[1] == "{namespace}":
            rest = rest[2:]
        if not rest or rest[0].startswith("{") or (len(rest) > 1 and rest[1] != "{name}") or len(rest) > 2:
            continue
        if not isinstance(item, dict):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            gvk = (item.get(method) or {}).get("x-kubernetes-group-version-kind") if isinstance(item.get(method), dict) else None
            if isinstance(gvk, dict) and gvk.get("kind"):
                gv = "/".join(gv_parts)
                found.setdefault(gv, {}).setdefault(rest[0], {k: gvk.get(k, "") for k in ("group", "version", "kind")})
                break
    return found


# --- reading the form the way kubectl's explain template does --------------------
# (k8s.io/kubectl pkg/explain/v2/templates/plaintext.tmpl: Go template truth, so an
# empty map, list or string counts as absent)


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return bool(value)


def object_map(schema: Any, key: str) -> dict:
    """schema[key] when it is a non-empty map (additionalProperties may also be a bool)."""
    value = schema.get(key) if isinstance(schema, dict) else None
    return value if isinstance(value, dict) and value else {}


class Definitions:
    """What a schema walk needs: definitions by name, and the type a reference shows."""

    def definition(self, name: str) -> Optional[dict]:
        raise NotImplementedError

    def resolve(self, schema: dict) -> dict:
        """The definition a schema's $ref names, else the schema itself (kubectl's resolveRef)."""
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if isinstance(ref, str) and ref:
            found = self.definition(ref)
            if found is not None:
                return found
        return schema

    def ref_type(self, name: str) -> tuple[bool, Optional[str]]:
        """(the definition exists, its type when neither object nor absent)."""
        d = self.definition(name)
        if d is None:
            return False, None
        t = d.get("type")
        return True, (t if t and t != "object" else None)


class DocumentDefinitions(Definitions):
    """Definitions held in memory: one cluster document, converted (and its kinds' definition names)."""

    def __init__(self, defs: dict, kinds: Optional[dict] = None):
        self.defs = defs
        self.kinds = kinds if kinds is not None else {}

    def definition(self, name: str) -> Optional[dict]:
        return self.defs.get(name)


def type_guess(defs: Definitions, schema: dict) -> str:
    """kubectl's typeGuess: string, integer, Object, []Object, map[string]string, DeploymentSpec, ..."""
    if not isinstance(schema, dict) or not schema:
        return "Object"
    items = object_map(schema, "items")
    if items:
        return "[]" + type_guess(defs, items)
    extra = object_map(schema, "additionalProperties")
    if extra:
        return "map[string]" + type_guess(defs, extra)
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and not truthy(schema.get("properties")):
        return type_guess(defs, all_of[0])
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref:
        exists, primitive = defs.ref_type(ref)
        if exists and primitive:
            return primitive
        return ref.rsplit("/", 1)[-1].rsplit(".", 1)[-1] or "Object"
    t = schema.get("type")
    if t == "object":
        return "Object"
    return t if isinstance(t, str) and t else "Object"


def description_text(defs: Definitions, schema: dict) -> str:
    """kubectl's "description" template: the schema's description, then those of what it wraps (allOf, items, maps)."""
    resolved = defs.resolve(schema) if isinstance(schema, dict) else schema
    if not isinstance(resolved, dict) or not resolved:
        return ""
    parts = []
    if truthy(resolved.get("description")):
        parts.append(f"{resolved['description']}\n")
    for alternative in resolved.get("allOf") or []:
        parts.append(description_text(defs, alternative))
    items = object_map(resolved, "items")
    if items:
        parts.append(description_text(defs, items))
    extra = object_map(resolved, "additionalProperties")
    if extra:
        parts.append(description_text(defs, extra))
    return "".join(parts)


class Located:
    """Where a field path ends: the field's own schema (None for the resource itself) and the schema explained."""

    __slots__ = ("name", "field", "target")

    def __init__(self, name: Optional[str], field: Optional[dict], target: dict):
        self.name = name
        self.field = field
        self.target = target


def locate(defs: Definitions, schema: dict, path: list, history: frozenset = frozenset()) -> Optional[Located]:
    """Follow a field path as kubectl's "output" template does; None when a field does not exist."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    ref = ref if isinstance(ref, str) else ""
    resolved = defs.resolve(schema)
    if not path:
        return Located(None, None, resolved)
    if ref and ref in history:
        return None  # a cycle
    seen = history | {ref}
    properties = object_map(resolved, "properties")
    sub = properties.get(path[0])
    if isinstance(sub, dict) and sub:
        inner = locate(defs, sub, path[1:])  # kubectl starts a new history at each field
        if inner is not None and len(path) == 1:
            return Located(path[0], sub, inner.target)
        return inner
    items = object_map(resolved, "items")
    if items:
        return locate(defs, items, path, seen)
    extra = object_map(resolved, "additionalProperties")
    if extra:
        return locate(defs, extra, path, seen)
    for alternative in resolved.get("allOf") or []:
        found = locate(defs, alternative, path, seen)
        if found is not None:
            return found
    return None


def step_names(defs: Definitions, schema: dict, history: frozenset = frozenset()) -> frozenset:
    """The names locate(defs, schema, [name]) finds, all at once: asking for each of many names costs a
    set lookup, not a walk (an object with 80,000 unknown keys)."""
    if not isinstance(schema, dict):
        return frozenset()
    ref = schema.get("$ref")
    ref = ref if isinstance(ref, str) else ""
    resolved = defs.resolve(schema)
    if ref and ref in history:
        return frozenset()
    seen = history | {ref}
    names = {name for name, sub in object_map(resolved, "properties").items() if isinstance(sub, dict) and sub}
    items = object_map(resolved, "items")
    if items:  # locate follows items, else additionalProperties, else every allOf: the same order here
        return frozenset(names | step_names(defs, items, seen))
    extra = object_map(resolved, "additionalProperties")
    if extra:
        return frozenset(names | step_names(defs, extra, seen))
    for alternative in resolved.get("allOf") or []:
        names |= step_names(defs, alternative, seen)
    return frozenset(names)


def field_names(defs: Definitions, schema: dict, history: frozenset = frozenset()) -> list:
    """The direct fields a schema lists, as kubectl's fieldList finds them: (name, schema, required), in order."""
    return [(name, sub, required) for name, sub, required, _ in fields_with_history(defs, schema, history)]


def fields_with_history(defs: Definitions, schema: dict, history: frozenset = frozenset()) -> list:
    """field_names, each with the definitions followed to reach it: where a walk below it must stop (a cycle)."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    ref = ref if isinstance(ref, str) else ""
    if ref and ref in history:
        return []
    seen = history | {ref}
    resolved = defs.resolve(schema)
    out = []
    required = resolved.get("required") or []
    for name in sorted(object_map(resolved, "properties")):
        out.append((name, resolved["properties"][name], name in required, seen))
    for part in [*(resolved.get("allOf") or []), object_map(resolved, "items"), object_map(resolved, "additionalProperties")]:
        if isinstance(part, dict) and part:
            out.extend(fields_with_history(defs, part, seen))
    return out
