"""check's values: what an object's values are against its kind's schema, as the API server would judge them.

Findings (each names the field in explain's notation, and in its detail the element or key it is at):
  invalid-value     a value of the wrong type, out of range, outside its enum or pattern, a bad quantity,
                    time or base64 text, a list or map too long or short; or a custom resource's value that fails a
                    CEL rule of its CRD (x-kubernetes-validations: answers/cel_rules.py, the rule's message)
  missing-required  a field the schema requires is absent or null (a null is how a template leaves it unset)
  duplicate-key     two entries of a list-map with the same keys, or a set with a value twice

Values are taken as kubectl sends them: YAML read as YAML 1.1 (yes/on are booleans) and a float with no
fraction (1.0) sent as the integer 1.  Built-in kinds are decoded into Go types, so a null on an optional
field is the field unset; custom resources are validated by apiextensions.  Where the schema cannot decide
(no type, a free-form object, a format the server ignores), nothing is said.  The top-level status is the
server's.  A (value, schema) pair is walked once: an object costs its size, whatever its YAML aliases.
"""

from __future__ import annotations

import datetime
import json
import math

from kubectl_apiinfo.answers import value_formats

INVALID_VALUE, MISSING_REQUIRED, DUPLICATE_KEY = "invalid-value", "missing-required", "duplicate-key"

# Definitions whose Go type decodes by its own rules, whatever the schema's type says
_SPECIAL = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "string",
}
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
               "object": "a mapping", "array": "a list"}
_SHORT = 40
_CONSTRAINTS = ("special", "format", "enum", "pattern", "minLength", "maxLength", "x-kubernetes-int-or-string",
                "x-kubernetes-validations")


def given(value) -> str:
    """A value as the finding quotes it: short scalars as written, long ones cut, collections by size."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the time {value.isoformat()}"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return f"the string {text if len(text) <= _SHORT else text[:_SHORT - 4] + '...' + chr(34)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key{'' if len(value) == 1 else 's'}"
    return f"a {type(value).__name__}"


def given_secret(value) -> str:
    """A Secret's data value by its type and length only: never the value itself."""
    if isinstance(value, str):
        return f"a string of {len(value)} character{'' if len(value) == 1 else 's'} (value not shown)"
    if value is None or isinstance(value, (dict, list)):
        return given(value)
    return f"{_TYPE_WORDS.get(_type_of(value), 'a value')} (value not shown)"


def _type_of(value) -> str:
    """The JSON type kubectl sends a YAML value as."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if math.isfinite(value) and value.is_integer() else "number"
    if isinstance(value, (str, datetime.date)):
        return "string"  # go-yaml keeps a timestamp-looking scalar as its text
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else "unknown"


def _same(a, b) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _step_text(path: tuple) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif isinstance(step, tuple):
            out += f"[{step[0]}]"  # a map key
        else:
            out += f".{step}" if out else str(step)
    return out


def _field_text(path: tuple) -> str:
    """explain's notation: field names only, no indexes or map keys."""
    return ".".join(s for s in path if isinstance(s, str))


class Views:
    """A schema with $ref and allOf merged into one mapping: once per schema, for every object of the kind."""

    def __init__(self, defs):
        self.defs = defs
        self.cache: dict = {}

    def of(self, schema: dict) -> dict:
        hit = self.cache.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        view = self._merge(schema, frozenset())
        self.cache[id(schema)] = (schema, view)
        return view

    def _merge(self, schema, seen: frozenset) -> dict:
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        merged: dict = {}
        if isinstance(ref, str) and ref:
            if ref in seen:
                return {}
            seen = seen | {ref}
            if ref in _SPECIAL:
                merged["special"] = _SPECIAL[ref]
            resolved = self.defs.resolve(schema)
        else:
            resolved = schema
        for key, value in resolved.items():
            if key not in ("allOf", "$ref"):
                merged[key] = value
        for alternative in resolved.get("allOf") or []:
            for key, value in self._merge(alternative, seen).items():
                if key == "properties" and isinstance(merged.get(key), dict):
                    merged[key] = {**value, **merged[key]}
                elif key == "required" and isinstance(merged.get(key), list):
                    merged[key] = list(dict.fromkeys(merged[key] + value))
                else:
                    merged.setdefault(key, value)
        if merged.get("format") == "int-or-string" and "special" not in merged:
            merged["special"] = "int-or-string"
        if merged.get("type") in ("string", "boolean") and not any(k in merged for k in _CONSTRAINTS):
            merged["plain"] = str if merged["type"] == "string" else bool  # most fields: a type test is all
        return merged


class Values:
    """The value findings of objects of one kind; builtin: decoded into Go types (else a custom resource)."""

    def __init__(self, views: Views, builtin: bool, secret: bool = False):
        self.views = views
        self.builtin = builtin
        self.secret = secret
        self.found: list = []
        self._walked: set = set()
        self._formats = value_formats.BUILTIN_FORMATS if builtin else value_formats.CRD_FORMATS
        self._patterns: dict = {}
        self.cel = None  # a custom resource's CEL rules (answers/cel_rules.py), made at the first schema with some

    def check(self, root: dict, obj: dict) -> list:
        self.found = []
        self._walked = set()
        self.walk(root, obj, ())
        return self.found

    # --- findings --------------------------------------------------------------

    def _report(self, finding: str, path: tuple, text: str, **extra) -> None:
        where = _step_text(path) or "(the object)"
        self.found.append({"finding": finding, "detail": f"{where}: {text}", "field": _field_text(path), "path": where, **extra})

    def _invalid(self, path: tuple, wants: str, value) -> None:
        shown = given_secret(value) if self._hidden(path) else given(value)
        self._report(INVALID_VALUE, path, f"wants {wants}; given {shown}", wants=wants, given=shown)

    def _hidden(self, path: tuple) -> bool:
        return self.secret and len(path) >= 1 and path[0] in ("data", "stringData")

    # --- the walk ----------------------------------------------------------------

    def walk(self, schema: dict, value, path: tuple) -> None:
        view = self.views.of(schema)
        if type(value) is view.get("plain"):
            return
        if isinstance(value, (dict, list)):
            pair = (id(value), id(schema))
            if pair in self._walked:
                return
            self._walked.add(pair)
        if value is None:
            return  # an optional null is the field unset; a required one is reported by its parent
        if "x-kubernetes-validations" in view and not self.builtin:
            self._rules(view, value, path)
        special = view.get("special")
        if special:
            self._special(special, view, value, path)
            return
        if view.get("x-kubernetes-int-or-string"):
            if _type_of(value) not in ("integer", "string"):
                self._invalid(path, "an integer or a string", value)
            return
        wanted = view.get("type")
        if not wanted and isinstance(value, dict) and view.get("properties"):
            wanted = "object"  # a definition that names its fields but not its type
        if wanted not in _TYPE_WORDS:
            return  # no type: anything goes (JSON, JSONSchemaPropsOrBool, an int-or-string's oneOf)
        if wanted == "object" and self.builtin and not view.get("properties") and not view.get("additionalProperties"):
            return  # a RawExtension: Go takes any JSON there
        actual = _type_of(value)
        if wanted == "number" and actual == "integer":
            actual = "number"
        if actual != wanted:
            if actual != "unknown":
                self._invalid(path, self._wanted_words(view, wanted), value)
            return
        if wanted == "object":
            self._object(view, value, path)
        elif wanted == "array":
            self._array(view, value, path)
        else:
            self._scalar(view, wanted, value, path)

    def _rules(self, view: dict, value, path: tuple) -> None:
        wanted, actual = view.get("type"), _type_of(value)
        if wanted in _TYPE_WORDS and actual != wanted and not (wanted == "number" and actual == "integer"):
            return  # a value of the wrong type: its invalid-value says so, and the server's rules would not run
        if self.cel is None:
            from kubectl_apiinfo.answers import cel_rules

            self.cel = cel_rules.Rules(self.views)
        for rule, message, reason, steps in self.cel.failures(view, value, not path):
            self._report(INVALID_VALUE, path + steps, f"{message} (rule: {rule})", celRule=rule, message=message, reason=reason)

    def _wanted_words(self, view: dict, wanted: str) -> str:
        words = _TYPE_WORDS[wanted]
        fmt = view.get("format")
        if wanted == "integer" and fmt in ("int32", "int64"):
            words += f" ({fmt})"
        elif wanted == "object" and isinstance(view.get("additionalProperties"), dict):
            inner = self.views.of(view["additionalProperties"]).get("type")
            if inner in _TYPE_WORDS:
                words = f"a mapping of {inner}s"
        elif wanted == "array":
            inner = self.views.of(view.get("items") or {}).get("type")
            if inner in _TYPE_WORDS:
                words = f"a list of {inner}s" if inner != "object" else "a list of mappings"
        return words

    def _special(self, special: str, view: dict, value, path: tuple) -> None:
        actual = _type_of(value)
        if special == "quantity":
            if actual in ("integer", "number"):
                return  # the server reads a JSON number's text as a quantity
            if actual != "string" or (isinstance(value, str) and value_formats.quantity(value)):
                self._invalid(path, "a quantity such as 500m, 1.5, 128Mi or 1e3", value)
        elif special == "int-or-string":
            if actual == "integer":
                low, high = value_formats.INT32
                if self.builtin and not low <= value <= high:
                    self._invalid(path, "an integer (int32) or a string", value)
            elif actual != "string":
                self._invalid(path, "an integer (int32) or a string" if self.builtin else "an integer or a string", value)
        elif special == "time":
            if actual != "string":
                self._invalid(path, "an RFC 3339 time such as 2024-01-31T12:00:00Z", value)
            elif isinstance(value, str) and value_formats.rfc3339(value):
                self._invalid(path, value_formats.rfc3339(value), value)
        elif actual != "string":
            self._invalid(path, "a string", value)

    def _object(self, view: dict, value: dict, path: tuple) -> None:
        properties = view.get("properties") if isinstance(view.get("properties"), dict) else {}
        extra = view.get("additionalProperties")
        extra = extra if isinstance(extra, dict) and extra else None
        top = not path
        for name in view.get("required") or ():
            if top and name == "status":
                continue
            self._required(properties.get(name), name, value, path)
        for key, sub in value.items():
            if top and key == "status":
                continue  # the server's, not the user's
            field = properties.get(key)
            if field is not None:
                self.walk(field, sub, path + (key,))
            elif extra is not None:
                self.walk(extra, sub, path + ((key,),))
        for bound, words, fits in (("maxProperties", "at most", len(value).__le__), ("minProperties", "at least", len(value).__ge__)):
            limit = view.get(bound)
            if isinstance(limit, int) and not fits(limit):
                self._invalid(path, f"{words} {limit} key{'' if limit == 1 else 's'}", value)

    def _required(self, field, name: str, value: dict, path: tuple) -> None:
        present = name in value
        if present and value[name] is not None:
            return
        field_view = self.views.of(field) if isinstance(field, dict) else {}
        if present and field_view.get("nullable"):
            return
        if "default" in field_view and not self.builtin:
            return  # apiextensions fills it in (a built-in's v3 default is often just the Go zero value, 0 or "")
        how = "is null" if present else "is missing"
        self._report(MISSING_REQUIRED, path + (name,), f"required, and it {how}", given="null" if present else None)

    def _array(self, view: dict, value: list, path: tuple) -> None:
        items = view.get("items") if isinstance(view.get("items"), dict) else None
        for bound, words, fits in (("maxItems", "at most", len(value).__le__), ("minItems", "at least", len(value).__ge__)):
            limit = view.get(bound)
            if isinstance(limit, int) and not fits(limit):
                self._invalid(path, f"a list of {words} {limit} item{'' if limit == 1 else 's'}", value)
        list_type = view.get("x-kubernetes-list-type")
        if list_type == "set":
            self._set(value, path)
        elif list_type == "map" and items is not None:
            self._list_map(view.get("x-kubernetes-list-map-keys") or [], self.views.of(items), value, path)
        if items is not None:
            for i, element in enumerate(value):
                self.walk(items, element, path + (i,))

    def _set(self, value: list, path: tuple) -> None:
        first: dict = {}
        for i, element in enumerate(value):
            if isinstance(element, (dict, list)) or element is None:
                continue
            key = (_type_of(element), element)
            if key in first:
                shown = given_secret(element) if self._hidden(path) else given(element)
                self._report(DUPLICATE_KEY, path + (i,), f"{shown} is already at [{first[key]}]; a set holds each value once",
                             given=shown)
            else:
                first[key] = i

    def _list_map(self, keys: list, items: dict, value: list, path: tuple) -> None:
        if not keys:
            return
        properties = items.get("properties") if isinstance(items.get("properties"), dict) else {}
        defaults = {}
        for k in keys:
            field = self.views.of(properties[k]) if isinstance(properties.get(k), dict) else {}
            if "default" in field:
                defaults[k] = field["default"]
        first: dict = {}
        for i, element in enumerate(value):
            if not isinstance(element, dict):
                continue
            parts = []
            for k in keys:
                v = element.get(k, defaults.get(k))
                if v is None or isinstance(v, (dict, list)):
                    break  # a key left out with no default: the required check speaks for it
                parts.append((k, _type_of(v), v))
            else:
                key = tuple(parts)
                if key in first:
                    text = ", ".join(f"{k}={v}" for k, _, v in parts)
                    self._report(DUPLICATE_KEY, path + (i,),
                                 f"same key as [{first[key]}] ({text}); a list keyed by {', '.join(keys)} holds each key once",
                                 given=text)
                else:
                    first[key] = i

    def _scalar(self, view: dict, wanted: str, value, path: tuple) -> None:
        if wanted == "integer":
            value = int(value)
            fmt = view.get("format")
            if self.builtin and fmt in ("int32", "int64"):
                low, high = value_formats.INT32 if fmt == "int32" else value_formats.INT64
                if not low <= value <= high:
                    self._invalid(path, f"an integer ({fmt}: {low} to {high})", value)
                    return
        enum = view.get("enum")
        if isinstance(enum, list) and enum and not any(_same(value, e) for e in enum):
            allowed = ", ".join(json.dumps(e) for e in enum[:8]) + (", ..." if len(enum) > 8 else "")
            self._invalid(path, f"one of {allowed}", value)
            return
        if wanted in ("integer", "number"):
            self._bounds(view, value, path)
        elif wanted == "string" and isinstance(value, str):
            self._string(view, value, path)

    def _bounds(self, view: dict, value, path: tuple) -> None:
        low, high = view.get("minimum"), view.get("maximum")
        if isinstance(low, (int, float)):
            exclusive = view.get("exclusiveMinimum") is True
            if value < low or (exclusive and value == low):
                self._invalid(path, f"a number {'above' if exclusive else 'at least'} {low:g}", value)
        if isinstance(high, (int, float)):
            exclusive = view.get("exclusiveMaximum") is True
            if value > high or (exclusive and value == high):
                self._invalid(path, f"a number {'below' if exclusive else 'at most'} {high:g}", value)

    def _string(self, view: dict, value: str, path: tuple) -> None:
        fmt = view.get("format")
        checker = self._formats.get(fmt) if isinstance(fmt, str) else None
        wrong = checker(value) if checker is not None else None
        if wrong:
            self._invalid(path, wrong, value)
            return
        for bound, words, fits in (("maxLength", "at most", lambda n: len(value) <= n), ("minLength", "at least", lambda n: len(value) >= n)):
            limit = view.get(bound)
            if isinstance(limit, int) and not fits(limit):
                self._invalid(path, f"a string of {words} {limit} character{'' if limit == 1 else 's'}", value)
        pattern = view.get("pattern")
        if isinstance(pattern, str):
            regexp = self._patterns.get(pattern, self)
            if regexp is self:
                regexp = self._patterns[pattern] = value_formats.go_regexp(pattern)
            # Python's $ also matches before a final newline; RE2's does not: that case is left alone
            if regexp is not None and not value.endswith("\n") and not regexp.search(value):
                self._invalid(path, f"a string matching {pattern}", value)
