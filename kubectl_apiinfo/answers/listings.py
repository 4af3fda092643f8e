"""The listings as plain data (the -o json / -o yaml shapes): what kubectl api-resources and api-versions
list, the catalog's releases, the cached snapshots and what a refresh did.  printers/listings.py prints them.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.model import APISnapshot, group_version, release_name, stability
from kubectl_apiinfo.sources.catalog import releases as catalog_releases


def resources(
    snapshot: APISnapshot,
    api_group: Optional[str] = None,
    namespaced: Optional[bool] = None,
    verbs: Optional[list[str]] = None,
    categories: Optional[list[str]] = None,
    sort_by: Optional[str] = None,
) -> list[dict]:
    """What kubectl api-resources lists: each served resource at its group's preferred version,
    plus resources only found in other versions (discovery's ServerPreferredResources)."""
    rows = []
    for g in snapshot.groups:
        seen: set[str] = set()
        preferred = g.preferred_version
        ordered = sorted(g.versions, key=lambda gv: gv.version != preferred)
        for gv in ordered:
            for r in gv.resources:
                if not r.served or r.name in seen or not r.verbs:
                    continue
                seen.add(r.name)
                if api_group is not None and g.name != api_group:
                    continue
                if namespaced is not None and r.namespaced != namespaced:
                    continue
                if verbs and not set(verbs) <= set(r.verbs):
                    continue
                if categories and not set(categories) <= set(r.categories):
                    continue
                rows.append(
                    {
                        "name": r.name,
                        "shortNames": list(r.short_names),
                        "apiVersion": group_version(g.name, gv.version),
                        "group": g.name,
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "verbs": list(r.verbs),
                        "categories": list(r.categories),
                    }
                )
    field = {"name": "name", "kind": "kind"}.get(sort_by or "", "group")
    # kubectl sorts stably by the field, ties broken by name.
    rows.sort(key=lambda row: (row[field], row["name"]))
    return rows


def versions(snapshot: APISnapshot) -> list[dict]:
    """What kubectl api-versions lists, with stability and preference; sorted like kubectl."""
    rows = []
    for g in snapshot.groups:
        preferred = g.preferred_version
        for gv in g.versions:
            if not gv.served:
                continue
            rows.append(
                {
                    "groupVersion": group_version(g.name, gv.version),
                    "group": g.name,
                    "version": gv.version,
                    "stability": stability(gv.version),
                    "preferred": gv.version == preferred,
                    "served": gv.served,
                    "resources": sum(1 for r in gv.resources if r.served),
                }
            )
    listed = {row["groupVersion"] for row in rows}
    for gv, why in (snapshot.source.failed_group_versions or {}).items():
        if gv in listed:
            continue
        group, _, version = gv.rpartition("/")
        # Served, as kubectl api-versions lists it; what it serves is unknown, not none.
        rows.append({"groupVersion": gv, "group": group, "version": version, "stability": stability(version),
                     "preferred": False, "served": True, "resources": None, "discoveryFailed": why})
    rows.sort(key=lambda row: row["groupVersion"])
    return rows


# helm's --kube-version takes any semantic version, but a vendor's pre-release suffix (v1.30.2-eks-1a2b3c)
# makes a chart's semverCompare ">=1.25.0" false: only major.minor.patch is kept.
_PATCH = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
# What $(...) may split and glob unquoted: names of these letters only (every Kubernetes API name is one).
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def capabilities(snapshot: APISnapshot) -> dict:
    """What helm template's --kube-version and --api-versions (Argo CD's spec.source.helm kubeVersion and
    apiVersions) say of a target, as helm and Argo CD learn them from a cluster's discovery: its Kubernetes version
    as major.minor.patch (None where unknown), and every served group/version and group/version/Kind, sorted as
    Argo CD sorts them.  A group/version whose discovery failed is listed, as helm lists it, without kinds.
    skipped: names a shell would not keep as one word, left out."""
    source = snapshot.source
    patch = _PATCH.match(source.git_version or "")
    release = release_name(source.kubernetes_version or "")
    kube = ".".join(patch.groups()) if patch else (f"{release}.0" if release else None)
    names: set[str] = set()
    for g in snapshot.groups:
        for gv in g.versions:
            kinds = {r.kind for r in gv.resources if r.served}  # subresources are not resources here
            if kinds:
                base = group_version(g.name, gv.version)
                names.update((base, *(f"{base}/{kind}" for kind in kinds)))
    names.update(source.failed_group_versions or {})
    plain = {name for name in names if _PLAIN.fullmatch(name)}
    return {"kubeVersion": kube, "apiVersions": sorted(plain), "skipped": sorted(names - plain)}


def releases() -> list[dict]:
    rows = []
    newest = catalog_releases.newest()
    for r in catalog_releases.index()["releases"]:
        rows.append(
            {
                "version": r["version"],
                "newest": r["version"] == newest,
                "origin": r["origin"],
                "defaultsDerived": r["defaultsDerived"],
                # The JSON shape promises no removed key; the data marks no release as unreleased any more.
                "developmentCycle": bool(r.get("developmentCycle")),
            }
        )
    return rows



# --- the cache and refreshes ---------------------------------------------


def _snapshot_summary(snapshot: APISnapshot) -> dict:
    return {
        "kubernetesVersion": snapshot.source.kubernetes_version or None,
        "discovery": snapshot.source.discovery,
        "groups": len(snapshot.groups),
        "resources": sum(1 for _ in snapshot.iter_resources()),
        "failedGroupVersions": sorted(snapshot.source.failed_group_versions or {}),
    }


def cached(entries) -> list[dict]:
    """One row per cached snapshot (cache.Entry objects), by name."""
    import datetime

    rows = []
    for e in entries:
        fetched = datetime.datetime.fromtimestamp(e.fetched_at, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append({"name": e.name, "server": e.server, "fetchedAt": fetched, "age": e.age(), **_snapshot_summary(e.snapshot), "identity": e.identity})
    rows.sort(key=lambda row: (row["name"], row["server"] or "", row["identity"]))  # as kubectl config get-contexts
    return rows


def refreshed(results) -> list[dict]:
    """One row per refreshed context: (label, entry or None, error or None) triples."""
    rows = []
    for label, entry, error in results:
        row = {"context": label, "server": entry.server if entry else None, "error": error}
        if entry:
            row.update(_snapshot_summary(entry.snapshot))
        rows.append(row)
    return rows
