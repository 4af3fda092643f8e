"""The catalog's OpenAPI schemas, for explain, check and diff, and each field's history across releases.

A catalog release's schemas are one small index (kinds, definition name ->
content hash) and packs of definitions shared by every release; an answer
opens the index and only the packs of the definitions it walks.
"""

from __future__ import annotations

import gzip
import json
import weakref

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.sources.openapi import schema_form
from kubectl_apiinfo.sources.catalog import releases

_PACKS: dict = {}  # pack number -> {hash: definition}, shared by every release loaded in this process


def _gz_json(relpath: str):
    return json.loads(gzip.decompress(releases.read_bytes(relpath)))


_INDEXES: dict = {}


def release_index(release: str) -> Optional[dict]:
    if release not in _INDEXES:
        try:
            _INDEXES[release] = _gz_json(f"schemas/releases/{release}.json.gz")
        except Exception:  # noqa: BLE001 - the release has no schemas (1.37) or the file is unreadable
            _INDEXES[release] = None
    return _INDEXES[release]


def _pack(number: int) -> dict:
    pack = _PACKS.get(number)
    if pack is None:
        pack = _PACKS[number] = _gz_json(f"schemas/defs/{number:03d}.json.gz")
    return pack


class CatalogDefinitions(schema_form.Definitions):
    """One catalog release's definitions, as one group/version's document has them."""

    def __init__(self, index: dict, group_version: str):
        self.index = index
        self.release = index["release"]
        self.source = index.get("source", "")
        self.defs = dict(index["defs"])
        self.defs.update(index.get("overrides", {}).get(group_version, {}))
        self.types = index.get("types", {})

    def definition(self, name: str) -> Optional[dict]:
        h = self.defs.get(name)
        if h is None:
            return None
        return _pack(schema_form.pack_of(name)).get(h)

    def ref_type(self, name: str) -> tuple:
        # From the index, so a field's type needs no definition loaded.
        return name in self.defs, self.types.get(name)

    def kind_definition(self, group_version: str, kind: str) -> Optional[str]:
        return self.index["kinds"].get(group_version, {}).get(kind)


# (release, group/version) -> its CatalogDefinitions while anything holds them: contexts of one release
# standing in the catalog for their documents share one, and so the schema walks over it (answers/check.py).
_SHARED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def catalog_definitions(release: str, group_version: str) -> Optional[CatalogDefinitions]:
    found = _SHARED.get((release, group_version))
    if found is None:
        index = release_index(release)
        if not index:
            return None
        found = _SHARED[(release, group_version)] = CatalogDefinitions(index, group_version)
    return found


def schema_releases() -> list:
    """The catalog releases that have schemas, oldest first."""
    return list(history_index()["releases"])


_HISTORY: list = []


def history_index() -> dict:
    if not _HISTORY:
        _HISTORY.append(_gz_json("schemas/history.json.gz"))
    return _HISTORY[0]


def _at(runs_by_value: list, position: int):
    for value, runs in runs_by_value:
        for first, last in runs:
            if first <= position <= last:
                return value
    return None


class HistoryDefinitions(schema_form.Definitions):
    """One release's definitions read from the folded history index (what field_history walks)."""

    def __init__(self, history: dict, position: int, group_version: str):
        self.history = history
        self.position = position
        self.overrides = history["overrides"].get(group_version, {})
        self.touched: set = set()  # the names a walk read: equal hashes for them mean an equal answer

    def fingerprint(self, names) -> tuple:
        return tuple((self._hash(n), _at(self.history["types"].get(n, ()), self.position)) for n in sorted(names))

    def _hash(self, name: str) -> Optional[str]:
        if name in self.overrides:
            h = _at(self.overrides[name], self.position)
            if h is not None:
                return h
        return _at(self.history["defs"].get(name, ()), self.position)

    def definition(self, name: str) -> Optional[dict]:
        self.touched.add(name)
        h = self._hash(name)
        return None if h is None else _pack(schema_form.pack_of(name)).get(h)

    def ref_type(self, name: str) -> tuple:
        self.touched.add(name)
        if name in schema_form.V3_ONE_OF:
            # 1.23's alpha v3 typed these as strings, every other release names them: not a change of type
            return self._hash(name) is not None, None
        return self._hash(name) is not None, _at(self.history["types"].get(name, ()), self.position)


def catalog_root_finder(group_version: str, kind: str):
    """release -> (definitions, the kind's schema) in group_version, or None where the release lacks it."""
    history = history_index()
    positions = {r: i for i, r in enumerate(history["releases"])}
    names = history["kinds"].get(group_version, {}).get(kind, ())

    def find(release: str):
        position = positions.get(release)
        name = _at(names, position) if position is not None else None
        if name is None:
            return None
        defs = HistoryDefinitions(history, position, group_version)
        root = defs.definition(name)
        return (defs, root) if root is not None else None

    return find


def single_release_root(release: str, group_version: str, kind: str):
    """(definitions, the kind's schema) of one release, from its own small index."""
    defs = catalog_definitions(release, group_version)
    if defs is None:
        return None
    name = defs.kind_definition(group_version, kind)
    root = defs.definition(name) if name else None
    return (defs, root) if root is not None else None
