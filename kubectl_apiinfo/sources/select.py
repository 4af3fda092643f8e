"""Which Source answers: a catalog release, or the cluster the flags name as the cache's policy gives it.

The one place that turns flags into a Source, so commands never ask which kind
they hold.  A cluster source that reads schemas keeps the cache open (its
documents live there) until it is closed.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.model import release_name
from kubectl_apiinfo.sources.catalog import releases
from kubectl_apiinfo.sources.cluster.access import open_cache
from kubectl_apiinfo.sources.cluster.cached import CachedDiscovery, NoCluster
from kubectl_apiinfo.sources.source import CatalogRelease, ClusterSnapshot, Source


def release(text: Optional[str], context: str = "", note: str = "") -> CatalogRelease:
    """A catalog release (the newest for None): 1.33, v1.33, v1.33.2."""
    name = releases.normalize_release(text) if text else releases.newest()
    snapshot = releases.load_release(name)
    if note:
        snapshot.source.notes.insert(0, note)
    source = CatalogRelease(snapshot, name, context)
    source.notes = snapshot.source.notes[:1] if note else []
    return source


def for_query(flags, kube_version: Optional[str] = None, words: Optional[list] = None, schemas: bool = False,
              context: str = "", cached: bool = False, hold_cache: bool = True) -> Source:
    """The release --kube-version names, else the cluster the flags name (its cached snapshot while it may
    answer), else the catalog.  With words, a cluster's snapshot may hold only the groups they name; with
    schemas, a cluster source reads its OpenAPI documents (fetched once, then cached).  cached: the snapshot
    comes from the cache alone, while the documents are still fetched unless --offline.  hold_cache False:
    the cache is closed until the documents are read (one of many sources)."""
    if kube_version:
        return release(kube_version, context)
    read = flags.replace(offline=True) if cached else flags
    discovery = CachedDiscovery(read, lambda: open_cache(flags), lambda version: version in releases.release_names())
    try:
        snapshot = discovery.remembered(words) if schemas else None
        if snapshot is None:
            snapshot = discovery.snapshot(words)
    except NoCluster as e:
        discovery.close()
        return release(e.release, context, e.note)
    except BaseException:
        discovery.close()
        raise
    snapshot.source.revalidated = discovery.revalidated or None
    version = release_name(snapshot.source.kubernetes_version or "")
    identity = discovery.identity
    if not schemas:
        discovery.close()
        source = ClusterSnapshot(snapshot, version, context)
    else:
        source = ClusterSnapshot(snapshot, version, context, _documents(flags, discovery, snapshot, hold_cache))
    source.identity = identity
    return source


def _documents(flags, discovery: CachedDiscovery, snapshot, hold_cache: bool):
    """The cluster's OpenAPI documents, in the cache the snapshot came from (which they then own)."""
    from kubectl_apiinfo.sources.openapi.cluster_documents import ClusterDocuments
    from kubectl_apiinfo.sources.openapi.document_store import SchemaStore

    if hold_cache:
        store = SchemaStore.sharing(discovery.cache)
    else:
        store = SchemaStore.opening(lambda: open_cache(flags), discovery.cache.directory)
        discovery.close()
    name = snapshot.source.name or "the cluster"
    server = snapshot.source.server
    if discovery.identity is not None:
        revalidate = discovery.fresh() or flags.refresh  # discovery was just read: so is the index
        return ClusterDocuments(flags, store, discovery.identity, name, revalidate, server)
    # Answering from kubectl's discovery cache: the cluster is out of reach, so only kubectl's HTTP cache can help.
    return ClusterDocuments(flags, store, "kubectl-cache:" + (server or ""), name, False, server, can_fetch=False)


def for_explain(flags, kube_version: Optional[str]) -> Source:
    """Like for_query with schemas; a catalog release without an OpenAPI spec is refused (--kube-version)
    or stood in for by the newest release that has one."""
    from kubectl_apiinfo.sources.catalog import schemas

    source = for_query(flags, kube_version, schemas=True)
    if source.has_schemas:
        return source
    have = schemas.schema_releases()
    if kube_version:
        raise UserError(
            f"Kubernetes {source.release} has no OpenAPI spec in the catalog (its data is resource tables only), "
            f"so its fields cannot be explained; use {flag('kube_version')} {have[0]} to {have[-1]}"
        )
    stand_in = release(have[-1])
    stand_in.schema_label = (
        f"Kubernetes {have[-1]} (offline catalog: the newest release with an OpenAPI spec; {source.release} has none)"
    )
    return stand_in


def for_completion(flags, kube_version: Optional[str], schemas: bool = False) -> Source:
    """The cluster's cached snapshot (its served names only, unless schemas are wanted), else the catalog:
    silently, with no network."""
    source = _completion_source(flags, kube_version, schemas)
    if schemas and not source.has_schemas:
        from kubectl_apiinfo.sources.catalog import schemas as catalog_schemas

        return release(catalog_schemas.schema_releases()[-1])
    return source


def _completion_source(flags, kube_version: Optional[str], schemas: bool) -> Source:
    if kube_version:
        try:
            return release(kube_version)
        except UserError:
            return release(None)
    if schemas:
        try:
            return for_query(flags.replace(offline=True, refresh=False), schemas=True)
        except UserError:
            return release(None)
    from kubectl_apiinfo.sources.cluster.cached import served_names

    try:
        served = served_names(flags)
    except UserError:
        served = None
    if served is None:
        return release(None)
    return ClusterSnapshot(_names_only(served), None)


def _names_only(served: dict):
    """A snapshot holding only the served resources' names: all completion reads, built from one row."""
    from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, SnapshotSource

    groups = [Group(g, [GroupVersion("v1", [Resource(n, "", False) for n in names if isinstance(n, str)])])
              for g, names in served.items() if isinstance(g, str)]
    return APISnapshot(SnapshotSource("cluster", "completion"), groups)


def cached_contexts(flags) -> list:
    """A source for every context of the kubeconfig whose snapshot is cached (with --refresh: fetched now),
    read concurrently; a context that cannot be read is a warning, not a failure."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_apiinfo.console import warn
    from kubectl_apiinfo.sources.cluster.many import refresh_targets

    contexts = refresh_targets(flags, True)

    def one(context):
        try:
            # A cached snapshot, but documents fetched as for one context: else a CRD's fields go unchecked.
            return for_query(flags.replace(context=context), schemas=True, context=context, cached=not flags.refresh,
                             hold_cache=False)  # a hundred contexts: the cache opened for one at a time
        except UserError as e:
            return e

    with ThreadPoolExecutor(max_workers=min(8, len(contexts))) as pool:
        results = list(pool.map(one, contexts))
    sources = []
    for context, result in zip(contexts, results):
        if isinstance(result, UserError):
            warn(f"skipping context {context}: {result}")
        else:
            sources.append(result)
    if not sources:
        raise UserError(f"no context of the kubeconfig has a cached snapshot; run 'kubectl apiinfo refresh {flag('all_contexts')}' first")
    return sources
