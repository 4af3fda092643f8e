"""How a snapshot lies in the store: its keys, the name index, and groups built back from stored records.

    head:<identity>                    which generation answers, and its metadata
    gen:<identity>:<g>:names:<n>       name index bucket: typed word -> group names
    gen:<identity>:<g>:group:<name>    one API group with its versions and resources
    gen:<identity>:<g>:served          group -> served plurals, all completion reads
    scan:<identity>                    the cluster's last scan (sources/cluster/scans.py), dropped with it

A question about one resource reads only the buckets and groups its word names,
whatever the cluster's size.
"""

from __future__ import annotations

import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, Subresource

FORMAT = 2
HEAD = "head:"
GEN = "gen:"
VERSION_PREFIX = "version:"  # the server version last seen; survives 'cache clear'
SCAN = "scan:"  # the cluster's last scan answer: its findings and names, never an object's contents
RESOLVED_PREFIX = "resolved:"  # unchanged kubeconfig files + flags -> cluster identity
WORDS_PER_BUCKET = 32


def generation_prefix(identity: str, generation: str) -> str:
    return f"{GEN}{identity}:{generation}:"


def bucket_of(word: str, buckets: int) -> int:
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


def _is_strings(value: object) -> bool:
    return type(value) is list and all(type(s) is str for s in value)


def _fast_resource(rd: dict, group: str, version: str) -> Optional[Resource]:
    name, kind, singular = rd["name"], rd.get("kind", ""), rd.get("singularName", "")
    namespaced, served = rd.get("namespaced", False), rd.get("served", True)
    verbs, short, categories = rd.get("verbs", []), rd.get("shortNames", []), rd.get("categories", [])
    if not (type(name) is str and name and type(kind) is str and type(singular) is str and type(namespaced) is bool
            and type(served) is bool and _is_strings(verbs) and _is_strings(short) and _is_strings(categories)):
        return None
    subs = []
    for sd in rd.get("subresources", ()):
        sub = Subresource(sd["name"], sd.get("kind", ""), sd.get("group", group), sd.get("version", version), sd.get("verbs", []))
        if not (type(sub.name) is str and type(sub.kind) is str and type(sub.group) is str and type(sub.version) is str
                and _is_strings(sd.get("verbs", []))):
            return None
        subs.append(sub)
    return Resource(name, kind, namespaced, verbs, singular, short, categories, subs, served)


def fast_groups(groups: list) -> Optional[list[Group]]:
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
