"""Listing a resource's objects as scan reads them: metadata only, page by page, each page dropped when read.

The API server answers a list as PartialObjectMetadataList when asked (every
object's ObjectMeta, managedFields and annotations included, no spec or data),
so even Secrets are listed without their contents.  What each object says of
how it was written comes out as a small ObjectFacts; the page itself is never
kept.
"""

from __future__ import annotations

import json
from typing import Iterator, Optional
from urllib.parse import quote

from kubectl_apiinfo.kube.transport import Client, TransportError

# Metadata only, as kubectl's --server-print=false metadata lists; plain JSON from a server (or an aggregated
# API) that cannot give metadata alone.
ACCEPT_METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
PAGE = 100  # objects a request: a page of large annotations stays under the response bound
MAX_PAGES = 10_000  # a million objects of one resource: past that the server is paging in circles
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class ObjectFacts:
    """One object as scan sees it: its name and namespace, each field manager's entries
    ((manager, operation, apiVersion, time)) and, when asked, the apiVersion its last-applied annotation names."""

    __slots__ = ("name", "namespace", "managed", "last_applied")

    def __init__(self, name: str, namespace: str, managed: list, last_applied: Optional[str]):
        self.name = name
        self.namespace = namespace
        self.managed = managed
        self.last_applied = last_applied


def list_path(group: str, version: str, resource: str) -> str:
    """The list of a resource in every namespace (or of a cluster-scoped one)."""
    return f"/api/{version}/{resource}" if not group else f"/apis/{group}/{version}/{resource}"


def objects(client: Client, path: str, last_applied: bool = False, page: int = PAGE) -> Iterator[list]:
    """Each page's objects as ObjectFacts, a page at a time (limit/continue, as kubectl get pages).
    A TransportError (403, 404, 503) is the caller's: it knows what a missing list means."""
    for items in pages(client, path, ACCEPT_METADATA, page):
        yield [f for f in (facts(item, last_applied) for item in items) if f is not None]


def pages(client: Client, path: str, accept: str, page: int, query: str = "", max_pages: int = MAX_PAGES) -> Iterator[list]:
    """The items of a list, a page at a time (limit/continue); query adds selectors.  Each page is read within
    the transport's bound for a page of a list, and one that is no list, or paging past max_pages (a server
    paging in circles), is a TransportError."""
    token: Optional[str] = None
    for _ in range(max_pages):
        url = f"{path}?limit={page}" + (f"&{query}" if query else "") + (f"&continue={quote(token, safe='')}" if token else "")
        doc = client.get_json(url, accept)
        items = doc.get("items")
        if not isinstance(items, list):
            raise TransportError(f"{client.server} sent no list for {path}")
        yield items
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        token = meta.get("continue") if isinstance(meta.get("continue"), str) else None
        if not token:
            return
    raise TransportError(f"{client.server} kept paging {path} past {max_pages} pages")


def facts(item, last_applied: bool) -> Optional[ObjectFacts]:
    if not isinstance(item, dict) or not isinstance(item.get("metadata"), dict):
        return None
    meta = item["metadata"]
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    managed = []
    for entry in meta.get("managedFields") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("apiVersion"), str):
            continue
        managed.append((
            _text(entry.get("manager")) or "(no manager)", _text(entry.get("operation")),
            entry["apiVersion"], _text(entry.get("time")),
        ))
    applied = None
    if last_applied:
        annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        applied = applied_version(annotations.get(LAST_APPLIED))
    return ObjectFacts(name, namespace, managed, applied)


def applied_version(text) -> Optional[str]:
    """The apiVersion a last-applied-configuration names; the rest of it (a Secret's data, say) is dropped unread."""
    if not isinstance(text, str) or not text:
        return None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    version = doc.get("apiVersion") if isinstance(doc, dict) else None
    return version if isinstance(version, str) and version else None


def _text(value) -> str:
    return value if isinstance(value, str) else ""
