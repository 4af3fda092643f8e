"""A cluster's discovery as the cache answers it: the policy around the server, as client-go's
CachedDiscoveryClient wraps its delegate.

The first question fetches and stores; later ones answer from the cache with no
request at all while the snapshot is younger than the TTL (6 h by default, as
kubectl's discovery cache).  After that the first question revalidates it with
conditional requests and a short timeout, so an upgraded cluster is noticed and
an unreachable one costs at most about a second.  An unreachable cluster falls
back to the cached snapshot (with a warning), then to kubectl's cache, then to
the catalog release of the server version last seen.  fresh() and invalidate()
are the small surface the callers need, as in client-go.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo.console import warn
from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.model import APISnapshot
from kubectl_apiinfo.sources.cluster.access import load_access, resolution_key, warn_kubeconfig_named_nothing
from kubectl_apiinfo.sources.cluster.flags import ClusterFlags
from kubectl_apiinfo.sources.snapshots.entry import Entry, describe_age
from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

REVALIDATE_TIMEOUT = 1.0  # a stale snapshot's check may delay an answer this long, no more


class NoCluster(Exception):
    """No cluster is configured: the catalog answers.  note says so in the answer; release is the one to use."""

    def __init__(self, note: str, release: Optional[str] = None):
        super().__init__(note)
        self.note = note
        self.release = release  # None: the newest


class CachedDiscovery:
    """One cluster's discovery, from the cache while it may answer, else from the server."""

    def __init__(self, flags: ClusterFlags, open_cache: Callable[[], SnapshotCache], catalog_has=lambda release: False):
        self.flags = flags
        self._open_cache = open_cache
        self._cache: Optional[SnapshotCache] = None
        self.catalog_has = catalog_has  # whether the catalog has a release, the last fallback
        self._fresh = False
        self._invalid = flags.refresh
        self.ttl = float("inf") if flags.cache_ttl is None else flags.cache_ttl
        self.identity: Optional[str] = None  # the cluster's, once known
        self.revalidated = False  # the server confirmed the cached snapshot just now (conditional requests)

    @property
    def cache(self) -> SnapshotCache:
        """The store, opened on first use: with no cluster configured it is never touched."""
        if self._cache is None:
            self._cache = self._open_cache()
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def fresh(self) -> bool:
        """Whether the last answer was read from the server just now rather than from the cache."""
        return self._fresh

    def invalidate(self) -> None:
        """The next answer is fetched from the server, whatever the TTL (what --refresh asks for)."""
        self._invalid = True

    # --- the short way: no YAML, no request ----------------------------------

    def remembered(self, words: Optional[list] = None) -> Optional[APISnapshot]:
        """The snapshot these unchanged kubeconfig files and flags named before, if it may answer without
        asking the server (its TTL, --offline); else None, and snapshot() takes the long way."""
        if self._invalid:
            return None
        files = _kubeconfig_files(self.flags)
        if not files and not self.flags.server and not self.flags.names_a_cluster:
            return None
        identity = self.cache.resolution(resolution_key(self.flags, files))
        entry = self.cache.get(identity, _lookup_words(words)) if identity else None
        if entry is None or not self._usable(entry):
            return None
        self.identity = identity
        return self._answer(entry)

    # --- the long way -----------------------------------------------------------

    def snapshot(self, words: Optional[list] = None) -> APISnapshot:
        """The snapshot that answers; given the words a question is about, it may hold only the groups they name.
        NoCluster when no cluster is configured."""
        flags = self.flags
        files = _kubeconfig_files(self.flags)
        if not files and not flags.server and not flags.names_a_cluster:
            warn_kubeconfig_named_nothing("names no existing file")
            raise NoCluster("No cluster is configured (no kubeconfig): answering from the offline catalog.")
        lookup = _lookup_words(words)
        key = resolution_key(flags, files)
        entry = None
        if not self._invalid:
            identity = self.cache.resolution(key)
            entry = self.cache.get(identity, lookup) if identity else None
            if entry is not None and self._usable(entry):
                self.identity = identity
                return self._answer(entry)
        access = load_access(flags)
        if access is None:
            warn_kubeconfig_named_nothing("names no kubeconfig with a current context (the files are empty or set none)")
            raise NoCluster("No cluster is configured (no kubeconfig context): answering from the offline catalog.")
        self.identity = access.identity
        if entry is None or entry.identity != access.identity:
            self.cache.remember_resolution(key, access.identity)
            entry = self.cache.get(access.identity, lookup)
        if entry is not None and self._usable(entry):
            return self._answer(entry)
        if flags.offline:
            return self._offline_fallback(access, entry, None)
        from kubectl_apiinfo.kube.transport import TransportError
        from kubectl_apiinfo.sources.cluster.fetch import fetch_into

        if entry is not None and not self._invalid:
            return self._revalidate(access, entry)
        try:
            fetched = fetch_into(self.cache, access, flags.request_timeout, entry, crds_anew=self._invalid)
        except TransportError as e:
            if not e.unreachable and entry is None:
                raise
            return self._offline_fallback(access, entry, e)
        self._fresh = True
        return _from_entry(fetched, cached=False)

    def _usable(self, entry: Entry) -> bool:
        """Whether the snapshot answers without asking the server."""
        if self._invalid:
            return False
        return self.flags.offline or entry.imported or time.time() - entry.checked_at < self.ttl

    def _answer(self, entry: Entry) -> APISnapshot:
        if entry.imported and not self.flags.offline and time.time() - entry.checked_at >= self.ttl:
            warn(f"the snapshot of {entry.name} was imported and fetched {entry.age()}; 'kubectl apiinfo refresh' reads it anew")
        self._fresh = False
        return _from_entry(entry, cached=True)

    def _revalidate(self, access, entry: Entry) -> APISnapshot:
        """Ask the server whether the snapshot still holds, for at most about a second; else answer from it."""
        from kubectl_apiinfo.sources.cluster.fetch import fetch_into, legacy_unchanged

        timeout = self.flags.request_timeout
        timeout = REVALIDATE_TIMEOUT if timeout is None else min(timeout, REVALIDATE_TIMEOUT)
        try:
            if entry.snapshot.source.listing_digest:
                server_version = legacy_unchanged(access, timeout, entry)
                if server_version is not None:
                    now = time.time()
                    self.cache.touch(entry, now, server_version)
                    self.revalidated = True
                    return _from_entry(entry.replace(checked_at=now, server_version=server_version), cached=True)
            fresh = fetch_into(self.cache, access, timeout, entry)
        except UserError as e:
            how = "could not be reached" if getattr(e, "unreachable", False) else "could not check the snapshot"
            warn(f"{access.display_server} {how} ({e}); answering from the snapshot fetched {entry.age()}")
            return _from_entry(entry, cached=True)
        unchanged = fresh is entry or fresh.fetched_at == entry.fetched_at
        self._fresh = not unchanged
        self.revalidated = unchanged
        return _from_entry(fresh, cached=unchanged)

    def _offline_fallback(self, access, entry: Optional[Entry], error) -> APISnapshot:
        from kubectl_apiinfo.sources.cluster import kubectl_cache

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
        version = self.cache.last_version(access.identity)
        if version and self.catalog_has(version):
            warn(f"{why}: no snapshot of {name}; answering from the catalog release {version}, its last seen version")
            raise NoCluster(f"{name} could not be read; this is the catalog release of its last seen version.", version)
        if error:
            unanswered = UserError(
                f"{error}; and there is no cached snapshot of {name} to answer from "
                f"({flag('kube_version')} VERSION answers from the offline catalog)"
            )
            # Where --kube-version means something else (scan's target), the hint misleads: the fact alone.
            unanswered.without_hint = f"{error}; and there is no cached snapshot of {name}"
            raise unanswered
        # Worded for every way here: --offline typed, or a command that reads only the cache (diff, --all-contexts).
        fetch = f"'kubectl apiinfo refresh {flag('context')} {name}'" if access.context_name else "'kubectl apiinfo refresh'"
        raise UserError(
            f"no snapshot of {name} is cached; {fetch} fetches one while the cluster is reachable, "
            "or 'kubectl apiinfo cache import FILE' brings one"
        )


def _kubeconfig_files(flags: ClusterFlags) -> list:
    from kubectl_apiinfo.kube.kubeconfig_paths import kubeconfig_files

    return kubeconfig_files(flags.kubeconfig, os.environ)


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


def served_names(flags: ClusterFlags) -> Optional[dict]:
    """group -> served plurals of the cluster's cached snapshot, silently and with no network (completion)."""
    from kubectl_apiinfo.sources.snapshots.entry import default_dir

    files = _kubeconfig_files(flags)
    directory = flags.cache_dir or default_dir()
    if not (files or flags.server) or not os.path.isdir(directory):
        return None
    with SnapshotCache(directory, warn=lambda message: None) as cache:
        identity = cache.resolution(resolution_key(flags, files))
        if identity is None:
            access = load_access(flags)
            identity = access.identity if access else None
        return cache.served(identity) if identity else None
