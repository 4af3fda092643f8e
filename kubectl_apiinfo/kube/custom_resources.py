"""What a cluster's CustomResourceDefinitions say of each version: served, storage, deprecated.

Discovery lists only the versions a CRD serves and never says one is
deprecated, so check lists the CRDs themselves, page by page, and keeps those
few fields (never the schemas, which the OpenAPI documents carry).
"""

from __future__ import annotations

from kubectl_apiinfo.kube.discovery_documents import ACCEPT_JSON
from kubectl_apiinfo.kube.object_lists import pages
from kubectl_apiinfo.kube.transport import Client

CRD_GROUP = "apiextensions.k8s.io"
CRD_LIST = f"/apis/{CRD_GROUP}/v1/customresourcedefinitions"
PAGE = 100  # CRDs per request: a page of large CRDs stays well under the response bound
MAX_PAGES = 1000
WARNING_CHARS = 300  # a deprecationWarning longer than this is cut: it is repeated in findings


def version_facts(client: Client) -> dict:
    """{"group/version/Kind": {crd, served, storage, deprecated, warning}} for every version of every CRD.

    A TransportError (403 for a user who may not list CRDs) is the caller's to report: unknown, not absent."""
    facts: dict = {}
    for items in pages(client, CRD_LIST, ACCEPT_JSON, PAGE, max_pages=MAX_PAGES):
        for item in items:
            facts.update(_versions(item))
    return facts


def _versions(item) -> dict:
    if not isinstance(item, dict):
        return {}
    spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    group, kind, name = spec.get("group"), names.get("kind"), meta.get("name")
    if not all(isinstance(v, str) and v for v in (group, kind, name)):
        return {}
    out = {}
    for v in spec.get("versions") if isinstance(spec.get("versions"), list) else []:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str) or not v["name"]:
            continue
        warning = v.get("deprecationWarning") if isinstance(v.get("deprecationWarning"), str) else ""
        out[f"{group}/{v['name']}/{kind}"] = {
            "crd": name, "served": v.get("served") is not False, "storage": v.get("storage") is True,
            "deprecated": v.get("deprecated") is True, "warning": warning[:WARNING_CHARS],
        }
    return out
