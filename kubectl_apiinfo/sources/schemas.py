"""OpenAPI schemas for 'explain': from the catalog, or from a cluster's cached documents.

A catalog release's schemas are one small index (kinds, definition name ->
content hash) and packs of definitions shared by every release; an answer
opens the index and only the packs of the definitions it walks.
"""

from __future__ import annotations

import gzip
import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.console import warn as _warn
from kubectl_apiinfo.errors import flag
from kubectl_apiinfo.sources import catalog, schema_form

_PACKS: dict = {}  # pack number -> {hash: definition}, shared by every release loaded in this process


def _gz_json(relpath: str):
    return json.loads(gzip.decompress(catalog.read_bytes(relpath)))


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


def catalog_definitions(release: str, group_version: str) -> Optional[CatalogDefinitions]:
    index = release_index(release)
    return CatalogDefinitions(index, group_version) if index else None


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


def catalog_root_finder(target):
    """release -> (definitions, the kind's schema) for target's group/version, or None where the release lacks it."""
    history = history_index()
    positions = {r: i for i, r in enumerate(history["releases"])}
    names = history["kinds"].get(target.group_version, {}).get(target.kind, ())

    def find(release: str):
        position = positions.get(release)
        name = _at(names, position) if position is not None else None
        if name is None:
            return None
        defs = HistoryDefinitions(history, position, target.group_version)
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


class SchemaSource:
    """Where one explain answer's schemas come from, and what to say about it."""

    def __init__(self, snapshot, release: Optional[str], label: str, kind: str, notes: Optional[list] = None):
        self.snapshot = snapshot
        self.name = snapshot.source.name or label
        self.release = release  # the catalog release answering (or the cluster's version)
        self.label = label
        self.kind = kind  # "catalog" or "cluster"
        self.notes = list(notes or [])
        self.documents = None  # a cluster's documents, when they answer

    def definitions(self, group_version: str, kind: str, quiet: bool = False):
        """(Definitions, the kind's schema) from the cluster's documents, else the catalog; None if neither has it."""
        if self.documents is None:
            return single_release_root(self.release, group_version, kind) if self.release else None
        found = self.documents.definitions(group_version, kind)
        if found is not None:
            return found
        failed = self.documents.failed.get(group_version) or self.documents.failed.get("/openapi/v3")
        fallback = single_release_root(self.release, group_version, kind) if self.release else None
        if fallback is not None:
            why = f" ({failed})" if failed else ""
            (_ignore if quiet else _warn)(
                f"no OpenAPI document of {group_version} is cached for {self.name}{why}; answering from the "
                f"catalog release {self.release}, the cluster's version"
            )
            self.label = f"Kubernetes {self.release} (offline catalog, the version of {self.name})"
            return fallback
        if failed and not quiet:
            from kubectl_apiinfo.errors import UserError

            raise UserError(
                f"the OpenAPI document of {group_version} could not be read ({failed}) and none is cached for "
                f"{self.name}; 'kubectl apiinfo refresh {flag('schemas')}' fetches them all while it is reachable"
            )
        return None

    def close(self) -> None:
        if self.documents is not None:
            self.documents.close()

    def v2_only(self, group_version: str) -> bool:
        """The cluster serves no /openapi/v3, so kubectl's explain prints its older (v2) layout."""
        return self.documents is not None and self.documents.v2_only()

    def missing_kind(self, target) -> str:
        if self.documents is not None and self.documents.document(target.group_version) is not None:
            return (
                f"{self.name} publishes no schema for {target.group_version} {target.kind} in its OpenAPI "
                "document (a CRD without a schema has none), so its fields cannot be explained"
            )
        if self.documents is not None:
            return (
                f"no OpenAPI document of {target.group_version} is cached for {self.name}; run once while it is "
                f"reachable, or 'kubectl apiinfo refresh {flag('schemas')}' before going offline"
            )
        return f"{self.label} has no schema for {target.group_version} {target.kind}"

    def describe(self) -> dict:
        source = self.snapshot.source
        out = {"kind": self.kind, "name": source.name, "kubernetesVersion": self.release or source.kubernetes_version,
               "schemas": self.label, "notes": list(self.notes)}
        if self.kind == "cluster":
            out["server"] = source.server
        return out


def _ignore(message: str) -> None:
    """Where a warning would only repeat itself (completion)."""
