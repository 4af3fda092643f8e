"""check's CEL rules: a custom resource's x-kubernetes-validations, evaluated as the API server would on create.

The evaluator is cel-expr-python (Google's CEL, the C++ runtime behind a Python binding): an optional extra,
``pip install 'kubectl-apiinfo[cel]'`` (CPython 3.11+), imported only when a schema has rules.  Without it, or
where it cannot evaluate a rule, the rule is not checked: said once per CRD on stderr, never a finding.

What a rule sees, as in the Kubernetes docs ("Validation rules"): ``self`` is the value at the rule's place,
its declared properties under their escaped names (``__dash__``, ``__dot__``, ...), defaults filled in, a null
on a non-nullable field pruned, a ``number`` a double, a ``date-time`` a timestamp, a ``byte`` string bytes;
at the root or an embedded resource, metadata holds only name and generateName.  Not checked: a rule using a
Kubernetes library function cel-expr-python lacks (quantity(), isSorted(), url(), ip(), find(), sets, ...),
one with optionalOldSelf, a value of format date or duration, an evaluation error, or more than the library's
10,000 comprehension iterations (a hostile rule stops there).  A transition rule (oldSelf, without
optionalOldSelf) applies only to updates: skipped, silently.
"""

from __future__ import annotations

import base64
import copy
import datetime
import re

RULES = "x-kubernetes-validations"
NOT_INSTALLED = "cel-expr-python is not installed: pip install 'kubectl-apiinfo[cel]' on Python 3.11+"
BUDGET = "it needs more than the 10,000 comprehension iterations cel-expr-python allows a rule"
_OLD_SELF = re.compile(r"\boldSelf\b")
_UNDECLARED = re.compile(r"undeclared reference to '([\w.]+)'")
_ACCESSIBLE = re.compile(r"[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*\Z")
_RESERVED = frozenset(("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function",
                       "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"))
_FIELD_STEP = re.compile(r"\.([A-Za-z0-9_\-/]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")
_LACKS = ": a Kubernetes CEL function cel-expr-python lacks"
_environment = None  # the CEL environment once made; False when the library cannot be imported


def _env():
    global _environment
    if _environment is None:
        try:
            from cel_expr_python import cel
            from cel_expr_python.ext import ext_math, ext_optional, ext_strings
        except ImportError:
            _environment = False
        else:
            extensions = [ext_strings.ExtStrings(), ext_math.ExtMath(), ext_optional.ExtOptional()]
            _environment = (cel, cel.NewEnv(variables={"self": cel.Type.DYN}, extensions=extensions))
    return _environment


def escape(name: str):
    """A property's name as a rule spells it; None for a name no rule can reach."""
    if not _ACCESSIBLE.match(name):
        return None
    if name in _RESERVED:
        return f"__{name}__"
    return name.replace("__", "__underscores__").replace(".", "__dot__").replace("-", "__dash__").replace("/", "__slash__")


def summary(reasons) -> str:
    """Why some rules were not evaluated, in a few words: the functions lacked named together, then the rest."""
    reasons = list(dict.fromkeys(reasons))
    lacked = [r[: -len(_LACKS)] for r in reasons if r.endswith(_LACKS)]
    rest = [r for r in reasons if not r.endswith(_LACKS)]
    if lacked:
        rest.insert(0, f"{', '.join(lacked)}: Kubernetes CEL function{'s' * (len(lacked) > 1)} cel-expr-python lacks")
    return "; ".join(rest)


class Unconvertible(Exception):
    """A value this module cannot give a rule as the API server would."""


def _field_path(text: str) -> tuple:
    """A rule's fieldPath (".spec.ports['http']", ".items[2]") as value paths' steps; () if unreadable."""
    steps, at = [], 0
    for m in _FIELD_STEP.finditer(text):
        if m.start() != at:
            return ()
        name, key, index = m.groups()
        steps.append(name if name is not None else (key,) if key is not None else int(index))
        at = m.end()
    return tuple(steps) if at == len(text) else ()


def _date_time(text: str) -> datetime.datetime:
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Unconvertible("a date-time it cannot read") from None
    if when.tzinfo is None:
        raise Unconvertible("a date-time without a zone")
    return when


class Rules:
    """The rules of one kind's schema: each compiled once; those not evaluated, with why, in not_checked."""

    def __init__(self, views):
        self.views = views
        self.not_checked: dict = {}  # rule text -> why
        self._compiled: dict = {}  # expression text -> the compiled expression, or why it is not

    def _compile(self, text: str):
        found = self._compiled.get(text)
        if found is None:
            env = _env()
            if not env:
                found = NOT_INSTALLED
            else:
                try:
                    found = env[1].compile(text)
                except Exception as error:  # the binding raises RuntimeError; anything else is not checked too
                    names = _UNDECLARED.findall(str(error))
                    found = (f"{names[0]}(){_LACKS}" if names
                             else f"it does not compile here: {str(error).splitlines()[0][:120]}")
            self._compiled[text] = found
        return found

    def failures(self, view: dict, value, root: bool) -> list:
        """(rule, message, reason, the fieldPath's steps) of each rule at this place that the value fails."""
        out = []
        data = None
        for entry in view.get(RULES) or ():
            rule = entry["rule"]
            if _OLD_SELF.search(rule):
                if entry.get("optionalOldSelf"):
                    self.not_checked.setdefault(rule, "optionalOldSelf: oldSelf is not bound here")
                continue  # a transition rule: only updates have an old object
            expression = self._compile(rule)
            if isinstance(expression, str):
                self.not_checked.setdefault(rule, expression)
                continue
            if data is None:
                try:
                    data = {"self": self.cel_value(view, value, root)}
                except Unconvertible as why:
                    self.not_checked.setdefault(rule, f"its value holds {why}")
                    return out
            verdict = self._evaluate(expression, data, rule)
            if verdict is False:
                out.append((rule, self._message(entry, data), entry.get("reason") or "FieldValueInvalid",
                            _field_path(entry.get("fieldPath") or "")))
        return out

    def _evaluate(self, expression, data: dict, rule: str):
        """True or False, or None when the rule could not be evaluated (said in not_checked)."""
        cel = _env()[0]
        try:
            result = expression.eval(data=data)
        except Exception as error:  # the iteration budget spent, or the binding's own failure
            text = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
            self.not_checked.setdefault(rule, BUDGET if "budget exceeded" in text.lower() else text)
            return None
        if result.type() == cel.Type.ERROR:
            self.not_checked.setdefault(rule, f"its evaluation failed: {str(result.value())[:120]}")
            return None
        verdict = result.value()
        if not isinstance(verdict, bool):
            self.not_checked.setdefault(rule, "it does not give a boolean")
            return None
        return verdict

    def _message(self, entry: dict, data: dict) -> str:
        """messageExpression's string if it gives a non-empty one, else message, else the API server's default."""
        text = entry.get("messageExpression")
        if text:
            expression = self._compile(text)
            if not isinstance(expression, str):
                try:
                    result = expression.eval(data=data).value()
                except Exception:  # the server falls back to message too
                    result = None
                if isinstance(result, str) and result.strip() and "\n" not in result:
                    return result
        return entry.get("message") or f"failed rule: {entry['rule']}"

    # --- the value a rule sees ------------------------------------------------------

    def cel_value(self, view: dict, value, root: bool = False):
        if isinstance(value, dict):
            return self._object(view, value, root or bool(view.get("x-kubernetes-embedded-resource")))
        if isinstance(value, list):
            items = view.get("items") if isinstance(view.get("items"), dict) else {}
            items_view = self.views.of(items)
            return [self.cel_value(items_view, e) for e in value]
        wanted = view.get("type")
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            if wanted == "number":
                return float(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)  # kubectl sends 1.0 as 1
            return value
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        if isinstance(value, str) and wanted == "string":
            fmt = view.get("format")
            if fmt == "date-time":
                return _date_time(value)
            if fmt == "byte":
                try:
                    return base64.b64decode(value, validate=True)
                except ValueError:
                    raise Unconvertible("a byte string that is not base64") from None
            if fmt in ("date", "duration"):
                raise Unconvertible(f"a {fmt}, which rules see as a timestamp or a duration")
        return value

    def _object(self, view: dict, value: dict, resource: bool) -> dict:
        properties = view.get("properties") if isinstance(view.get("properties"), dict) else {}
        extra = view.get("additionalProperties")
        extra = self.views.of(extra) if isinstance(extra, dict) else None
        out = {}
        for key, sub in value.items():
            field = properties.get(key)
            if resource and key == "metadata" and isinstance(sub, dict):
                out[key] = {k: sub[k] for k in ("name", "generateName") if isinstance(sub.get(k), str)}
                continue
            if field is None:
                if sub is not None:  # a map's value, or a field kept by x-kubernetes-preserve-unknown-fields
                    out[key] = self.cel_value(extra or {}, sub)
                continue
            field_view = self.views.of(field)
            name = escape(key)
            if name is None or (sub is None and not field_view.get("nullable")):
                continue  # unreachable by a rule, or a null the server prunes
            out[name] = self.cel_value(field_view, sub)
        for key, field in properties.items():
            name = escape(key)
            if name is None or name in out or (resource and key == "metadata"):
                continue
            field_view = self.views.of(field)
            if "default" in field_view and field_view["default"] is not None:
                out[name] = self.cel_value(field_view, copy.deepcopy(field_view["default"]))  # defaulted first
        return out
