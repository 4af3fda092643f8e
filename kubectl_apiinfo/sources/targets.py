"""What 'check' and 'diff' compare against: a catalog release, or a cluster's cached
snapshot with its OpenAPI schemas (CRDs included), as one Target.

A Target answers two questions: which group/version/kinds it serves (and which
it contains but does not serve by default), and the schema of one of them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.model import group_version, release_name


class Target:
    def __init__(self, snapshot, kind: str, label: str, release: Optional[str], context: str = "", schema_source=None):
        self.snapshot = snapshot
        self.kind = kind  # "catalog" or "cluster"
        self.label = label  # "Kubernetes 1.33", or the context's name
        self.release = release  # the Kubernetes release it is (a cluster's version), or None when unknown
        self.context = context  # for --all-contexts rows
        self._schema_source = schema_source
        self.notes: list = []  # what to tell the user about where the answer comes from
        self._schemas: dict = {}
        self.kinds: dict = {}  # (group, version, kind) -> Resource
        self.versions: dict = {}  # (group, version) -> GroupVersion
        self.groups: dict = {}  # group -> Group
        for g in snapshot.groups:
            self.groups[g.name] = g
            for gv in g.versions:
                self.versions[(g.name, gv.version)] = gv
                for r in gv.resources:
                    if "/" not in r.name:
                        self.kinds.setdefault((g.name, gv.version, r.kind), r)

    @property
    def has_schemas(self) -> bool:
        if self._schema_source is not None:
            return True
        from kubectl_apiinfo.sources import schemas

        return self.release is not None and schemas.release_index(self.release) is not None

    def schema(self, group: str, version: str, kind: str):
        """(Definitions, the kind's root schema), or None where no schema is known."""
        key = (group, version, kind)
        if key not in self._schemas:
            self._schemas[key] = self._find_schema(group_version(group, version), kind)
        return self._schemas[key]

    def _find_schema(self, gv: str, kind: str):
        if self._schema_source is not None:
            return self._schema_source.definitions(gv, kind, quiet=True)
        if self.release is None:
            return None
        from kubectl_apiinfo.sources import schemas

        return schemas.single_release_root(self.release, gv, kind)

    def describe(self) -> dict:
        out = {"kind": self.kind, "name": self.label, "kubernetesVersion": self.release or self.snapshot.source.kubernetes_version}
        if self.context:
            out["context"] = self.context
        return out

    def close(self) -> None:
        if self._schema_source is not None:
            self._schema_source.close()


def release_target(name: str) -> Target:
    from kubectl_apiinfo.sources import catalog

    release = catalog.normalize_release(name)
    return Target(catalog.load_release(release), "catalog", f"Kubernetes {release}", release)


def cluster_target(flags, context: str = "") -> Target:
    """The cluster the flags name, from its cached snapshot (fetched once if none is cached, as every query does)."""
    from kubectl_apiinfo.sources import choose, cluster_schemas

    snapshot = choose.snapshot_for_query(flags, None)
    # a cluster newer than the catalog still compares by its version; only its schemas must be its own
    release = release_name(snapshot.source.kubernetes_version or "")
    if snapshot.source.kind == "catalog":  # no cluster configured, or only its last seen version known
        target = Target(snapshot, "catalog", f"Kubernetes {release}", release, context)
        target.notes = list(snapshot.source.notes[:1])
        return target
    source = cluster_schemas.source_for_cluster(flags, snapshot)
    return Target(snapshot, "cluster", snapshot.source.name or context or "the cluster", release, context, source)


def cached_context_targets(flags) -> list:
    """A Target for every context of the kubeconfig whose snapshot is cached (with --refresh: fetched now),
    read concurrently; a context that cannot be read is a warning, not a failure."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_apiinfo.console import warn
    from kubectl_apiinfo.sources import choose

    contexts = choose.refresh_targets(flags, True)
    offline = flags.offline or not flags.refresh

    def one(context):
        try:
            return cluster_target(flags.replace(context=context, offline=offline), context)
        except UserError as e:
            return e

    with ThreadPoolExecutor(max_workers=min(8, len(contexts))) as pool:
        results = list(pool.map(one, contexts))
    targets = []
    for context, result in zip(contexts, results):
        if isinstance(result, UserError):
            warn(f"skipping context {context}: {result}")
        else:
            targets.append(result)
    if not targets:
        raise UserError(f"no context of the kubeconfig has a cached snapshot; run 'kubectl apiinfo refresh {flag('all_contexts')}' first")
    return targets
