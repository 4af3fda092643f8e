"""The one shape of "what an API server serves": groups -> versions -> resources.

A catalog release, a live cluster's discovery, a cache entry and an import
bundle are all an APISnapshot, so every query works on every source.  The JSON
form (to_dict / from_dict) leaves out empty and default fields, which keeps the
shipped catalog small; from_dict validates, because bundles come from outside.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Any, Iterator, Optional

SCHEMA_VERSION = 1

# apimachinery's kube-aware version regex (k8s.io/apimachinery/pkg/version).
_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_LEVELS = {"alpha": 0, "beta": 1, None: 2}


def stability(version: str) -> str:
    """'stable', 'beta' or 'alpha' for a kube-like version name, else 'other'."""
    m = _KUBE_VERSION.match(version)
    if not m:
        return "other"
    return m.group(2) or "stable"


def version_priority_key(version: str) -> tuple:
    """Sort key: sorted(versions, key=version_priority_key) puts the highest priority first.

    Kube-like versions outrank every other string; among them stable > beta >
    alpha, then the higher major, then the higher alpha/beta number.  Other
    strings rank in ascending alphabetical order.
    """
    m = _KUBE_VERSION.match(version)
    if not m:
        return (1, 0, 0, 0, version)
    major, level, n = m.groups()
    return (0, -_LEVELS[level], -int(major), -int(n or 0), "")


# A Kubernetes release as people write it: 1.33, v1.33, v1.33.2, v1.33.2-eks-1234, v1.33.0+k3s1.
_RELEASE = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+][\w.+-]*)?")


def parse_release(text: str) -> Optional[tuple[int, int]]:
    """(major, minor) of a release name, or None when the text is not one.  The one parser of release numbers."""
    m = _RELEASE.fullmatch(text.strip()) if isinstance(text, str) else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def release_name(text: str) -> Optional[str]:
    """'v1.24.3' -> '1.24': the name the catalog and answers use; None when the text is not a release."""
    parsed = parse_release(text)
    return f"{parsed[0]}.{parsed[1]}" if parsed else None


def shown(value, limit: int = 80) -> str:
    """A value read from a file or a server, quoted for a message: never more than limit characters
    (a 5 MB schemaVersion is not echoed whole, and a 5,000-digit number not converted at all)."""
    try:
        text = repr(value)
    except ValueError:
        return "a number too long to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def release_key(name: str) -> tuple[int, int]:
    """Sort key for release names: '1.9' < '1.16'."""
    parsed = parse_release(name)
    if parsed is None:
        raise ValueError(f"not a Kubernetes release: {shown(name)}")
    return parsed


def release_span(first: str, last: str) -> str:
    """'1.15–1.37', or just '1.15' for a range of one."""
    return first if first == last else f"{first}–{last}"


def group_version(group: str, version: str) -> str:
    """The apiVersion string: 'v1' for the core group, 'apps/v1' otherwise."""
    return f"{group}/{version}" if group else version


class Record:
    """A plain record: its fields are its __slots__, compared and shown by them.

    Not dataclasses: importing and applying them costs ~8 ms, and every query
    (typed dozens of times a day) builds these.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self.__slots__)})"

    def replace(self, **changes: Any):
        """A copy with some fields changed."""
        copy = object.__new__(type(self))
        for f in self.__slots__:
            object.__setattr__(copy, f, changes.pop(f) if f in changes else getattr(self, f))
        if changes:
            raise TypeError(f"{type(self).__name__} has no field {next(iter(changes))!r}")
        return copy


class Subresource(Record):
    __slots__ = ("name", "kind", "group", "version", "verbs")

    def __init__(self, name: str, kind: str, group: str, version: str, verbs: Optional[list[str]] = None):
        self.name = name
        self.kind = kind
        self.group = group
        self.version = version
        self.verbs = list(verbs or [])


class Resource(Record):
    __slots__ = ("name", "kind", "namespaced", "verbs", "singular", "short_names", "categories", "subresources", "served")

    def __init__(
        self,
        name: str,  # plural, as in the URL
        kind: str,
        namespaced: bool,
        verbs: Optional[list[str]] = None,
        singular: str = "",
        short_names: Optional[list[str]] = None,
        categories: Optional[list[str]] = None,
        subresources: Optional[list[Subresource]] = None,
        served: bool = True,
    ):
        self.name = name
        self.kind = kind
        self.namespaced = namespaced
        self.verbs = list(verbs or [])
        self.singular = singular
        self.short_names = list(short_names or [])
        self.categories = list(categories or [])
        self.subresources = list(subresources or [])
        # False where the source contains the resource but a default API server
        # does not serve it (catalog releases only; a live cluster serves all).
        self.served = served

    @property
    def singular_name(self) -> str:
        # Built-in servers derive the singular from the kind; old ones leave it empty.
        return self.singular or self.kind.lower()


class GroupVersion(Record):
    __slots__ = ("version", "resources")

    def __init__(self, version: str, resources: Optional[list[Resource]] = None):
        self.version = version
        self.resources = list(resources or [])

    @property
    def served(self) -> bool:
        return any(r.served for r in self.resources)

    @property
    def stability(self) -> str:
        return stability(self.version)


class Group(Record):
    __slots__ = ("name", "versions", "preferred")

    def __init__(self, name: str, versions: Optional[list[GroupVersion]] = None, preferred: Optional[str] = None):
        self.name = name  # "" is the core group
        self.versions = sorted(versions or [], key=lambda gv: version_priority_key(gv.version))
        # The server's preferred version; None means "the highest-priority served one".
        self.preferred = preferred

    @property
    def preferred_version(self) -> Optional[str]:
        if self.preferred:
            return self.preferred
        for gv in self.versions:
            if gv.served:
                return gv.version
        return None


# What a source may say about itself beyond its name, by attribute, with the names its JSON form gives
# them (the source's "extra" object, as caches and bundles have always stored it).  None: not said.
SOURCE_FACTS = {
    # a catalog release
    "defaults_derived": "defaultsDerived",  # its served-by-default flags were derived, not listed
    "origin": "origin",  # which spec or table it was built from
    "group_order": "groupOrder",  # "discovery" where its groups are in the kube-aggregator's order
    "group_order_unknown": "groupOrderUnknown",  # groups whose place in that order is not known
    # a cluster, or kubectl's cache of one
    "server": "server",
    "git_version": "gitVersion",
    "fetched_at": "fetchedAt",  # RFC 3339
    "fetched_at_epoch": "fetchedAtEpoch",  # kubectl's cache: its file's mtime
    "path": "path",  # kubectl's cache: where it is
    "discovery": "discovery",  # "aggregated" or "legacy"
    "failed_group_versions": "failedGroupVersions",  # {group/version: why its discovery failed}
    "last_known": "lastKnown",  # {group/version: resources the previous snapshot had} for those
    "listing_digest": "listingDigest",  # a legacy server's group list, to notice a change without ETags
    # {"group/version/Kind": {crd, served, storage, deprecated, warning}} from the cluster's CRDs
    "custom_versions": "customResourceVersions",
    "custom_versions_unknown": "customResourceVersionsUnknown",  # why its CRDs could not be listed
    # how this answer came to be (never stored)
    "age": "age",
    "from_cache": "fromCache",
    "revalidated": "revalidated",  # the server was asked just now and confirmed the cached snapshot
}
_FACT_BY_JSON = {j: a for a, j in SOURCE_FACTS.items()}
_RUNTIME_FACTS = ("age", "from_cache", "revalidated")


class SnapshotSource(Record):
    __slots__ = ("kind", "name", "kubernetes_version", "notes", *SOURCE_FACTS)

    def __init__(
        self,
        kind: str,  # "catalog", "cluster", ...
        name: str,  # what to call it in answers: "Kubernetes 1.33", a context name, ...
        kubernetes_version: str = "",
        notes: Optional[list[str]] = None,
        extra: Optional[dict[str, Any]] = None,  # facts in their JSON form (unknown ones are dropped)
        **facts: Any,
    ):
        self.kind = kind
        self.name = name
        self.kubernetes_version = kubernetes_version
        self.notes = list(notes or [])
        for attr in SOURCE_FACTS:
            setattr(self, attr, None)
        for key, value in (extra or {}).items():
            if key in _FACT_BY_JSON:
                setattr(self, _FACT_BY_JSON[key], value)
        for attr, value in facts.items():
            if attr not in SOURCE_FACTS:
                raise TypeError(f"SnapshotSource has no fact {attr!r}")
            setattr(self, attr, value)

    def facts(self, stored: bool = False) -> dict[str, Any]:
        """The facts said, by their JSON names; stored=True leaves out how this answer came to be."""
        return {
            json_name: getattr(self, attr)
            for attr, json_name in SOURCE_FACTS.items()
            if getattr(self, attr) is not None and not (stored and attr in _RUNTIME_FACTS)
        }


class APISnapshot(Record):
    __slots__ = ("source", "groups")

    def __init__(self, source: SnapshotSource, groups: Optional[list[Group]] = None):
        self.source = source
        # Discovery order, except that the core group always comes first, as in kubectl.
        self.groups = sorted(groups or [], key=lambda g: g.name != "")

    def group(self, name: str) -> Optional[Group]:
        for g in self.groups:
            if g.name == name:
                return g
        return None

    def iter_resources(self, served_only: bool = True) -> Iterator[tuple[Group, GroupVersion, Resource]]:
        for g in self.groups:
            for gv in g.versions:
                for r in gv.resources:
                    if r.served or not served_only:
                        yield g, gv, r

    def to_dict(self) -> dict:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "source": _source_to_dict(self.source),
            "groups": [_group_to_dict(g) for g in self.groups],
        }

    @classmethod
    def from_dict(cls, data: Any) -> "APISnapshot":
        return _snapshot_from_dict(data)


# --- JSON form -------------------------------------------------------------


def _source_to_dict(s: SnapshotSource) -> dict:
    d: dict[str, Any] = {"kind": s.kind, "name": s.name}
    if s.kubernetes_version:
        d["kubernetesVersion"] = s.kubernetes_version
    if s.notes:
        d["notes"] = list(s.notes)
    facts = s.facts(stored=True)
    if facts:
        d["extra"] = facts
    return d


def _group_to_dict(g: Group) -> dict:
    d: dict[str, Any] = {"name": g.name}
    if g.preferred:
        d["preferredVersion"] = g.preferred
    d["versions"] = [
        {"version": gv.version, "resources": [_resource_to_dict(r, g.name, gv.version) for r in gv.resources]}
        for gv in g.versions
    ]
    return d


def _resource_to_dict(r: Resource, group: str, version: str) -> dict:
    d: dict[str, Any] = {"name": r.name, "kind": r.kind, "namespaced": r.namespaced, "verbs": list(r.verbs)}
    if r.singular:
        d["singularName"] = r.singular
    if r.short_names:
        d["shortNames"] = list(r.short_names)
    if r.categories:
        d["categories"] = list(r.categories)
    if r.subresources:
        subs = []
        for s in r.subresources:
            sd: dict[str, Any] = {"name": s.name, "kind": s.kind}
            # group/version only where they differ from the parent's (like a cross-group Scale)
            if (s.group, s.version) != (group, version):
                sd["group"] = s.group
                sd["version"] = s.version
            sd["verbs"] = list(s.verbs)
            subs.append(sd)
        d["subresources"] = subs
    if not r.served:
        d["served"] = False
    return d


class SnapshotFormatError(ValueError):
    """The data is not a snapshot in our JSON form; the message says where."""


def _expect(value: Any, typ: type | tuple, where: str) -> Any:
    if not isinstance(value, typ):
        names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
        raise SnapshotFormatError(f"{where}: expected {names}, got {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    _expect(value, list, where)
    for i, item in enumerate(value):
        _expect(item, str, f"{where}[{i}]")
    return list(value)


def _snapshot_from_dict(data: Any) -> APISnapshot:
    _expect(data, dict, "snapshot")
    version = data.get("schemaVersion")
    if version != SCHEMA_VERSION:
        raise SnapshotFormatError(f"snapshot: unsupported schemaVersion {shown(version)} (this tool reads {SCHEMA_VERSION})")
    src = _expect(data.get("source"), dict, "source")
    source = SnapshotSource(
        kind=_expect(src.get("kind"), str, "source.kind"),
        name=_expect(src.get("name"), str, "source.name"),
        kubernetes_version=_expect(src.get("kubernetesVersion", ""), str, "source.kubernetesVersion"),
        notes=_strings(src.get("notes", []), "source.notes"),
        extra=_expect(src.get("extra", {}), dict, "source.extra"),
    )
    groups = []
    seen_groups = set()
    for gi, gd in enumerate(_expect(data.get("groups"), list, "groups")):
        gw = f"groups[{gi}]"
        _expect(gd, dict, gw)
        gname = _expect(gd.get("name"), str, f"{gw}.name")
        if gname in seen_groups:
            raise SnapshotFormatError(f"{gw}: group {shown(gname)} appears twice")
        seen_groups.add(gname)
        preferred = gd.get("preferredVersion")
        if preferred is not None:
            _expect(preferred, str, f"{gw}.preferredVersion")
        versions = []
        for vi, vd in enumerate(_expect(gd.get("versions"), list, f"{gw}.versions")):
            vw = f"{gw}.versions[{vi}]"
            _expect(vd, dict, vw)
            vname = _expect(vd.get("version"), str, f"{vw}.version")
            if not vname:
                raise SnapshotFormatError(f"{vw}.version: empty")
            resources = [
                _resource_from_dict(rd, f"{vw}.resources[{ri}]", gname, vname)
                for ri, rd in enumerate(_expect(vd.get("resources", []), list, f"{vw}.resources"))
            ]
            versions.append(GroupVersion(vname, resources))
        groups.append(Group(gname, versions, preferred or None))
    return APISnapshot(source, groups)


def _resource_from_dict(rd: Any, where: str, group: str, version: str) -> Resource:
    _expect(rd, dict, where)
    name = _expect(rd.get("name"), str, f"{where}.name")
    if not name:
        raise SnapshotFormatError(f"{where}.name: empty")
    subs = []
    for si, sd in enumerate(_expect(rd.get("subresources", []), list, f"{where}.subresources")):
        sw = f"{where}.subresources[{si}]"
        _expect(sd, dict, sw)
        subs.append(
            Subresource(
                name=_expect(sd.get("name"), str, f"{sw}.name"),
                kind=_expect(sd.get("kind", ""), str, f"{sw}.kind"),
                group=_expect(sd.get("group", group), str, f"{sw}.group"),
                version=_expect(sd.get("version", version), str, f"{sw}.version"),
                verbs=_strings(sd.get("verbs", []), f"{sw}.verbs"),
            )
        )
    return Resource(
        name=name,
        kind=_expect(rd.get("kind", ""), str, f"{where}.kind"),
        namespaced=_expect(rd.get("namespaced", False), bool, f"{where}.namespaced"),
        verbs=_strings(rd.get("verbs", []), f"{where}.verbs"),
        singular=_expect(rd.get("singularName", ""), str, f"{where}.singularName"),
        short_names=_strings(rd.get("shortNames", []), f"{where}.shortNames"),
        categories=_strings(rd.get("categories", []), f"{where}.categories"),
        subresources=subs,
        served=_expect(rd.get("served", True), bool, f"{where}.served"),
    )
