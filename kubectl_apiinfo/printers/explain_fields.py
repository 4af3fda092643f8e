"""kubectl explain's text, byte for byte, and our HISTORY block after it.

'plaintext' is what kubectl 1.35 prints from a server's OpenAPI v3 document (its
template k8s.io/kubectl pkg/explain/v2/templates/plaintext.tmpl, with
mitchellh/go-wordwrap wrapping); 'plaintext-openapiv2' its older layout from
OpenAPI v2 (pkg/explain).  Schemas are in the form of sources.schema_form.
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.sources.catalog import span
from kubectl_apiinfo.sources.schema_form import Definitions, description_text, locate, object_map, truthy, type_guess

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
    from kubectl_apiinfo.printers.render import tabwrite

    everywhere = _ranges(history["contained"])
    subject = history["field"] or history["kind"]
    if not history["contained"] and not history.get("builtin", True):
        return f"HISTORY: {history['groupVersion']} is not a built-in API (a CRD or an aggregated API): the catalog has no history of it\n"
    lines = [
        f"HISTORY ({history['groupVersion']} {history['kind']} in the offline catalog, "
        f"{span(history['first'], history['last'])}):",
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
    text = "\n".join(lines) + "\n"
    if rows:
        text += "  fields not in all of those releases, or whose type changed:\n"
        text += tabwrite([[r[0], r[1] + ("   " + r[2] if r[2] else "")] for r in rows], indent="    ")
    return text


def _ranges(ranges: list) -> str:
    return ", ".join(span(a, b) for a, b in ranges) if ranges else "no catalog release"
