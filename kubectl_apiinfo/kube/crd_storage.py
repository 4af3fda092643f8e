"""What each of a cluster's CustomResourceDefinitions serves and stores, as scan reads it live.

Each CRD's versions (served, storage, deprecated, deprecationWarning) and its
status.storedVersions: every version its objects were ever written to etcd in.
The API server keeps no field selection on a list, so whole CRDs come back, a
small page at a time (their schemas can be large), and only those few fields
are kept; the schemas are dropped with the page.
"""

from __future__ import annotations

from typing import Optional

from kubectl_apiinfo.kube.custom_resources import CRD_LIST, WARNING_CHARS
from kubectl_apiinfo.kube.discovery_documents import ACCEPT_JSON
from kubectl_apiinfo.kube.object_lists import pages
from kubectl_apiinfo.kube.transport import Client

# CRDs a request: a CRD stays under etcd's 1.5 MB, so twenty of the largest stay under a list page's bound.
PAGE = 20
MAX_PAGES = 5000
MAX_STORED = 64  # a storedVersions longer than this is a broken status: the rest is not read


class CRDVersion:
    """One entry of a CRD's spec.versions."""

    __slots__ = ("name", "served", "storage", "deprecated", "warning")

    def __init__(self, name: str, served: bool, storage: bool, deprecated: bool, warning: str):
        self.name, self.served, self.storage, self.deprecated, self.warning = name, served, storage, deprecated, warning


class CRDFacts:
    """One CRD: its name (plural.group), group, kind and plural, its versions and its storedVersions."""

    __slots__ = ("name", "group", "kind", "plural", "versions", "stored")

    def __init__(self, name: str, group: str, kind: str, plural: str, versions: list, stored: list):
        self.name, self.group, self.kind, self.plural = name, group, kind, plural
        self.versions = versions  # [CRDVersion], in the CRD's order
        self.stored = stored  # status.storedVersions, in its order

    def version(self, name: str) -> Optional[CRDVersion]:
        return next((v for v in self.versions if v.name == name), None)


def definitions(client: Client, page: int = PAGE) -> list:
    """Every CRD of the cluster as CRDFacts, listed page by page (limit/continue).

    A TransportError (403 for a user who may not list CRDs) is the caller's to report: unknown, not absent."""
    found: list = []
    for items in pages(client, CRD_LIST, ACCEPT_JSON, page, max_pages=MAX_PAGES):
        found.extend(f for f in (read(item) for item in items) if f is not None)
    return found


def read(item) -> Optional[CRDFacts]:
    """A CRD object's facts, or None when it is not one (no group, kind or name)."""
    if not isinstance(item, dict):
        return None
    spec = _dict(item.get("spec"))
    names, meta, status = _dict(spec.get("names")), _dict(item.get("metadata")), _dict(item.get("status"))
    group, kind, name, plural = spec.get("group"), names.get("kind"), meta.get("name"), names.get("plural")
    if not all(isinstance(v, str) and v for v in (group, kind, name)):
        return None
    versions = []
    for v in spec.get("versions") if isinstance(spec.get("versions"), list) else []:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str) or not v["name"]:
            continue
        warning = v.get("deprecationWarning") if isinstance(v.get("deprecationWarning"), str) else ""
        versions.append(CRDVersion(v["name"], v.get("served") is not False, v.get("storage") is True,
                                   v.get("deprecated") is True, warning[:WARNING_CHARS]))
    raw = status.get("storedVersions") if isinstance(status.get("storedVersions"), list) else []
    stored = list(dict.fromkeys(s for s in raw[:MAX_STORED] if isinstance(s, str) and s))
    return CRDFacts(name, group, kind, plural if isinstance(plural, str) and plural else name.split(".")[0],
                    versions, stored)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}
