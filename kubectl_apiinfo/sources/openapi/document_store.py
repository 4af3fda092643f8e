"""A cluster's OpenAPI documents on disk, in the snapshot cache's diskcache directory.

Keys of their own, beside the snapshots' (snapshots/layout.py):
  openapi:index:<identity>  {fetchedAt, v2, paths: {"apis/apps/v1": "<hash>"}}: the cluster's /openapi/v3 index
  openapi:doc:<hash>        {defs, kinds}: one document in schema_form's form, under the hash its index URL
                            gave it (the SHA-512 of its bytes), so it is fetched once, whichever cluster serves it
A v2-only server's one document is stored as openapi:doc:v2-<sha512 of its bytes>, indexed under "*".
Values are JSON behind a checksum, kept by the snapshot store exactly as the snapshots are.  A 'cache export' bundle carries them
under its "openapi" key: bundle_part() to write it, validate_part() before
anything of a bundle is imported, import_part() to store it.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Iterable, Optional

from kubectl_apiinfo.errors import UserError

INDEX_PREFIX = "openapi:index:"
DOC_PREFIX = "openapi:doc:"
BUNDLE_KEY = "openapi"  # the part of a 'cache export' bundle that carries schemas
_HASH = re.compile(r"^(v2-|b-)?[0-9A-Fa-f]{16,128}$")


class SchemaStore:
    """The OpenAPI documents beside the snapshots, in the same store: same checksums, same read-only rules."""

    def __init__(self, directory: str):
        from kubectl_apiinfo.console import warn
        from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

        self._opened = SnapshotCache(directory, warn)
        self._open = None
        self._owns_store = True
        self.directory = directory

    @classmethod
    def sharing(cls, snapshots, close_it: bool = True) -> "SchemaStore":
        """A store on a store.SnapshotCache that is already open (one open per answer); closing closes it too
        unless close_it is False (the snapshot store itself writing a bundle)."""
        store = cls.__new__(cls)
        store._opened, store._open = snapshots, None
        store._owns_store = close_it
        store.directory = snapshots.directory
        return store

    @classmethod
    def opening(cls, open_snapshots, directory: str) -> "SchemaStore":
        """A store that opens its SnapshotCache (open_snapshots()) on first use, and again after a close:
        check --all-contexts holds a source per context, and reads their documents one context at a time."""
        store = cls.__new__(cls)
        store._opened, store._open = None, open_snapshots
        store._owns_store = True
        store.directory = directory
        return store

    @property
    def _store(self):
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    def close(self) -> None:
        if self._owns_store and self._opened is not None:
            self._opened.close()
            if self._open is not None:
                self._opened = None

    def __enter__(self) -> "SchemaStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _get(self, key: str):
        return self._store.value(key)

    def index(self, identity: str) -> Optional[dict]:
        value = self._get(INDEX_PREFIX + identity)
        return value if _valid_index(value) else None

    def put_index(self, identity: str, index: dict) -> None:
        self._store.set_value(INDEX_PREFIX + identity, index, "store the cluster's OpenAPI index")

    def document(self, digest: str) -> Optional[dict]:
        value = self._get(DOC_PREFIX + digest)
        return value if _valid_document(value) else None

    def has_document(self, digest: str) -> bool:
        return self._store.has(DOC_PREFIX + digest)

    def put_document(self, digest: str, document: dict) -> None:
        self._store.set_value(DOC_PREFIX + digest, document, "store an OpenAPI document")

    # --- bundles ('cache export' / 'cache import') --------------------------------

    def bundle_part(self, identities: Iterable[str]) -> dict:
        """The indexes of these clusters and every document they name, for a bundle."""
        indexes, documents = {}, {}
        for identity in identities:
            index = self.index(identity)
            if index is None:
                continue
            indexes[identity] = index
            for digest in index["paths"].values():
                doc = self.document(digest)
                if doc is not None:
                    documents[digest] = doc
        return {"indexes": indexes, "documents": documents}

    def import_part(self, part: object, where: str = "the bundle") -> int:
        """Store a bundle's schemas, all or nothing; returns how many documents it had.

        A bundle's documents come without the bytes their hashes were taken of, so nothing proves a
        document is the one its hash names: each is kept for the clusters of the bundle that name it,
        under a key of their own (bundled_key), never under the shared hash another cluster reads."""
        validate_part(part, where)
        if part is None:
            return 0
        documents = part["documents"]  # type: ignore[index]

        def store_all() -> None:
            for identity, index in part["indexes"].items():  # type: ignore[index]
                paths = {}
                for path, digest in index["paths"].items():
                    key = bundled_key(identity, digest)
                    if digest in documents:
                        self.put_document(key, documents[digest])
                    paths[path] = key
                self.put_index(identity, {**index, "paths": paths})

        self._store.set_together(store_all, "store the bundle's OpenAPI documents", refuse="nothing was stored")
        return len(documents)


def bundled_key(identity: str, digest: str) -> str:
    """Where an imported document is kept: one cluster's, under a key no fetched document can have."""
    import hashlib

    return "b-" + hashlib.sha256(f"{identity}\n{digest}".encode("utf-8")).hexdigest().upper()


def validate_part(part: object, where: str = "the bundle") -> None:
    """A UserError naming what is wrong with a bundle's schemas; call it before importing anything of the bundle."""
    if part is None:
        return
    if not isinstance(part, dict) or not isinstance(part.get("indexes"), dict) or not isinstance(part.get("documents"), dict):
        raise UserError(f"{where}: {BUNDLE_KEY}: expected {{indexes, documents}}; nothing was imported")
    for identity, index in part["indexes"].items():
        if not isinstance(identity, str) or not identity or not _valid_index(index):
            raise UserError(f"{where}: {BUNDLE_KEY}.indexes: a malformed index; nothing was imported")
    for digest, doc in part["documents"].items():
        if not isinstance(digest, str) or not _HASH.match(digest) or not _valid_document(doc):
            raise UserError(f"{where}: {BUNDLE_KEY}.documents: a malformed document; nothing was imported")


def _valid_index(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("paths"), dict)
        and all(isinstance(k, str) and isinstance(v, str) and _HASH.match(v) for k, v in value["paths"].items())
        and isinstance(value.get("fetchedAt"), (int, float))
    )


def _valid_document(value: object) -> bool:
    from kubectl_apiinfo.sources.openapi import schema_form  # only for an import

    return isinstance(value, dict) and schema_form.is_converted(value.get("defs"), value.get("kinds"))
