"""Which schemas answer an explain: a catalog release's, or a cluster's cached documents.

Apart from schemas.py (the catalog's schemas) and cluster_schemas.py (a cluster's), which both
build a SchemaSource, so that neither needs the other.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.errors import flag
from kubectl_apiinfo.sources import catalog
from kubectl_apiinfo.sources.schemas import SchemaSource, release_index, schema_releases


def newest_with_schemas() -> str:
    return schema_releases()[-1]


def source_for(flags, kube_version: Optional[str]) -> SchemaSource:
    from kubectl_apiinfo.errors import UserError
    from kubectl_apiinfo.sources import choose

    if kube_version:
        release = catalog.normalize_release(kube_version)
        if release_index(release) is None:
            have = schema_releases()
            raise UserError(
                f"Kubernetes {release} has no OpenAPI spec in the catalog (its data is resource tables only), "
                f"so its fields cannot be explained; use {flag('kube_version')} {have[0]} to {have[-1]}"
            )
        return SchemaSource(catalog.load_release(release), release, f"Kubernetes {release} (offline catalog)", "catalog")
    from kubectl_apiinfo.sources import cluster_schemas

    remembered = cluster_schemas.remembered_source(flags)
    if remembered is not None:
        return remembered
    snapshot = choose.snapshot_for_query(flags, None)
    if snapshot.source.kind == "catalog":
        release = snapshot.source.kubernetes_version
        label = f"Kubernetes {release} (offline catalog)"
        if release_index(release) is None:
            newest = release
            release = newest_with_schemas()
            snapshot = catalog.load_release(release)
            label = f"Kubernetes {release} (offline catalog: the newest release with an OpenAPI spec; {newest} has none)"
        return SchemaSource(snapshot, release, label, "catalog")
    return cluster_schemas.source_for_cluster(flags, snapshot)


def completion_source(flags, snapshot) -> SchemaSource:
    """Like source_for, for completion: the snapshot already chosen, and never a request."""
    if snapshot.source.kind != "cluster":
        release = snapshot.source.kubernetes_version
        if release_index(release) is None:
            release = newest_with_schemas()
        return SchemaSource(snapshot, release, f"Kubernetes {release}", "catalog")
    from kubectl_apiinfo.sources import cluster_schemas

    return cluster_schemas.source_for_cluster(flags.replace(offline=True, refresh=False), snapshot)
