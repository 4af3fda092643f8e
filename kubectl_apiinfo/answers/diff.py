"""diff as data: what changes between two targets (releases or cached clusters).

Group/versions added, removed, newly deprecated, newly on or off by default;
resources added, removed, no longer served by one of their group/versions, or whose preferred
version changed; and, for one
resource or for all (--fields), the field changes of every group/version both
sides have a schema of: fields added and removed (the topmost only: a new
struct's own fields come with it), type changes and required changes.

With one resource every section is about it: the group/versions that serve it
on either side and its own resource rows, not every change between the two.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.errors import flag
from kubectl_apiinfo.model import group_version, release_key, version_priority_key
from kubectl_apiinfo.sources.catalog import releases

# The order a person reads an upgrade in: what breaks first.
SECTIONS = (
    ("groupVersions", "unknown"),
    ("groupVersions", "removed"),
    ("groupVersions", "off-by-default"),
    ("groupVersions", "deprecated"),
    ("groupVersions", "added"),
    ("groupVersions", "on-by-default"),
    ("resources", "removed"),
    ("resources", "version-removed"),
    ("resources", "preferred-version"),
    ("resources", "added"),
    ("fields", "removed"),
    ("fields", "type"),
    ("fields", "required"),
    ("fields", "added"),
)
MAX_DEPTH = 24  # recursive schemas (JSONSchemaProps) stop at a cycle; this bounds everything else


def _deprecated_in(target, gv_key, gv) -> Optional[str]:
    """The release a group/version was deprecated in, when every kind it serves is deprecated by target's release."""
    release = target.release
    if release is None:
        return None
    group, version = gv_key
    latest = None
    kinds = [r.kind for r in gv.resources if "/" not in r.name]
    if not kinds:
        return None
    for kind in kinds:
        facts = releases.lifecycle_of(group, version, kind)
        if not facts.deprecated or release_key(facts.deprecated) > release_key(release):
            return None
        latest = facts.deprecated if latest is None or release_key(facts.deprecated) > release_key(latest) else latest
    return latest


def group_versions(a, b, wanted: Optional[set] = None) -> list:
    """Every group/version's change; with wanted ((group, plural) pairs), only those serving one of them."""
    rows = []
    failed = {**a.failed_discovery, **b.failed_discovery}
    for key in sorted(set(a.versions) | set(b.versions) | {_split(gv) for gv in failed},
                      key=lambda k: (k[0], version_priority_key(k[1]))):
        gv = group_version(*key)
        if wanted is not None and not _about(a, b, key, gv in failed, wanted):
            continue
        before, after = a.versions.get(key), b.versions.get(key)
        if gv in failed and (before is None or after is None):
            where = b.label if gv in b.failed_discovery else a.label
            rows.append({"change": "unknown", "groupVersion": gv,
                         "detail": f"discovery failed in {where} ({failed[gv]}); retry with {flag('refresh')}"})
            continue
        if before is not None and after is None:
            if not before.served and not b.default_server:
                continue  # off by default on one side, not enabled on a cluster: no change a manifest meets
            rows.append({"change": "removed", "groupVersion": gv, "detail": f"not in {b.label}" + ("" if before.served else f" (off by default in {a.label})")})
        elif before is None and after is not None:
            if not after.served and not a.default_server:
                continue
            served = ("served by default" if b.default_server else "served") if after.served else "off by default"
            rows.append({"change": "added", "groupVersion": gv, "detail": served})
        elif before is not None and after is not None:
            if before.served and not after.served:
                rows.append({"change": "off-by-default", "groupVersion": gv, "detail": f"in {b.label} but no longer served by default"})
            elif after.served and not before.served:
                rows.append({"change": "on-by-default", "groupVersion": gv, "detail": f"served by default in {b.label}"})
        now = _deprecated_in(b, key, after) if after is not None else None
        if now and (before is None or not _deprecated_in(a, key, before)):
            facts = [releases.lifecycle_of(key[0], key[1], r.kind) for r in after.resources if "/" not in r.name]
            removals = sorted({f.removed for f in facts if f.removed}, key=release_key)
            detail = f"deprecated in {now}" + (f"; planned removal in {', '.join(removals)}" if removals else "")
            rows.append({"change": "deprecated", "groupVersion": gv, "detail": detail})
    return rows


def _about(a, b, key: tuple, failed: bool, wanted: set) -> bool:
    """Whether a group/version serves a wanted resource on either side; one whose discovery failed might."""
    group = key[0]
    if failed:
        return any(g == group for g, _ in wanted)
    for side in (a, b):
        gv = side.versions.get(key)
        if gv is not None and any((group, r.name) in wanted for r in gv.resources):
            return True
    return False


def _split(gv: str) -> tuple:
    group, _, version = gv.rpartition("/")
    return group, version


def _served_resources(target) -> dict:
    """(group, plural) -> {kind, versions served (priority order), preferred}."""
    found: dict = {}
    for name, g in target.groups.items():
        here: dict = {}
        for gv in g.versions:
            for r in gv.resources:
                if "/" not in r.name and r.served:
                    here.setdefault(r.name, {"kind": r.kind, "versions": []})["versions"].append(gv.version)
        preferred = g.preferred_version
        for plural, entry in here.items():
            versions = entry["versions"]
            # kubectl's pick: the group's preferred version when it has the resource, else the highest priority
            entry["preferred"] = preferred if preferred in versions else min(versions, key=version_priority_key)
            found[(name, plural)] = entry
    return found


def resources(a, b, wanted: Optional[set] = None) -> list:
    """Every resource's change; with wanted ((group, plural) pairs), only theirs."""
    before, after = _served_resources(a), _served_resources(b)
    unknown_groups = {_split(gv)[0] for gv in {**a.failed_discovery, **b.failed_discovery}}
    rows = []
    for key in sorted(set(before) | set(after)):
        if wanted is not None and key not in wanted:
            continue
        group, plural = key
        name = f"{plural}.{group}" if group else plural
        x, y = before.get(key), after.get(key)
        if (x is None or y is None) and group in unknown_groups:
            continue  # its group's discovery failed on a side: the groupVersions row says so
        if x and not y:
            rows.append({"change": "removed", "resource": name, "kind": x["kind"],
                         "detail": f"served in {', '.join(group_version(group, v) for v in x['versions'])}; not served in {b.label}"})
        elif y and not x:
            rows.append({"change": "added", "resource": name, "kind": y["kind"],
                         "detail": f"served in {', '.join(group_version(group, v) for v in y['versions'])}"})
        else:
            # Still served, but no longer by a group/version that survives (a group/version gone whole is
            # its own row): manifests naming that pair break, and nothing else would say so.
            gone = [v for v in x["versions"] if v not in y["versions"] and (group, v) in b.versions]
            if gone:
                rows.append({"change": "version-removed", "resource": name, "kind": x["kind"],
                             "detail": f"no longer served in {', '.join(group_version(group, v) for v in gone)}; "
                                       f"served in {', '.join(group_version(group, v) for v in y['versions'])}"})
            if x["preferred"] != y["preferred"]:
                rows.append({"change": "preferred-version", "resource": name, "kind": y["kind"],
                             "detail": f"{group_version(group, x['preferred'])} → {group_version(group, y['preferred'])}"})
    return rows


# --- fields -----------------------------------------------------------------------


def flatten(defs, root: dict) -> dict:
    """{field path (explain's notation): (type, required)} for every field under a kind, cut at cycles.

    A definition's subtree is walked once per kind (memo): Pod's spec is shared by every workload.
    """
    from kubectl_apiinfo.sources.openapi.schema_form import field_names, type_guess

    memo: dict = {}

    def walk(schema: dict, stack: frozenset, depth: int) -> dict:
        ref = _ref_of(schema)
        if ref:
            if ref in memo:
                return memo[ref]
            if ref in stack:
                return {}
            stack = stack | {ref}
        if depth > MAX_DEPTH:
            return {}
        here = {}
        for name, sub, required in field_names(defs, schema):
            here[name] = (type_guess(defs, sub), required)
            for path, facts in walk(sub, stack, depth + 1).items():
                here[f"{name}.{path}"] = facts
        if ref:
            memo[ref] = here
        return here

    return walk(root, frozenset(), 0)


def _ref_of(schema) -> str:
    """The definition a field's schema stands for, through allOf, items and map values."""
    if not isinstance(schema, dict):
        return ""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref:
        return ref
    for alternative in schema.get("allOf") or []:
        found = _ref_of(alternative)
        if found:
            return found
    for key in ("items", "additionalProperties"):
        found = _ref_of(schema.get(key))
        if found:
            return found
    return ""


def field_changes(a, b, kinds: list) -> list:
    """Per group/version/kind both targets have a schema of: added, removed, type and required changes."""
    rows = []
    for group, version, kind in kinds:
        x, y = a.schema(group, version, kind), b.schema(group, version, kind)
        if x is None or y is None:
            continue
        before, after = flatten(*x), flatten(*y)
        gv = group_version(group, version)
        rows.extend(_compare(gv, kind, before, after))
    return rows


def _compare(gv: str, kind: str, before: dict, after: dict) -> list:
    rows = []

    def topmost(paths: set) -> list:
        return [p for p in sorted(paths) if p.rpartition(".")[0] not in paths]  # a new struct's fields come with it

    added = set(after) - set(before)
    removed = set(before) - set(after)
    for p in topmost(added):
        rows.append({"change": "added", "groupVersion": gv, "kind": kind, "field": p, "detail": f"{after[p][0]}" + (", required" if after[p][1] else "")})
    for p in topmost(removed):
        rows.append({"change": "removed", "groupVersion": gv, "kind": kind, "field": p, "detail": f"was {before[p][0]}"})
    for p in sorted(set(before) & set(after)):
        (t0, r0), (t1, r1) = before[p], after[p]
        if t0 != t1:
            rows.append({"change": "type", "groupVersion": gv, "kind": kind, "field": p, "detail": f"{t0} → {t1}"})
        if r0 != r1:
            rows.append({"change": "required", "groupVersion": gv, "kind": kind, "field": p, "detail": "now required" if r1 else "no longer required"})
    return rows


def named(a, b, resource: Optional[str]) -> Optional[set]:
    """(group, plural) of every resource the word names on either side; None without a word.

    Both sides, because a resource that moved group is one thing to its user: on 1.21
    'ingresses' is ingresses.extensions first, on 1.22 ingresses.networking.k8s.io.
    """
    if not resource:
        return None
    from kubectl_apiinfo.answers.resolve import resolve
    from kubectl_apiinfo.errors import UserError

    wanted = {(m.group.name, m.name) for side in (a, b) for m in resolve(side.snapshot, resource)}
    if not wanted:
        raise UserError(f"neither {a.label} nor {b.label} has a resource type {resource!r} ('kubectl apiinfo resources' lists them)")
    return wanted


def kinds_to_compare(a, b, wanted: Optional[set], all_fields: bool) -> list:
    """(group, version, kind) both sides contain: all of them with --fields, else those of the wanted resources."""
    common = sorted(set(a.kinds) & set(b.kinds))
    if all_fields:
        return common
    if not wanted:
        return []
    keys = []
    for key in common:
        group, version, kind = key
        r = b.kinds[key]
        if (group, r.name) in wanted:
            keys.append(key)
    return keys


def diff(a, b, resource: Optional[str] = None, all_fields: bool = False) -> dict:
    wanted = named(a, b, resource)
    kinds = kinds_to_compare(a, b, wanted, all_fields)
    notes = []
    if (resource or all_fields) and not (a.has_schemas and b.has_schemas):
        missing = a if not a.has_schemas else b
        notes.append(f"{missing.label} has no OpenAPI schemas in the catalog, so field changes are not compared")
    return {
        "kind": "DiffResult",
        "from": a.describe(),
        "to": b.describe(),
        "resource": resource,
        "groupVersions": group_versions(a, b, wanted),
        "resources": resources(a, b, wanted),
        "fields": field_changes(a, b, kinds) if kinds else [],
        "notes": notes,
    }
