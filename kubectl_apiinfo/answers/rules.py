"""stale-rule: rules that name APIs the target does not serve, found in the objects that hold them.

  Role, ClusterRole                 rules[i]: apiGroups x resources (RBAC names no versions)
  Validating/MutatingWebhookConfiguration  webhooks[i].rules[j]: apiGroups x apiVersions x resources
  Validating/MutatingAdmissionPolicy       spec.matchConstraints.(exclude)resourceRules[i], the same shape
  ...AdmissionPolicyBinding                spec.matchResources.(exclude)resourceRules[i]
  APIService                        spec: group/version, built-in groups only

Unknown is not absent: a group is judged only where the target can know it.  A catalog release knows
the built-in groups (those some release has); a cluster also its own (CRDs, aggregated APIs).  A group
whose discovery failed, or that a CustomResourceDefinition or APIService in the same input defines, is
not judged; nor is a name no release ever had where an authorizer may use it (impersonation's `users`,
the kubelet's `nodes/metrics`).  Wildcards never go stale.
"""

from __future__ import annotations

from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.model import group_version, release_key
from kubectl_apiinfo.sources.catalog import releases

STALE_RULE = "stale-rule"

RBAC, ADMISSION, AGGREGATION = "rbac.authorization.k8s.io", "admissionregistration.k8s.io", "apiregistration.k8s.io"
_MATCH = {  # where an admission object keeps its rules
    "ValidatingAdmissionPolicy": "matchConstraints", "MutatingAdmissionPolicy": "matchConstraints",
    "ValidatingAdmissionPolicyBinding": "matchResources", "MutatingAdmissionPolicyBinding": "matchResources",
}


def _dicts(value) -> list:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _strings(value) -> list:
    return list(dict.fromkeys(v for v in value if isinstance(v, str))) if isinstance(value, list) else []


def _gr(group: str, resource: str) -> str:
    """RBAC's way to name a resource: 'policy/podsecuritypolicies'; the core group's alone: 'pods'."""
    return f"{group}/{resource}" if group else resource


# --- what the catalog's releases had --------------------------------------------------


@lru_cache(maxsize=None)
def _history() -> tuple:
    """({(group, plural): entries}, {(group, version): entries}, {group: entries}) over every release."""
    by_resource: dict = {}
    by_version: dict = {}
    by_group: dict = {}
    for entries in releases.history().values():
        for e in entries:
            by_resource.setdefault((e.group, e.resource), []).append(e)
            by_version.setdefault((e.group, e.version), []).append(e)
            by_group.setdefault(e.group, []).append(e)
    return by_resource, by_version, by_group


@lru_cache(maxsize=None)
def _subresources() -> dict:
    """{(group, resource, subresource): the releases with it}: history.json keeps no subresources, so every
    release is read, once, and only where a target lacks a subresource a rule names (~20 ms)."""
    found: dict = {}
    for name in releases.release_names():
        for g in releases.load_release(name).groups:
            for gv in g.versions:
                for r in gv.resources:
                    for sub in r.subresources:
                        found.setdefault((g.name, r.name, sub.name), []).append(name)
    return {key: tuple(dict.fromkeys(names)) for key, names in found.items()}


def subresource_releases(group: str, resource: str, sub: str) -> tuple:
    return _subresources().get((group, resource, sub), ())


def history_note(entries: list, release: Optional[str]) -> tuple:
    """(when the APIs of entries stopped, or start, being in a release; the planned removal): ("removed in
    1.25", "1.25"), ("served from 1.26", None); ("", None) where the target's release has them (a cluster
    that turned a default API off) or the catalog does not know them."""
    ranges = [(e, first, last) for e in entries for first, last in e.contained]
    if not ranges:
        return "", None
    if release:
        at = release_key(release)
        if any(release_key(first) <= at <= release_key(last) for _, first, last in ranges):
            return "", None
        ranges = [r for r in ranges if release_key(r[2]) < at] or ranges
        if release_key(ranges[0][1]) > at:
            return f"served from {min((r[1] for r in ranges), key=release_key)}", None
    e, _, last = max(ranges, key=lambda r: release_key(r[2]))
    planned, after = releases.lifecycle_of(e.group, e.version, e.kind).removed, release_after(last)
    if after is None:
        return "", None  # the newest release has it: only a cluster without the API gets here
    if planned and release_key(planned) <= release_key(after):
        return f"removed in {planned}", planned  # planned, or earlier off by default and re-enableable: past
    return f"gone since {after}" + (f"; planned for removal in {planned}" if planned else ""), planned


def release_after(name: str) -> Optional[str]:
    names = releases.release_names()
    i = names.index(name) if name in names else len(names)
    return names[i + 1] if i + 1 < len(names) else None


def _replacement_of(entries: list) -> Optional[tuple]:
    """(group, version, plural) of the lifecycle's replacement for the newest of entries that names one."""
    for e in sorted(entries, key=lambda e: release_key(e.contained[-1][1]) if e.contained else (0, 0), reverse=True):
        to = releases.lifecycle_of(e.group, e.version, e.kind).replacement
        if to:
            gv, _, kind = to.rpartition("/")
            group, _, version = gv.rpartition("/")
            found = releases.history_of(group, version, kind)
            if found is not None:
                return group, version, found.resource
    return None


# --- the judge ---------------------------------------------------------------------------


class StaleRules:
    """The stale-rule findings of one target for the objects that hold rules; remembers its look-ups."""

    def __init__(self, target, objects: list):
        self.target = target
        self.failed = {gv.rpartition("/")[0] for gv in target.failed_discovery}
        self.defined = _defined_groups(objects)
        self._tables: dict = {}

    # --- what the target has: the Source's own index -----------------------------------

    def judged(self, group: str) -> bool:
        if group in self.failed or group in self.defined:
            return False
        if group in releases.builtin_kinds():
            return True
        return not self.target.default_server and group in self.target.groups

    def versions(self, group: str) -> list:
        g = self.target.groups.get(group)
        return [gv.version for gv in g.versions] if g is not None else []

    def table(self, group: str, version: str) -> dict:
        """{plural: its subresources} of a group/version the target has ({} where it has none)."""
        key = (group, version)
        found = self._tables.get(key)
        if found is None:
            found = {}
            gv = self.target.versions.get(key)
            for r in gv.resources if gv is not None else ():
                base, _, sub = r.name.partition("/")  # a discovery document may list 'pods/log' as its own row
                subs = found.setdefault(base, set())
                if sub:
                    subs.add(sub)
                subs.update(s.name for s in r.subresources)
            self._tables[key] = found
        return found

    def has(self, pairs: list, base: str, sub: str = "") -> bool:
        for g, v in pairs:
            subs = self.table(g, v).get(base)
            if subs is not None and (not sub or sub == "*" or sub in subs):
                return True
        return False

    # --- findings ----------------------------------------------------------------------------

    def findings(self, group: str, kind: str, obj: dict) -> list:
        if group == RBAC and kind in ("Role", "ClusterRole"):
            return [f for i, rule in _dicts(obj.get("rules")) for f in self.rbac(rule, f"rules[{i}]")]
        if group == ADMISSION and kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            return [f for i, hook in _dicts(obj.get("webhooks")) for j, rule in _dicts(hook.get("rules"))
                    for f in self.admission(rule, f"webhooks[{i}].rules[{j}]")]
        if group == ADMISSION and kind in _MATCH:
            spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
            match = spec.get(_MATCH[kind]) if isinstance(spec.get(_MATCH[kind]), dict) else {}
            return [f for field in ("resourceRules", "excludeResourceRules") for i, rule in _dicts(match.get(field))
                    for f in self.admission(rule, f"spec.{_MATCH[kind]}.{field}[{i}]")]
        if group == AGGREGATION and kind == "APIService":
            return self.api_service(obj.get("spec"))
        return []

    def when(self, entries: list, group: Optional[str] = None) -> tuple:
        """history_note's (note, removed) for entries; where they are none and group is built-in, that no release has it."""
        if not entries and group is not None and group in releases.builtin_kinds():
            return "no Kubernetes release has it", None
        return history_note(entries, self.target.release)

    def group_gone(self, group: str) -> tuple:
        """For a resource no release had in a group the target lacks: since when the group serves nothing."""
        ever = _history()[2].get(group, [])
        last = max((last for e in ever for _, last in e.contained), key=release_key, default=None)
        after = release_after(last) if last else None
        if after is None or (self.target.release and release_key(after) > release_key(self.target.release)):
            return self.when([], group)
        return f"no version of {group} since {after}", None

    def finding(self, path: str, stale: str, when: tuple, replacement: Optional[tuple] = None, rbac: bool = False,
                sub: str = "") -> dict:
        """One stale name of one rule: when is history_note's (note, removed), replacement (group, version, plural),
        sub the rule's subresource (the replacement has it too)."""
        where = self.target.label
        note, removed = when
        detail = f"{path}: {stale} is not served in {where}" + (f" ({note})" if note else "")
        named, served = None, None
        if replacement is not None and not note.startswith("served from"):  # a replacement of what is to come: no
            g, v, plural = replacement
            named = _gr(g, plural) if rbac else f"{group_version(g, v)} {plural}"
            named += f"/{sub}" if sub else ""
            served = self.has([(g, w) for w in self.versions(g)] if rbac else [(g, v)], plural)
            detail += f"; use {named}, served in {where}" if served else f"; its replacement {named} is not served in {where} either"
        return {"finding": STALE_RULE, "detail": detail, "rule": path, "stale": stale, "removed": removed,
                "replacement": named, "replacementServed": served}

    def rbac(self, rule: dict, path: str) -> list:
        """RBAC names groups and resources: stale where the group has no version at the target, or none of its
        versions has the resource (or subresource) that some release had there."""
        groups, resources = _strings(rule.get("apiGroups")), _strings(rule.get("resources"))
        if "*" in groups:
            return []
        by_resource, _, by_group = _history()
        out = []
        for g in (g for g in groups if self.judged(g)):
            pairs = [(g, v) for v in self.versions(g)]
            for r in resources:
                base, _, sub = r.partition("/")
                had = by_resource.get((g, base), [])
                if not pairs:  # the whole group is gone (extensions from 1.22)
                    when = self.when(had, g) if had else self.group_gone(g)
                    out.append(self.finding(path, _gr(g, r), when, _replacement_of(had), rbac=True, sub=sub))
                elif base == "*" or self.has(pairs, base, sub):
                    continue
                elif not self.has(pairs, base):
                    if had:  # else a name only an authorizer knows (impersonation's users, certificates' signers)
                        out.append(self.finding(path, _gr(g, r), self.when(had), _replacement_of(had), rbac=True, sub=sub))
                else:
                    was = subresource_releases(g, base, sub)
                    if was:  # else the kubelet's nodes/metrics and kin: not the API server's, still real
                        out.append(self.finding(path, _gr(g, r), (f"last served in {was[-1]}", None), rbac=True))
        return out

    def admission(self, rule: dict, path: str) -> list:
        """Webhook and policy rules: each named group/version the target lacks, then each named resource that
        no group/version of the rule serves there (where every group of the rule can be judged)."""
        groups, versions, resources = (_strings(rule.get(k)) for k in ("apiGroups", "apiVersions", "resources"))
        if not groups or not versions or not resources:
            return []  # matches nothing, or is not a rule at all: its schema's business
        _, by_version, by_group = _history()
        named = [v for v in versions if v != "*"]
        out = []
        live = []  # the (group, version) pairs of the rule the target has
        explained = set()  # resources a stale group or group/version of the rule had: no second finding for them
        for g in (g for g in groups if g != "*" and self.judged(g)):
            have = self.versions(g)
            if "*" in versions:
                live += [(g, v) for v in have]
                if not have:
                    ever = by_group.get(g, [])
                    explained.update(e.resource for e in ever)
                    out.append(self.finding(path, f"{g or 'the core group'} (any version)", self.when(ever, g)))
                continue
            live += [(g, v) for v in named if v in have]
            for v in named:
                ever = by_version.get((g, v), [])
                if v in have:  # served still, without a resource it had (extensions/v1beta1 deployments in 1.21)
                    for r in resources:
                        had = [e for e in ever if e.resource == r.partition("/")[0]]
                        if had and not self.has([(g, v)], had[0].resource):
                            explained.add(had[0].resource)
                            out.append(self.finding(path, f"{group_version(g, v)} {r}", self.when(had),
                                                    _replacement_of(had), sub=r.partition("/")[2]))
                    continue
                if not ever and any(w in have or (g, w) in by_version for w in named if w != v):
                    continue  # a version of another group in the cross product (extensions/v1 beside apps/v1)
                explained.update(e.resource for e in ever)
                gv = group_version(g, v)
                mine = [(r, [e for e in ever if e.resource == r.partition("/")[0]]) for r in resources]
                mine = [(r, had) for r, had in mine if had]
                if not mine:
                    out.append(self.finding(path, gv, self.when(ever, g)))
                for r, had in mine:
                    out.append(self.finding(path, f"{gv} {r}", self.when(had), _replacement_of(had), sub=r.partition("/")[2]))
        if not live or not all(g != "*" and self.judged(g) for g in groups):
            return out  # a resource may come from a group nobody can judge here
        return out + self.admission_resources(path, live, [r for r in resources if r.partition("/")[0] not in explained])

    def admission_resources(self, path: str, live: list, resources: list) -> list:
        by_resource, _, _ = _history()
        out = []
        gvs = ", ".join(group_version(g, v) for g, v in live)
        for r in resources:
            base, _, sub = r.partition("/")
            if base == "*" or self.has(live, base, sub):
                continue
            if not self.has(live, base):
                had = [e for g in dict.fromkeys(g for g, _ in live) for e in by_resource.get((g, base), [])]
                builtin = all(g in releases.builtin_kinds() for g, _ in live)
                out.append(self.finding(path, f"{gvs} {r}", self.when(had, "" if builtin else None), _replacement_of(had), sub=sub))
            else:
                was = [rel for g in dict.fromkeys(g for g, _ in live) for rel in subresource_releases(g, base, sub)]
                if was:
                    out.append(self.finding(path, f"{gvs} {r}", (f"last served in {max(was, key=release_key)}", None)))
        return out

    def api_service(self, spec) -> list:
        """An APIService of a built-in group/version the target lacks: the aggregator's local service for an API
        the release removed.  Other groups are aggregated APIs, not the catalog's to judge."""
        if not isinstance(spec, dict):
            return []
        g, v = spec.get("group"), spec.get("version")
        if not isinstance(g, str) or not isinstance(v, str) or g in self.failed or g not in releases.builtin_kinds():
            return []
        if v in self.versions(g):
            return []
        return [self.finding("spec", group_version(g, v), self.when(_history()[1].get((g, v), []), g))]


DEFINING_KINDS = ("CustomResourceDefinition", "APIService")  # the kinds whose objects define API groups


def _defined_groups(objects: list) -> set:
    """Groups a CustomResourceDefinition or an APIService among the objects defines: they may be served
    once these manifests are applied, whatever the target says now."""
    found = set()
    for m in objects:
        obj = m.obj
        if obj.get("kind") not in DEFINING_KINDS:
            continue
        spec = obj.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("group"), str):
            if obj["kind"] == "CustomResourceDefinition" or spec["group"] not in releases.builtin_kinds():
                found.add(spec["group"])
    return found
