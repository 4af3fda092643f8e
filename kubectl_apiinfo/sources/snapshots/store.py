"""Cluster snapshots in the cache: read the one a question needs, store a new generation, drop damaged ones.

A refresh writes a complete new generation (layout.py), switches the head to it
and removes the old one in a single transaction: a killed refresh, or two at
once, never leave a mix.  A damaged snapshot is reported in one line, dropped
and fetched again.  Beside the snapshots the store keeps small values of its
own (the cluster a kubeconfig named, the version last seen) and, for the
OpenAPI document store, values under keys that store chooses.
"""

from __future__ import annotations

import json
import os
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Iterable, Optional

from kubectl_apiinfo.model import APISnapshot, SnapshotFormatError
from kubectl_apiinfo.sources.snapshots import layout
from kubectl_apiinfo.sources.snapshots.codec import DamagedValue, reject_constant
from kubectl_apiinfo.sources.snapshots.database import Database
from kubectl_apiinfo.sources.snapshots.entry import MINOR, Entry, check_meta, check_source

_OLD_SNAPSHOT_PREFIX = "snapshot:"  # the previous format's key of a whole snapshot


class SnapshotCache:
    def __init__(self, directory: str, warn: Callable[[str], None]):
        self.directory = directory
        self.db = Database(directory, warn)
        self.db.opened_writer = self._migrate

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "SnapshotCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading ------------------------------------------------------------

    def get(self, identity: str, lookups: Optional[Iterable[tuple]] = None) -> Optional[Entry]:
        """The cluster's snapshot; with lookups ((name, group or None, version or None) triples: the
        readings of a typed word), only the groups where a resource answers to one of them (all
        groups when none does), which is all a question about that word needs."""
        import gc

        collecting = gc.isenabled()
        for attempt in (0, 1):
            self.db.begin()
            # Thousands of small objects in one go: collecting them meanwhile only costs time.
            gc.disable()
            try:
                entry = self._get(identity, lookups)
            except (DamagedValue, SnapshotFormatError, KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
                what = "damaged" if isinstance(e, SnapshotFormatError) else "unreadable"
                self.db.warn_once(
                    identity, f"the cached snapshot {identity[:12]} is {what} ({e}); it is dropped and will be fetched again"
                )
                self.db.end()
                self._drop(identity)
                return None
            finally:
                if collecting:
                    gc.enable()
                self.db.end()
            if entry is not None or attempt or not self._migrate_if_old():
                return entry
        return None

    def _get(self, identity: str, lookups: Optional[Iterable[tuple]]) -> Optional[Entry]:
        read = self.db.read
        head = read(layout.HEAD + identity)
        if head is None:
            return None
        meta = check_meta(head, "head")
        if head.get("format") != layout.FORMAT or not isinstance(head.get("generation"), str):
            raise SnapshotFormatError("head: unknown format")
        source = APISnapshot.from_dict({"schemaVersion": 1, "source": head.get("source"), "groups": []}).source
        check_source(source, "head.source")
        prefix = layout.generation_prefix(identity, head["generation"])
        records = None
        if lookups is not None:
            buckets = head.get("buckets")
            if not isinstance(buckets, int) or buckets < 1:
                raise SnapshotFormatError("head.buckets: expected a positive number")
            names: set[str] = set()
            for word, group, version in lookups:
                bucket = read(f"{prefix}names:{layout.bucket_of(word, buckets)}")
                if bucket is None:
                    raise DamagedValue("a name index bucket is missing")
                for g, versions in bucket.get(word, {}).items():
                    if (group is None or g == group) and (version is None or version in versions):
                        names.add(g)
            if names:
                records = [read(f"{prefix}group:{name}") for name in names]
                if None in records:
                    raise DamagedValue("a group is missing")
        if records is None:
            records = self.db.read_range(prefix + "group:")
            if len(records) != head.get("groupCount"):
                raise DamagedValue("groups are missing")
        records.sort(key=lambda r: r["order"])
        groups = [r["group"] for r in records]
        built = layout.fast_groups(groups)
        if built is None:
            snapshot = APISnapshot.from_dict({"schemaVersion": 1, "source": head["source"], "groups": groups})
        else:
            snapshot = APISnapshot(source, built)
        return Entry(snapshot=snapshot, **meta)

    def served(self, identity: str) -> Optional[dict]:
        """group -> served plurals of the cluster's snapshot, read in one row; None if absent or unreadable."""
        self.db.begin()
        try:
            head = self.db.read(layout.HEAD + identity)
            if not isinstance(head, dict) or not isinstance(head.get("generation"), str):
                return None
            names = self.db.read(layout.generation_prefix(identity, head["generation"]) + "served")
        except DamagedValue:
            return None
        finally:
            self.db.end()
        if not isinstance(names, dict) or not all(isinstance(v, list) for v in names.values()):
            return None
        return names

    def resolution(self, key: str) -> Optional[str]:
        try:
            value = self.db.read(layout.RESOLVED_PREFIX + key)
        except DamagedValue:
            return None  # a miss only costs parsing the kubeconfig
        return value if isinstance(value, str) else None

    def last_version(self, identity: str) -> Optional[str]:
        try:
            value = self.db.read(layout.VERSION_PREFIX + identity)
        except DamagedValue:
            return None  # only a hint for a fallback
        return value if isinstance(value, str) and MINOR.match(value) else None

    def identities(self) -> list[str]:
        self._migrate_if_old()
        return sorted(k[len(layout.HEAD):] for k in self.db.keys(layout.HEAD))

    def names(self) -> dict[str, str]:
        """identity -> the name of every snapshot, from the heads alone (for completion and 'cache clear NAME')."""
        found = {}
        for identity in self.identities():
            try:
                head = self.db.read(layout.HEAD + identity)
            except DamagedValue:
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

    # --- values of a sibling store (the OpenAPI documents), kept and checked as the snapshots are ---

    def value(self, key: str) -> object:
        """The value under key; None when absent or damaged (a damaged one is fetched again)."""
        try:
            return self.db.read(key)
        except DamagedValue:
            return None

    def has(self, key: str) -> bool:
        return self.db.has(key)

    def set_value(self, key: str, value: object, doing: str) -> bool:
        """Store a value; False if it was not stored (the first time said in a warning: "could not <doing> ...")."""
        return self.db.set(key, value, doing)

    def set_together(self, body: Callable[[], object], doing: str, refuse: str) -> None:
        """Run body's set_value() calls in one transaction: all of them or none, and a UserError ending in
        refuse if they cannot be stored."""
        self.db.write(doing, body, refuse=refuse)

    # --- writing ------------------------------------------------------------

    def put(self, entry: Entry) -> bool:
        """Store a new generation of the snapshot and switch to it; False if it could not be stored (said once)."""
        generation = os.urandom(6).hex()
        prefix = layout.generation_prefix(entry.identity, generation)
        snapshot = entry.snapshot.to_dict()
        words = layout.index_words(entry.snapshot)
        buckets = max(1, len(words) // layout.WORDS_PER_BUCKET)
        index: list[dict] = [{} for _ in range(buckets)]
        for word, groups in words.items():
            index[layout.bucket_of(word, buckets)][word] = groups
        head = self._head(entry, generation, buckets, len(snapshot["groups"]))
        put = self.db.put_encoded

        def write() -> None:
            stale = self.db.writer_keys(f"{layout.GEN}{entry.identity}:")
            for i, g in enumerate(snapshot["groups"]):
                put(f"{prefix}group:{g['name']}", {"order": i, "group": g})
            for n, bucket in enumerate(index):
                put(f"{prefix}names:{n}", bucket)
            put(f"{prefix}served", layout.served_names(entry.snapshot))
            put(layout.HEAD + entry.identity, head)
            for key in stale:
                self.db.delete(key)

        return self.db.write(f"store the snapshot of {entry.name}", write)

    def _head(self, entry: Entry, generation: str, buckets: int, groups: int) -> dict:
        return {
            "format": layout.FORMAT,
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

        def write() -> bool:
            try:
                head = self.db.writer_read(layout.HEAD + entry.identity)
            except DamagedValue:
                return False
            if not isinstance(head, dict):
                return False
            head["checkedAt"] = checked_at
            if server_version is not None:
                head["serverVersion"] = server_version
            self.db.put_encoded(layout.HEAD + entry.identity, head)
            return True

        return self.db.write(f"store the snapshot of {entry.name}", write)

    # Bookkeeping fails quietly: a snapshot that cannot be stored is what a warning should name.
    def remember_resolution(self, key: str, identity: str) -> None:
        self.db.set(layout.RESOLVED_PREFIX + key, identity, "store which cluster the kubeconfig names", quiet=True)

    def remember_version(self, identity: str, version: str) -> None:
        if version:
            self.db.set(layout.VERSION_PREFIX + identity, version, "store the cluster's version", quiet=True)

    def put_all(self, entries: list) -> None:
        """Store several snapshots in one transaction (a bundle's)."""
        self.db.write("store the bundle's snapshots", lambda: [self.put(entry) for entry in entries], refuse="nothing was imported")

    def clear(self, identities: Optional[Iterable[str]] = None) -> int:
        wanted = None if identities is None else set(identities)
        found = [i for i in self.identities() if wanted is None or i in wanted]

        def drop() -> None:
            for identity in found:
                self.db.delete(layout.HEAD + identity)
            prefixes = [layout.GEN, layout.SCAN] if wanted is None else [
                p for i in found for p in (f"{layout.GEN}{i}:", f"{layout.SCAN}{i}")]
            for prefix in prefixes:
                for key in self.db.writer_keys(prefix):
                    self.db.delete(key)

        self.db.write("drop the snapshots", drop, refuse="nothing was dropped")
        return len(found)

    def _drop(self, identity: str) -> None:
        self.db.drop_quietly([layout.HEAD + identity], [f"{layout.GEN}{identity}:"])

    # --- the previous format ------------------------------------------------

    def _migrate_if_old(self) -> Optional[bool]:
        """True once rows of the previous format have been carried over; None when there were none."""
        if not self.db.has_old_format():
            return None
        self.db.write("carry over the snapshots of the previous format", lambda: None)  # opening the writer migrates
        return True

    def _migrate(self) -> None:
        """Rows of the previous format (JSONDisk: zlib-compressed JSON keys) become current ones, or go."""
        old = self.db.old_format_rows()
        if not old:
            return
        carried = []
        for key, value in old:
            try:
                name = json.loads(zlib.decompress(key).decode("utf-8"))
                if not (isinstance(name, str) and name.startswith((_OLD_SNAPSHOT_PREFIX, layout.VERSION_PREFIX))):
                    continue
                data = json.loads(zlib.decompress(bytes(value)).decode("utf-8"), parse_constant=reject_constant)
                carried.append(Entry.from_dict(data) if name.startswith(_OLD_SNAPSHOT_PREFIX) else (name, data))
            except Exception:  # noqa: BLE001 - an unreadable old row is only dropped
                continue
        self.db.delete_old_rows([key for key, _ in old])
        for item in carried:
            if isinstance(item, Entry):
                self.put(item)
            elif isinstance(item[1], str):
                self.db.set(item[0], item[1], "store the cluster's version")
