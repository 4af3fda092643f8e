"""Fetching a cluster's discovery over HTTP(S) into the model.

Aggregated discovery answers in two requests plus /version; older servers
answer plain JSON, and then every group/version's resource list is fetched
concurrently, like client-go's legacy discovery.  A group/version that fails
(an aggregated API answering 503, a Stale version) is recorded and everything
else kept.
"""

from __future__ import annotations

import datetime as _dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional

from kubectl_apiinfo.kube.discovery_documents import (
    ACCEPT_AGGREGATED,
    ACCEPT_JSON,
    is_aggregated,
    kubernetes_minor,
    legacy_group_versions,
    parse_aggregated,
    parse_resource_list,
)
from kubectl_apiinfo.kube.transport import Client, TransportError
from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, SnapshotSource

LEGACY_WORKERS = 32  # concurrent resource-list fetches on a legacy server


@dataclass
class Fetched:
    """What one refresh produced: the snapshot plus what the cache needs to revalidate."""

    snapshot: APISnapshot
    server_version: dict
    etags: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False  # the server's 304s: the previous snapshot still holds




def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(
    client: Client,
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
    _expect_kind(client, "/api", api_doc, ("APIVersions", "APIGroupDiscoveryList"))
    _expect_kind(client, "/apis", apis_doc, ("APIGroupList", "APIGroupDiscoveryList"))
    if is_aggregated(api.headers.get("Content-Type", "")) and is_aggregated(apis.headers.get("Content-Type", "")):
        try:
            groups, failed = parse_aggregated([api_doc, apis_doc])
        except (ValueError, AttributeError, TypeError) as e:
            raise TransportError(f"{client.server} sent aggregated discovery this tool cannot read ({e})") from None
        mode = "aggregated"
    else:
        groups, failed = _fetch_legacy(client, api_doc, apis_doc, progress)
        mode = "legacy"
        etags = {}
    source = SnapshotSource(
        "cluster",
        name,
        minor,
        server=client.server,
        git_version=str(server_version.get("gitVersion", "")),
        fetched_at=_now(),
        discovery=mode,
        failed_group_versions=dict(sorted(failed.items())),
    )
    return Fetched(APISnapshot(source, groups), server_version, etags)


def _expect_kind(client: Client, path: str, doc: dict, kinds: tuple) -> None:
    # A login page or a proxy's own JSON would otherwise read as a cluster that serves nothing.
    if doc.get("kind") not in kinds:
        raise TransportError(
            f"{client.server} answered {path} with no discovery document (its kind is not {' or '.join(kinds)}); "
            "check that the server address is the cluster's API server"
        )


def _fetch_legacy(client: Client, api_doc: dict, apis_doc: dict, progress) -> tuple[list[Group], dict[str, str]]:
    try:
        listing = legacy_group_versions(api_doc, apis_doc)
    except (AttributeError, TypeError) as e:
        raise TransportError(f"{client.server} sent a group list this tool cannot read ({e})") from None
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
        except TransportError as e:
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
