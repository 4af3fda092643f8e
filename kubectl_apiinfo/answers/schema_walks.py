"""check's walks of objects over schemas, shared by every target that reads the same schema.

What an object's fields and values are against a schema depends on the schema
and the object alone, not on the target that named the schema: the sources
hand out one definitions object per document or catalog release (however many
contexts read it), so check --all-contexts over a hundred clusters of a few
releases walks each object once per release, not once per cluster.  The
findings' words that name a target are added by check.Checker.
"""

from __future__ import annotations

from kubectl_apiinfo.answers.unknown_fields import Shapes, UnknownFields, field_added_in


class SchemaWalks:
    """Walks keyed by the schema objects themselves (held here, so an id is never reused while it is a key)."""

    def __init__(self):
        self._shapes: dict = {}  # id(defs) -> (defs, Shapes)
        self._views: dict = {}  # id(defs) -> (defs, values.Views)
        self._values: dict = {}  # (id(defs), group, kind) -> values.Values
        self._walked: dict = {}  # (id(defs), id(root), object's number) -> (root, unknown fields, value findings)
        self._added: dict = {}  # (group/version, kind, path) -> the release that added the field

    def clear(self) -> None:
        """Forget every schema: the targets after this read other ones (check takes them a release at a time)."""
        self.__init__()

    def walk(self, defs, root: dict, group: str, kind: str, obj: dict, number: int = -1) -> tuple:
        """(unknown fields as UnknownFields.found has them, value findings) of an object; number, the object's
        place in the input, lets a target with the same schema reuse the answer (-1: not remembered).
        RecursionError for an object nested too deeply."""
        key = (id(defs), id(root), number)
        hit = self._walked.get(key) if number >= 0 else None
        if hit is not None:
            if hit[1] is None:
                raise RecursionError("nested too deeply")
            return hit[1], hit[2]
        try:
            unknown = UnknownFields(self._shapes_of(defs))
            unknown.walk(root, obj, ())
            found = unknown.found, self._values_of(defs, group, kind).check(root, obj)
        except RecursionError:
            if number >= 0:
                self._walked[key] = (root, None, None)
            raise
        if number >= 0:
            self._walked[key] = (root, *found)
        return found

    def added_in(self, gv: str, kind: str, path: tuple):
        key = (gv, kind, path)
        if key not in self._added:
            self._added[key] = field_added_in(gv, kind, path)
        return self._added[key]

    def rules_not_checked(self):
        """(group, kind, {rule: why}) of each schema whose CEL rules were not all evaluated."""
        for (_, group, kind), rules in self._values.items():
            if rules.cel is not None and rules.cel.not_checked:
                yield group, kind, rules.cel.not_checked

    def _shapes_of(self, defs) -> Shapes:
        hit = self._shapes.get(id(defs))
        if hit is None:
            hit = self._shapes[id(defs)] = (defs, Shapes(defs))  # one walk of each schema
        return hit[1]

    def _values_of(self, defs, group: str, kind: str):
        from kubectl_apiinfo.answers import values
        from kubectl_apiinfo.sources.catalog import releases

        key = (id(defs), group, kind)
        rules = self._values.get(key)
        if rules is None:
            hit = self._views.get(id(defs))
            if hit is None:
                hit = self._views[id(defs)] = (defs, values.Views(defs))  # one merge of each schema
            builtin = group in releases.builtin_kinds()
            rules = self._values[key] = values.Values(hit[1], builtin, secret=builtin and (group, kind) == ("", "Secret"))
        return rules
