"""A cluster's OpenAPI documents on disk, in the snapshot cache's diskcache directory.

Keys of their own, beside store.py's:
  openapi:index:<identity>  {fetchedAt, v2, paths: {"apis/apps/v1": "<hash>"}}: the cluster's /openapi/v3 index
  openapi:doc:<hash>        {defs, kinds}: one document in schema_form's form, under the hash its index URL
                            gave it (the SHA-512 of its bytes), so it is fetched once, whichever cluster serves it
A v2-only server's one document is stored as openapi:doc:v2-<sha512 of its bytes>, indexed under "*".
Values are plain JSON, like the snapshots.
"""

from __future__ import annotations

import json
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Iterable, Optional

from kubectl_apiinfo.errors import UserError

INDEX_PREFIX = "openapi:index:"
DOC_PREFIX = "openapi:doc:"
BUNDLE_KEY = "openapi"  # the part of a 'cache export' bundle that carries schemas
_HASH = re.compile(r"^(v2-)?[0-9A-Fa-f]{16,128}$")


class SchemaStore:
    def __init__(self, directory: str):
        import diskcache

        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            self._cache = diskcache.Cache(directory, disk=diskcache.JSONDisk, disk_compress_level=0)
        except OSError as e:
            raise UserError(f"cannot use the cache directory {directory} ({e.strerror}); pass --cache-dir") from None

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> "SchemaStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _get(self, key: str):
        try:
            return self._cache.get(key)
        except Exception:  # noqa: BLE001 - an unreadable row is a miss: it is fetched again
            return None

    def resolution(self, key: str) -> Optional[str]:
        """The cluster identity store.py remembered for these kubeconfig files and flags (its resolved: keys)."""
        from kubectl_apiinfo.sources.store import _RESOLVED_PREFIX

        value = self._get(_RESOLVED_PREFIX + key)
        return value if isinstance(value, str) else None

    def index(self, identity: str) -> Optional[dict]:
        value = self._get(INDEX_PREFIX + identity)
        return value if _valid_index(value) else None

    def put_index(self, identity: str, index: dict) -> None:
        self._cache.set(INDEX_PREFIX + identity, index)

    def document(self, digest: str) -> Optional[dict]:
        value = self._get(DOC_PREFIX + digest)
        return value if _valid_document(value) else None

    def has_document(self, digest: str) -> bool:
        return (DOC_PREFIX + digest) in self._cache

    def put_document(self, digest: str, document: dict) -> None:
        self._cache.set(DOC_PREFIX + digest, document)

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
        """Store a bundle's schemas, all or nothing; returns how many documents it had."""
        if part is None:
            return 0
        if not isinstance(part, dict) or not isinstance(part.get("indexes"), dict) or not isinstance(part.get("documents"), dict):
            raise UserError(f"{where}: {BUNDLE_KEY}: expected {{indexes, documents}}; nothing was imported")
        for identity, index in part["indexes"].items():
            if not isinstance(identity, str) or not identity or not _valid_index(index):
                raise UserError(f"{where}: {BUNDLE_KEY}.indexes: a malformed index; nothing was imported")
        for digest, doc in part["documents"].items():
            if not isinstance(digest, str) or not _HASH.match(digest) or not _valid_document(doc):
                raise UserError(f"{where}: {BUNDLE_KEY}.documents: a malformed document; nothing was imported")
        with self._cache.transact():
            for digest, doc in part["documents"].items():
                self.put_document(digest, doc)
            for identity, index in part["indexes"].items():
                self.put_index(identity, index)
        return len(part["documents"])


def _valid_index(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("paths"), dict)
        and all(isinstance(k, str) and isinstance(v, str) and _HASH.match(v) for k, v in value["paths"].items())
        and isinstance(value.get("fetchedAt"), (int, float))
    )


def _valid_document(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("defs"), dict) and isinstance(value.get("kinds"), dict)


def add_to_bundle(path: str, cache_dir: str, identities: Iterable[str]) -> int:
    """After store's export_bundle wrote path: add these clusters' schemas to it; returns the documents added."""
    with open(path, encoding="utf-8") as f:
        bundle = json.load(f)
    with SchemaStore(cache_dir) as store:
        bundle[BUNDLE_KEY] = store.bundle_part(identities)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(bundle, f)
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"cannot write {path} ({e.strerror})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(bundle[BUNDLE_KEY]["documents"])


def check_bundle(path: str) -> None:
    """Refuse a bundle whose schemas are malformed before anything of it is imported."""
    part = _read_part(path)
    if part is not None:
        if not isinstance(part, dict) or not isinstance(part.get("indexes"), dict) or not isinstance(part.get("documents"), dict):
            raise UserError(f"{path}: {BUNDLE_KEY}: expected {{indexes, documents}}; nothing was imported")


def import_from_bundle(path: str, cache_dir: str) -> int:
    """After store's import_bundle read path: store its schemas too; returns the documents imported."""
    with SchemaStore(cache_dir) as store:
        return store.import_part(_read_part(path), path)


def _read_part(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get(BUNDLE_KEY)
    except (OSError, ValueError, AttributeError):
        return None  # store's reader has already said what is wrong with the file
