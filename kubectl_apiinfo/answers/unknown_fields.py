"""check's unknown fields: an object's fields its schema lacks, and the release that added one.

The walk follows properties, items and typed map values (a map whose
additionalProperties is a schema), reads a JSONSchemaPropsOr* wrapper as the
JSONSchemaProps it holds, and costs the object's size even when YAML aliases
repeat a value many times over.
"""

from __future__ import annotations

from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional


def map_keys_text(keyed: Optional[tuple]) -> str:
    """' (in properties[spec].properties[a])': the map keys explain's notation leaves out, from the first
    map's field to the last key, so the user finds the place; '' where the path crosses no map."""
    if not keyed:
        return ""
    first = next(i for i, step in enumerate(keyed) if isinstance(step, tuple))
    last = max(i for i, step in enumerate(keyed) if isinstance(step, tuple))
    text = ""
    for step in keyed[max(first - 1, 0):last + 1]:
        text += f"[{step[0]}]" if isinstance(step, tuple) else (f".{step}" if text else step)
    return f" (in {text})"


def field_added_in(gv: str, kind: str, path: tuple) -> Optional[str]:
    """The first catalog release whose schema of gv/kind has the field path (explain's notation)."""
    return next((release for release, names in _names_below(gv, kind, path[:-1]) if path[-1] in names), None)


@lru_cache(maxsize=None)
def _names_below(gv: str, kind: str, parent: tuple) -> tuple:
    """(release, the field names one step below parent) for every catalog release with parent: many unknown
    keys of one object share a parent, and each then costs a set lookup per release."""
    from kubectl_apiinfo.sources.openapi import schema_form
    from kubectl_apiinfo.sources.catalog import schemas

    find = schemas.catalog_root_finder(gv, kind)
    out = []
    for release in schemas.schema_releases():
        got = find(release)
        if got is None:
            continue
        defs, schema = got
        for name in parent:  # a step at a time, as the walk does, to read a JSONSchemaPropsOr* as what it holds
            found = schema_form.locate(defs, _either(defs, schema)[0] or schema, [name])
            if found is None:
                break
            schema = found.field
        else:
            out.append((release, schema_form.step_names(defs, defs.resolve(_either(defs, schema)[0] or schema))))
    return tuple(out)


# JSONSchemaPropsOrBool, OrArray and OrStringArray marshal themselves, so the OpenAPI documents give them no
# fields; as an object each is a JSONSchemaProps, and an OrArray's list holds JSONSchemaProps.
_EITHER = {"JSONSchemaPropsOrBool": False, "JSONSchemaPropsOrArray": True, "JSONSchemaPropsOrStringArray": False}


def _either(defs, schema: dict) -> tuple:
    """(the JSONSchemaProps a JSONSchemaPropsOr* reference stands for, whether its list holds them too),
    else (None, False): only while the documents leave the wrapper free-form."""
    all_of = schema.get("allOf") if isinstance(schema, dict) else None
    if isinstance(all_of, list) and len(all_of) == 1 and "$ref" not in schema:
        schema = all_of[0]  # v3's {allOf: [{$ref}]}
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    prefix, _, name = ref.rpartition(".") if isinstance(ref, str) else ("", "", "")
    wrapper = defs.definition(ref) if name in _EITHER else None
    if wrapper is None or any(wrapper.get(k) for k in ("properties", "items", "additionalProperties", "allOf")):
        return None, False
    props = defs.definition(f"{prefix}.JSONSchemaProps")
    return (props, _EITHER[name]) if props else (None, False)


class Shapes:
    """A schema's properties, items and map values, with $ref and allOf followed: once per schema."""

    def __init__(self, defs):
        self.defs = defs
        self.cache: dict = {}

    def of(self, schema: dict) -> tuple:
        key = id(schema)
        hit = self.cache.get(key)
        if hit is not None and hit[0] is schema:
            return hit[1]
        shape = self._shape(schema, frozenset())
        self.cache[key] = (schema, shape)
        return shape

    def _shape(self, schema: dict, seen: frozenset) -> tuple:
        """(properties, items, values, open): values is a map's value schema; open where any key and value
        is allowed (free-form, preserving unknown fields, additionalProperties: true)."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref:
            if ref in seen:
                return {}, None, None, True
            seen = seen | {ref}
        resolved = self.defs.resolve(schema)
        properties: dict = {}
        items = values = None
        props, array = _either(self.defs, schema)
        if props is not None:
            resolved, items = props, (props if array else None)
        open_ = bool(resolved.get("x-kubernetes-preserve-unknown-fields"))
        p = resolved.get("properties")
        if isinstance(p, dict):
            properties.update(p)
        i = resolved.get("items")
        if isinstance(i, dict) and i and props is None:
            items = i
        extra = resolved.get("additionalProperties")
        if extra is True:
            open_ = True
        elif isinstance(extra, dict) and extra:
            values = extra  # a map: its keys are the user's, its values are checked against this
        for alternative in resolved.get("allOf") or []:
            if isinstance(alternative, dict):
                sub_props, sub_items, sub_values, sub_open = self._shape(alternative, seen)
                properties.update(sub_props)
                items = items or sub_items
                values = values or sub_values
                open_ = open_ or sub_open
        return properties, items, values, open_


class UnknownFields:
    """The fields of an object its schema does not have: (explain's path, the path with map keys, or None
    where it crosses no map), each explain path once, in the order met (as a list's elements, a map's values
    share their paths). The keyed path holds a map key as a 1-tuple and ends at the field's parent.

    A YAML alias makes one value appear at many places: each (value, schema) pair is walked once, so an
    object costs its size, not its expansion, and its unknown fields are reported where first met."""

    def __init__(self, shapes: Shapes):
        self.shapes = shapes
        self.found: list = []
        self._seen: set = set()
        self._walked: set = set()

    def walk(self, schema: dict, value, path: tuple, keyed: Optional[tuple] = None) -> None:
        pair = (id(value), id(schema))
        if pair in self._walked:
            return
        self._walked.add(pair)
        properties, items, values, open_ = self.shapes.of(schema)
        if isinstance(value, dict):
            if open_ or not (properties or values):
                return  # a free-form object (RawExtension, JSON), one that preserves unknown fields, any map
            for key, sub in value.items():
                if not path and key == "status":
                    continue  # the server's, not the user's
                field = properties.get(key)
                if field is not None:
                    if isinstance(sub, (dict, list)):
                        self.walk(field, sub, path + (key,), keyed and keyed + (key,))
                elif values is not None:
                    if isinstance(sub, (dict, list)):  # explain's notation steps into a map value without its key
                        self.walk(values, sub, path, (keyed or path) + ((str(key),),))
                else:
                    here = path + (str(key),)
                    if here not in self._seen:
                        self._seen.add(here)
                        self.found.append((here, keyed))
        elif isinstance(value, list) and items is not None:
            for element in value:
                if isinstance(element, (dict, list)):
                    self.walk(items, element, path, keyed)
