"""One cluster's snapshot as the cache keeps it (an Entry), and the checks a stored or bundled one must pass."""

from __future__ import annotations

import math
import os
import re
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Mapping, Optional

from kubectl_apiinfo.model import APISnapshot, Record, SnapshotFormatError, SnapshotSource, shown

ENV_CACHE_DIR = "KUBECTL_APIINFO_CACHE_DIR"
# A fetch time outside this range is damage, not a date: Kubernetes 1.0 (2015) to 2100.
_EPOCH_RANGE = (1.4e9, 4.1e9)
MINOR = re.compile(r"^(\d{1,3})\.(\d{1,4})$")


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
        meta = check_meta(d, "entry")
        snapshot = APISnapshot.from_dict(d.get("snapshot"))  # type: ignore[union-attr]
        check_source(snapshot.source, "entry.snapshot.source")
        return cls(snapshot=snapshot, **meta)

    def age(self) -> str:
        return describe_age(time.time() - self.fetched_at)


def check_meta(d: object, where: str) -> dict:
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
            raise SnapshotFormatError(f"{where}.{key}: {shown(value)} is not a time between 2014 and 2100")
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


def check_source(source: SnapshotSource, where: str) -> None:
    version = source.kubernetes_version
    if version and not MINOR.match(version):
        raise SnapshotFormatError(f"{where}.kubernetesVersion: {shown(version)} is not a Kubernetes version like 1.33")
    facts = source.facts()
    for key, typ in _EXTRA_TYPES.items():
        if key in facts and not isinstance(facts[key], typ):
            raise SnapshotFormatError(f"{where}.extra.{key}: expected {typ.__name__}")
    failed = source.failed_group_versions or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in failed.items()):
        raise SnapshotFormatError(f"{where}.extra.failedGroupVersions: expected strings")
    for gv, resources in (source.last_known or {}).items():
        if not isinstance(resources, list) or not all(isinstance(r, dict) and isinstance(r.get("name"), str) for r in resources):
            raise SnapshotFormatError(f"{where}.extra.lastKnown[{shown(gv)}]: expected a list of resources")


def describe_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"
