"""A cluster's OpenAPI documents for 'explain': fetched once, cached by hash, then answered offline.

The first explain of a group/version reads /openapi/v3 (the index, whose URLs
carry each document's hash) and that one document; each document is stored
under its hash, so it is never fetched twice, and later answers make no
request.  The index is read again when the discovery snapshot is (--refresh,
or a snapshot fetched anew).  A server without /openapi/v3 gets /openapi/v2.
Without any document, built-in groups answer from the catalog release of the
cluster's version, with a warning that says so.
"""

from __future__ import annotations

import os
import time
import weakref

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.console import warn as _warn
from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.sources.openapi import schema_form
from kubectl_apiinfo.sources.openapi.document_store import SchemaStore

ACCEPT_JSON = "application/json"
WORKERS = 8  # concurrent document fetches for refresh --schemas


def gv_path(group_version: str) -> str:
    return f"apis/{group_version}" if "/" in group_version else f"api/{group_version}"


def content_hash(raw: bytes) -> str:
    """kube-openapi's hash of a document: the SHA-512 of its bytes, in upper-case hex."""
    import hashlib  # only where a document is fetched or read from kubectl's cache

    return hashlib.sha512(raw).hexdigest().upper()


def _index_from(doc: dict) -> dict:
    paths = {}
    for path, entry in (doc.get("paths") or {}).items():
        url = entry.get("serverRelativeURL", "") if isinstance(entry, dict) else ""
        _, _, query = url.partition("?")
        digest = next((v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "hash"), "")
        if isinstance(path, str) and digest:
            paths[path.strip("/")] = digest
    return {"fetchedAt": time.time(), "v2": False, "paths": paths}


class Fetcher:
    """Requests to one cluster, opened on first use (so a cached answer never imports requests)."""

    def __init__(self, flags):
        self.flags = flags
        self.client = None

    def _open(self):
        if self.client is None:
            from kubectl_apiinfo.kube.transport import Client
            from kubectl_apiinfo.sources.cluster.access import load_access

            access = load_access(self.flags)
            if access is None:
                raise UserError("no cluster is configured (no kubeconfig)")
            self.client = Client(access, self.flags.request_timeout)
        return self.client

    def index(self) -> tuple:
        """(index, v2 document or None): /openapi/v3, or /openapi/v2 on a server without it."""
        client = self._open()
        response = client.get_optional("/openapi/v3", ACCEPT_JSON)  # 401 refresh and errors as in get
        if response is None:
            v2 = client.get("/openapi/v2", ACCEPT_JSON)
            import hashlib  # only for a v2-only server: a cached answer never loads it

            digest = "v2-" + hashlib.sha512(v2.content).hexdigest().upper()[:64]
            defs, kinds = schema_form.from_v2(client.decode(v2))
            return {"fetchedAt": time.time(), "v2": True, "paths": {"*": digest}}, (digest, {"defs": defs, "kinds": kinds})
        return _index_from(client.decode(response)), None

    def document(self, path: str, digest: str) -> tuple:
        """(the SHA-512 its bytes have, the document): the hash it was asked by is only the server's word."""
        client = self._open()
        response = client.get(f"/openapi/v3/{path}?hash={digest}", ACCEPT_JSON)
        defs, kinds = schema_form.from_v3(client.decode(response))
        return content_hash(response.content), {"defs": defs, "kinds": kinds}

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


# (cache directory, digest) -> the document's DocumentDefinitions, while any cluster's source holds it: a
# document is read and checked once, and the schema walks over it (answers/check.py) are shared.
_SHARED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _stored(store: SchemaStore, digest: str) -> Optional[schema_form.DocumentDefinitions]:
    key = (store.directory, digest)
    found = _SHARED.get(key)
    if found is None:
        doc = store.document(digest)
        if doc is None:
            return None
        found = _SHARED[key] = schema_form.DocumentDefinitions(doc["defs"], doc["kinds"])
    return found


class ClusterDocuments:
    def __init__(
        self, flags, store: SchemaStore, identity: str, name: str, revalidate: bool,
        server: Optional[str] = None, can_fetch: bool = True,
    ):
        self.flags = flags
        self.store = store
        self.identity = identity
        self.name = name
        self.revalidate = revalidate
        self.server = server  # for kubectl's HTTP cache, which is keyed by URL
        self.can_fetch = can_fetch and not flags.offline
        self.fetcher = Fetcher(flags)
        self.failed: dict = {}
        self.index_read = False
        self.index: Optional[dict] = None  # the index document() went by: the server's list of documents
        self.missing: set = set()  # group/versions with no document to be had: cached, kubectl's or fetched
        self._held: dict = {}  # group/version -> its DocumentDefinitions (or None), until closed

    def _index(self, store: SchemaStore, force: bool = False) -> Optional[dict]:
        index = store.index(self.identity)
        if (index is None or force or self.revalidate) and self.can_fetch and "/openapi/v3" not in self.failed:
            from kubectl_apiinfo.kube.transport import TransportError

            try:
                fresh, v2_doc = self.fetcher.index()
            except TransportError as e:
                if index is None:
                    self.failed["/openapi/v3"] = str(e)
                    return self._kubectl_index(store)
                _warn(f"{e}; answering from the schemas cached for {self.name}")
                return index
            if v2_doc is not None and not store.has_document(v2_doc[0]):
                store.put_document(*v2_doc)
            store.put_index(self.identity, fresh)
            self.revalidate = False
            index = fresh
        return index if index is not None else self._kubectl_index(store)

    def _kubectl_index(self, store: SchemaStore) -> Optional[dict]:
        if not self.server:
            return None
        from kubectl_apiinfo.sources.openapi import kubectl_http_cache

        doc = kubectl_http_cache.index(self.server, os.environ)
        return _index_from(doc) if doc is not None else None

    def _kubectl_document(self, path: str, digest: str) -> Optional[dict]:
        if not self.server:
            return None
        from kubectl_apiinfo.sources.openapi import kubectl_http_cache

        raw = kubectl_http_cache.document(self.server, path, digest, os.environ)
        if raw is None:
            return None
        defs, kinds = schema_form.from_v3(raw)
        return {"defs": defs, "kinds": kinds}

    def document(self, group_version: str) -> Optional[dict]:
        loaded = self.loaded(group_version)
        return None if loaded is None else {"defs": loaded.defs, "kinds": loaded.kinds}

    def loaded(self, group_version: str) -> Optional[schema_form.DocumentDefinitions]:
        """The document of group_version, read once; the same object for every cluster whose index names the
        same document (check --all-contexts: a hundred clusters of a few releases)."""
        if group_version in self._held:
            return self._held[group_version]
        found = self._held[group_version] = self._load(group_version)
        return found

    def _load(self, group_version: str) -> Optional[schema_form.DocumentDefinitions]:
        path = gv_path(group_version)
        store = self.store
        index = self._index(store)
        self.index, self.index_read = index, True
        for attempt in (1, 2):
            if index is None:
                return None
            digest = index["paths"].get(path) or index["paths"].get("*")
            if digest is None:
                return None
            found = _stored(store, digest)
            if found is not None or index.get("v2"):
                return found
            doc = self._kubectl_document(path, digest)  # kubectl fetched it already: no request
            if doc is not None:
                store.put_document(digest, doc)
                return schema_form.DocumentDefinitions(doc["defs"], doc["kinds"])
            if not self.can_fetch:
                return None
            from kubectl_apiinfo.kube.transport import TransportError

            try:
                actual, doc = self.fetcher.document(path, digest)
            except TransportError as e:
                if attempt == 1 and " 301 " in f"{e} ":
                    index = self.index = self._index(store, force=True)  # a stale hash: the index changed
                    continue
                self.failed[group_version] = str(e)
                return None
            store_verified(store, self.identity, index, path, digest, actual, doc, self.name)
            return schema_form.DocumentDefinitions(doc["defs"], doc["kinds"])
        return None

    def publishes(self, group_version: str) -> Optional[bool]:
        """Whether the server's index of documents names one of group_version; None when no index could be
        had (unreachable, and none cached)."""
        if not self.index_read:
            self.document(group_version)
        if self.index is None:
            return None
        return gv_path(group_version) in self.index["paths"] or "*" in self.index["paths"]

    def definitions(self, group_version: str, kind: str):
        defs = self.loaded(group_version)
        if defs is None:
            self.missing.add(group_version)
            return None
        name = defs.kinds.get(group_version, {}).get(kind)
        root = defs.definition(name) if name else None
        return (defs, root) if root is not None else None

    def v2_only(self) -> Optional[bool]:
        """Whether the server answered /openapi/v2 only; None when no index of it is cached."""
        index = self.store.index(self.identity)
        return None if index is None else bool(index.get("v2"))

    def drop(self) -> None:
        """Let go of the documents read (shared ones live on while another cluster holds them) and close
        the store until the next read."""
        self._held.clear()
        self.store.close()

    def close(self) -> None:
        self._held.clear()
        self.fetcher.close()
        self.store.close()


def store_verified(store: SchemaStore, identity: str, index: dict, path: str, announced: str, actual: str,
                   doc: dict, name: str, save_index: bool = True) -> None:
    """A document is shared under a hash only when its bytes have that hash.  One whose bytes do not (a
    doctored or broken server, proxy or aggregated API) is kept under the hash it does have, and only this
    cluster's index points there: no other cluster's explain or check ever reads it."""
    if actual == announced.upper():
        store.put_document(announced, doc)
        return
    _warn(f"{name} served {path} with bytes that do not match the hash it announced; it answers for {name} only")
    store.put_document(actual, doc)
    index["paths"][path] = actual
    if save_index:
        store.put_index(identity, index)


# --- refresh --schemas ------------------------------------------------------------


def refresh_schemas(flags) -> tuple:
    """Fetch every document of the flags' cluster at once (those not cached yet), for a trip off the network.

    Returns (documents now cached, {groupVersion path: error}) ; a failing document is a warning, not a failure.
    """
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_apiinfo.kube.transport import TransportError
    from kubectl_apiinfo.sources.cluster.access import load_access
    from kubectl_apiinfo.sources.snapshots.entry import default_dir

    access = load_access(flags)
    if access is None:
        raise UserError(f"no cluster is configured (no kubeconfig); refresh {flag('schemas')} needs one")
    fetcher = Fetcher(flags)
    failed: dict = {}
    try:
        index, v2_doc = fetcher.index()
        with SchemaStore(flags.cache_dir or default_dir()) as store:
            if v2_doc is not None:
                store.put_document(*v2_doc)
            missing = [(p, d) for p, d in sorted(index["paths"].items()) if not store.has_document(d)]

            def one(item):
                path, digest = item
                try:
                    return path, digest, fetcher.document(path, digest), None
                except TransportError as e:
                    return path, digest, None, str(e)

            name = access.context_name or access.display_server
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                for path, digest, fetched, error in pool.map(one, missing):
                    if error:
                        failed[path] = error
                    else:
                        store_verified(store, access.identity, index, path, digest, *fetched, name, save_index=False)
            store.put_index(access.identity, index)
        for path, error in sorted(failed.items()):
            _warn(f"the OpenAPI document {path} failed on {access.context_name or access.display_server} ({error})")
        return len(index["paths"]) - len(failed), failed
    finally:
        fetcher.close()
