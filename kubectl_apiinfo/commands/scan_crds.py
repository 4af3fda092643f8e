"""scan's reading of the cluster's CustomResourceDefinitions: listed live before the objects, or said not read."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

CRD_RESOURCE = "customresourcedefinitions.apiextensions.k8s.io"


def wants_crds(resources: list, narrowed: bool) -> bool:
    """Whether the CRDs are listed: always, unless --resources chose only built-in resources."""
    if not narrowed:
        return True
    from kubectl_apiinfo.sources.catalog import releases

    builtin = releases.builtin_kinds()
    return any(r.qualified == CRD_RESOURCE or r.group not in builtin for r in resources)


def read_crds(run, client, resources: list, narrowed: bool, say: Callable[[str], None]) -> list:
    """Lists the CRDs into run (answers/scan.py ScanRun.use_crds); returns the resources still to list.  A CRD
    list refused (403) or failed is one line (say) and a part skipped; the CRDs' own objects, at the same path,
    are then not listed again for a second line."""
    from kubectl_apiinfo.kube import crd_storage
    from kubectl_apiinfo.kube.transport import TransportError

    if not wants_crds(resources, narrowed):
        return resources
    try:
        crds = crd_storage.definitions(client)
    except TransportError as e:
        if e.unreachable:
            raise
        what = "CRDs' storedVersions and the versions custom resources are written in are not scanned"
        if e.status == 403:
            say(f"cannot list {CRD_RESOURCE} (403): {what}")
        else:
            say(f"listing {CRD_RESOURCE} failed ({e}): {what}")
        run.skip(CRD_RESOURCE, f"list {CRD_RESOURCE}" if e.status == 403 else "", str(e))
        return [r for r in resources if r.qualified != CRD_RESOURCE]
    chosen: Optional[set] = {r.qualified for r in resources} if narrowed else None
    run.use_crds(crds, chosen)
    return resources
