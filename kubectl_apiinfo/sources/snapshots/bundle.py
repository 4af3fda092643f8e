"""Bundles for air-gapped machines: every cached snapshot as one plain JSON file ('cache export'),
validated whole before anything of it is stored ('cache import')."""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.model import SnapshotFormatError, shown
from kubectl_apiinfo.sources.snapshots.codec import reject_constant
from kubectl_apiinfo.sources.snapshots.entry import Entry
from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

BUNDLE_KIND = "KubectlApiinfoBundle"
BUNDLE_VERSION = 1
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


def export_bundle(cache: SnapshotCache, path: str, parts: Optional[Callable[[list], dict]] = None) -> int:
    """Write every readable snapshot to path ('-' is stdout); parts(identities) gives other parts to carry
    ({key: JSON}: the clusters' OpenAPI documents, from the document store)."""
    import sys

    entries = cache.entries()
    bundle = {"kind": BUNDLE_KIND, "schemaVersion": BUNDLE_VERSION, "snapshots": [e.to_dict() for e in entries]}
    if parts is not None:
        bundle.update(parts([e.identity for e in entries]))
    text = json.dumps(bundle, allow_nan=False)
    if path == "-":
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return len(entries)
    try:
        _write_file(path, text.encode("utf-8"))
    except OSError as e:
        raise UserError(f"cannot write {path} ({e.strerror})") from None
    return len(entries)


def _write_file(path: str, data: bytes) -> None:
    """A regular file (or none yet) is replaced whole (files.replace_file); anything else the user names
    (a device, a FIFO) is written to as it is, and never replaced."""
    import stat

    from kubectl_apiinfo.files import replace_file

    target = os.path.realpath(path)  # the file a link the user names points at
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(21, "Is a directory", path)
        with open(target, "wb") as f:
            f.write(data)
        return
    replace_file(target, data)


def import_bundle(cache: SnapshotCache, path: str, part_checks: Optional[dict] = None) -> tuple:
    """Store a bundle's snapshots; returns (entries, {key: part}) for the other parts named in part_checks
    ({key: a function that raises UserError for a bad part}), all checked before anything is stored."""
    read, parts = read_bundle_parts(path, part_checks or {})
    entries = [e.replace(imported=True) for e in read]
    cache.put_all(entries)
    return entries, parts


def read_bundle(path: str) -> list[Entry]:
    """Every entry of a bundle ('-' is stdin), or a UserError saying what is wrong with it; nothing half-read."""
    return read_bundle_parts(path, {})[0]


def read_bundle_parts(path: str, part_checks: dict) -> tuple:
    """(entries, {key: part} for the part_checks keys the bundle has), all validated before anything is imported."""
    from kubectl_apiinfo.files import TooLarge, read_bounded

    where = "the bundle on stdin" if path == "-" else path
    try:
        try:
            raw = read_bounded(path, MAX_BUNDLE_BYTES, "a bundle")
        except TooLarge:
            raise UserError(f"{where} is over {MAX_BUNDLE_BYTES // (1024 * 1024)} MB, the most a bundle may be") from None
        data = json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
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
        raise UserError(f"{where} has bundle schemaVersion {shown(data.get('schemaVersion'))}; this tool reads {BUNDLE_VERSION}")
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
