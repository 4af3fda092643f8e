"""Field-level explain as data: which schema a RESOURCE.field.path names, its
fields, and in which catalog releases each of them exists.

Pure functions over schema_form.Definitions; the sources decide where the
definitions come from (the catalog, or a cluster's documents).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo.answers.resolve import kubectl_pick, resolve
from kubectl_apiinfo.errors import UserError, shorten
from kubectl_apiinfo.model import group_version
from kubectl_apiinfo.model import release_key, release_span
from kubectl_apiinfo.sources.openapi.schema_form import (
    Definitions, description_text, field_names, fields_with_history, locate, type_guess,
)


class FieldRequest:
    """What an explain request names: a resource in one group/version, and a field path in it."""

    __slots__ = ("group", "version", "resource", "kind", "path")

    def __init__(self, group: str, version: str, resource: str, kind: str, path: list):
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.path = path

    @property
    def group_version(self) -> str:
        return group_version(self.group, self.version)


def split_request(source, text: str, api_version: Optional[str] = None) -> FieldRequest:
    """kubectl explain's RESOURCE[.field.path]: a name, optionally .group, then fields.

    As kubectl: the resource is the first word; 'deployments.apps.spec' takes the
    group when a resource of that name lives in it; else the resource kubectl
    would pick (core first, then group priority) in its preferred version.
    """
    snapshot = source.snapshot
    text = text.strip().rstrip(".")
    words = text.split(".")
    if not words[0] or any(not w for w in words):
        raise UserError(f"{shorten(text)!r} is not RESOURCE[.field.path]; use a form like deployments.spec.template")
    matches = resolve(snapshot, words[0])
    if not matches:
        raise UserError(
            f"{source.label} has no resource type {shorten(words[0])!r} "
            "('kubectl apiinfo resources' lists them all)"
        )
    chosen, fields, pinned = None, words[1:], None
    lowered = [w.lower() for w in words]
    for m in matches:
        if not m.group.name:
            continue
        group_words = m.group.name.split(".")
        if lowered[1:1 + len(group_words)] == group_words:  # deployments.apps.spec
            chosen, fields = m, words[1 + len(group_words):]
            break
        # deployments.v1.apps.spec, as kubectl get takes RESOURCE.VERSION.GROUP
        served = {v.version: v for v in m.group.versions if any(r.name == m.name for r in v.resources)}
        if len(words) > 1 and words[1] in served and lowered[2:2 + len(group_words)] == group_words:
            chosen, fields, pinned = m, words[2 + len(group_words):], served[words[1]]
            break
    if chosen is None:
        chosen = kubectl_pick(matches) or matches[0]
    gv, resource = chosen.best()
    if pinned is not None:
        gv, resource = pinned, next(r for r in pinned.resources if r.name == chosen.name)
    group, version = chosen.group.name, gv.version
    kind = resource.kind
    if api_version:
        group, _, version = api_version.strip().rpartition("/")
        found = None
        for g in snapshot.groups:
            if g.name != group:
                continue
            for v in g.versions:
                if v.version == version:
                    found = next((r for r in v.resources if r.name == chosen.name), None)
        if found is None:
            raise UserError(
                f"{source.label} has no {chosen.name} in {api_version}; "
                f"'kubectl apiinfo {chosen.qualified_name}' lists its versions"
            )
        kind = found.kind
    return FieldRequest(group, version, chosen.name, kind, fields)


# --- facts about one schema ----------------------------------------------------


def field_facts(defs: Definitions, name: str, schema: dict, required: bool) -> dict:
    resolved = defs.resolve(schema)
    facts = {
        "name": name,
        "type": type_guess(defs, schema),
        "required": required,
        "description": schema.get("description") or resolved.get("description") or "",
    }
    for key in ("enum", "default", "format"):
        value = schema.get(key, resolved.get(key))
        facts[key] = value
    return facts


def located(defs: Definitions, root: dict, path: list):
    return locate(defs, root, list(path))


def nearest_fields(defs: Definitions, root: dict, path: list) -> tuple:
    """(index of the first missing field, the closest names that do exist there)."""
    import difflib

    for i in range(len(path) - 1, -1, -1):
        found = locate(defs, root, path[:i])
        if found is not None:
            names = [n for n, _, _ in field_names(defs, found.target)]
            return i, difflib.get_close_matches(path[i], names, n=3, cutoff=0.6)
    return 0, []


# --- history across catalog releases ----------------------------------------------


def ranges(members: list, order: list) -> list:
    """Consecutive runs of members in the order of releases, as [first, last] pairs."""
    out: list = []
    position = {r: i for i, r in enumerate(order)}
    for r in sorted(members, key=lambda r: position[r]):
        if out and position[out[-1][1]] == position[r] - 1:
            out[-1][1] = r
        else:
            out.append([r, r])
    return out


def field_history(
    releases: list, definitions_of: Callable, target: FieldRequest
) -> dict:
    """In which releases target's group/version has the field, its type in each, and each direct field's releases.

    definitions_of(release) -> (Definitions, root schema) or None when the release lacks the kind.
    """
    here: list = []
    types: dict = {}
    children: dict = {}
    builtin = False  # some catalog release has the kind in this group/version
    previous = None  # (touched names, their fingerprint, found, this release's type, {child: type})
    for release in releases:
        got = definitions_of(release)
        if got is None:
            previous = None
            continue
        builtin = True
        defs, root = got
        fingerprint = getattr(defs, "fingerprint", None)
        if previous is not None and fingerprint is not None and fingerprint(previous[0]) == previous[1]:
            # Every definition the last walk read is unchanged here: so is the answer.
            _, _, found, own_type, child_types = previous
        else:
            found = locate(defs, root, target.path)
            own_type, child_types = None, {}
            if found is not None:
                own_type = type_guess(defs, found.field) if found.field is not None else target.kind
                child_types = {name: type_guess(defs, schema) for name, schema, _ in field_names(defs, found.target)}
            touched = getattr(defs, "touched", None)
            previous = (set(touched), fingerprint(touched), found, own_type, child_types) if fingerprint else None
        if found is None:
            continue
        here.append(release)
        types[release] = own_type
        for name, t in child_types.items():
            children.setdefault(name, {})[release] = t
    fields = []
    for name in sorted(children):
        seen = children[name]
        entry = {"name": name, "contained": ranges(list(seen), releases)}
        changes = type_changes(seen, releases)
        if changes:
            entry["typeChanges"] = changes
        fields.append(entry)
    return {
        "groupVersion": target.group_version,
        "kind": target.kind,
        "field": ".".join(target.path),
        "first": releases[0],
        "last": releases[-1],
        "contained": ranges(here, releases),
        "typeChanges": type_changes(types, releases),
        "fields": fields,
        "builtin": builtin,
    }


def type_changes(types: dict, releases: list) -> list:
    out = []
    previous = None
    for release in releases:
        if release not in types:
            continue
        if previous is not None and types[release] != previous:
            out.append(f"{previous} → {types[release]} in {release}")
        previous = types[release]
    return out


def absent_message(target: FieldRequest, release: str, history: dict) -> str:
    """'does not exist in 1.26; it exists from 1.27 (1.27–1.36)' and the like."""
    where = history["contained"]
    if not where:
        return f"in no catalog release ({release_span(history['first'], history['last'])}) does {target.group_version} {target.kind} have it"
    runs = ", ".join(release_span(a, b) for a, b in where)
    if release_key(where[0][0]) > release_key(release):
        return f"it exists from {where[0][0]} ({runs})"
    return f"it exists in {runs}"


def _fields_below(defs: Definitions, schema: dict, history: frozenset) -> list:
    """--recursive's fields of fields, each with its own "fields", cut where a definition recurs on the path
    (the walk plaintext's recursive field list makes)."""
    out = []
    for name, sub, required, seen in fields_with_history(defs, schema, history):
        facts = field_facts(defs, name, sub, required)
        facts["fields"] = _fields_below(defs, sub, seen)
        out.append(facts)
    return out


def json_answer(
    defs: Definitions, target: FieldRequest, root: dict, source: dict, history: Optional[dict], recursive: bool = False
) -> dict:
    found = locate(defs, root, target.path)
    if found.field is not None:
        own = field_facts(defs, found.name, found.field, False)
        parent = locate(defs, root, target.path[:-1])
        own["required"] = any(n == found.name and req for n, _, req in field_names(defs, parent.target)) if parent else False
    else:
        own = field_facts(defs, target.kind, root, False)
        own["type"] = target.kind
    own["description"] = description_text(defs, found.target if found.field is None else found.field).strip()
    by_name = {f["name"]: f for f in (history or {}).get("fields", [])}
    fields = []
    for name, schema, required in field_names(defs, found.target):
        facts = field_facts(defs, name, schema, required)
        if history is not None:
            h = by_name.get(name, {})
            facts["history"] = {"contained": h.get("contained", []), "typeChanges": h.get("typeChanges", [])}
        if recursive:
            facts["fields"] = _fields_below(defs, schema, frozenset({""}))
        fields.append(facts)
    answer = {
        "query": ".".join([target.resource] + target.path),
        "source": source,
        "group": target.group,
        "version": target.version,
        "groupVersion": target.group_version,
        "resource": target.resource,
        "kind": target.kind,
        "path": list(target.path),
        "field": own,
        "fields": fields,
        "history": None,
    }
    if history is not None:
        answer["history"] = {
            "releases": [history["first"], history["last"]],
            "contained": history["contained"],
            "typeChanges": history["typeChanges"],
        }
    return answer


def completions(defs: Definitions, root: dict, prefix: str, path: list, partial: str) -> list:
    """'deployments.spec.te' -> ['deployments.spec.template']: the fields under path starting with partial."""
    found = locate(defs, root, path)
    if found is None:
        return []
    return sorted({f"{prefix}.{name}" for name, _, _ in field_names(defs, found.target) if name.startswith(partial)})


_UNSET = object()


class Explained:
    """explain's answer: the schema of the resource a field path starts from, and where it came from.

    What only some formats show is worked out when a printer first asks for it: the field's history
    across catalog releases (text, json, yaml), whether the server has only OpenAPI v2 (text and
    plaintext then take kubectl's v2 layout), and data, the json answer (None when the path does not exist).
    """

    def __init__(self, source, request: FieldRequest, defs: Definitions, root: dict, recursive: bool):
        self.source = source
        self.request = request
        self.defs = defs
        self.root = root
        self.recursive = recursive
        self.group, self.version, self.kind, self.path = request.group, request.version, request.kind, request.path
        self.label = source.schema_label
        self._history = self._data = _UNSET

    @property
    def v2_only(self) -> bool:
        return self.source.v2_only(self.request.group_version)

    @property
    def history(self) -> dict:
        if self._history is _UNSET:
            from kubectl_apiinfo.sources.catalog import schemas

            request = self.request
            finder = schemas.catalog_root_finder(request.group_version, request.kind)
            self._history = field_history(schemas.schema_releases(), finder, request)
        return self._history

    @property
    def data(self) -> Optional[dict]:
        if self._data is _UNSET:
            self._data = None
            if located(self.defs, self.root, self.path) is not None:
                self._data = json_answer(
                    self.defs, self.request, self.root, self.source.describe_schemas(), self.history, self.recursive
                )
        return self._data
