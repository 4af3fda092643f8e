"""Reading a cluster's discovery into the store, and checking a stored snapshot against the server.

requests is imported only here, and only when a request is made.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.console import warn
from kubectl_apiinfo.model import APISnapshot, Group
from kubectl_apiinfo.sources.snapshots.entry import Entry
from kubectl_apiinfo.sources.snapshots.store import SnapshotCache


def _last_known(previous: Optional[Entry], cache: SnapshotCache, failed: dict) -> dict:
    """The resources that failed group versions had in the previous snapshot: what a word may still mean."""
    if not failed or previous is None:
        return {}
    full = cache.get(previous.identity) or previous  # the previous answer may hold only some groups
    known = {gv: r for gv, r in (full.snapshot.source.last_known or {}).items() if gv in failed}
    for g in full.snapshot.groups:
        for gv in g.versions:
            name = f"{g.name}/{gv.version}" if g.name else gv.version
            if name in failed:
                one = APISnapshot(full.snapshot.source, [Group(g.name, [gv])]).to_dict()
                known[name] = one["groups"][0]["versions"][0]["resources"]
    return known


def _custom_versions(client, snapshot: APISnapshot, not_modified: bool, previous: Optional[Entry], anew: bool) -> tuple:
    """(facts, why unknown) of the cluster's CRD versions: listed when discovery changed or anew is asked
    (--refresh, refresh), else the previous snapshot's; a failed listing keeps the previous facts and says why."""
    from kubectl_apiinfo.kube import custom_resources
    from kubectl_apiinfo.kube.transport import TransportError

    before = previous.snapshot.source if previous is not None else None
    kept = before.custom_versions if before is not None else None
    if not_modified and before is not None:
        had_none = kept == {}  # discovery unchanged: a cluster that served no CRD still serves none
        known = kept is not None or before.custom_versions_unknown
        if had_none or (known and not anew):
            return kept, before.custom_versions_unknown
    elif not any(gv.version == "v1" for gv in getattr(snapshot.group(custom_resources.CRD_GROUP), "versions", ())):
        return None, None  # no v1 CRDs (before 1.16), or a server without the group
    try:
        return custom_resources.version_facts(client), None
    except TransportError as e:
        return kept, str(e)


def fetch_into(
    cache: SnapshotCache, access, timeout: Optional[float], previous: Optional[Entry], progress=None, crds_anew: bool = False,
) -> Entry:
    """Fetch discovery (and what the cluster's CRDs say of their versions) and store it; on any failure the
    previous snapshot stays as it was."""
    from kubectl_apiinfo.kube import discovery
    from kubectl_apiinfo.kube.transport import Client

    if access.insecure_skip_tls_verify:
        warn(f"the kubeconfig sets insecure-skip-tls-verify for {access.display_server}: its certificate is not checked")
    name = access.context_name or access.display_server
    with Client(access, timeout) as client:
        fetched = discovery.fetch(client, name, previous.etags if previous else None, progress)
        release = fetched.snapshot.source.kubernetes_version
        if fetched.not_modified and previous is not None and release != previous.snapshot.source.kubernetes_version:
            # Same discovery documents, another release (an upgrade that changed nothing we list): read it all again.
            fetched = discovery.fetch(client, name, None, progress)
        custom, custom_unknown = _custom_versions(client, fetched.snapshot, fetched.not_modified, previous, crds_anew)
    server_version = {k: str(v) for k, v in fetched.server_version.items() if isinstance(v, (str, int))}
    now = time.time()
    if fetched.not_modified and previous is not None:
        entry = previous.replace(checked_at=now, server_version=server_version)
        was = previous.snapshot.source
        if (custom, custom_unknown) == (was.custom_versions, was.custom_versions_unknown):
            cache.touch(entry, now, server_version)
            return entry
        full = cache.get(previous.identity) or previous  # the previous answer may hold only some groups
        source = full.snapshot.source.replace(custom_versions=custom, custom_versions_unknown=custom_unknown)
        entry = full.replace(checked_at=now, server_version=server_version, snapshot=APISnapshot(source, full.snapshot.groups))
        cache.put(entry)
        return entry
    source = fetched.snapshot.source
    source.custom_versions, source.custom_versions_unknown = custom, custom_unknown
    known = _last_known(previous, cache, source.failed_group_versions or {})
    if known:
        source.last_known = known
    if source.discovery == "legacy":
        source.listing_digest = _snapshot_listing(fetched.snapshot)
    entry = Entry(
        identity=access.identity,
        name=name,
        server=access.display_server,
        snapshot=fetched.snapshot,
        fetched_at=now,
        server_version=server_version,
        etags=fetched.etags,
    )
    cache.put(entry)
    cache.remember_version(access.identity, entry.snapshot.source.kubernetes_version)
    return entry


def _listing_digest(pairs, release: str) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps([release, sorted(pairs)]).encode("utf-8")).hexdigest()[:24]


def _snapshot_listing(snapshot: APISnapshot) -> str:
    """Which group versions the server listed, failed ones included, and its release: a legacy server's check."""
    pairs = {(g.name, gv.version) for g in snapshot.groups for gv in g.versions}
    pairs |= {tuple(gv.rpartition("/")[::2]) for gv in snapshot.source.failed_group_versions or {}}
    return _listing_digest(pairs, snapshot.source.kubernetes_version)


def legacy_unchanged(access, timeout: Optional[float], entry: Entry) -> Optional[dict]:
    """The server version, if a legacy server lists what it listed at the snapshot (three requests, not
    one per group version: it has no ETags); else None."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_apiinfo.kube.discovery_documents import ACCEPT_JSON, kubernetes_minor, legacy_group_versions
    from kubectl_apiinfo.kube.transport import Client

    with Client(access, timeout) as client, ThreadPoolExecutor(max_workers=3) as pool:
        version, api, apis = pool.map(lambda path: client.get_json(path, ACCEPT_JSON), ("/version", "/api", "/apis"))
    try:
        pairs = {(g, v) for g, versions, _ in legacy_group_versions(api, apis) for v in versions}
    except (AttributeError, TypeError):
        return None
    if _listing_digest(pairs, kubernetes_minor(version)) != entry.snapshot.source.listing_digest:
        return None
    return {k: str(v) for k, v in version.items() if isinstance(v, (str, int))}
