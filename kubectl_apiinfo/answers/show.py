"""The explain-style answer about the resources a word names (kubectl apiinfo RESOURCE), as plain data:
the -o json / -o yaml shape.  printers/show.py turns the same data into text, so every format says the same
thing.  It works on any Source: a catalog release or a cluster's discovery.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.sources.catalog import releases
from kubectl_apiinfo.errors import UserError, flag, shorten
from kubectl_apiinfo.model import APISnapshot, group_version, parse_release, release_key, stability, version_priority_key
from kubectl_apiinfo.answers.resolve import Match, history_entries, interpretations, known_names, kubectl_pick, resolve


_SOURCE_EXTRAS = (
    "origin",
    "server",
    "gitVersion",
    "fetchedAt",
    "age",
    "fromCache",
    "discovery",
    "failedGroupVersions",
)


def source_info(snapshot: APISnapshot) -> dict:
    """What the answer describes: a catalog release, or which cluster and how old its data is."""
    s = snapshot.source
    info = {"kind": s.kind, "name": s.name, "kubernetesVersion": s.kubernetes_version or None}
    info.update({k: v for k, v in s.facts().items() if k in _SOURCE_EXTRAS})
    if s.notes:
        info["notes"] = list(s.notes)
    return info


def _lifecycle(group: str, version: str, kind: str, contained: Optional[list] = None) -> dict:
    facts = releases.lifecycle_of(group, version, kind)
    if contained is None:
        entry = releases.history_of(group, version, kind)
        contained = entry.contained if entry is not None else None
    return {
        "introduced": facts.introduced,
        "introducedUpstream": facts.introduced_upstream,
        "introducedNote": facts.introduced_note,
        "deprecated": facts.deprecated,
        "removed": facts.removed,
        "replacement": facts.replacement,
        "replacementDerived": facts.replacement_derived,
        "replacementUpstream": facts.replacement_upstream,
        "note": releases.removal_note(facts, contained),
    }


def _match_answer(m: Match) -> dict:
    best_gv, best = m.best()
    preferred = m.group.preferred_version
    any_served = bool(m.served_versions)
    versions = []
    for gv, r in m.versions:
        versions.append(
            {
                "groupVersion": group_version(m.group.name, gv.version),
                "version": gv.version,
                "stability": stability(gv.version),
                "preferred": gv.version == preferred,
                "served": r.served,
                "kind": r.kind,
                "namespaced": r.namespaced,
                "verbs": list(r.verbs),
                "subresources": [
                    {
                        "name": s.name,
                        "groupVersion": group_version(s.group, s.version),
                        "kind": s.kind,
                        "verbs": list(s.verbs),
                    }
                    for s in r.subresources
                ],
                "lifecycle": _lifecycle(m.group.name, gv.version, r.kind),
            }
        )
    return {
        "name": m.name,
        "group": m.group.name,
        "qualifiedName": m.qualified_name,
        "kind": best.kind,
        "namespaced": best.namespaced,
        "singularName": best.singular_name,
        "shortNames": list(best.short_names),
        "categories": list(best.categories),
        "preferredVersion": preferred,
        "served": any_served,
        "apiVersion": group_version(m.group.name, best_gv.version) if any_served else None,
        "versions": versions,
    }


def _history(entries: list[releases.HistoryEntry]) -> list[dict]:
    entries = sorted(entries, key=lambda e: (e.group != "", e.group, e.resource, version_priority_key(e.version)))
    return [
        {
            "resource": e.resource,
            "group": e.group,
            "version": e.version,
            "groupVersion": e.group_version,
            "kind": e.kind,
            "contained": e.contained,
            "served": e.served,
            "lifecycle": _lifecycle(e.group, e.version, e.kind, e.contained),
        }
        for e in entries
    ]


def explain(source, word: str) -> dict:
    """Everything about the resource(s) a word names in a Source; raises UserError for an unknown word."""
    snapshot = source.snapshot
    matches = resolve(snapshot, word)
    hist = releases.history()
    if matches:
        group_given = interpretations(word)[0].group is not None
        groups = {m.group.name for m in matches}
        entries = [
            e
            for plural in sorted({m.name for m in matches})
            for e in hist.get(plural, [])
            if not group_given or e.group in groups
        ]
    failed = [] if matches else failed_discovery(snapshot, word)
    if not matches:
        entries = history_entries(hist, word)
        if not entries and not failed:
            raise UserError(_unknown_message(snapshot, word, hist))
    pick = kubectl_pick(matches)
    served = [m for m in matches if m.served_versions]
    answer = {
        "query": word,
        "source": source_info(snapshot),
        "write": None,  # write_advice(), once the rest is known
        "resources": [_match_answer(m) for m in matches],
        "kubectlPick": None,
        "kubectlPickNote": "",
        "history": _history(entries),
    }
    if failed:
        answer["failedDiscovery"] = failed
    if pick is not None:
        gv, _ = pick.best()
        if len(served) == 1 or pick.group.name == "" or _in_discovery_order(source, served):
            answer["kubectlPick"] = {
                "resource": pick.name,
                "group": pick.group.name,
                "version": gv.version,
                "groupVersion": group_version(pick.group.name, gv.version),
            }
            if len(served) > 1:
                answer["kubectlPickNote"] = (
                    "the core group comes first" if pick.group.name == "" else f"{pick.group.name} comes first in discovery"
                )
        else:
            answer["kubectlPickNote"] = (
                "kubectl takes the group the API server lists first, and the catalog does not know where "
                + ", ".join(sorted({m.group.name for m in served} & _unordered(snapshot)))
                + " comes; qualify the name ("
                + ", ".join(m.qualified_name for m in served)
                + ")"
            )
    answer["write"] = write_advice(source, answer)
    return answer


_RANKS = {"stable": 0, "beta": 1, "alpha": 2}


def _deprecated_by(lc: dict, release: Optional[str]) -> bool:
    """Whether the catalog's lifecycle has the version deprecated in the release (in every release when unknown)."""
    if not lc["deprecated"]:
        return False
    at, since = parse_release(release or ""), parse_release(lc["deprecated"])
    return at is None or since is None or since <= at


def write_advice(source, answer: dict) -> Optional[dict]:
    """The apiVersion a new manifest of the kind the word names should use in this source: served by it (by a
    default API server, for a catalog release), not deprecated, of the highest stability, the newest of those;
    across every resource of that kind the word matches.  None when nothing of the word is there."""
    resources = answer["resources"]
    if not resources:
        return None
    pick = answer["kubectlPick"]
    kind = next((r["kind"] for r in resources if pick and r["name"] == pick["resource"] and r["group"] == pick["group"]),
                resources[0]["kind"])
    release = source.snapshot.source.kubernetes_version or None
    custom = source.custom_versions if source.snapshot.source.custom_versions else {}
    candidates = []
    for order, r in enumerate(resources):
        for v in r["versions"]:
            if v["kind"] != kind:
                continue
            crd = custom.get((r["group"], v["version"], v["kind"]))
            deprecated = crd.deprecated if crd is not None else _deprecated_by(v["lifecycle"], release)
            key = (not v["served"], deprecated, _RANKS.get(v["stability"], 3), version_priority_key(v["version"]), order)
            candidates.append((key, r, v, deprecated))
    if not candidates:
        return None
    _, r, v, deprecated = min(candidates, key=lambda c: c[0])
    return {
        "apiVersion": v["groupVersion"],
        "kind": kind,
        "resource": r["qualifiedName"],
        "stability": v["stability"],
        "served": v["served"],
        "deprecated": deprecated,
        "reason": _why(v, deprecated, {c[2]["stability"] for c in candidates if c[2]["served"]}, source),
        "kubectlPicks": pick["groupVersion"] if pick else None,
        "kubectlPicksBecause": _kubectl_because(answer, v) if pick and pick["groupVersion"] != v["groupVersion"] else None,
    }


def _why(v: dict, deprecated: bool, served_stabilities: set, source) -> str:
    """Why v is the version to write: its stability and deprecation, and what the source lacks that would be better."""
    where = source.snapshot.source.name
    lc = v["lifecycle"]
    later = f"; deprecated in {lc['deprecated']}" if lc["deprecated"] and not deprecated else ""
    if lc["note"] and lc["note"] != "-" and later:
        later += f", {lc['note']}"
    if not v["served"]:
        return (f"{v['stability']} and off by default: {where} serves no version of it unless kube-apiserver's "
                "runtime-config turns it on")
    if deprecated:
        since = f" since {lc['deprecated']}" if lc["deprecated"] else ""
        removed = f", {lc['note']}" if lc["note"] and lc["note"] != "-" else ""
        return f"deprecated{since}{removed}, but {where} serves no version of it that is not deprecated"
    if v["stability"] == "stable":
        return "stable and not deprecated" + later
    better = [s for s in ("stable", "beta") if _RANKS[s] < _RANKS.get(v["stability"], 3)]
    if better and not served_stabilities & set(better):
        return f"{v['stability']} and not deprecated ({where} serves no {' or '.join(better)} version of it)" + later
    if better:  # a more stable version is served, but deprecated
        return f"{v['stability']} and not deprecated ({where}'s {' and '.join(better)} versions of it are deprecated)" + later
    return f"{v['stability']} and not deprecated" + later


def _kubectl_because(answer: dict, chosen: dict) -> str:
    """Why kubectl takes another version than the one to write: another group first in discovery, or the group's
    preferred version."""
    pick = answer["kubectlPick"]
    resource = next(r for r in answer["resources"] if r["name"] == pick["resource"] and r["group"] == pick["group"])
    if chosen["groupVersion"] not in {v["groupVersion"] for v in resource["versions"]}:
        return answer["kubectlPickNote"] or f"{pick['group'] or 'the core group'} comes first in discovery"
    if resource["preferredVersion"] == pick["version"]:
        return f"{pick['version']} is the group's preferred version"
    return f"the group's preferred version has no {resource['name']}, and {pick['version']} is the first that does"


def _unordered(snapshot: APISnapshot) -> set[str]:
    return set(snapshot.source.group_order_unknown or [])


def _in_discovery_order(source, served: list[Match]) -> bool:
    """Whether the snapshot's group order is the API server's for these groups.

    A cluster's discovery is; a catalog release is where its builder ordered
    the groups by the kube-aggregator's priorities and knew each one's place.
    """
    if not source.default_server:
        return True
    snapshot = source.snapshot
    if snapshot.source.group_order != "discovery":
        return False
    return not ({m.group.name for m in served} & _unordered(snapshot))


def _unknown_message(snapshot: APISnapshot, word: str, hist: dict) -> str:
    import difflib  # only on this error path

    query = interpretations(word)[-1].name
    names = known_names(snapshot, hist)
    close = []
    for near in difflib.get_close_matches(query, sorted(names), n=6, cutoff=0.75):
        if names[near] not in close:
            close.append(names[near])
    where = snapshot.source.name
    hint = f"; did you mean {' or '.join(repr(c) for c in close[:3])}?" if close else ""
    return f"{where} has no resource type {shorten(word)!r}{hint} ('kubectl apiinfo resources' lists them all)"


def failed_discovery(snapshot: APISnapshot, word: str) -> list[dict]:
    """Where a word would be served but discovery failed: the failed group versions' resources as the
    previous snapshot knew them and, for built-in groups, as the cluster's release has them."""
    from kubectl_apiinfo.model import Group, GroupVersion

    failed = snapshot.source.failed_group_versions or {}
    if not failed:
        return []
    release = snapshot.source.kubernetes_version
    expected = releases.load_release(release) if release in releases.release_names() else None
    known = APISnapshot.from_dict(
        {"schemaVersion": 1, "source": {"kind": "cluster", "name": ""},
         "groups": [{"name": gv.rpartition("/")[0], "versions": [{"version": gv.rpartition("/")[2], "resources": rs}]}
                    for gv, rs in sorted((snapshot.source.last_known or {}).items())]}
    ) if snapshot.source.last_known else None
    groups: dict[str, list] = {}
    origin: dict[tuple[str, str, str], list[str]] = {}  # (group, version, resource) -> where it is known from
    for gv in sorted(failed):
        group, _, version = gv.rpartition("/")
        resources = {}
        for where, source in (("previous snapshot", known), ("catalog", expected)):
            g = source.group(group) if source is not None else None
            for sgv in (g.versions if g else []):
                for r in sgv.resources if sgv.version == version else []:
                    if r.served:
                        resources.setdefault(r.name, r)
                        origin.setdefault((group, version, r.name), []).append(where)
        if resources:
            groups.setdefault(group, []).append(GroupVersion(version, list(resources.values())))
    rows = []
    for m in resolve(APISnapshot(snapshot.source, [Group(g, vs) for g, vs in groups.items()]), word):
        for gv, r in m.versions:
            name = group_version(m.group.name, gv.version)
            rows.append({"resource": m.name, "groupVersion": name, "kind": r.kind, "error": failed[name],
                         "knownFrom": origin[(m.group.name, gv.version, r.name)]})
    return rows


def not_served_message(answer: dict) -> Optional[str]:
    """The error line for a resource the snapshot has no trace of, though the catalog's history does;
    or, when discovery of the group that would serve it failed, that its state is unknown."""
    if answer["resources"]:
        return None
    failed = answer.get("failedDiscovery")
    if failed:
        source = answer["source"]
        gvs = sorted({f["groupVersion"] for f in failed})
        release = source.get("kubernetesVersion")
        from_catalog = sorted({f["groupVersion"] for f in failed if "catalog" in f["knownFrom"]})
        if from_catalog and release:
            expected = f"; Kubernetes {release} serves it as {', '.join(from_catalog)}"
        else:
            expected = f"; the previous snapshot had it in {', '.join(gvs)}"
        return (
            f"whether {source['name']} serves {shorten(answer['query'])!r} is unknown: discovery of {', '.join(gvs)}, "
            f"which would serve it, failed there ({failed[0]['error']}){expected}; "
            f"retry with {flag('refresh')} once the API is back"
        )
    spans = [(h["groupVersion"], first, end) for h in answer["history"] for first, end in h["served"]]
    name, query = answer["source"]["name"], shorten(answer["query"])
    if not spans:
        return f"{query!r} is not served by {name}, nor by default in any catalog release"
    release = answer["source"].get("kubernetesVersion")
    before = [s for s in spans if release and release_key(s[2]) < release_key(release)] if release else spans
    if release and not before:  # not yet: every span begins after the release asked about
        gv, first, _ = min(spans, key=lambda s: release_key(s[1]))
        return f"{query!r} is not served by {name} yet; {gv} serves it from {first} (history above)"
    gv, _, last = max(before or spans, key=lambda s: release_key(s[2]))
    return f"{query!r} is not served by {name}; it was last served by {gv} in {last} (history above)"
