"""A cluster's OpenAPI documents for 'explain' (fetched once, cached by hash)."""

from __future__ import annotations


def source_for_cluster(flags, snapshot):
    from kubectl_apiinfo.sources import catalog
    from kubectl_apiinfo.sources.schemas import SchemaSource, release_index

    version = snapshot.source.kubernetes_version
    release = version if version and release_index(version) is not None else None
    name = snapshot.source.name or "the cluster"
    return SchemaSource(snapshot, release, f"Kubernetes {release} (offline catalog, for {name})", "catalog")
