"""scan's judgement of a cluster's own CustomResourceDefinitions, which no catalog release knows of.

Two things, from the CRDs listed live (kube/crd_storage.py):
  storedVersions  a version in a CRD's status.storedVersions that the CRD no longer serves (or no longer
                  lists), or marks deprecated: objects may still be stored in it, and the API server refuses
                  to drop a version from spec.versions while storedVersions lists it.  As Kubernetes'
                  "Versions in CustomResourceDefinitions" says: migrate the stored objects to the storage
                  version (the Storage Version Migrator, or read and write back every object unchanged),
                  then remove the old version from status.storedVersions.
  custom kinds    the version a custom resource's field managers wrote with, judged as check judges a
                  custom resource against a cluster's CRDs (not-served, deprecated with the CRD's own
                  deprecationWarning): with_crds gives the target those CRDs' facts.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.answers import check
from kubectl_apiinfo.model import group_version

STORED = "storedVersions"
CRD_RESOURCE = "customresourcedefinitions.apiextensions.k8s.io"


class _WithCRDs:
    """A target that answers as it does, but knows the cluster's CRDs (custom_versions) as check's cluster
    targets know theirs; a catalog release knows none."""

    def __init__(self, target, custom_versions: dict):
        self._target = target
        self.custom_versions = custom_versions

    def __getattr__(self, name):
        return getattr(self._target, name)


def with_crds(target, crds: list):
    """target, told of crds (kube.crd_storage.CRDFacts) for the kinds it does not serve itself."""
    from kubectl_apiinfo.sources.crds.definitions import CustomVersion

    known = dict(target.custom_versions)
    for c in crds:
        for v in c.versions:
            key = (c.group, v.name, c.kind)
            if key not in known and (c.group, v.name, c.kind) not in target.kinds:
                known[key] = CustomVersion(c.name, c.group, v.name, c.kind, v.served, v.storage, v.deprecated, v.warning)
    return _WithCRDs(target, known)


def by_kind(crds: list) -> dict:
    """(group, kind) -> the CRD's name, for the `crd` key of a custom resource's findings."""
    return {(c.group, c.kind): c.name for c in crds}


def wanted(crds: list, chosen: Optional[set]) -> list:
    """The CRDs whose storedVersions are reported: every one, or (--resources) those of the resources chosen
    (all of them when the CRDs themselves are)."""
    if chosen is None or CRD_RESOURCE in chosen:
        return list(crds)
    return [c for c in crds if f"{c.plural}.{c.group}" in chosen]


def stored_findings(crds: list) -> list:
    """A finding for each version in a CRD's storedVersions that it does not serve, or marks deprecated."""
    found = []
    for c in crds:
        storage = next((v for v in c.versions if v.storage), None)
        for name in c.stored:
            v = c.version(name)
            if v is None or not v.served:
                found.append(_finding(c, name, storage, check.NOT_SERVED, _unserved(c, name, v)))
            elif v.deprecated:
                found.append(_finding(c, name, storage, check.DEPRECATED, _deprecated(c, v)))
    return found


def _unserved(c, name: str, v) -> str:
    gv = group_version(c.group, name)
    why = "no longer lists it in spec.versions" if v is None else "does not serve it (served: false)"
    return f"{gv} {c.kind} is in status.storedVersions of CustomResourceDefinition {c.name}, which {why}"


def _deprecated(c, v) -> str:
    gv = group_version(c.group, v.name)
    text = f"{gv} {c.kind} is deprecated by CustomResourceDefinition {c.name}"
    return text + (f" ({v.warning.rstrip('.')})" if v.warning else "") + " and is in its status.storedVersions"


def _finding(c, name: str, storage, finding: str, text: str) -> dict:
    resource = f"{c.plural}.{c.group}"
    if storage is not None and storage.name != name:
        advice = (f"objects may still be stored in {name}; migrate them to the storage version {storage.name} (the "
                  f"Storage Version Migrator, or read and write back every {resource} unchanged), then remove {name} "
                  "from status.storedVersions")
    elif storage is not None:  # the storage version itself is deprecated: new writes land in it still
        advice = (f"{name} is the storage version, so objects are still written in it; make a served version that "
                  "is not deprecated the storage version, migrate the stored objects to it, then remove "
                  f"{name} from status.storedVersions")
    else:
        advice = (f"objects may still be stored in {name}; migrate them to the storage version, then remove {name} "
                  "from status.storedVersions")
    replacement = f"{group_version(c.group, storage.name)}/{c.kind}" if storage is not None and storage.name != name else None
    return {
        "finding": finding, "origin": STORED, "resource": resource, "group": c.group, "kind": c.kind,
        "apiVersion": group_version(c.group, name), "manager": None, "operations": [], "objects": None, "names": [],
        "lastWritten": None, "removed": None, "replacement": replacement,
        "replacementServed": (storage.served if replacement else None), "crd": c.name,
        "detail": f"{text}: {advice}",
    }
