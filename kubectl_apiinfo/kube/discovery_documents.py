"""Discovery documents into the model: aggregated (apidiscovery.k8s.io v2/v2beta1)
and legacy (APIGroupList, APIResourceList), and the server version.

Pure parsing with no network, so kubectl's own on-disk discovery cache is read
with the same code that reads a live server (see discovery.py for fetching).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from kubectl_apiinfo.model import Group, GroupVersion, Resource, Subresource, release_name

ACCEPT_AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
ACCEPT_JSON = "application/json"


# --- content types -------------------------------------------------------


def media_type_params(content_type: str) -> tuple[str, dict[str, str]]:
    """'application/json;g=apidiscovery.k8s.io;as=X;v=v2' -> ('application/json', {'g':…, 'as':…, 'v':…})."""
    parts = [p.strip() for p in (content_type or "").split(";")]
    params = {}
    for p in parts[1:]:
        key, _, value = p.partition("=")
        if key:
            params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def is_aggregated(content_type: str) -> bool:
    media, params = media_type_params(content_type)
    return (
        media == "application/json"
        and params.get("g") == "apidiscovery.k8s.io"
        and params.get("v") in ("v2", "v2beta1")
        and params.get("as") == "APIGroupDiscoveryList"
    )


# --- parsing ----------------------------------------------------------------


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def parse_aggregated(docs: list[dict]) -> tuple[list[Group], dict[str, str]]:
    """APIGroupDiscoveryList documents (from /api and /apis) -> groups, and the Stale versions."""
    groups: list[Group] = []
    failed: dict[str, str] = {}
    for doc in docs:
        items = doc.get("items")
        if not isinstance(items, list):
            raise ValueError("an APIGroupDiscoveryList without items")
        for item in items:
            name = (item.get("metadata") or {}).get("name", "")
            versions = []
            for v in item.get("versions") or []:
                version = v.get("version")
                if not isinstance(version, str) or not version:
                    raise ValueError(f"group {name!r} has a version without a name")
                gv = f"{name}/{version}" if name else version
                if v.get("freshness") == "Stale":
                    failed[gv] = "its API server reported stale discovery"
                    continue
                versions.append(GroupVersion(version, [_aggregated_resource(r, name, version) for r in v.get("resources") or []]))
            if versions:
                # Aggregated discovery lists versions in preference order: the first is preferred.
                groups.append(Group(name, versions, preferred=versions[0].version))
    return groups, failed


def _aggregated_resource(r: dict, group: str, version: str) -> Resource:
    kind = r.get("responseKind") or {}
    subs = []
    for s in r.get("subresources") or []:
        sk = s.get("responseKind") or {}
        subs.append(
            Subresource(
                name=s.get("subresource", ""),
                kind=sk.get("kind", ""),
                # An empty group/version means the enclosing one.
                group=sk.get("group") or group,
                version=sk.get("version") or version,
                verbs=_str_list(s.get("verbs")),
            )
        )
    return Resource(
        name=r.get("resource", ""),
        kind=kind.get("kind", ""),
        namespaced=r.get("scope") == "Namespaced",
        verbs=_str_list(r.get("verbs")),
        singular=r.get("singularResource", "") or "",
        short_names=_str_list(r.get("shortNames")),
        categories=_str_list(r.get("categories")),
        subresources=subs,
    )


def parse_resource_list(doc: dict, group: str, version: str) -> list[Resource]:
    """An APIResourceList -> resources, with 'x/sub' entries folded into x's subresources."""
    entries = doc.get("resources")
    if not isinstance(entries, list):
        raise ValueError("an APIResourceList without resources")
    resources: dict[str, Resource] = {}
    subs: list[tuple[str, dict]] = []
    for e in entries:
        name = e.get("name", "")
        if "/" in name:
            subs.append((name, e))
            continue
        resources[name] = Resource(
            name=name,
            kind=e.get("kind", ""),
            namespaced=bool(e.get("namespaced")),
            verbs=_str_list(e.get("verbs")),
            singular=e.get("singularName", "") or "",
            short_names=_str_list(e.get("shortNames")),
            categories=_str_list(e.get("categories")),
        )
    for name, e in subs:
        parent, _, sub = name.partition("/")
        if parent in resources:
            resources[parent].subresources.append(
                Subresource(sub, e.get("kind", ""), e.get("group") or group, e.get("version") or version, _str_list(e.get("verbs")))
            )
    return list(resources.values())


def legacy_group_versions(api_doc: dict, apis_doc: dict) -> list[tuple[str, list[str], Optional[str]]]:
    """(group, versions, preferred) from APIVersions (/api) and APIGroupList (/apis)."""
    out = [("", _str_list(api_doc.get("versions")), None)]
    for g in apis_doc.get("groups") or []:
        versions = [v.get("version") for v in g.get("versions") or [] if isinstance(v.get("version"), str)]
        preferred = (g.get("preferredVersion") or {}).get("version")
        out.append((g.get("name", ""), versions, preferred))
    return out


def kubernetes_minor(info: dict) -> str:
    """'1.33' from /version's major/minor (GKE says minor '33+'), else from gitVersion."""
    major = re.sub(r"\D", "", str(info.get("major", "")))
    minor = re.sub(r"\D", "", str(info.get("minor", "")))
    if major and minor:
        return f"{int(major)}.{int(minor)}"
    return release_name(str(info.get("gitVersion", ""))) or ""


