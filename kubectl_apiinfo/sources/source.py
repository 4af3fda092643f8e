"""What a question is asked of: a catalog release or a cluster's snapshot, through one protocol.

Every query takes a Source: the resource answer and the listings read its
snapshot; explain, check and diff also ask it for the schema of a
group/version/kind.  Which kind of source it is shows only in describe()
(the -o json contract) and in the facts it states (default_server, labels).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.model import APISnapshot, group_version


class Source:
    KIND = ""  # the word -o json uses for it

    def __init__(self, snapshot: APISnapshot, label: str, release: Optional[str], context: str = ""):
        self.snapshot = snapshot
        self.label = label  # "Kubernetes 1.33", or the context's name
        self.release = release  # the Kubernetes release it is (a cluster's version), or None when unknown
        self.context = context  # set for --all-contexts rows
        self.notes: list = []  # what to tell the user about where the answer comes from
        self.schema_label = label  # where explain's schemas come from, as its answer says
        self.unchecked: dict = {}  # {group/version: why} whose kinds had no schema to be had: fields not checked
        self._schemas: dict = {}
        self._kinds: Optional[dict] = None
        self._versions: Optional[dict] = None
        self._groups: Optional[dict] = None

    # --- what it serves -----------------------------------------------------------

    @property
    def name(self) -> str:
        return self.snapshot.source.name or self.label

    @property
    def default_server(self) -> bool:
        """True where the facts are a default kube-apiserver's (a catalog release): an API it lacks is not built in."""
        return False

    @property
    def age(self) -> Optional[str]:
        return self.snapshot.source.age

    @property
    def revalidated(self) -> bool:
        """Whether the server was asked just now and confirmed the cached snapshot."""
        return bool(self.snapshot.source.revalidated)

    @property
    def from_cache(self) -> Optional[bool]:
        """True when answered from a cached snapshot, False when discovery was read just now."""
        return self.snapshot.source.from_cache

    @property
    def failed_discovery(self) -> dict:
        """{group/version: why} where discovery failed: what is served there is unknown, not absent."""
        return self.snapshot.source.failed_group_versions or {}

    @property
    def groups(self) -> dict:
        """group name -> Group."""
        if self._groups is None:
            self._groups = {g.name: g for g in self.snapshot.groups}
        return self._groups

    @property
    def versions(self) -> dict:
        """(group, version) -> GroupVersion."""
        if self._versions is None:
            self._index()
        return self._versions  # type: ignore[return-value]

    @property
    def kinds(self) -> dict:
        """(group, version, kind) -> the Resource that serves it (subresources left out)."""
        if self._kinds is None:
            self._index()
        return self._kinds  # type: ignore[return-value]

    def _index(self) -> None:
        self._kinds, self._versions = {}, {}
        for g in self.snapshot.groups:
            for gv in g.versions:
                self._versions[(g.name, gv.version)] = gv
                for r in gv.resources:
                    if "/" not in r.name:
                        self._kinds.setdefault((g.name, gv.version, r.kind), r)

    # --- schemas --------------------------------------------------------------------

    @property
    def has_schemas(self) -> bool:
        return False

    @property
    def schema_release(self) -> Optional[str]:
        """The catalog release whose schemas answer (or stand in for a cluster's missing documents)."""
        from kubectl_apiinfo.sources.catalog import schemas

        release = self.release
        return release if release and schemas.release_index(release) is not None else None

    def schema(self, group: str, version: str, kind: str):
        """(Definitions, the kind's root schema), or None where no schema is known; quietly, and remembered."""
        key = (group, version, kind)
        if key not in self._schemas:
            self._schemas[key] = self.definitions(group_version(group, version), kind, quiet=True)
        return self._schemas[key]

    def definitions(self, group_version: str, kind: str, quiet: bool = False):
        """(Definitions, the kind's root schema) for explain; None where it has none."""
        return _catalog_root(self.schema_release, group_version, kind)

    def v2_only(self, group_version: str) -> bool:
        """The cluster serves no /openapi/v3, so kubectl's explain prints its older (v2) layout."""
        return False

    def missing_kind(self, group_version: str, kind: str) -> str:
        return f"{self.schema_label} has no schema for {group_version} {kind}"

    # --- what answers say about it --------------------------------------------------

    def describe(self) -> dict:
        """Where check's and diff's answers come from (-o json)."""
        out = {"kind": self.KIND, "name": self.label, "kubernetesVersion": self.release or self.snapshot.source.kubernetes_version}
        if self.context:
            out["context"] = self.context
        return out

    def describe_schemas(self) -> dict:
        """Where explain's answer comes from (-o json)."""
        source = self.snapshot.source
        return {"kind": self.KIND, "name": source.name, "kubernetesVersion": self.schema_release or source.kubernetes_version,
                "schemas": self.schema_label, "notes": list(self.notes)}

    def close(self) -> None:
        pass

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _catalog_root(release: Optional[str], group_version: str, kind: str):
    if not release:
        return None
    from kubectl_apiinfo.sources.catalog import schemas

    return schemas.single_release_root(release, group_version, kind)


class CatalogRelease(Source):
    """A Kubernetes release from the offline catalog: what a default API server of that release serves."""

    KIND = "catalog"

    def __init__(self, snapshot: APISnapshot, release: str, context: str = "", schema_label: str = ""):
        super().__init__(snapshot, f"Kubernetes {release}", release, context)
        self.schema_label = schema_label or f"Kubernetes {release} (offline catalog)"

    @property
    def default_server(self) -> bool:
        return True

    @property
    def has_schemas(self) -> bool:
        return self.schema_release is not None


class ClusterSnapshot(Source):
    """A cluster's discovery snapshot, and its OpenAPI documents (fetched once, then from the cache)."""

    KIND = "cluster"

    def __init__(self, snapshot: APISnapshot, release: Optional[str], context: str = "", documents=None):
        name = snapshot.source.name or context or "the cluster"
        super().__init__(snapshot, name, release, context)
        self.schema_label = f"{name} (its OpenAPI documents)"
        self.documents = documents  # openapi.cluster_documents.ClusterDocuments (which holds the cache open), or None

    @property
    def has_schemas(self) -> bool:
        return True

    def definitions(self, group_version: str, kind: str, quiet: bool = False):
        """From the cluster's documents, else the catalog release of its version; None if neither has it."""
        release = self.schema_release
        if self.documents is None:
            return _catalog_root(release, group_version, kind)
        found = self.documents.definitions(group_version, kind)
        if found is not None:
            return found
        failed = self.documents.failed.get(group_version) or self.documents.failed.get("/openapi/v3")
        fallback = _catalog_root(release, group_version, kind)
        if fallback is not None:
            if not quiet:
                from kubectl_apiinfo.console import warn

                why = f" ({failed})" if failed else ""
                warn(
                    f"no OpenAPI document of {group_version} is cached for {self.name}{why}; answering from the "
                    f"catalog release {release}, the cluster's version"
                )
            self.schema_label = f"Kubernetes {release} (offline catalog, the version of {self.name})"
            return fallback
        if failed and not quiet:
            raise UserError(
                f"the OpenAPI document of {group_version} could not be read ({failed}) and none is cached for "
                f"{self.name}; 'kubectl apiinfo refresh {flag('schemas')}' fetches them all while it is reachable"
            )
        if group_version in self.documents.missing:  # not a kind its document lacks (a CRD without a schema)
            self.unchecked[group_version] = failed or ""
        return None

    def v2_only(self, group_version: str) -> bool:
        return self.documents is not None and self.documents.v2_only()

    def missing_kind(self, group_version: str, kind: str) -> str:
        if self.documents is not None and self.documents.document(group_version) is not None:
            return (
                f"{self.name} publishes no schema for {group_version} {kind} in its OpenAPI "
                "document (a CRD without a schema has none), so its fields cannot be explained"
            )
        if self.documents is not None:
            return (
                f"no OpenAPI document of {group_version} is cached for {self.name}; run once while it is "
                f"reachable, or 'kubectl apiinfo refresh {flag('schemas')}' before going offline"
            )
        return super().missing_kind(group_version, kind)

    def describe_schemas(self) -> dict:
        out = super().describe_schemas()
        out["server"] = self.snapshot.source.server
        return out

    def close(self) -> None:
        if self.documents is not None:
            self.documents.close()
            self.documents = None
