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
from kubectl_apiinfo.model import APISnapshot, group_version, parse_release

# The first release whose API servers serve /openapi/v3 by default: the OpenAPIV3 feature gate is alpha,
# off, in 1.23 and beta, on, from 1.24 (k8s.io/apiserver pkg/features/kube_features.go; KEP-2896).
# kubectl explain against an older server finds no /openapi/v3 and prints its v2 layout.
FIRST_OPENAPI_V3 = (1, 24)


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
        self.rules_not_checked: dict = {}  # {CRD: {rule: why}}: CEL rules check could not evaluate (answers/check.py)
        self._schemas: dict = {}
        self._kinds: Optional[dict] = None
        self._versions: Optional[dict] = None
        self._groups: Optional[dict] = None
        self._custom_versions: Optional[dict] = None  # (group, version, kind) -> crds.definitions.CustomVersion
        self._custom_schemas: dict = {}  # (group, version, kind) -> a CRD version's raw openAPIV3Schema

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

    @property
    def custom_versions(self) -> dict:
        """(group, version, kind) -> CustomVersion: what a CRD declares of that version (served, deprecated),
        from the cluster's CRDs and those adopted."""
        if self._custom_versions is None:
            from kubectl_apiinfo.sources.crds import definitions as crds

            self._custom_versions = crds.from_facts(self.snapshot.source.custom_versions)
        return self._custom_versions

    @property
    def custom_versions_unknown(self) -> Optional[str]:
        """Why the cluster's CRDs could not be listed, where they could not and none were known before."""
        source = self.snapshot.source
        return source.custom_versions_unknown if source.custom_versions is None else None

    def adopt(self, definitions: list) -> None:
        """Serve the CRDs given (crds.definitions.CustomDefinition) as the target will once they are applied:
        their group/versions, kinds and schemas stand in for whatever it had for the same kinds."""
        from kubectl_apiinfo.model import Group
        from kubectl_apiinfo.sources.crds import definitions as crds

        if not definitions:
            return
        merged = {g.name: g for g in self.snapshot.groups}
        for added in crds.groups(definitions):
            have = merged.get(added.name)
            if have is None:
                merged[added.name] = added
                continue
            versions = {gv.version: gv for gv in have.versions}
            for gv in added.versions:
                kinds = {r.kind for r in gv.resources}
                kept = [r for r in versions[gv.version].resources if r.kind not in kinds] if gv.version in versions else []
                versions[gv.version] = gv.replace(resources=kept + gv.resources)
            merged[added.name] = Group(have.name, list(versions.values()), have.preferred)
        self.snapshot = APISnapshot(self.snapshot.source, list(merged.values()))
        self._kinds = self._versions = self._groups = None
        replaced = {(d.group, d.resource.kind) for d in definitions}
        for key in [k for k in self.custom_versions if (k[0], k[2]) in replaced]:
            del self.custom_versions[key]  # the cluster's versions of a CRD the input redefines
        for d in definitions:
            for v in d.versions:
                key = (d.group, v.version, v.kind)
                self.custom_versions[key] = v
                self._custom_schemas[key] = d.schemas.get(v.version)
                self._schemas.pop(key, None)

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
            if key in self._custom_schemas:
                from kubectl_apiinfo.sources.crds import definitions as crds

                meta = self.schema("", "v1", "ConfigMap")  # the target's ObjectMeta, for a custom resource's metadata
                self._schemas[key] = crds.root_schema(self._custom_schemas[key], meta[0] if meta else None)
            else:
                self._schemas[key] = self.definitions(group_version(group, version), kind, quiet=True)
        return self._schemas[key]

    def definitions(self, group_version: str, kind: str, quiet: bool = False):
        """(Definitions, the kind's root schema) for explain; None where it has none."""
        return _catalog_root(self.schema_release, group_version, kind)

    def v2_only(self, group_version: str) -> bool:
        """The server serves no /openapi/v3, so kubectl's explain prints its older (v2) layout: as a
        server of a release before /openapi/v3 was on by default does."""
        release = parse_release(self.release or "")
        return release is not None and release < FIRST_OPENAPI_V3

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

    def drop_schemas(self) -> None:
        """Let go of the schemas read so far, and of what holds them open; asked again, they are read anew
        (check --all-contexts puts each context's away once it is checked)."""
        self._schemas = {}

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
        self.identity: Optional[str] = None  # the cluster's in the cache, where its snapshot (and last scan) are kept

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
        served = self.documents.v2_only() if self.documents is not None else None
        return super().v2_only(group_version) if served is None else served  # its release says when unread

    def missing_kind(self, group_version: str, kind: str) -> str:
        if self.documents is not None and self.documents.document(group_version) is not None:
            return (
                f"{self.name} publishes no schema for {group_version} {kind} in its OpenAPI "
                "document (a CRD without a schema has none), so its fields cannot be explained"
            )
        if self.documents is not None and self.documents.publishes(group_version) is False:
            return f"{self.name} publishes no OpenAPI document for {group_version}, so its fields cannot be explained"
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

    def drop_schemas(self) -> None:
        super().drop_schemas()
        if self.documents is not None:
            self.documents.drop()

    def close(self) -> None:
        if self.documents is not None:
            self.documents.close()
            self.documents = None
