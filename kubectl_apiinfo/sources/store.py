"""Cluster snapshots on disk: a diskcache (SQLite) in a 0700 directory, JSON only.

A snapshot is stored as one generation of small entries, so a question about
one resource reads only what its answer needs, whatever the cluster's size:

    head:<identity>                    which generation answers, and its metadata
    gen:<identity>:<g>:names:<n>       name index bucket: typed word -> group names
    gen:<identity>:<g>:group:<name>    one API group with its versions and resources

A refresh writes a complete new generation, switches the head to it and removes
the old one in a single SQLite transaction: a killed refresh, or two at once,
never leave a mix.  Every value is JSON text behind its CRC-32 (plain text a
test can grep for secrets, never pickled), so a flipped byte is noticed: the
damaged snapshot is reported in one line, dropped and fetched again.

Reads go straight to SQLite, read-only and without importing diskcache (it costs
more than a cached answer may); writes go through diskcache.  A cache that is
read-only still answers.  A corrupt database is moved aside (one copy kept).
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
import time
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Iterable, Mapping, Optional

from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Record, Resource, SnapshotFormatError, SnapshotSource, Subresource

ENV_CACHE_DIR = "KUBECTL_APIINFO_CACHE_DIR"
BUNDLE_KIND = "KubectlApiinfoBundle"
BUNDLE_VERSION = 1
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
FORMAT = 2
_HEAD = "head:"
_GEN = "gen:"
_VERSION_PREFIX = "version:"  # the server version last seen; survives 'cache clear'
_RESOLVED_PREFIX = "resolved:"  # unchanged kubeconfig files + flags -> cluster identity
_WORDS_PER_BUCKET = 32
# A fetch time outside this range is damage, not a date: Kubernetes 1.0 (2015) to 2100.
_EPOCH_RANGE = (1.4e9, 4.1e9)
_MINOR = re.compile(r"^(\d{1,3})\.(\d{1,4})$")
_DB = "cache.db"


def default_dir(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    if env.get(ENV_CACHE_DIR):
        return env[ENV_CACHE_DIR]
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-apiinfo")


class Entry(Record):
    """One cluster's snapshot and what the cache keeps beside it."""

    __slots__ = ("identity", "name", "server", "snapshot", "fetched_at", "server_version", "etags", "checked_at", "imported")

    def __init__(
        self,
        identity: str,  # which cluster: see ClusterAccess.identity
        name: str,  # what answers call it (the context name)
        server: str,
        snapshot: APISnapshot,
        fetched_at: float,  # epoch seconds: when this discovery was read
        server_version: Optional[dict] = None,
        etags: Optional[dict] = None,
        checked_at: Optional[float] = None,  # when the server last confirmed it (304s)
        imported: bool = False,  # from a bundle: never dropped for its age
    ):
        self.identity = identity
        self.name = name
        self.server = server
        self.snapshot = snapshot
        self.fetched_at = fetched_at
        self.server_version = dict(server_version or {})
        self.etags = dict(etags or {})
        self.checked_at = fetched_at if checked_at is None else checked_at
        self.imported = imported

    def to_dict(self) -> dict:
        """The bundle form (schemaVersion 1 of the bundle)."""
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
        meta = _check_meta(d, "entry")
        snapshot = APISnapshot.from_dict(d.get("snapshot"))  # type: ignore[union-attr]
        _check_source(snapshot.source, "entry.snapshot.source")
        return cls(snapshot=snapshot, **meta)

    def age(self) -> str:
        return describe_age(time.time() - self.fetched_at)


def _check_meta(d: object, where: str) -> dict:
    """Every field beside the snapshot, type and range checked: the Entry constructor's keywords."""
    if not isinstance(d, dict):
        raise SnapshotFormatError(f"{where}: expected an object")
    for key, typ in (("identity", str), ("name", str), ("server", str), ("serverVersion", dict), ("etags", dict)):
        if not isinstance(d.get(key), typ):
            raise SnapshotFormatError(f"{where}.{key}: expected {typ.__name__}")
    if not d["identity"] or len(d["identity"]) > 2048:
        raise SnapshotFormatError(f"{where}.identity: empty or too long")
    times = {}
    for key in ("fetchedAt", "checkedAt"):
        value = d.get(key, d.get("fetchedAt"))
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SnapshotFormatError(f"{where}.{key}: expected a number")
        if not (math.isfinite(value) and _EPOCH_RANGE[0] <= value <= _EPOCH_RANGE[1]):
            raise SnapshotFormatError(f"{where}.{key}: {value!r} is not a time between 2014 and 2100")
        times[key] = float(value)
    for key in ("serverVersion", "etags"):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in d[key].items()):
            raise SnapshotFormatError(f"{where}.{key}: expected strings")
    if not isinstance(d.get("imported", False), bool):
        raise SnapshotFormatError(f"{where}.imported: expected a boolean")
    return {
        "identity": d["identity"],
        "name": d["name"],
        "server": d["server"],
        "fetched_at": times["fetchedAt"],
        "server_version": dict(d["serverVersion"]),
        "etags": dict(d["etags"]),
        "checked_at": times["checkedAt"],
        "imported": d.get("imported", False),
    }


# source facts (by their JSON names) the code reads, and the types it relies on
_EXTRA_TYPES = {
    "server": str,
    "gitVersion": str,
    "fetchedAt": str,
    "discovery": str,
    "failedGroupVersions": dict,
    "lastKnown": dict,
    "listingDigest": str,
}


def _check_source(source: SnapshotSource, where: str) -> None:
    version = source.kubernetes_version
    if version and not _MINOR.match(version):
        raise SnapshotFormatError(f"{where}.kubernetesVersion: {version!r} is not a Kubernetes version like 1.33")
    facts = source.facts()
    for key, typ in _EXTRA_TYPES.items():
        if key in facts and not isinstance(facts[key], typ):
            raise SnapshotFormatError(f"{where}.extra.{key}: expected {typ.__name__}")
    failed = source.failed_group_versions or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in failed.items()):
        raise SnapshotFormatError(f"{where}.extra.failedGroupVersions: expected strings")
    for gv, resources in (source.last_known or {}).items():
        if not isinstance(resources, list) or not all(isinstance(r, dict) and isinstance(r.get("name"), str) for r in resources):
            raise SnapshotFormatError(f"{where}.extra.lastKnown[{gv!r}]: expected a list of resources")


def describe_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


# --- values: JSON text behind a CRC-32 -----------------------------------------


def _encode(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return f"{zlib.crc32(text.encode('utf-8')):08x} {text}"


class _Damaged(Exception):
    """A stored value that cannot be read back as it was written."""


def _reject_constant(name: str):
    raise ValueError(f"non-standard JSON value {name}")


def _decode(raw: bytes, parse: bool = True) -> object:
    """The value behind its checksum; parse=False gives the checked JSON text, for decoding in bulk."""
    if len(raw) < 10 or raw[8:9] != b" ":
        raise _Damaged("no checksum")
    try:
        crc = int(raw[:8], 16)
    except ValueError:
        raise _Damaged("no checksum") from None
    body = raw[9:]
    if zlib.crc32(body) != crc:
        raise _Damaged("checksum mismatch")
    return _parse(body) if parse else body


def _parse(body: bytes) -> object:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise _Damaged(f"not JSON: {e}") from None


def _bucket(word: str, buckets: int) -> int:
    return zlib.crc32(word.encode("utf-8")) % buckets


def index_words(snapshot: APISnapshot) -> dict[str, dict[str, list[str]]]:
    """Every word that names a resource (plural, singular, short name, kind), lowercased -> group -> versions."""
    words: dict[str, dict[str, list[str]]] = {}
    for g, gv, r in snapshot.iter_resources(served_only=False):
        for w in {r.name.lower(), r.singular_name.lower(), r.kind.lower(), *(s.lower() for s in r.short_names)}:
            if w:
                versions = words.setdefault(w, {}).setdefault(g.name, [])
                if gv.version not in versions:
                    versions.append(gv.version)
    return words


def served_names(snapshot: APISnapshot) -> dict[str, list[str]]:
    """group -> the plurals it serves: all completion needs."""
    names: dict[str, list[str]] = {}
    for g, _gv, r in snapshot.iter_resources():
        if r.name not in names.setdefault(g.name, []):
            names[g.name].append(r.name)
    return names


# --- building groups from stored records ----------------------------------------


def _strings(value: object) -> bool:
    return type(value) is list and all(type(s) is str for s in value)


def _fast_resource(rd: dict, group: str, version: str) -> Optional[Resource]:
    name, kind, singular = rd["name"], rd.get("kind", ""), rd.get("singularName", "")
    namespaced, served = rd.get("namespaced", False), rd.get("served", True)
    verbs, short, categories = rd.get("verbs", []), rd.get("shortNames", []), rd.get("categories", [])
    if not (type(name) is str and name and type(kind) is str and type(singular) is str and type(namespaced) is bool
            and type(served) is bool and _strings(verbs) and _strings(short) and _strings(categories)):
        return None
    subs = []
    for sd in rd.get("subresources", ()):
        sub = Subresource(sd["name"], sd.get("kind", ""), sd.get("group", group), sd.get("version", version), sd.get("verbs", []))
        if not (type(sub.name) is str and type(sub.kind) is str and type(sub.group) is str and type(sub.version) is str
                and _strings(sd.get("verbs", []))):
            return None
        subs.append(sub)
    return Resource(name, kind, namespaced, verbs, singular, short, categories, subs, served)


def _fast_groups(groups: list) -> Optional[list[Group]]:
    """The groups of records exactly as put() writes them, built without model's per-field
    bookkeeping (a listing of 2000 groups in half the time); None at the first thing that is
    not, and model's from_dict then says what is wrong with it."""
    built, seen = [], set()
    try:
        for gd in groups:
            name, preferred = gd["name"], gd.get("preferredVersion")
            if type(name) is not str or name in seen or not (preferred is None or type(preferred) is str):
                return None
            seen.add(name)
            versions = []
            for vd in gd["versions"]:
                version = vd["version"]
                if type(version) is not str or not version:
                    return None
                resources = [_fast_resource(rd, name, version) for rd in vd.get("resources", ())]
                if None in resources:
                    return None
                versions.append(GroupVersion(version, resources))
            built.append(Group(name, versions, preferred or None))
    except (KeyError, TypeError, AttributeError):
        return None
    return built


def _dir_quote(path: str) -> str:
    return path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")


class SnapshotCache:
    def __init__(self, directory: str, warn: Callable[[str], None]):
        self.directory = directory
        self.warn = warn
        self._readers: dict[int, sqlite3.Connection] = {}  # one per thread, as sqlite3 requires
        self._writer = None  # diskcache.Cache, opened on the first write
        self.read_only = False
        self._reported: set[str] = set()
        self._lock = threading.Lock()  # refresh_many's threads share one writer
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            if os.stat(directory).st_mode & 0o077:
                os.chmod(directory, 0o700)
        except PermissionError:
            if not os.path.isdir(directory):
                raise UserError(f"cannot use the cache directory {directory} (permission denied); pass {flag('cache_dir')}") from None
        except OSError as e:
            raise UserError(f"cannot use the cache directory {directory} ({e.strerror}); pass {flag('cache_dir')}") from None

    def close(self) -> None:
        for con in self._readers.values():
            con.close()
        self._readers = {}
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "SnapshotCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._reported:
            self._reported.add(key)
            self.warn(message)

    # --- reading: plain SQLite, read-only ---------------------------------

    def _connection(self) -> Optional[sqlite3.Connection]:
        con = self._readers.get(threading.get_ident())
        if con is None:
            path = os.path.join(self.directory, _DB)
            if not os.path.exists(path):
                return None
            try:
                con = sqlite3.connect(
                    f"file:{_dir_quote(path)}?mode=ro", uri=True, isolation_level=None, timeout=10, check_same_thread=False
                )
            except sqlite3.Error:
                return None
            con.text_factory = bytes  # a flipped byte in a key must not break every query
            self._readers[threading.get_ident()] = con
        return con

    def _rows(self, sql: str, args: tuple) -> list:
        con = self._connection()
        if con is None:
            return []
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            if "not a database" in str(e) or "malformed" in str(e):
                self._corrupt(e)
            elif "no such table" not in str(e):  # (an empty file: a cache that was never written)
                # locked, or not readable by us: answer without it, as if it were empty
                self._warn_once("cannot read", f"cannot read the cache at {self.directory} ({e}); answering without it")
                self.close()
            return []

    def _value(self, mode: int, filename, value, parse: bool = True) -> object:
        if mode == 1 and value is not None:  # diskcache MODE_RAW: inline text
            return _decode(value if isinstance(value, bytes) else str(value).encode("utf-8"), parse)
        if mode == 3 and filename:  # MODE_TEXT: a file beside the database
            name = filename.decode("utf-8", "replace") if isinstance(filename, bytes) else filename
            if os.path.isabs(name) or ".." in name.split("/"):
                raise _Damaged("bad file name")
            try:
                with open(os.path.join(self.directory, name), "rb") as f:
                    return _decode(f.read(), parse)
            except OSError as e:
                raise _Damaged(f"value file unreadable: {e.strerror}") from None
        raise _Damaged("not a JSON value")  # pickled or binary: never ours

    def _read(self, key: str) -> object:
        """The value stored under key, None if absent; _Damaged if it cannot be read back."""
        rows = self._rows("SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (key,))
        if not rows:
            return None
        return self._value(*rows[0])

    def _read_range(self, prefix: str) -> list:
        """Every value under prefix, checked one by one but decoded in one pass (much faster for thousands)."""
        rows = self._rows(
            "SELECT mode, filename, value FROM Cache WHERE key >= ? AND key < ? AND raw = 1 ORDER BY key",
            (prefix, prefix + "\U0010ffff"),
        )
        bodies = [self._value(m, f, v, parse=False) for m, f, v in rows]
        return _parse(b"[" + b",".join(bodies) + b"]") if bodies else []

    def _keys(self, prefix: str) -> list[str]:
        rows = self._rows("SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1", (prefix, prefix + "\U0010ffff"))
        return [k.decode("utf-8", "replace") for (k,) in rows]

    def _begin(self) -> None:
        # One read transaction: head and groups come from the same generation, even while a refresh commits.
        con = self._connection()
        if con is not None:
            try:
                con.execute("BEGIN")
            except sqlite3.DatabaseError as e:
                if "not a database" in str(e) or "malformed" in str(e):
                    self._corrupt(e)

    def _end(self) -> None:
        con = self._readers.get(threading.get_ident())
        if con is not None and con.in_transaction:
            con.execute("COMMIT")

    def get(self, identity: str, lookups: Optional[Iterable[tuple]] = None) -> Optional[Entry]:
        """The cluster's snapshot; with lookups ((name, group or None, version or None) triples: the
        readings of a typed word), only the groups where a resource answers to one of them (all
        groups when none does), which is all a question about that word needs."""
        import gc

        collecting = gc.isenabled()
        for attempt in (0, 1):
            self._begin()
            # Thousands of small objects in one go: collecting them meanwhile only costs time.
            gc.disable()
            try:
                entry = self._get(identity, lookups)
            except (_Damaged, SnapshotFormatError, KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
                what = "damaged" if isinstance(e, SnapshotFormatError) else "unreadable"
                self._warn_once(
                    identity, f"the cached snapshot {identity[:12]} is {what} ({e}); it is dropped and will be fetched again"
                )
                self._end()
                self._drop(identity)
                return None
            finally:
                if collecting:
                    gc.enable()
                self._end()
            if entry is not None or attempt or not self._migrate_if_old():
                return entry
        return None

    def _get(self, identity: str, lookups: Optional[Iterable[tuple]]) -> Optional[Entry]:
        head = self._read(_HEAD + identity)
        if head is None:
            return None
        meta = _check_meta(head, "head")
        if head.get("format") != FORMAT or not isinstance(head.get("generation"), str):
            raise SnapshotFormatError("head: unknown format")
        source = APISnapshot.from_dict({"schemaVersion": 1, "source": head.get("source"), "groups": []}).source
        _check_source(source, "head.source")
        prefix = f"{_GEN}{identity}:{head['generation']}:"
        records = None
        if lookups is not None:
            buckets = head.get("buckets")
            if not isinstance(buckets, int) or buckets < 1:
                raise SnapshotFormatError("head.buckets: expected a positive number")
            names: set[str] = set()
            for word, group, version in lookups:
                bucket = self._read(f"{prefix}names:{_bucket(word, buckets)}")
                if bucket is None:
                    raise _Damaged("a name index bucket is missing")
                for g, versions in bucket.get(word, {}).items():
                    if (group is None or g == group) and (version is None or version in versions):
                        names.add(g)
            if names:
                records = [self._read(f"{prefix}group:{name}") for name in names]
                if None in records:
                    raise _Damaged("a group is missing")
        if records is None:
            records = self._read_range(prefix + "group:")
            if len(records) != head.get("groupCount"):
                raise _Damaged("groups are missing")
        records.sort(key=lambda r: r["order"])
        groups = [r["group"] for r in records]
        built = _fast_groups(groups)
        if built is None:
            snapshot = APISnapshot.from_dict({"schemaVersion": 1, "source": head["source"], "groups": groups})
        else:
            snapshot = APISnapshot(source, built)
        return Entry(snapshot=snapshot, **meta)

    def served(self, identity: str) -> Optional[dict]:
        """group -> served plurals of the cluster's snapshot, read in one row; None if absent or unreadable."""
        self._begin()
        try:
            head = self._read(_HEAD + identity)
            if not isinstance(head, dict) or not isinstance(head.get("generation"), str):
                return None
            names = self._read(f"{_GEN}{identity}:{head['generation']}:served")
        except _Damaged:
            return None
        finally:
            self._end()
        if not isinstance(names, dict) or not all(isinstance(v, list) for v in names.values()):
            return None
        return names

    def resolution(self, key: str) -> Optional[str]:
        try:
            value = self._read(_RESOLVED_PREFIX + key)
        except _Damaged:
            return None  # a miss only costs parsing the kubeconfig
        return value if isinstance(value, str) else None

    def last_version(self, identity: str) -> Optional[str]:
        try:
            value = self._read(_VERSION_PREFIX + identity)
        except _Damaged:
            return None  # only a hint for a fallback
        return value if isinstance(value, str) and _MINOR.match(value) else None

    def _migrate_if_old(self) -> Optional[bool]:
        """True once rows of the previous format have been carried over; None when there were none."""
        if not self._rows("SELECT 1 FROM Cache WHERE typeof(key) = 'blob' LIMIT 1", ()):
            return None
        self._open_writer()
        return True

    def identities(self) -> list[str]:
        self._migrate_if_old()
        return sorted(k[len(_HEAD) :] for k in self._keys(_HEAD))

    def names(self) -> dict[str, str]:
        """identity -> the name of every snapshot, from the heads alone (for completion and 'cache clear NAME')."""
        found = {}
        for identity in self.identities():
            try:
                head = self._read(_HEAD + identity)
            except _Damaged:
                continue
            if isinstance(head, dict) and isinstance(head.get("name"), str):
                found[identity] = head["name"]
        return found

    def entries(self) -> list[Entry]:
        found = []
        for identity in self.identities():
            entry = self.get(identity)
            if entry is not None:
                found.append(entry)
        return found

    # --- writing: through diskcache ---------------------------------------

    def _open_writer(self):
        """The diskcache, or None when the cache can only be read (said once)."""
        if self._writer is not None or self.read_only:
            return self._writer
        with self._lock:
            if self._writer is None and not self.read_only:
                self._open_writer_locked()
        return self._writer

    def _open_writer_locked(self) -> None:
        import diskcache

        class TextDisk(diskcache.Disk):
            # Caches of the previous format recorded JSONDisk's compress_level.
            def __init__(self, directory, compress_level=0, **kwargs):
                super().__init__(directory, **kwargs)

        def open_():
            return diskcache.Cache(self.directory, disk=TextDisk, disk_min_file_size=1 << 20, cull_limit=0)

        db = os.path.join(self.directory, _DB)
        try:
            self._writer = open_()
        except (sqlite3.DatabaseError, OSError) as e:
            if self._cannot_write(db, e):
                self.read_only = True
                self.warn(f"the cache at {self.directory} is read-only ({e}): answers come from it, but it cannot be updated")
                return
            self._corrupt(e)
            try:
                self._writer = open_()
            except (sqlite3.DatabaseError, OSError) as e2:
                raise UserError(f"cannot rebuild the cache at {self.directory} ({e2}); pass {flag('cache_dir')}") from None
        self._migrate()

    def _cannot_write(self, db: str, error: Exception) -> bool:
        if isinstance(error, PermissionError) or "readonly" in str(error) or "read-only" in str(error):
            return True
        return os.path.exists(db) and not os.access(db, os.W_OK) or not os.access(self.directory, os.W_OK)

    def _corrupt(self, error: Exception) -> None:
        """Keep the evidence aside (one copy, the newest) and start an empty cache."""
        import shutil

        self.close()
        parent, base = os.path.split(os.path.abspath(self.directory))
        aside = f"{self.directory}.corrupt-{int(time.time())}"
        self.warn(f"the cache at {self.directory} was unreadable ({error}); moved it to {aside} and started a new one")
        try:
            for name in os.listdir(parent):
                if name.startswith(base + ".corrupt-"):
                    shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
            shutil.move(self.directory, aside)
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        except OSError as e:
            raise UserError(f"cannot rebuild the cache at {self.directory} ({e.strerror}); pass {flag('cache_dir')}") from None

    def _migrate(self) -> None:
        """Rows of the previous format (JSONDisk: zlib-compressed JSON keys) become current ones, or go."""
        cache = self._writer
        old = cache._sql("SELECT rowid, key, mode, filename, value FROM Cache WHERE typeof(key) = 'blob'").fetchall()
        if not old:
            return
        carried = []
        for _rowid, key, mode, filename, value in old:
            try:
                name = json.loads(zlib.decompress(bytes(key)).decode("utf-8"))
                if not (isinstance(name, str) and name.startswith(("snapshot:", _VERSION_PREFIX))):
                    continue
                if mode == 2 and filename:  # MODE_BINARY: a file
                    with open(os.path.join(self.directory, filename), "rb") as f:
                        value = f.read()
                data = json.loads(zlib.decompress(bytes(value)).decode("utf-8"), parse_constant=_reject_constant)
                carried.append(Entry.from_dict(data) if name.startswith("snapshot:") else (name, data))
            except Exception:  # noqa: BLE001 - an unreadable old row is only dropped
                continue
        with cache.transact():
            for _rowid, key, *_ in old:
                cache.delete(bytes(key))
        for item in carried:
            if isinstance(item, Entry):
                self.put(item)
            elif isinstance(item[1], str):
                cache.set(item[0], _encode(item[1]))

    def _drop(self, identity: str) -> None:
        try:
            cache = self._open_writer()
            if cache is None:
                return
            with cache.transact():
                for key in [_HEAD + identity, *self._writer_keys(f"{_GEN}{identity}:")]:
                    cache.delete(key)
        except (sqlite3.DatabaseError, OSError):
            pass  # a row that cannot be dropped is reported again next time, nothing worse

    def _writer_keys(self, prefix: str) -> list[str]:
        rows = self._writer._sql(
            "SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1", (prefix, prefix + "\U0010ffff")
        ).fetchall()
        return [k for (k,) in rows]

    def _set(self, key: str, value: object) -> bool:
        cache = self._open_writer()
        if cache is None:
            return False
        cache.set(key, _encode(value))
        return True

    # --- values of a sibling store (schema_store's openapi: keys), kept and checked as the snapshots are ---

    def value(self, key: str) -> object:
        """The value under key; None when absent or damaged (a damaged one is fetched again)."""
        try:
            return self._read(key)
        except _Damaged:
            return None

    def has(self, key: str) -> bool:
        return bool(self._rows("SELECT 1 FROM Cache WHERE key = ? AND raw = 1 LIMIT 1", (key,)))

    def set_value(self, key: str, value: object) -> bool:
        """Store a value; False if the cache is read-only."""
        return self._set(key, value)

    def writing(self):
        """One transaction for several set_value() calls: all of them or none."""
        cache = self._open_writer()
        if cache is None:
            raise UserError(f"the cache at {self.directory} is read-only; nothing was stored")
        return cache.transact()

    def put(self, entry: Entry) -> bool:
        """Store a new generation of the snapshot and switch to it; False if the cache is read-only."""
        cache = self._open_writer()
        if cache is None:
            return False
        generation = os.urandom(6).hex()
        prefix = f"{_GEN}{entry.identity}:{generation}:"
        snapshot = entry.snapshot.to_dict()
        words = index_words(entry.snapshot)
        buckets = max(1, len(words) // _WORDS_PER_BUCKET)
        index: list[dict] = [{} for _ in range(buckets)]
        for word, groups in words.items():
            index[_bucket(word, buckets)][word] = groups
        head = self._head(entry, generation, buckets, len(snapshot["groups"]))
        with cache.transact():
            stale = self._writer_keys(f"{_GEN}{entry.identity}:")
            for i, g in enumerate(snapshot["groups"]):
                cache.set(f"{prefix}group:{g['name']}", _encode({"order": i, "group": g}))
            for n, bucket in enumerate(index):
                cache.set(f"{prefix}names:{n}", _encode(bucket))
            cache.set(f"{prefix}served", _encode(served_names(entry.snapshot)))
            cache.set(_HEAD + entry.identity, _encode(head))
            for key in stale:
                cache.delete(key)
        return True

    def _head(self, entry: Entry, generation: str, buckets: int, groups: int) -> dict:
        return {
            "format": FORMAT,
            "generation": generation,
            "identity": entry.identity,
            "name": entry.name,
            "server": entry.server,
            "fetchedAt": entry.fetched_at,
            "checkedAt": entry.checked_at,
            "serverVersion": entry.server_version,
            "etags": entry.etags,
            "imported": entry.imported,
            "source": APISnapshot(entry.snapshot.source, []).to_dict()["source"],
            "buckets": buckets,
            "groupCount": groups,
        }

    def touch(self, entry: Entry, checked_at: float, server_version: Optional[dict] = None) -> bool:
        """The server confirmed the snapshot (304s): only the head changes."""
        cache = self._open_writer()
        if cache is None:
            return False
        with cache.transact():
            try:
                head = self._read_writer(_HEAD + entry.identity)
            except _Damaged:
                return False
            if not isinstance(head, dict):
                return False
            head["checkedAt"] = checked_at
            if server_version is not None:
                head["serverVersion"] = server_version
            cache.set(_HEAD + entry.identity, _encode(head))
        return True

    def _read_writer(self, key: str) -> object:
        rows = self._writer._sql("SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (key,)).fetchall()
        if not rows:
            return None
        mode, filename, value = rows[0]
        return self._value(mode, filename, value.encode("utf-8") if isinstance(value, str) else value)

    def remember_resolution(self, key: str, identity: str) -> None:
        self._set(_RESOLVED_PREFIX + key, identity)

    def remember_version(self, identity: str, version: str) -> None:
        if version:
            self._set(_VERSION_PREFIX + identity, version)

    def clear(self, identities: Optional[Iterable[str]] = None) -> int:
        wanted = None if identities is None else set(identities)
        found = [i for i in self.identities() if wanted is None or i in wanted]
        cache = self._open_writer()
        if cache is None:
            raise UserError(f"the cache at {self.directory} is read-only; nothing was dropped")
        with cache.transact():
            for identity in found:
                cache.delete(_HEAD + identity)
            prefixes = [_GEN] if wanted is None else [f"{_GEN}{i}:" for i in found]
            for prefix in prefixes:
                for key in self._writer_keys(prefix):
                    cache.delete(key)
        return len(found)

    # --- bundles for air-gapped machines ---------------------------------

    def export_bundle(self, path: str, parts: Optional[Callable[[list], dict]] = None) -> int:
        """Write every readable snapshot to path ('-' is stdout); parts(identities) gives other parts to carry
        ({key: JSON}: the clusters' OpenAPI documents, from schema_store)."""
        import sys

        entries = self.entries()
        bundle = {"kind": BUNDLE_KIND, "schemaVersion": BUNDLE_VERSION, "snapshots": [e.to_dict() for e in entries]}
        if parts is not None:
            bundle.update(parts([e.identity for e in entries]))
        text = json.dumps(bundle, allow_nan=False)
        if path == "-":
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            return len(entries)
        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError as e:
            raise UserError(f"cannot write {path} ({e.strerror})") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return len(entries)

    def import_bundle(self, path: str, part_checks: Optional[dict] = None) -> tuple:
        """Store a bundle's snapshots; returns (entries, {key: part}) for the other parts named in part_checks
        ({key: a function that raises UserError for a bad part}), all checked before anything is stored."""
        read, parts = read_bundle_parts(path, part_checks or {})
        entries = [e.replace(imported=True) for e in read]
        cache = self._open_writer()
        if cache is None:
            raise UserError(f"the cache at {self.directory} is read-only; nothing was imported")
        with cache.transact():
            for e in entries:
                self.put(e)
        return entries, parts


def read_bundle(path: str) -> list[Entry]:
    """Every entry of a bundle ('-' is stdin), or a UserError saying what is wrong with it; nothing half-read."""
    return read_bundle_parts(path, {})[0]


def read_bundle_parts(path: str, part_checks: dict) -> tuple:
    """(entries, {key: part} for the part_checks keys the bundle has), all validated before anything is imported."""
    import sys

    where = "the bundle on stdin" if path == "-" else path
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_BUNDLE_BYTES + 1)
            size = len(raw)
        else:
            size = os.path.getsize(path)
        if size > MAX_BUNDLE_BYTES:
            raise UserError(f"{where} is over {MAX_BUNDLE_BYTES // (1024 * 1024)} MB, the most a bundle may be")
        if path != "-":
            with open(path, "rb") as f:
                raw = f.read()
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except OSError as e:
        raise UserError(f"cannot read {where} ({e.strerror})") from None
    except (UnicodeDecodeError, RecursionError):
        raise UserError(f"{where} is not a JSON bundle made by 'kubectl apiinfo cache export'") from None
    except ValueError as e:
        detail = f" ({e})" if "non-standard" in str(e) else ""
        raise UserError(f"{where} is not a JSON bundle made by 'kubectl apiinfo cache export'{detail}; nothing was imported") from None
    if not isinstance(data, dict) or data.get("kind") != BUNDLE_KIND:
        raise UserError(f"{where} is not a bundle made by 'kubectl apiinfo cache export' (kind is not {BUNDLE_KIND})")
    if data.get("schemaVersion") != BUNDLE_VERSION:
        raise UserError(f"{where} has bundle schemaVersion {data.get('schemaVersion')!r}; this tool reads {BUNDLE_VERSION}")
    snapshots = data.get("snapshots")
    if not isinstance(snapshots, list):
        raise UserError(f"{where}: snapshots: expected a list; nothing was imported")
    entries = []
    for i, raw_entry in enumerate(snapshots):
        try:
            entries.append(Entry.from_dict(raw_entry))
        except (SnapshotFormatError, RecursionError) as e:
            raise UserError(f"{where}: snapshots[{i}]: {e}; nothing was imported") from None
    parts = {}
    for key, check in part_checks.items():
        if data.get(key) is not None:
            check(data[key], where)
            parts[key] = data[key]
    return entries, parts
