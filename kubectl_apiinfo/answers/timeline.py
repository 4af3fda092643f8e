"""The timeline of resources or API groups across the catalog's releases, as plain data (the -o json shape):
one row per group/version (and kind, for a resource), one state per release.

Built-in rows come from the catalog's history (which releases contain and serve each group/version/kind) and
its lifecycle (when each was deprecated); a cluster's CRDs and aggregated APIs are rows too, known only in the
cluster's own release.  printers/timeline.py draws the same data as a chart.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.answers.resolve import history_entries, interpretations, known_names, resolve
from kubectl_apiinfo.answers.show import source_info
from kubectl_apiinfo.errors import UserError, shorten
from kubectl_apiinfo.model import group_version, release_key, stability, version_priority_key
from kubectl_apiinfo.sources.catalog import releases

# Every state a cell can be in, from not there to gone, then what cannot be known (-o json lists them).
STATES = ("absent", "off", "alpha", "beta", "stable", "deprecated", "removed", "unknown")
SERVING = ("alpha", "beta", "stable", "deprecated")
CORE_WORDS = ("core", "")  # the core group has no name; 'core' is what people call it


def timeline(source, words: list, everything: bool = False) -> dict:
    """The answer for resource or group words (or every group/version); UserError for a word that is neither."""
    names = releases.release_names()
    marked = source.release if source.release in names else None
    column = names.index(marked) if marked else None
    table = _Table(source, names, column)
    for word in words:
        group = _group_named(source, word)
        if group is not None:
            table.add_group(group)
        else:
            table.add_resource(word)
    if everything:
        for group in sorted(_catalog_groups() | set(source.groups), key=lambda g: (g != "", g)):
            table.add_group(group)
    answer = {
        "kind": "Timeline",
        "releases": names,
        "marked": marked,
        "source": source_info(source.snapshot),
        "words": list(words),
        "rows": table.rows,
        "states": list(STATES),
    }
    if source.release and marked is None:
        answer["markedNote"] = f"{source.name} runs Kubernetes {source.release}, which the catalog does not have"
    return answer


def _group_named(source, word: str) -> Optional[str]:
    """The API group a word names exactly ('' for core), else None: the word is a resource."""
    w = word.strip().lower()
    if w in CORE_WORDS:
        return ""
    return w if w in _catalog_groups() or w in source.groups else None


def _catalog_groups() -> set:
    return {e.group for entries in releases.history().values() for e in entries}


def _serving(version: str, deprecated: Optional[str], release: str) -> str:
    if deprecated and release_key(release) >= release_key(deprecated):
        return "deprecated"
    level = stability(version)
    return level if level in SERVING else "stable"  # a CRD's 'v2023' is no alpha or beta


def _expand(ranges: list, names: list) -> set:
    """The releases of names inside [first, last] ranges."""
    inside = set()
    for first, last in ranges:
        if first in names and last in names:  # the catalog's own ranges: no parsing of release numbers
            inside.update(names[names.index(first): names.index(last) + 1])
            continue
        low, high = release_key(first), release_key(last)
        inside.update(n for n in names if low <= release_key(n) <= high)
    return inside


def kind_cells(entry, names: list) -> list:
    """One state per release for a catalog history entry (a group/version/kind)."""
    contained, served = _expand(entry.contained, names), _expand(entry.served, names)
    deprecated = releases.lifecycle_of(entry.group, entry.version, entry.kind).deprecated
    cells = []
    for i, name in enumerate(names):
        if name in served:
            cells.append(_serving(entry.version, deprecated, name))
        elif name in contained:
            cells.append("off")
        elif i and names[i - 1] in contained:
            cells.append("removed")
        else:
            cells.append("absent")
    return cells


def merge_cells(columns: list) -> list:
    """A group/version's state per release from its kinds': served if any kind is, deprecated only if every
    served kind is, else off, else removed, else absent (unknown where nothing is known)."""
    merged = []
    for states in zip(*columns):
        present = set(states)
        serving = [s for s in states if s in SERVING]
        if serving:
            live = [s for s in serving if s != "deprecated"]
            merged.append(live[0] if live else "deprecated")
        else:
            merged.append(next((s for s in ("off", "removed", "unknown") if s in present), "absent"))
    return merged


def _replacement(text: Optional[str]) -> Optional[str]:
    # the catalog's "networking.k8s.io/v1/Ingress" as people write it: "networking.k8s.io/v1 Ingress"
    if not text:
        return None
    gv, _, kind = text.rpartition("/")
    return f"{gv} {kind}"


def _order(group: str, version: str, kind: str = "") -> tuple:
    # core first, then by group; within a group the least mature version first, so time reads downwards too
    priority = version_priority_key(version)
    return (group != "", group, priority[0], -priority[1], -priority[2], -priority[3], priority[4], kind)


class _Table:
    """The rows so far, each group/version (and kind) once."""

    def __init__(self, source, names: list, column: Optional[int]):
        self.source = source
        self.names = names
        self.column = column  # the marked release's index: where a cluster's own facts go
        self.rows: list = []
        self.seen: set = set()
        self.custom = source.custom_versions if not source.default_server else {}

    def _add(self, rows: list) -> None:
        for row in sorted(rows, key=lambda r: r.pop("_order")):
            key = (row["groupVersion"], row["kind"])
            if key not in self.seen:
                self.seen.add(key)
                self.rows.append(row)

    # --- a resource word ------------------------------------------------------------------

    def add_resource(self, word: str) -> None:
        snapshot = self.source.snapshot
        matches = resolve(snapshot, word)
        hist = releases.history()
        if matches:
            groups = {m.group.name for m in matches}
            group_given = interpretations(word)[0].group is not None
            entries = [e for plural in sorted({m.name for m in matches}) for e in hist.get(plural, [])
                       if not group_given or e.group in groups]
        else:
            entries = history_entries(hist, word)
            if not entries:
                raise UserError(self._unknown(word, hist))
        rows = [self._kind_row(e) for e in entries]
        known = {(e.group, e.version, e.kind) for e in entries}
        for m in matches if self.column is not None else []:
            kinds = {(m.group.name, gv.version, r.kind): r.served for gv, r in m.versions}
            ours = {(m.group.name, r.kind) for _, r in m.versions}
            for key, declared in self.custom.items():  # a CRD's versions it does not serve are not in discovery
                if (key[0], key[2]) in ours:
                    kinds.setdefault(key, declared.served)
            for (group, version, kind), served in kinds.items():
                if (group, version, kind) not in known:
                    rows.append(self._cluster_row(group, version, kind, m.name, served))
        self._add(rows)

    def _kind_row(self, e) -> dict:
        facts = releases.lifecycle_of(e.group, e.version, e.kind)
        return {
            "groupVersion": e.group_version, "kind": e.kind, "resource": e.resource, "custom": False,
            "cells": self._cells(e), "introduced": facts.introduced, "deprecated": facts.deprecated,
            "removed": facts.removed, "replacement": _replacement(facts.replacement), "_order": _order(e.group, e.version, e.kind),
        }

    def _cells(self, e) -> list:
        cells = kind_cells(e, self.names)
        if self.column is not None and not self.source.default_server:
            cells[self.column] = self._in_cluster(e, cells[self.column])
        return cells

    def _in_cluster(self, e, catalog: str) -> str:
        """A built-in kind in the cluster's own release as its discovery has it: a cluster may turn on what a
        default API server leaves off (--runtime-config), or turn off what it serves."""
        if e.group_version in self.source.failed_discovery:
            return "unknown"
        if (e.group, e.version, e.kind) in self.source.kinds:
            return _serving(e.version, releases.lifecycle_of(e.group, e.version, e.kind).deprecated, self.names[self.column])
        return "off" if catalog in SERVING else catalog

    def _cluster_state(self, group: str, version: str, kind: str, served: bool) -> str:
        declared = self.custom.get((group, version, kind))
        if declared is not None:
            return "off" if not declared.served else ("deprecated" if declared.deprecated else _serving(version, None, ""))
        return _serving(version, None, "") if served else "off"

    def _cluster_row(self, group: str, version: str, kind: str, resource: Optional[str], served: bool) -> dict:
        """A kind only the cluster knows (a CRD's version, an aggregated API): its state in the cluster's release;
        every other release is unknown, since no history of it exists."""
        cells = ["unknown"] * len(self.names)
        cells[self.column] = self._cluster_state(group, version, kind, served)
        declared = self.custom.get((group, version, kind))
        row = {
            "groupVersion": group_version(group, version), "kind": kind, "resource": resource,
            "custom": group not in releases.builtin_kinds(), "cells": cells,
            "introduced": None, "deprecated": None, "removed": None, "replacement": None,
            "_order": _order(group, version, kind),
        }
        if declared is not None:
            # deprecated stays None: a CRD says whether a version is deprecated now, never since when
            row.update(crd=declared.crd, storage=declared.storage, deprecationWarning=declared.warning or None)
        return row

    def _unknown(self, word: str, hist: dict) -> str:
        import difflib  # only on this error path

        query = interpretations(word)[-1].name
        names = set(known_names(self.source.snapshot, hist)) | _catalog_groups() | set(self.source.groups)
        close = difflib.get_close_matches(query, sorted(n for n in names if n), n=3, cutoff=0.75)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return (f"{self.source.name} has no resource type or API group {shorten(word)!r}{hint} "
                "('kubectl apiinfo resources' and 'kubectl apiinfo versions' list them)")

    # --- a group word ---------------------------------------------------------------------

    def add_group(self, group: str) -> None:
        by_version: dict = {}
        for entries in releases.history().values():
            for e in entries:
                if e.group == group:
                    by_version.setdefault(e.version, []).append(e)
        rows = [self._version_row(group, version, entries) for version, entries in by_version.items()]
        if self.column is not None:
            rows += self._cluster_versions(group, set(by_version))
        self._add(rows)

    def _version_row(self, group: str, version: str, entries: list) -> dict:
        facts = [releases.lifecycle_of(group, version, e.kind) for e in entries]
        introduced = [f.introduced for f in facts]
        deprecated, removed = [f.deprecated for f in facts], [f.removed for f in facts]
        successors = {f.replacement.rpartition("/")[0] for f in facts if f.replacement}
        return {
            "groupVersion": group_version(group, version), "kind": None, "resource": None, "custom": False,
            "cells": merge_cells([self._cells(e) for e in entries]),
            "introduced": min(introduced, key=release_key) if all(introduced) else None,
            "deprecated": max(deprecated, key=release_key) if all(deprecated) else None,  # when its last kind was
            "removed": max(removed, key=release_key) if all(removed) else None,
            "replacement": successors.pop() if len(successors) == 1 and all(f.replacement for f in facts) else None,
            "kinds": sorted({e.kind for e in entries}),
            "_order": _order(group, version),
        }

    def _cluster_versions(self, group: str, catalog_versions: set) -> list:
        """The group's versions the cluster serves (or its CRDs declare) and the catalog has no history of."""
        kinds: dict = {}
        g = self.source.groups.get(group)
        for gv in g.versions if g is not None else []:
            for r in gv.resources:
                kinds.setdefault(gv.version, {})[r.kind] = r.served
        for (cg, version, kind), declared in self.custom.items():
            if cg == group:
                kinds.setdefault(version, {}).setdefault(kind, declared.served)
        rows = []
        for version, served in kinds.items():
            if version in catalog_versions:
                continue
            states = [self._cluster_state(group, version, kind, s) for kind, s in sorted(served.items())]
            cells = ["unknown"] * len(self.names)
            cells[self.column] = merge_cells([[s] for s in states])[0]
            crds = sorted({d.crd for (cg, v, _), d in self.custom.items() if (cg, v) == (group, version)})
            row = {
                "groupVersion": group_version(group, version), "kind": None, "resource": None,
                "custom": group not in releases.builtin_kinds(), "cells": cells,
                "introduced": None, "deprecated": None, "removed": None, "replacement": None,
                "kinds": sorted(served), "_order": _order(group, version),
            }
            if crds:
                row["crds"] = crds
            rows.append(row)
        return rows
