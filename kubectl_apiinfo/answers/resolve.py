"""Turn the word a user typed into resources, the way kubectl resolves it.

kubectl accepts a plural, a singular, a short name or a Kind, optionally
qualified as resource.group or resource.version.group.  A full name wins over
a short name (kubectl's shortcut expander does not expand an exact name), and
a short name expands to the first resource that declares it in discovery order
(we show every resource declaring it, and say which one kubectl takes).  Where
two groups serve a name, kubectl takes the one discovery lists first: the core
group, then the kube-aggregator's priority order, which catalog releases keep.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Iterable, Optional

    from kubectl_apiinfo.sources.catalog.releases import HistoryEntry

from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Record, Resource


class Match(Record):
    """One resource (group + plural) with every version of it the snapshot has, highest priority first."""

    __slots__ = ("group", "name", "versions")

    def __init__(self, group: Group, name: str):
        self.group = group
        self.name = name
        self.versions: list[tuple[GroupVersion, Resource]] = []

    @property
    def served_versions(self) -> list[tuple[GroupVersion, Resource]]:
        return [(gv, r) for gv, r in self.versions if r.served]

    @property
    def qualified_name(self) -> str:
        return f"{self.name}.{self.group.name}" if self.group.name else self.name

    def best(self) -> tuple[GroupVersion, Resource]:
        """The version kubectl would use: the preferred one if it has the resource, else the first served."""
        preferred = self.group.preferred_version
        for gv, r in self.served_versions:
            if gv.version == preferred:
                return gv, r
        return (self.served_versions or self.versions)[0]


class Query(Record):
    __slots__ = ("name", "group", "version")

    def __init__(self, name: str, group: Optional[str] = None, version: Optional[str] = None):
        self.name = name
        self.group = group
        self.version = version


def interpretations(word: str) -> list[Query]:
    """kubectl's ParseResourceArg: 'a.b.c' is first resource.version.group, then resource.group."""
    word = word.strip().lower()
    parts = word.split(".")
    if len(parts) >= 3:
        return [Query(parts[0], ".".join(parts[2:]), parts[1]), Query(parts[0], ".".join(parts[1:]))]
    if len(parts) == 2:
        return [Query(parts[0], parts[1])]
    return [Query(word)]


def resolve(snapshot: APISnapshot, word: str) -> list[Match]:
    """Every resource the word names, core group first, then in the snapshot's group order.

    Unserved resources (in a catalog release but off by default) are included;
    callers decide how to present them.
    """
    for query in interpretations(word):
        matches = _resolve_query(snapshot, query)
        if matches:
            return matches
    return []


def _candidates(snapshot: APISnapshot, query: Query) -> Iterable[tuple[Group, GroupVersion, Resource]]:
    for g, gv, r in snapshot.iter_resources(served_only=False):
        if query.group is not None and g.name != query.group:
            continue
        if query.version is not None and gv.version != query.version:
            continue
        yield g, gv, r


def _resolve_query(snapshot: APISnapshot, query: Query) -> list[Match]:
    candidates = list(_candidates(snapshot, query))
    hits = [(g, r.name) for g, gv, r in candidates if query.name in (r.name.lower(), r.singular_name.lower())]
    if not hits:
        # kubectl expands a short name to the first resource declaring it; we show them all
        # and kubectl_pick() names that first one.
        hits = [(g, r.name) for g, gv, r in candidates if query.name in (s.lower() for s in r.short_names)]
    if not hits:
        hits = [(g, r.name) for g, gv, r in candidates if r.kind.lower() == query.name]
    matches: dict[tuple[str, str], Match] = {}
    for g, name in hits:
        matches.setdefault((g.name, name), Match(g, name))
    for g, gv, r in candidates:
        m = matches.get((g.name, r.name))
        if m is not None:
            m.versions.append((gv, r))
    order = {g.name: i for i, g in enumerate(snapshot.groups)}
    return sorted(matches.values(), key=lambda m: order[m.group.name])


def kubectl_pick(matches: list[Match]) -> Optional[Match]:
    """The match kubectl would use: the first served one in discovery order (core first)."""
    for m in matches:
        if m.served_versions:
            return m
    return None


def known_names(snapshot: Optional[APISnapshot], history: dict[str, list[HistoryEntry]]) -> dict[str, str]:
    """Every name a user could type, mapped to its resource's plural: for suggesting near misses."""
    names: dict[str, str] = {}
    for plural, entries in history.items():
        for e in entries:
            for n in (plural, e.kind.lower(), *e.short_names):
                names.setdefault(n, plural)
    if snapshot is not None:
        for _, _, r in snapshot.iter_resources(served_only=False):
            for n in (r.name, r.singular_name, r.kind.lower(), *r.short_names):
                names.setdefault(n.lower(), r.name)
    return names


def history_entries(history: dict[str, list[HistoryEntry]], word: str) -> list[HistoryEntry]:
    """The catalog's history entries for a word: by plural, singular/kind, or short name."""
    results = []
    for q in interpretations(word):
        for plural, entries in history.items():
            for e in entries:
                if q.group is not None and e.group != q.group:
                    continue
                if q.version is not None and e.version != q.version:
                    continue
                if q.name in (plural, e.kind.lower()) or q.name in e.short_names:
                    results.append(e)
        if results:
            break
    return results
