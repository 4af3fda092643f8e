"""Cluster snapshots on disk: one per cluster, JSON in a diskcache, directory 0700.

Values are stored as uncompressed JSON (diskcache's JSONDisk at level 0), never
pickled, so the cache is plain text a test can grep for secrets, and a refresh
replaces an entry in one SQLite transaction: a failed or killed refresh leaves
the previous snapshot readable.  A corrupt cache is reported and rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Iterable, Mapping, Optional

from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.model import APISnapshot, Record, SnapshotFormatError

ENV_CACHE_DIR = "KUBECTL_APIINFO_CACHE_DIR"
BUNDLE_KIND = "KubectlApiinfoBundle"
BUNDLE_VERSION = 1
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
_KEY_PREFIX = "snapshot:"
_VERSION_PREFIX = "version:"  # the server version last seen; survives 'cache clear'
_RESOLVED_PREFIX = "resolved:"  # unchanged kubeconfig files + flags -> cluster identity


def default_dir(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    if env.get(ENV_CACHE_DIR):
        return env[ENV_CACHE_DIR]
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-apiinfo")


class Entry(Record):
    __slots__ = ("identity", "name", "server", "snapshot", "fetched_at", "server_version", "etags")

    def __init__(
        self,
        identity: str,  # which cluster: see ClusterAccess.identity
        name: str,  # what answers call it (the context name)
        server: str,
        snapshot: APISnapshot,
        fetched_at: float,  # epoch seconds
        server_version: Optional[dict] = None,
        etags: Optional[dict] = None,
    ):
        self.identity = identity
        self.name = name
        self.server = server
        self.snapshot = snapshot
        self.fetched_at = fetched_at
        self.server_version = dict(server_version or {})
        self.etags = dict(etags or {})

    def to_dict(self) -> dict:
        return {
            "identity": self.identity,
            "name": self.name,
            "server": self.server,
            "fetchedAt": self.fetched_at,
            "serverVersion": self.server_version,
            "etags": self.etags,
            "snapshot": self.snapshot.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: object) -> "Entry":
        if not isinstance(d, dict):
            raise SnapshotFormatError("entry: expected an object")
        for key, typ in (("identity", str), ("name", str), ("server", str), ("serverVersion", dict), ("etags", dict)):
            if not isinstance(d.get(key), typ):
                raise SnapshotFormatError(f"entry.{key}: expected {typ.__name__}")
        if not isinstance(d.get("fetchedAt"), (int, float)) or isinstance(d.get("fetchedAt"), bool):
            raise SnapshotFormatError("entry.fetchedAt: expected a number")
        if not d["identity"] or len(d["identity"]) > 2048:
            raise SnapshotFormatError("entry.identity: empty or too long")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in d["etags"].items()):
            raise SnapshotFormatError("entry.etags: expected strings")
        return cls(
            identity=d["identity"],
            name=d["name"],
            server=d["server"],
            snapshot=APISnapshot.from_dict(d.get("snapshot")),
            fetched_at=float(d["fetchedAt"]),
            server_version={str(k): str(v) for k, v in d["serverVersion"].items()},
            etags=dict(d["etags"]),
        )

    def age(self) -> str:
        return describe_age(time.time() - self.fetched_at)


def describe_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


class SnapshotCache:
    def __init__(self, directory: str, warn: Callable[[str], None]):
        self.directory = directory
        self.warn = warn
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)
        except OSError as e:
            raise UserError(f"cannot use the cache directory {directory} ({e.strerror}); pass --cache-dir") from None
        self._cache = self._open()

    def _open(self):
        import sqlite3

        import diskcache

        try:
            return diskcache.Cache(self.directory, disk=diskcache.JSONDisk, disk_compress_level=0)
        except (sqlite3.DatabaseError, OSError) as e:
            # Corrupt beyond diskcache's own repair: keep the evidence aside, start empty.
            aside = f"{self.directory}.corrupt-{int(time.time())}"
            self.warn(f"the cache at {self.directory} was unreadable ({e}); moved it to {aside} and started a new one")
            try:
                shutil.move(self.directory, aside)
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                return diskcache.Cache(self.directory, disk=diskcache.JSONDisk, disk_compress_level=0)
            except (sqlite3.DatabaseError, OSError) as e2:
                raise UserError(f"cannot rebuild the cache at {self.directory} ({e2}); pass --cache-dir") from None

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> "SnapshotCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, identity: str) -> Optional[Entry]:
        import sqlite3

        key = _KEY_PREFIX + identity
        try:
            raw = self._cache.get(key)
        except (sqlite3.DatabaseError, OSError, ValueError) as e:
            self.warn(f"the cached snapshot for {identity} is unreadable ({type(e).__name__}); it will be fetched again")
            self._discard(key)
            return None
        if raw is None:
            return None
        try:
            return Entry.from_dict(raw)
        except SnapshotFormatError as e:
            self.warn(f"the cached snapshot for {identity} is damaged ({e}); it will be fetched again")
            self._discard(key)
            return None

    def _discard(self, key: str) -> None:
        try:
            self._cache.delete(key)
        except Exception:  # noqa: BLE001 - a broken row must not stop the query
            pass

    def put(self, entry: Entry) -> None:
        self._cache.set(_KEY_PREFIX + entry.identity, entry.to_dict())

    def remember_resolution(self, key: str, identity: str) -> None:
        self._cache.set(_RESOLVED_PREFIX + key, identity)

    def resolution(self, key: str) -> Optional[str]:
        try:
            value = self._cache.get(_RESOLVED_PREFIX + key)
        except Exception:  # noqa: BLE001 - a miss only costs parsing the kubeconfig
            return None
        return value if isinstance(value, str) else None

    def remember_version(self, identity: str, version: str) -> None:
        if version:
            self._cache.set(_VERSION_PREFIX + identity, version)

    def last_version(self, identity: str) -> Optional[str]:
        try:
            value = self._cache.get(_VERSION_PREFIX + identity)
        except Exception:  # noqa: BLE001 - only a hint for a fallback
            return None
        return value if isinstance(value, str) else None

    def entries(self) -> list[Entry]:
        found = []
        for key in sorted(k for k in self._cache.iterkeys() if isinstance(k, str) and k.startswith(_KEY_PREFIX)):
            entry = self.get(key[len(_KEY_PREFIX) :])
            if entry is not None:
                found.append(entry)
        return found

    def clear(self, identities: Optional[Iterable[str]] = None) -> int:
        keys = [k for k in self._cache.iterkeys() if isinstance(k, str) and k.startswith(_KEY_PREFIX)]
        if identities is not None:
            wanted = {_KEY_PREFIX + i for i in identities}
            keys = [k for k in keys if k in wanted]
        for k in keys:
            self._cache.delete(k)
        return len(keys)

    # --- bundles for air-gapped machines ---------------------------------

    def export_bundle(self, path: str) -> int:
        entries = self.entries()
        bundle = {"kind": BUNDLE_KIND, "schemaVersion": BUNDLE_VERSION, "snapshots": [e.to_dict() for e in entries]}
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
        return len(entries)

    def import_bundle(self, path: str) -> list[Entry]:
        entries = read_bundle(path)
        with self._cache.transact():
            for e in entries:
                self.put(e)
        return entries


def read_bundle(path: str) -> list[Entry]:
    """Every entry of a bundle, or a UserError saying what is wrong with it; nothing half-read."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BUNDLE_BYTES:
            raise UserError(f"{path} is {size // (1024 * 1024)} MB; a bundle is at most {MAX_BUNDLE_BYTES // (1024 * 1024)} MB")
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except OSError as e:
        raise UserError(f"cannot read {path} ({e.strerror})") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UserError(f"{path} is not a JSON bundle made by 'kubectl apiinfo cache export'") from None
    if not isinstance(data, dict) or data.get("kind") != BUNDLE_KIND:
        raise UserError(f"{path} is not a bundle made by 'kubectl apiinfo cache export' (kind is not {BUNDLE_KIND})")
    if data.get("schemaVersion") != BUNDLE_VERSION:
        raise UserError(f"{path} has bundle schemaVersion {data.get('schemaVersion')!r}; this tool reads {BUNDLE_VERSION}")
    snapshots = data.get("snapshots")
    if not isinstance(snapshots, list):
        raise UserError(f"{path}: snapshots: expected a list; nothing was imported")
    entries = []
    for i, raw in enumerate(snapshots):
        try:
            entries.append(Entry.from_dict(raw))
        except (SnapshotFormatError, RecursionError) as e:
            raise UserError(f"{path}: snapshots[{i}]: {e}; nothing was imported") from None
    return entries
