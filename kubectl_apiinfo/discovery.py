"""Fetching a cluster's discovery over HTTP(S) and parsing it into the model.

Aggregated discovery (apidiscovery.k8s.io v2/v2beta1) answers in two requests
plus /version; older servers answer plain JSON, and then every group/version's
resource list is fetched concurrently, like client-go's legacy discovery.
A group/version that fails (an aggregated API answering 503, a Stale version)
is recorded and everything else kept.  Only this module imports requests.
"""

from __future__ import annotations

import datetime as _dt
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, SnapshotSource, Subresource

if TYPE_CHECKING:  # transport imports requests; discovery itself must not
    from kubectl_apiinfo.transport import Client

ACCEPT_AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
ACCEPT_JSON = "application/json"
LEGACY_WORKERS = 32  # concurrent resource-list fetches on a legacy server
USER_AGENT = "kubectl-apiinfo"


class DiscoveryError(UserError):
    """The cluster could not be read; the message says why and what to try."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass
class Fetched:
    """What one refresh produced: the snapshot plus what the cache needs to revalidate."""

    snapshot: APISnapshot
    server_version: dict
    etags: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False  # the server's 304s: the previous snapshot still holds


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
    m = re.match(r"v?(\d+)\.(\d+)", str(info.get("gitVersion", "")))
    return f"{m.group(1)}.{m.group(2)}" if m else ""


# --- fetching ---------------------------------------------------------------


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(
    client: "Client",
    name: str,
    previous_etags: Optional[dict[str, str]] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> Fetched:
    """Read a cluster's discovery; Fetched.not_modified means the previous snapshot still holds."""
    previous_etags = previous_etags or {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        version_f = pool.submit(client.get_json, "/version", ACCEPT_JSON)
        api_f = pool.submit(client.get, "/api", ACCEPT_AGGREGATED, previous_etags.get("/api"))
        apis_f = pool.submit(client.get, "/apis", ACCEPT_AGGREGATED, previous_etags.get("/apis"))
        api, apis = api_f.result(), apis_f.result()
        server_version = version_f.result()
    etags = {p: r.headers["ETag"] for p, r in (("/api", api), ("/apis", apis)) if r.headers.get("ETag")}
    minor = kubernetes_minor(server_version)

    if api.status_code == 304 and apis.status_code == 304:
        snapshot = APISnapshot(SnapshotSource("cluster", name, minor), [])
        return Fetched(snapshot, server_version, etags, not_modified=True)
    if api.status_code == 304 or apis.status_code == 304:
        # Only half is unchanged, and we keep the model, not the documents: ask again in full.
        api = client.get("/api", ACCEPT_AGGREGATED)
        apis = client.get("/apis", ACCEPT_AGGREGATED)

    api_doc, apis_doc = client.decode(api), client.decode(apis)
    if is_aggregated(api.headers.get("Content-Type", "")) and is_aggregated(apis.headers.get("Content-Type", "")):
        try:
            groups, failed = parse_aggregated([api_doc, apis_doc])
        except (ValueError, AttributeError, TypeError) as e:
            raise DiscoveryError(f"{client.server} sent aggregated discovery this tool cannot read ({e})") from None
        mode = "aggregated"
    else:
        groups, failed = _fetch_legacy(client, api_doc, apis_doc, progress)
        mode = "legacy"
        etags = {}
    source = SnapshotSource(
        "cluster",
        name,
        minor,
        extra={
            "server": client.server,
            "gitVersion": str(server_version.get("gitVersion", "")),
            "fetchedAt": _now(),
            "discovery": mode,
            "failedGroupVersions": dict(sorted(failed.items())),
        },
    )
    return Fetched(APISnapshot(source, groups), server_version, etags)


def _fetch_legacy(client: "Client", api_doc: dict, apis_doc: dict, progress) -> tuple[list[Group], dict[str, str]]:
    try:
        listing = legacy_group_versions(api_doc, apis_doc)
    except (AttributeError, TypeError) as e:
        raise DiscoveryError(f"{client.server} sent a group list this tool cannot read ({e})") from None
    paths = []
    for group, versions, _ in listing:
        for version in versions:
            paths.append((group, version, f"/apis/{group}/{version}" if group else f"/api/{version}"))
    failed: dict[str, str] = {}
    results: dict[tuple[str, str], list[Resource]] = {}
    done = 0

    def one(item):
        group, version, path = item
        try:
            return item, parse_resource_list(client.get_json(path, ACCEPT_JSON), group, version), None
        except DiscoveryError as e:
            if e.unreachable or getattr(e, "unauthorized", False):
                raise
            return item, None, str(e)
        except (ValueError, AttributeError, TypeError) as e:
            return item, None, f"unreadable resource list ({e})"

    with ThreadPoolExecutor(max_workers=LEGACY_WORKERS) as pool:
        for (group, version, _), resources, error in pool.map(one, paths):
            gv = f"{group}/{version}" if group else version
            if error is not None:
                failed[gv] = error
            else:
                results[(group, version)] = resources
            done += 1
            if progress:
                progress(done, len(paths))
    groups = []
    for group, versions, preferred in listing:
        gvs = [GroupVersion(v, results[(group, v)]) for v in versions if (group, v) in results]
        if gvs:
            groups.append(Group(group, gvs, preferred=preferred if preferred in {gv.version for gv in gvs} else None))
    return groups, failed
