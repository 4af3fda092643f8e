"""kubectl explain's text, byte for byte, and our HISTORY block after it.

'plaintext' is what kubectl 1.35 prints from a server's OpenAPI v3 document (its template
k8s.io/kubectl pkg/explain/v2/templates/plaintext.tmpl, with mitchellh/go-wordwrap wrapping);
'plaintext-openapiv2' its older layout from OpenAPI v2 (pkg/explain).  Schemas are in the form of
sources.schema_form.  FORMATS, at the end, is the table of -o formats.
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.model import release_span
from kubectl_apiinfo.sources.openapi.schema_form import Definitions, description_text, locate, object_map, truthy, type_guess

# Go's unicode.IsSpace, minus the newline (a token of its own) and the no-break space, which go-wordwrap keeps in words
_SPACES = "\t\v\f\r \x85\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE_CHARS = frozenset("\t\v\f\r \x85\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))))
_TOKENS = re.compile(f"\n|[{_SPACES}]+|[^\n{_SPACES}]+")


def wrap(text: str, limit: int) -> str:
    """go-wordwrap's WrapString: break at white space so lines stay within limit (long words overflow).

    Its rune-by-rune rules, applied to runs: a run of spaces is dropped where a line breaks, and a word
    longer than the room left starts a new line unless it is at least limit long.
    """
    out: list = []
    current = 0
    word = ""
    space = ""
    for token in _TOKENS.findall(text):
        if token == "\n":
            if word:
                out.append(space)
                out.append(word)
            elif current + len(space) <= limit:
                out.append(space)
            out.append("\n")
            current, word, space = 0, "", ""
        elif token[0] in _SPACE_CHARS:
            current += len(space) + len(word)
            out.append(space)
            out.append(word)
            word, space = "", token
        else:
            # the first rune that overflows the line breaks it, if the word is shorter than the limit
            if max(1, limit - current - len(space) + 1) <= min(len(token), limit - 1):
                out.append("\n")
                current, space = 0, ""
            word = token
    if word:
        out.append(space)
        out.append(word)
    elif current + len(space) <= limit:
        out.append(space)
    return "".join(out)


def indent(amount: int, text: str) -> str:
    pad = " " * amount
    return pad + text.replace("\n", "\n" + pad)


def go_value(value) -> str:
    """How Go's text/template prints a decoded JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _go_float(f: float) -> str:
    # fmt's %v: strconv 'g' with the shortest digits; exponent form below 1e-4 and from 1e+06
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "0"
    from decimal import Decimal

    sign, digit_tuple, exponent = Decimal(repr(f)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent
    x = point - 1
    minus = "-" if sign else ""
    if x < -4 or x >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return minus + digits + "0" * (point - len(digits))
    return f"{minus}{digits[:point]}.{digits[point:]}"


def _enum(schema: dict, long_view: bool, limit: int = -1, amount: int = 0) -> str:
    values = schema.get("enum") if isinstance(schema, dict) else None
    if not truthy(values) or not isinstance(values, list):
        return ""
    parts = ["ENUM:" if long_view else "\n" + " " * amount + "enum: "]
    for i, v in enumerate(values):
        if limit > -1 and i >= limit:
            parts.append(", ....")
            break
        if i > 0 and not long_view:
            parts.append(", ")
        elif long_view:
            parts.append("\n    ")
        parts.append('""' if v == "" else go_value(v))
    return "".join(parts)


def _field_detail(defs: Definitions, name: str, owner: dict, short: bool, level: int) -> str:
    amount = level * 2
    field = owner["properties"][name]
    line = indent(amount, name) + "\t<" + type_guess(defs, field) + ">"
    required = owner.get("required")
    if isinstance(required, list) and name in required:
        line += " -required-"
    line += _enum(field, False, 4, amount) + "\n"
    if not short:
        text = field.get("description") if truthy(field.get("description")) else "<no description>"
        line += indent(amount + 2, wrap(str(text), 78 - amount)) + "\n\n"
    return line


def _field_list(defs: Definitions, schema: dict, level: int, recursive: bool, history: frozenset = frozenset()) -> str:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    ref = ref if isinstance(ref, str) else ""
    if ref and ref in history:
        return ""
    seen = history | {ref}
    resolved = defs.resolve(schema)
    parts = []
    properties = object_map(resolved, "properties")
    for name in sorted(properties):
        parts.append(_field_detail(defs, name, resolved, recursive, level))
        if recursive:
            parts.append(_field_list(defs, properties[name], level + 1, recursive, seen))
    for alternative in resolved.get("allOf") or []:
        parts.append(_field_list(defs, alternative, level, recursive, seen))
    items = object_map(resolved, "items")
    if items:
        parts.append(_field_list(defs, items, level, recursive, seen))
    extra = object_map(resolved, "additionalProperties")
    if extra:
        parts.append(_field_list(defs, extra, level, recursive, seen))
    return "".join(parts)


def header(group: str, version: str, kind: str) -> str:
    text = f"GROUP:      {group}\n" if group else ""
    return text + f"KIND:       {kind}\nVERSION:    {version}\n\n"


def plaintext(defs: Definitions, group: str, version: str, kind: str, root: dict, path: list, recursive: bool) -> Optional[str]:
    """kubectl explain's output for the resource whose schema is root; None when the path does not exist."""
    found = locate(defs, root, list(path))
    if found is None:
        return None
    body = ""
    if found.name is not None:
        body += f"FIELD: {found.name} <{type_guess(defs, found.field)}>\n" + _enum(found.field, True) + "\n\n"
    description = description_text(defs, found.target) or "<empty>"
    body += "DESCRIPTION:\n" + indent(4, wrap(description, 76)) + "\n"
    fields = _field_list(defs, found.target, 1, recursive)
    if fields:
        body += "FIELDS:\n" + fields
    return header(group, version, kind) + body + "\n"


# --- the HISTORY block --------------------------------------------------------


def history_block(history: dict, label: str = "") -> str:
    """HISTORY after kubectl's text: the releases that have the field, then each listed field not in all of them."""
    from kubectl_apiinfo.printers.tabwriter import tabwrite

    everywhere = _ranges(history["contained"])
    subject = history["field"] or history["kind"]
    if not history["contained"] and not history.get("builtin", True):
        return (f"SOURCE: {label}\n" if label else "") + (
            f"HISTORY: {history['groupVersion']} is not a built-in API (a CRD or an aggregated API): "
            "the catalog has no history of it\n"
        )
    lines = [
        f"SOURCE: {label}" if label else "",
        f"HISTORY ({history['groupVersion']} {history['kind']} in the offline catalog, "
        f"{release_span(history['first'], history['last'])}):",
        f"  {subject} exists in {everywhere}",
    ]
    for change in history.get("typeChanges", []):
        lines.append(f"  its type changed: {change}")
    rows = []
    for f in history.get("fields", []):
        where = _ranges(f["contained"])
        changes = f.get("typeChanges", [])
        if where != everywhere or changes:
            rows.append([f["name"], where, "; ".join(f"type {c}" for c in changes)])
    text = "\n".join(line for line in lines if line) + "\n"
    if rows:
        text += "  fields not in all of those releases, or whose type changed:\n"
        text += tabwrite([[r[0], r[1] + ("   " + r[2] if r[2] else "")] for r in rows], indent="    ")
    return text


def _ranges(ranges: list) -> str:
    return ", ".join(release_span(a, b) for a, b in ranges) if ranges else "no catalog release"


# --- kubectl's older layout, from OpenAPI v2 (-o plaintext-openapiv2) -------------
# kubectl reads v2 schemas as kube-openapi's proto models: a reference, an object
# with properties ("Kind"), an object without ("Map"), an array, a primitive, or an
# arbitrary value; it prints them with its Formatter (80 columns, its own wrapping).

_WIDTH = 80
_BULLET = re.compile(r"^(\d+\.?|-|\*)[\t\n\f\r ]")
_V2_STRINGS = ("io.k8s.apimachinery.pkg.api.resource.Quantity", "io.k8s.apimachinery.pkg.util.intstr.IntOrString")


def _model(defs: Definitions, schema: dict) -> tuple:
    """(shape, schema, detail): shape is ref (detail: name), kind, map, array, primitive (detail: type) or arbitrary."""
    all_of = schema.get("allOf")
    if isinstance(schema.get("$ref"), str):
        return "ref", schema, schema["$ref"]
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0].get("$ref"), str) and not schema.get("properties"):
        return "ref", schema, all_of[0]["$ref"]  # v2's $ref with siblings, as v3 wraps it
    t = schema.get("type")
    if t == "array":
        return "array", schema, None
    if t == "object" or (not t and "properties" in schema):
        return ("kind" if "properties" in schema else "map"), schema, None
    if t:
        return "primitive", schema, t
    return "arbitrary", schema, None


def _resolved_model(defs: Definitions, name: str) -> tuple:
    target = defs.definition(name) or {}
    if name in _V2_STRINGS:
        return "primitive", target, "string"  # v2 types these as strings; v3 leaves them typeless
    return _model(defs, target)


def _v2_type(defs: Definitions, model: tuple) -> str:
    shape, schema, detail = model
    if shape == "ref":
        return _v2_type(defs, _resolved_model(defs, detail))
    if shape == "kind":
        return "Object"
    if shape == "array":
        return "[]" + _v2_type(defs, _model(defs, object_map(schema, "items")))
    if shape == "map":
        extra = object_map(schema, "additionalProperties")
        return "map[string]" + (_v2_type(defs, _model(defs, extra)) if extra else "")
    if shape == "primitive":
        return detail
    return ""


def _v2_wrap(text: str, width: int) -> list:
    """kubectl's Formatter wrapString: words joined by single spaces, lists, code blocks and paragraphs kept."""
    wrapped: list = []
    words: list = []
    last = [""]

    def flush():
        if words:
            last[0] = ""
            wrapped.append(" ".join(words))
            words.clear()

    for line in text.split("\n"):
        if line.startswith("    "):
            flush()
            wrapped.append(line)
            continue
        if wrapped and not line.strip():
            flush()
            wrapped.append("")
            continue
        stripped = line.strip()
        if last[0].endswith(":") or not stripped or _BULLET.match(stripped):
            flush()
        for word in line.split():
            last[0] = word
            if words and len(" ".join(words + [word]).encode()) > width:
                flush()
            words.append(word)
    flush()
    return wrapped


def _v2_wrapped(out: list, indent: int, text: str) -> None:
    for line in _v2_wrap(text, _WIDTH - indent):
        out.append(" " * indent + line + "\n" if line else "\n")


def _v2_lookup(defs: Definitions, model: tuple, path: list) -> Optional[tuple]:
    shape, schema, detail = model
    if shape == "primitive" and path:
        return None  # a string has no fields (kubectl's v2 lookup explains it as "x <string>"; v3 refuses)
    if not path or shape == "arbitrary":
        return model
    if shape == "ref":
        return _v2_lookup(defs, _resolved_model(defs, detail), path)
    if shape == "array":
        return _v2_lookup(defs, _model(defs, object_map(schema, "items")), path)
    if shape == "map":
        extra = object_map(schema, "additionalProperties")
        return _v2_lookup(defs, _model(defs, extra), path) if extra else ("arbitrary", schema, None)
    field = (schema.get("properties") or {}).get(path[0])
    if not isinstance(field, dict):
        return None
    return _v2_lookup(defs, _model(defs, field), path[1:])


def _v2_fields(defs: Definitions, model: tuple, out: list, indent: int, recursive: bool, visited: set) -> None:
    shape, schema, detail = model
    if shape == "ref":
        if recursive:
            if detail in visited:
                return
            visited.add(detail)
            _v2_fields(defs, _resolved_model(defs, detail), out, indent, recursive, visited)
            visited.discard(detail)
        else:
            _v2_fields(defs, _resolved_model(defs, detail), out, indent, recursive, visited)
    elif shape == "array":
        _v2_fields(defs, _model(defs, object_map(schema, "items")), out, indent, recursive, visited)
    elif shape == "map":
        extra = object_map(schema, "additionalProperties")
        if extra:
            _v2_fields(defs, _model(defs, extra), out, indent, recursive, visited)
    elif shape == "kind":
        required = schema.get("required") or []
        for name in sorted(schema.get("properties") or {}):
            field = schema["properties"][name]
            sub = _model(defs, field)
            line = f"{' ' * indent}{name}\t<{_v2_type(defs, sub)}>"
            if recursive:
                out.append(line + "\n")
                _v2_fields(defs, sub, out, indent + 3, recursive, visited)
            else:
                out.append(line + (" -required-" if name in required else "") + "\n")
                _v2_wrapped(out, indent + 2, field.get("description") or "")
                out.append("\n")


def plaintext_v2(defs: Definitions, group: str, version: str, kind: str, root: dict, path: list, recursive: bool) -> Optional[str]:
    """kubectl explain -o plaintext-openapiv2; None when the path does not exist."""
    found = _v2_lookup(defs, _model(defs, root), list(path))
    if found is None:
        return None
    name = path[-1] if path else ""
    gv = f"{group}/{version}" if group else version
    out: list = []
    descriptions: list = []
    type_name = ""
    model = found
    while True:
        shape, schema, detail = model
        if shape == "ref":
            descriptions.append(schema.get("description") or "")
            model = _resolved_model(defs, detail)
            continue
        if shape in ("array", "map"):
            descriptions.append(schema.get("description") or "")
            type_name = type_name or _v2_type(defs, model)
            sub = object_map(schema, "items" if shape == "array" else "additionalProperties")
            # kube-openapi gives a map without a value schema an arbitrary value with the map's own description
            model = _model(defs, sub) if sub else ("arbitrary", schema, None)
            continue
        break
    shape, schema, detail = model
    out.append(f"KIND:     {kind}\nVERSION:  {gv}\n\n")
    type_name = type_name or _v2_type(defs, model)
    if shape == "kind" and name:
        out.append(f"RESOURCE: {name} <{type_name}>\n\n")
    elif shape == "primitive":
        out.append(f"FIELD:    {name} <{type_name}>\n\n")
    out.append("DESCRIPTION:\n")
    empty = True
    for i, text in enumerate(descriptions + [schema.get("description") or ""]):
        if not text:
            continue
        empty = False
        if i:
            out.append("\n")
        _v2_wrapped(out, 5, text)
    if empty:
        _v2_wrapped(out, 5, "<empty>")
    if shape == "kind":
        out.append("\nFIELDS:\n")
        _v2_fields(defs, model, out, 3, recursive, set())
    return "".join(out)


# --- the formats ------------------------------------------------------------------
# Each printer: (explained) -> text, or None when the field path does not exist in the layout it
# prints.  explained is commands/explain.py's answer: defs, root, group, version, kind, path and
# recursive name the schema; label, v2_only, history and data (the json answer) are asked for as needed.


def _openapiv2(e) -> Optional[str]:
    return plaintext_v2(e.defs, e.group, e.version, e.kind, e.root, e.path, e.recursive)


def _kubectl(e) -> Optional[str]:
    """kubectl's plaintext: its older layout for a server without /openapi/v3, as kubectl explain does."""
    layout = plaintext_v2 if e.v2_only else plaintext
    return layout(e.defs, e.group, e.version, e.kind, e.root, e.path, e.recursive)


def _text(e) -> Optional[str]:
    text = _kubectl(e)
    return None if text is None else text + history_block(e.history, e.label)


def _json(e) -> Optional[str]:
    from kubectl_apiinfo.printers.structured import to_json  # imported only for -o json and -o yaml

    return None if e.data is None else to_json(e.data)


def _yaml(e) -> Optional[str]:
    from kubectl_apiinfo.printers.structured import to_yaml

    return None if e.data is None else to_yaml(e.data)


FORMATS = {
    "text": _text,
    "plaintext": _kubectl,
    "plaintext-openapiv2": _openapiv2,
    "json": _json,
    "yaml": _yaml,
}
