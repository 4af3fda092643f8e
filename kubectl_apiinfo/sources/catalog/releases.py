"""The offline catalog of Kubernetes releases that ships inside the package.

Files are read through the module's loader, so the same code works from a
wheel, from a zipapp and from a source checkout (where the compiled catalog
sits at the top level in catalog/data).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Any, Optional

from kubectl_apiinfo.errors import UserError, flag, shorten
from kubectl_apiinfo.model import APISnapshot, Record, group_version, release_key, release_name, release_span

# kubectl_apiinfo/, three folders up from kubectl_apiinfo/sources/catalog/releases.py
_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_LOCATIONS = (
    os.path.join(_PACKAGE, "catalog_data"),  # installed: inside the package
    os.path.join(os.path.dirname(_PACKAGE), "catalog", "data"),  # source checkout
)


def _read(relpath: str) -> Any:
    return json.loads(read_bytes(relpath))


def read_bytes(relpath: str) -> bytes:
    """A catalog file's bytes, through the module's loader (a wheel, a zipapp or a checkout)."""
    for base in _LOCATIONS:
        try:
            return __loader__.get_data(os.path.join(base, relpath))  # type: ignore[name-defined]
        except OSError:
            continue
    raise UserError(
        f"the offline catalog is missing ({relpath}); reinstall kubectl-apiinfo, "
        "or run 'python catalog/build_catalog.py' in a source checkout"
    )


@lru_cache(maxsize=None)
def index() -> dict:
    return _read("index.json")


def release_names() -> list[str]:
    return [r["version"] for r in index()["releases"]]


def newest() -> str:
    return index()["newest"]


def normalize_release(text: str) -> str:
    """'1.24', 'v1.24' and 'v1.24.3' all name the catalog release '1.24'."""
    name = release_name(text)
    if name is None:
        raise UserError(f"{shorten(text)!r} is not a Kubernetes version; use a form like 1.33 or v1.33.2")
    names = release_names()
    if name in names:
        return name
    if release_key(name) > release_key(newest()):
        # Not a gap the catalog could fill: the release came out after this build, and its clusters serve the answer.
        raise UserError(
            f"Kubernetes {name} is newer than the catalog, whose newest release is {newest()}; a {name} cluster "
            f"answers from its own discovery and OpenAPI documents: run without {flag('kube_version')} against it"
        )
    raise UserError(
        f"Kubernetes {name} is not in the catalog, which has {names[0]} to {names[-1]}; "
        "'kubectl apiinfo releases' lists them"
    )


def load_release(name: str) -> APISnapshot:
    """One release as an APISnapshot; name must come from normalize_release()."""
    return APISnapshot.from_dict(_read(f"releases/{name}.json"))


class Lifecycle(Record):
    """When an API came, goes and what replaces it: the upstream tags, set right where the releases disagree.

    introduced is what the releases support (None where a kind is older than
    the catalog); introduced_upstream keeps the prerelease-lifecycle tag and
    introduced_note says what the releases show when the two differ.  A
    replacement the tags do not give (or give wrongly) is derived by the
    builder and marked replacement_derived; replacement_upstream keeps a wrong one.
    """

    __slots__ = (
        "introduced",
        "introduced_upstream",
        "introduced_note",
        "deprecated",
        "removed",
        "replacement",
        "replacement_derived",
        "replacement_upstream",
    )

    def __init__(
        self,
        introduced: Optional[str] = None,
        introduced_upstream: Optional[str] = None,
        introduced_note: str = "",
        deprecated: Optional[str] = None,
        removed: Optional[str] = None,
        replacement: Optional[str] = None,  # "group/version/Kind"
        replacement_derived: bool = False,
        replacement_upstream: Optional[str] = None,
    ):
        self.introduced = introduced
        self.introduced_upstream = introduced_upstream
        self.introduced_note = introduced_note
        self.deprecated = deprecated
        self.removed = removed
        self.replacement = replacement
        self.replacement_derived = replacement_derived
        self.replacement_upstream = replacement_upstream

    @classmethod
    def from_dict(cls, d: dict) -> "Lifecycle":
        return cls(
            introduced=d.get("introduced"),
            introduced_upstream=d.get("introducedUpstream", d.get("introduced")),
            introduced_note=d.get("introducedNote", ""),
            deprecated=d.get("deprecated"),
            removed=d.get("removed"),
            replacement=d.get("replacement"),
            replacement_derived=bool(d.get("replacementDerived")),
            replacement_upstream=d.get("replacementUpstream"),
        )


class HistoryEntry(Record):
    """One group/version/kind of a resource across the catalog: the releases containing and serving it."""

    __slots__ = ("resource", "group", "version", "kind", "contained", "served", "short_names")

    def __init__(
        self,
        resource: str,
        group: str,
        version: str,
        kind: str,
        contained: list[list[str]],  # [first, last] release ranges
        served: Optional[list[list[str]]] = None,
        short_names: Optional[list[str]] = None,
    ):
        self.resource = resource
        self.group = group
        self.version = version
        self.kind = kind
        self.contained = contained
        self.served = list(served or [])
        self.short_names = list(short_names or [])

    @property
    def group_version(self) -> str:
        return group_version(self.group, self.version)


_NO_LIFECYCLE = Lifecycle()


@lru_cache(maxsize=None)
def lifecycle() -> dict[str, Lifecycle]:
    return {key: Lifecycle.from_dict(facts) for key, facts in _read("lifecycle.json").items()}


@lru_cache(maxsize=None)
def history() -> dict[str, list[HistoryEntry]]:
    """resource plural -> its HistoryEntry for every group/version/kind that contained it."""
    return {
        plural: [
            HistoryEntry(plural, e["group"], e["version"], e["kind"], e["contained"], e.get("served"), e.get("shortNames"))
            for e in entries
        ]
        for plural, entries in _read("history.json").items()
    }


@lru_cache(maxsize=None)
def _history_by_kind() -> dict[tuple[str, str, str], HistoryEntry]:
    found: dict[tuple[str, str, str], HistoryEntry] = {}
    for entries in history().values():
        for e in entries:
            found.setdefault((e.group, e.version, e.kind), e)
    return found


@lru_cache(maxsize=None)
def builtin_kinds() -> dict[str, set]:
    """Every group a Kubernetes release has served (the core group is ""), with the kinds of each: no
    CustomResourceDefinition can serve these groups."""
    found: dict[str, set] = {}
    for group, _version, kind in _history_by_kind():
        found.setdefault(group, set()).add(kind)
    for key in lifecycle():
        gv, _, kind = key.rpartition("/")
        found.setdefault(gv.rpartition("/")[0] if "/" in gv else "", set()).add(kind)
    return found


def lifecycle_of(group: str, version: str, kind: str) -> Lifecycle:
    return lifecycle().get(f"{group_version(group, version)}/{kind}", _NO_LIFECYCLE)


def history_of(group: str, version: str, kind: str) -> Optional[HistoryEntry]:
    return _history_by_kind().get((group, version, kind))




def removal_note(facts: Lifecycle, contained: Optional[list[list[str]]]) -> str:
    """Plain words for when an API stops being served: planned versus what the releases show.

    contained is the API's catalog ranges ([first, last] pairs).
    """
    planned = facts.removed
    last = contained[-1][1] if contained else None
    if not planned:
        return ""
    newest_release = newest()
    if release_key(planned) > release_key(newest_release):
        if last and last != newest_release:
            return f"gone after {last} (planned for removal in {planned})"
        return f"planned for removal in {planned}"
    if last is None:
        return f"removed in {planned}"
    if release_key(last) >= release_key(planned):
        return f"removed in {planned} (still re-enableable in {release_span(planned, last)})"
    major, minor = release_key(planned)
    if release_key(last) < (major, minor - 1):
        return f"gone after {last} (planned for removal in {planned})"
    return f"removed in {planned}"
