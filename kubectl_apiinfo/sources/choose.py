"""Where a query's snapshot comes from: a catalog release, a cluster's cached
snapshot, a fresh fetch, or kubectl's own discovery cache.

The first query for a cluster fetches and stores; later ones answer from the
cache with no request at all while the snapshot is younger than the cache TTL
(6 h by default, as kubectl's discovery cache).  After that the first query
revalidates it with conditional requests and a short timeout, so an upgraded
cluster is noticed and an unreachable one costs at most about a second.  An
unreachable cluster falls back to the cached snapshot (with a warning), then to
kubectl's cache, then to the catalog release of the server version last seen.
requests is imported only to fetch.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Mapping, Optional

from kubectl_apiinfo.sources import catalog
from kubectl_apiinfo.sources.store import Entry, SnapshotCache, default_dir, describe_age
from kubectl_apiinfo.console import progress, warn
from kubectl_apiinfo.errors import UserError, flag, redact_url
from kubectl_apiinfo.model import APISnapshot, Group, Record

REVALIDATE_TIMEOUT = 1.0  # a stale snapshot's check may delay an answer this long, no more


class ClusterFlags(Record):
    """kubectl's connection flags, and ours that choose between the cache and the network."""

    __slots__ = (
        "kubeconfig", "context", "cluster", "user", "server", "token", "request_timeout", "cache_dir", "refresh", "offline",
        "cache_ttl",
    )

    def __init__(
        self,
        kubeconfig: Optional[str] = None,
        context: Optional[str] = None,
        cluster: Optional[str] = None,
        user: Optional[str] = None,
        server: Optional[str] = None,
        token: Optional[str] = None,
        request_timeout: Optional[float] = None,  # seconds; None: no limit
        cache_dir: Optional[str] = None,
        refresh: bool = False,
        offline: bool = False,
        cache_ttl: Optional[float] = None,  # seconds a snapshot answers unasked (cli/spec.py's --cache-ttl); None: for ever
    ):
        self.kubeconfig = kubeconfig
        self.context = context
        self.cluster = cluster
        self.user = user
        self.server = server
        self.token = token
        self.request_timeout = request_timeout
        self.cache_dir = cache_dir
        self.refresh = refresh
        self.offline = offline
        self.cache_ttl = cache_ttl

    def __repr__(self) -> str:
        # Never show the token, whatever prints this.
        return super().__repr__().replace(repr(self.token), "'***'") if self.token else super().__repr__()

    @property
    def names_a_cluster(self) -> bool:
        return any((self.kubeconfig, self.context, self.cluster, self.user, self.server, self.token))


def open_cache(flags: ClusterFlags) -> SnapshotCache:
    return SnapshotCache(flags.cache_dir or default_dir(), warn)


def load_access(flags: ClusterFlags, environ: Optional[Mapping[str, str]] = None):
    """The cluster the flags and kubeconfig name, or None when none is configured and none was asked for."""
    from kubectl_apiinfo.kube.kubeconfig import KubeConfig

    config = KubeConfig.read(flags.kubeconfig, os.environ if environ is None else environ)
    nothing_selected = not (config.current_context or flags.context or flags.cluster or flags.server)
    if nothing_selected and not flags.names_a_cluster:
        return None  # no kubeconfig, or one with no current context: the catalog answers
    return config.access(
        context=flags.context, cluster=flags.cluster, user=flags.user, server=flags.server, token=flags.token
    )


def catalog_snapshot(kube_version: Optional[str], note: str = "") -> APISnapshot:
    name = catalog.normalize_release(kube_version) if kube_version else catalog.newest()
    snapshot = catalog.load_release(name)
    if note:
        snapshot.source.notes.insert(0, note)
    return snapshot


def _from_entry(entry: Entry, cached: bool) -> APISnapshot:
    snapshot = entry.snapshot
    snapshot.source.age = entry.age()
    snapshot.source.from_cache = cached
    failed = snapshot.source.failed_group_versions or {}
    if failed:
        warn(
            f"discovery of {', '.join(sorted(failed))} failed on {entry.name} "
            f"({next(iter(failed.values()))}); the answer covers everything else"
        )
    return snapshot


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


def fetch_into(cache: SnapshotCache, access, timeout: Optional[float], previous: Optional[Entry], progress=None) -> Entry:
    """Fetch discovery and store it; on any failure the previous snapshot stays as it was."""
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
    server_version = {k: str(v) for k, v in fetched.server_version.items() if isinstance(v, (str, int))}
    now = time.time()
    if fetched.not_modified and previous is not None:
        entry = previous.replace(checked_at=now, server_version=server_version)
        cache.touch(entry, now, server_version)
        return entry
    source = fetched.snapshot.source
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


def _resolution_key(flags: ClusterFlags, files: list[str]) -> str:
    """Which kubeconfig files (as they are now) and flags a query used: nothing secret, only names,
    stats and a checksum of each file's content.

    While they are unchanged they name the same cluster, so a cached answer need not parse YAML.
    ctime catches an edit whose tool put the mtime back; the checksum one on a file system with
    coarse timestamps.  Reading a few KB and its CRC cost ~10 us a file (zlib is loaded anyway).
    """
    import json
    import zlib

    stats = []
    for path in files:
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                crc = zlib.crc32(f.read())
        except OSError:
            stats.append((os.path.abspath(path), None))  # unreadable or a directory: reading it reports that
            continue
        stats.append((os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, crc))
    chosen = {"context": flags.context, "cluster": flags.cluster, "user": flags.user, "server": redact_url(flags.server)}
    return json.dumps([stats, chosen], sort_keys=True)


def _remembered_entry(cache: SnapshotCache, key: str, words=None) -> Optional[Entry]:
    """The snapshot of the cluster these unchanged kubeconfig files and flags named before, if cached."""
    identity = cache.resolution(key)
    return cache.get(identity, words) if identity else None


def _lookup_words(words) -> Optional[list[tuple]]:
    """(name, group, version) for every reading of these typed words, as kubectl's ParseResourceArg
    reads them ('a.b.c' is resource.version.group, then resource.group), for the name index."""
    if words is None:
        return None
    found = []
    for word in words:
        parts = word.strip().lower().split(".")
        found.append((parts[0], ".".join(parts[1:]) or None, None))
        if len(parts) >= 3:
            found.append((parts[0], ".".join(parts[2:]), parts[1]))
    return found


def _usable(entry: Entry, flags: ClusterFlags, ttl: float) -> bool:
    """Whether the snapshot answers without asking the server."""
    if flags.refresh:
        return False
    return flags.offline or entry.imported or time.time() - entry.checked_at < ttl


def snapshot_for_query(flags: ClusterFlags, kube_version: Optional[str], words: Optional[list[str]] = None) -> APISnapshot:
    """The snapshot that answers; given the words a question is about, it may hold only the groups they name."""
    if kube_version:
        return catalog_snapshot(kube_version)
    from kubectl_apiinfo.kube.kubeconfig_paths import kubeconfig_files

    files = kubeconfig_files(flags.kubeconfig, os.environ)
    if not files and not flags.server and not flags.names_a_cluster:
        _warn_kubeconfig_named_nothing("names no existing file")
        return catalog_snapshot(None, "No cluster is configured (no kubeconfig): answering from the offline catalog.")
    ttl = float("inf") if flags.cache_ttl is None else flags.cache_ttl
    lookup = _lookup_words(words)
    with open_cache(flags) as cache:
        key = _resolution_key(flags, files)
        entry = None
        if not flags.refresh:
            entry = _remembered_entry(cache, key, lookup)
            if entry is not None and _usable(entry, flags, ttl):
                return _answer(entry, flags, ttl)
        access = load_access(flags)
        if access is None:
            _warn_kubeconfig_named_nothing("names no kubeconfig with a current context (the files are empty or set none)")
            return catalog_snapshot(None, "No cluster is configured (no kubeconfig context): answering from the offline catalog.")
        if entry is None or entry.identity != access.identity:
            cache.remember_resolution(key, access.identity)
            entry = cache.get(access.identity, lookup)
        if entry is not None and _usable(entry, flags, ttl):
            return _answer(entry, flags, ttl)
        if flags.offline:
            return _offline_fallback(access, cache, entry, None)
        from kubectl_apiinfo.kube.transport import TransportError

        if entry is not None and not flags.refresh:
            return _revalidate(cache, access, entry, flags)
        try:
            return _from_entry(fetch_into(cache, access, flags.request_timeout, entry), cached=False)
        except TransportError as e:
            if not e.unreachable and entry is None:
                raise
            return _offline_fallback(access, cache, entry, e)


def remembered_snapshot(flags: ClusterFlags, cache: SnapshotCache) -> Optional[APISnapshot]:
    """The short way of snapshot_for_query, on a cache the caller holds open: the snapshot these unchanged
    kubeconfig files and flags named before, if it may answer without asking the server (its TTL, --offline)."""
    from kubectl_apiinfo.kube.kubeconfig_paths import kubeconfig_files

    if flags.refresh:
        return None
    files = kubeconfig_files(flags.kubeconfig, os.environ)
    if not files and not flags.server and not flags.names_a_cluster:
        return None
    ttl = float("inf") if flags.cache_ttl is None else flags.cache_ttl
    entry = _remembered_entry(cache, _resolution_key(flags, files))
    return _answer(entry, flags, ttl) if entry is not None and _usable(entry, flags, ttl) else None


def _answer(entry: Entry, flags: ClusterFlags, ttl: float) -> APISnapshot:
    if entry.imported and not flags.offline and time.time() - entry.checked_at >= ttl:
        warn(f"the snapshot of {entry.name} was imported and fetched {entry.age()}; 'kubectl apiinfo refresh' reads it anew")
    return _from_entry(entry, cached=True)


def _listing_digest(pairs, release: str) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps([release, sorted(pairs)]).encode("utf-8")).hexdigest()[:24]


def _snapshot_listing(snapshot: APISnapshot) -> str:
    """Which group versions the server listed, failed ones included, and its release: a legacy server's check."""
    pairs = {(g.name, gv.version) for g in snapshot.groups for gv in g.versions}
    pairs |= {tuple(gv.rpartition("/")[::2]) for gv in snapshot.source.failed_group_versions or {}}
    return _listing_digest(pairs, snapshot.source.kubernetes_version)


def _legacy_unchanged(access, timeout: Optional[float], entry: Entry) -> Optional[dict]:
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


def _revalidate(cache: SnapshotCache, access, entry: Entry, flags: ClusterFlags) -> APISnapshot:
    """Ask the server whether the snapshot still holds, for at most about a second; else answer from it."""
    timeout = flags.request_timeout
    timeout = REVALIDATE_TIMEOUT if timeout is None else min(timeout, REVALIDATE_TIMEOUT)
    try:
        if entry.snapshot.source.listing_digest:
            server_version = _legacy_unchanged(access, timeout, entry)
            if server_version is not None:
                now = time.time()
                cache.touch(entry, now, server_version)
                return _from_entry(entry.replace(checked_at=now, server_version=server_version), cached=True)
        fresh = fetch_into(cache, access, timeout, entry)
    except UserError as e:
        how = "could not be reached" if getattr(e, "unreachable", False) else "could not check the snapshot"
        warn(f"{access.display_server} {how} ({e}); answering from the snapshot fetched {entry.age()}")
        return _from_entry(entry, cached=True)
    return _from_entry(fresh, cached=fresh is entry or fresh.fetched_at == entry.fetched_at)


def _warn_kubeconfig_named_nothing(what: str) -> None:
    """KUBECONFIG was set, so a cluster was meant: say (as kubectl prints warnings) that the catalog answers instead.
    Without KUBECONFIG and ~/.kube/config the catalog is the plain offline use, and stays silent."""
    named = os.environ.get("KUBECONFIG")
    if named:
        shown = named if len(named) <= 200 else named[:200] + "..."
        warn(f"KUBECONFIG={shown} {what}: answering from the offline catalog (newest release), not a cluster")


def snapshot_for_completion(flags: ClusterFlags, kube_version: Optional[str]) -> APISnapshot:
    """The cluster's cached snapshot (its served names only), else the catalog: silently, with no network."""
    if kube_version:
        try:
            return catalog_snapshot(kube_version)
        except UserError:
            return catalog_snapshot(None)
    try:
        from kubectl_apiinfo.kube.kubeconfig_paths import kubeconfig_files

        files = kubeconfig_files(flags.kubeconfig, os.environ)
        directory = flags.cache_dir or default_dir()
        if (files or flags.server) and os.path.isdir(directory):
            with SnapshotCache(directory, warn=lambda message: None) as cache:
                identity = cache.resolution(_resolution_key(flags, files))
                if identity is None:
                    access = load_access(flags)
                    identity = access.identity if access else None
                served = cache.served(identity) if identity else None
                if served is not None:
                    return _names_only(served)
    except UserError:
        pass
    return catalog_snapshot(None)


def _names_only(served: dict) -> APISnapshot:
    """A snapshot holding only the served resources' names: all completion reads, built from one row."""
    from kubectl_apiinfo.model import GroupVersion, Resource, SnapshotSource

    groups = [Group(g, [GroupVersion("v1", [Resource(n, "", False) for n in names if isinstance(n, str)])])
              for g, names in served.items() if isinstance(g, str)]
    return APISnapshot(SnapshotSource("cluster", "completion"), groups)


def _offline_fallback(access, cache: SnapshotCache, entry: Optional[Entry], error) -> APISnapshot:
    from kubectl_apiinfo.sources import kubectl_cache

    name = access.context_name or access.display_server
    why = f"{error}" if error else flag("offline")
    if entry is not None:
        if error:
            warn(f"{error}; answering from the snapshot fetched {entry.age()}")
        return _from_entry(entry, cached=True)
    kube = kubectl_cache.load(access.server, name, os.environ)
    if kube is not None:
        age = describe_age(time.time() - kube.source.fetched_at_epoch)
        warn(f"{why}: answering from kubectl's discovery cache for {access.display_server} ({age})")
        kube.source.age = age
        return kube
    version = cache.last_version(access.identity)
    if version and version in catalog.release_names():
        warn(f"{why}: no snapshot of {name}; answering from the catalog release {version}, its last seen version")
        return catalog_snapshot(version, f"{name} could not be read; this is the catalog release of its last seen version.")
    if error:
        raise UserError(
            f"{error}; and there is no cached snapshot of {name} to answer from "
            f"({flag('kube_version')} VERSION answers from the offline catalog)"
        )
    raise UserError(
        f"no snapshot of {name} is cached; run once without {flag('offline')} while the cluster is reachable, "
        "or 'kubectl apiinfo cache import FILE'"
    )


# --- refresh of several clusters ----------------------------------------


def refresh_targets(flags: ClusterFlags, all_contexts: bool) -> list[Optional[str]]:
    """The contexts to refresh: every one in the kubeconfig, or just the one the flags select."""
    if not all_contexts:
        return [flags.context]
    from kubectl_apiinfo.kube.kubeconfig import context_names

    names = context_names(kubeconfig=flags.kubeconfig, environ=os.environ)
    if not names:
        raise UserError("the kubeconfig has no contexts to refresh")
    return names


def refresh_many(
    flags: ClusterFlags, contexts: list[Optional[str]], show_progress: bool
) -> list[tuple[str, Optional[Entry], Optional[str]]]:
    """Fetch several contexts at once; returns (context, entry or None, error or None) in the given order."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_apiinfo.kube.kubeconfig_paths import kubeconfig_files

    timeout = flags.request_timeout
    files = kubeconfig_files(flags.kubeconfig, os.environ)
    cache = open_cache(flags)
    done = [0]

    def one(context: Optional[str]):
        label = context or "(current context)"
        try:
            access = load_access(flags.replace(context=context))
            if access is None:
                return label, None, "no cluster is configured (no kubeconfig)"
            label = access.context_name or access.display_server
            entry = fetch_into(cache, access, timeout, cache.get(access.identity))
            cache.remember_resolution(_resolution_key(flags.replace(context=context), files), access.identity)
            return label, entry, None
        except UserError as e:
            return label, None, str(e)
        finally:
            done[0] += 1
            if show_progress:
                progress(f"refreshed {done[0]}/{len(contexts)}")

    try:
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(contexts)))) as pool:
            results = list(pool.map(one, contexts))
    finally:
        if show_progress:
            progress(f"refreshed {done[0]}/{len(contexts)}", done=True)
        cache.close()
    return results
