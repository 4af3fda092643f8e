#!/usr/bin/env python3
"""Compile the offline catalog from the Kubernetes facts in shared/k8s-data.

    python catalog/build_catalog.py [--data DIR] [--out DIR] [--spec VERSION=FILE|DIR ...]

A release comes from its raw OpenAPI spec: a v2 swagger.json (gzipped or not)
given with --spec or found in DIR/openapi-v2, else the v3 documents in
DIR/openapi-v3/v1.N/ (one per group/version), else the resource table in
DIR/resources (cross-checked against the v3 paths where documents exist but
carry no x-kubernetes-action, as 1.23's do; given its connect subresources by
DIR/openapi-v2-reconstructed/v1.N.connect.json where there are no documents, as
for 1.37).  catalog/README.md says how a new release is added.  The output is
deterministic.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubectl_apiinfo.model import (  # noqa: E402
    APISnapshot,
    Group,
    GroupVersion,
    Resource,
    SnapshotSource,
    Subresource,
    group_version,
    stability,
    version_priority_key,
)
from kubectl_apiinfo.model import parse_release as model_parse_release  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "k8s-data"
DEFAULT_OUT = ROOT / "catalog" / "data"
KEP_3136_RELEASE = (1, 24)  # from here on, new beta APIs are off by default

# A raw resource record: the shape of resources/v1.N.json, which the spec converter also produces.
Record = dict


def parse_release(text: str) -> tuple[int, int]:
    parsed = model_parse_release(text)  # the package's one parser of release numbers
    if parsed is None:
        raise ValueError(f"not a Kubernetes minor version: {text!r}")
    return parsed


def release_name(r: tuple[int, int]) -> str:
    return f"{r[0]}.{r[1]}"


# --- OpenAPI v2 -> records -------------------------------------------------

# x-kubernetes-action -> discovery verb, for a resource's own operations
_ACTION_VERBS = {
    "get": "get",
    "list": "list",
    "post": "create",
    "put": "update",
    "patch": "patch",
    "delete": "delete",
    "deletecollection": "deletecollection",
    "watch": "watch",
    "watchlist": "watch",
}
# A connect subresource (pods/exec, .../proxy) gets one verb per HTTP method, as
# the apiserver's endpoint installer maps them; HEAD and OPTIONS give none.
CONNECT_METHOD_VERBS = {"get": "get", "post": "create", "put": "update", "patch": "patch", "delete": "delete"}
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def _walk_paths(documents: Iterable[dict]) -> Iterator[tuple[str, str, str, bool, Optional[str], dict]]:
    """(group, version, resource, namespaced, subresource or None, path item) for each resource URL.

    v2 and v3 lay out paths and their operations' x-kubernetes-* fields alike;
    only the schemas differ, and resources need none of them.
    """
    for doc in documents:
        for path, item in doc.get("paths", {}).items():
            parsed = _split_path(path)
            if parsed is None:
                continue
            group, version, rest = parsed
            segments = rest.split("/")
            if segments[0] == "watch":
                segments = segments[1:]
            namespaced = len(segments) >= 3 and segments[0] == "namespaces" and segments[1] == "{namespace}"
            if namespaced:
                segments = segments[2:]
            if not segments or segments[0].startswith("{"):
                continue
            # [resource], [resource, {name}], [resource, {name}, sub] or [resource, {name}, sub, {path}]
            sub = segments[2] if len(segments) >= 3 else None
            yield group, version, segments[0], namespaced, sub, item


def records_from_documents(documents: Iterable[dict]) -> list[Record]:
    """Every resource that parsed OpenAPI documents describe, in the shape of resources/*.json.

    documents is one v2 spec, or the v3 documents of a server (one per
    group/version, as /openapi/v3/apis/G/V serves them): the two formats put
    the same x-kubernetes-action and x-kubernetes-group-version-kind on the
    same paths.
    """
    found: dict[tuple, dict] = {}
    for group, version, resource, namespaced, sub, item in _walk_paths(documents):
        entry = found.setdefault(
            (group, version, resource),
            {"namespaced": False, "kinds": [], "verbs": set(), "subresources": {}},
        )
        entry["namespaced"] |= namespaced
        for method in _HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict) or "x-kubernetes-action" not in op:
                continue
            action = op["x-kubernetes-action"]
            gvk = op.get("x-kubernetes-group-version-kind") or {}
            if sub is None:
                verb = _ACTION_VERBS.get(action)
                if verb:
                    entry["verbs"].add(verb)
                if gvk.get("kind"):
                    entry["kinds"].append(gvk["kind"])
                continue
            s = entry["subresources"].setdefault(sub, {"gvk": None, "verbs": set()})
            if s["gvk"] is None and gvk.get("kind"):
                s["gvk"] = gvk
            verb = CONNECT_METHOD_VERBS.get(method) if action == "connect" else _ACTION_VERBS.get(action)
            if verb:
                s["verbs"].add(verb)
    records = []
    for (group, version, resource), e in found.items():
        if not e["kinds"]:
            continue  # only subresource paths, or documents without x-kubernetes-action
        subs = []
        for name, s in sorted(e["subresources"].items()):
            gvk = s["gvk"] or {}
            subs.append(
                {
                    "subresource": name,
                    "kind": gvk.get("kind", ""),
                    "group": gvk.get("group", group),
                    "version": gvk.get("version", version),
                    "verbs": sorted(s["verbs"]),
                }
            )
        records.append(
            {
                "group": group,
                "version": version,
                "resource": resource,
                "kind": e["kinds"][0],
                "namespaced": e["namespaced"],
                "verbs": sorted(e["verbs"]),
                "subresources": subs,
            }
        )
    records.sort(key=lambda r: (r["group"], r["version"], r["resource"]))
    return records


def records_from_openapi(spec: dict) -> list[Record]:
    """Every resource an OpenAPI v2 spec describes, in the shape of resources/*.json."""
    return records_from_documents([spec])


def has_actions(documents: Iterable[dict]) -> bool:
    """Whether every document that describes resources marks its operations with x-kubernetes-action.

    1.23's v3 documents do not, except the kube-aggregator's own
    (apiregistration.k8s.io), so one document having them is not enough.
    Documents without resource URLs (a server's /api or /apis/G) do not count.
    """
    found = False
    for doc in documents:
        items = [item for *_, item in _walk_paths([doc])]
        if not items:
            continue
        if not any(isinstance(op, dict) and "x-kubernetes-action" in op for item in items for op in item.values()):
            return False
        found = True
    return found


def resource_urls(documents: Iterable[dict]) -> dict[tuple, dict]:
    """(group, version, resource) -> {namespaced, subresources}, from the paths' URLs alone."""
    found: dict[tuple, dict] = {}
    for group, version, resource, namespaced, sub, _ in _walk_paths(documents):
        entry = found.setdefault((group, version, resource), {"namespaced": False, "subresources": set()})
        entry["namespaced"] |= namespaced
        if sub is not None:
            entry["subresources"].add(sub)
    return found


_NAME_OF_KIND = re.compile(r"name of the (\w+)")


def connect_subresources(documents: Iterable[dict]) -> dict[tuple, dict[str, dict]]:
    """(group, version, resource) -> its connect subresources, from documents without x-kubernetes-action.

    Such documents still give a connect operation an operationId starting with
    "connect" and describe the {name} path parameter as "name of the <Kind>"
    (PodExecOptions, NodeProxyOptions, ...); the verbs follow the HTTP methods.
    """
    found: dict[tuple, dict[str, dict]] = {}
    for group, version, resource, _, sub, item in _walk_paths(documents):
        if sub is None:
            continue
        methods = [
            m for m in _HTTP_METHODS if isinstance(item.get(m), dict) and str(item[m].get("operationId", "")).startswith("connect")
        ]
        if not methods:
            continue
        s = found.setdefault((group, version, resource), {}).setdefault(sub, {"kind": "", "verbs": set()})
        s["kind"] = s["kind"] or _named_kind(item, methods)
        s["verbs"] |= {CONNECT_METHOD_VERBS[m] for m in methods if m in CONNECT_METHOD_VERBS}
    return found


def _named_kind(item: dict, methods: list[str]) -> str:
    params = list(item.get("parameters", []))
    for m in methods:
        params += item[m].get("parameters", [])
    for p in params:
        if isinstance(p, dict) and p.get("in") == "path" and p.get("name") == "name":
            match = _NAME_OF_KIND.fullmatch(str(p.get("description", "")))
            if match:
                return match.group(1)
    return ""


def with_connect_subresources(records: list[Record], connect: dict[tuple, dict[str, dict]]) -> list[Record]:
    """The table's records with the connect subresources it lacks added."""
    out = []
    for r in records:
        have = {s["subresource"] for s in r.get("subresources", [])}
        extra = [
            {"subresource": name, "kind": c["kind"], "group": r["group"], "version": r["version"], "verbs": sorted(c["verbs"])}
            for name, c in sorted(connect.get((r["group"], r["version"], r["resource"]), {}).items())
            if name not in have
        ]
        out.append(dict(r, subresources=list(r.get("subresources", [])) + extra) if extra else r)
    return out


def connect_operations(entries: list[dict]) -> dict[tuple, dict[str, dict]]:
    """(group, version, resource) -> its connect subresources, from a list of {path, methods}.

    Such a list (openapi-v2-reconstructed/v1.N.connect.json) names no kinds, so
    every kind is left empty for connect_kinds_from to fill.
    """
    paths = {e["path"]: {m: {} for m in e["methods"]} for e in entries}
    found: dict[tuple, dict[str, dict]] = {}
    for group, version, resource, _, sub, item in _walk_paths([{"paths": paths}]):
        if sub is None:
            raise SystemExit(f"connect operation on {group_version(group, version)}/{resource} itself, not a subresource")
        s = found.setdefault((group, version, resource), {}).setdefault(sub, {"kind": "", "verbs": set()})
        s["verbs"] |= {CONNECT_METHOD_VERBS[m] for m in item if m in CONNECT_METHOD_VERBS}
    return found


def connect_kinds_from(records: list[Record], previous: list[Record], name: str, before: str) -> list[Record]:
    """The records with each unnamed subresource's kind taken from the same subresource in the release before.

    A connect list names paths and methods only; the options kind of a connect
    subresource (PodExecOptions, NodeProxyOptions, ...) has not changed since
    the catalog's first release, so the previous release's spec is the
    nearest fact.  A subresource new in this release would have none: refused.
    """
    kinds = {
        (r["group"], r["version"], r["resource"], s["subresource"]): s["kind"] for r in previous for s in r["subresources"]
    }
    out = []
    for r in records:
        subs = []
        for s in r["subresources"]:
            if not s["kind"]:
                key = (r["group"], r["version"], r["resource"], s["subresource"])
                if not kinds.get(key):
                    raise SystemExit(f"{name}: {'/'.join(key[2:])} is a connect subresource that {before} does not have, so its kind is not known")
                s = dict(s, kind=kinds[key])
            subs.append(s)
        out.append(dict(r, subresources=subs))
    return out


def cross_check_connect(records: list[Record], connect: dict[tuple, dict]) -> list[str]:
    """Connect operations on resources the table does not have."""
    table = {(r["group"], r["version"], r["resource"]) for r in records}
    return [f"{'/'.join(key)} has connect operations but is not in the table" for key in sorted(connect.keys() - table)]


def cross_check_table(records: list[Record], urls: dict[tuple, dict]) -> list[str]:
    """Where a resource table disagrees with the URLs of the same release's documents.

    The tables lack the connect subresources (exec, proxy, ...), so the URLs may
    have more subresources than a table, never fewer.
    """
    problems = []
    table = {(r["group"], r["version"], r["resource"]): r for r in records}
    for key in sorted(table.keys() - urls.keys()):
        problems.append(f"{'/'.join(key)} is in the table but has no URL")
    for key in sorted(urls.keys() - table.keys()):
        problems.append(f"{'/'.join(key)} has URLs but is not in the table")
    for key in sorted(table.keys() & urls.keys()):
        t, u = table[key], urls[key]
        if bool(t["namespaced"]) != u["namespaced"]:
            problems.append(f"{'/'.join(key)}: namespaced {t['namespaced']} in the table, {u['namespaced']} in the URLs")
        missing = {s["subresource"] for s in t.get("subresources", [])} - u["subresources"]
        if missing:
            problems.append(f"{'/'.join(key)}: subresources {sorted(missing)} have no URL")
    return problems


def _split_path(path: str) -> Optional[tuple[str, str, str]]:
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) >= 3:
        return "", parts[1], "/".join(parts[2:])
    if parts[0] == "apis" and len(parts) >= 4:
        return parts[1], parts[2], "/".join(parts[3:])
    return None


def spec_kubernetes_version(spec: dict) -> str:
    version = str(spec.get("info", {}).get("version", ""))
    # release-branch specs say "unversioned"; only a real version is worth quoting
    return version if re.fullmatch(r"v?\d+\.\d+.*", version) else ""


# --- which API a default cluster serves -----------------------------------


class DefaultServing:
    """Whether a default kube-apiserver of one release serves a group/version/resource.

    Follows DefaultAPIResourceConfigSource(): a resource named in a list
    overrides the setting of its group/version.
    """

    def __init__(self, enabled_gvs: Iterable[str], enabled_resources: Iterable[str], disabled: Iterable[str]):
        self.enabled_gvs = set(enabled_gvs)
        self.enabled_resources = set(enabled_resources)
        self.disabled = set(disabled)

    @classmethod
    def from_lists(cls, entry: dict) -> "DefaultServing":
        other = entry.get("otherServersEnabled", {}).get("groupVersions", [])
        return cls(
            list(entry["enabledGroupVersions"]) + list(other),
            entry.get("enabledBetaResources", []),
            entry.get("disabledByDefault", []),
        )

    def served(self, group: str, version: str, resource: str) -> Optional[bool]:
        """True/False where the lists say; None where they do not name the API."""
        gv = group_version(group, version)
        gvr = f"{gv}/{resource}"
        if gvr in self.enabled_resources:
            return True
        if gvr in self.disabled:
            return False
        if gv in self.enabled_gvs:
            return True
        if gv in self.disabled:
            return False
        return None


def derive_serving(release: tuple[int, int], records: list[Record], previous: list[Record], previous_serving: dict) -> dict:
    """Default serving for a release without lists, from its neighbour and the documented rules.

    GA group/versions are served and alpha ones never; a beta that the previous
    release served stays served (lifecycle removals already took it out of the
    spec); a beta new in this release is served only before KEP-3136 (1.24).
    """
    previous_keys = {(r["group"], r["version"]) for r in previous}
    result = {}
    for r in records:
        key = (r["group"], r["version"], r["resource"])
        level = stability(r["version"])
        if level in ("stable", "other"):
            served = True
        elif level == "alpha":
            served = False
        elif (r["group"], r["version"]) in previous_keys:
            served = previous_serving.get(key, False)
        else:
            served = release < KEP_3136_RELEASE
        result[key] = served
    return result


# --- building --------------------------------------------------------------

ORIGIN_V2 = "OpenAPI v2 spec"
ORIGIN_V3 = "OpenAPI v3 documents"
ORIGIN_TABLE_CHECKED = "resource table (cross-checked against v3 paths)"
ORIGIN_TABLE = "resource table"
ORIGIN_TABLE_CONNECT = "resource table and connect operations"
SPEC_ORIGINS = (ORIGIN_V2, ORIGIN_V3)

# The kube-aggregator lists its own group right after the core group, above every
# groupPriorityMinimum (v1 discovery puts it first; aggregated discovery gives it 20001).
AGGREGATOR_GROUP = "apiregistration.k8s.io"


class RawRelease:
    """One release's resources as read, before serving flags and ordering."""

    def __init__(self, name: str, records: list[Record], origin: str, note: str, unnamed_kinds: bool = False):
        self.name = name
        self.records = records
        self.origin = origin
        self.note = note
        self.unnamed_kinds = unnamed_kinds  # connect subresources whose kinds the previous release gives


class Builder:
    def __init__(self, data_dir: Path, extra_specs: dict[tuple[int, int], Path]):
        self.data = data_dir
        self.extra_specs = extra_specs
        self.defaults = json.loads((data_dir / "default-enabled.json").read_text())["releases"]
        self.names = {
            (n["group"], n["resource"]): n for n in json.loads((data_dir / "names.json").read_text())["names"]
        }
        self.raw_lifecycle = json.loads((data_dir / "lifecycle.json").read_text())
        self.priorities = json.loads((data_dir / "group-priorities.json").read_text())["groupPriorityMinimum"]

    def releases(self) -> list[tuple[int, int]]:
        found = set(self.extra_specs)
        for p in (self.data / "resources").glob("v*.json"):
            found.add(parse_release(p.stem))
        for p in (self.data / "openapi-v2").glob("v*.json*"):
            found.add(parse_release(p.name.split(".json")[0]))
        for p in (self.data / "openapi-v3").glob("v*"):
            if p.is_dir():
                found.add(parse_release(p.name))
        return sorted(found)

    def spec_path(self, release: tuple[int, int]) -> Optional[Path]:
        extra = self.extra_specs.get(release)
        if extra is not None:
            return None if extra.is_dir() else extra
        for suffix in (".json.gz", ".json"):
            p = self.data / "openapi-v2" / f"v{release_name(release)}{suffix}"
            if p.exists():
                return p
        return None

    def v3_documents(self, release: tuple[int, int]) -> list[dict]:
        extra = self.extra_specs.get(release)
        folder = extra if extra is not None and extra.is_dir() else self.data / "openapi-v3" / f"v{release_name(release)}"
        files = sorted(p for p in folder.glob("*.json*") if p.name.endswith((".json", ".json.gz"))) if folder.is_dir() else []
        return [load_json(p) for p in files]

    def raw_release(self, release: tuple[int, int]) -> RawRelease:
        name = release_name(release)
        spec = self.spec_path(release)
        if spec is not None:
            doc = load_json(spec)
            of = spec_kubernetes_version(doc) or name
            return RawRelease(name, records_from_documents([doc]), ORIGIN_V2, f"APIs from the OpenAPI v2 spec of Kubernetes {of}.")
        docs = self.v3_documents(release)
        if docs and has_actions(docs):
            note = f"APIs from the OpenAPI v3 documents of Kubernetes {name} (one per group/version)."
            return RawRelease(name, records_from_documents(docs), ORIGIN_V3, note)
        table = json.loads((self.data / "resources" / f"v{name}.json").read_text())
        where = table.get("source", "resources/*.json")
        connect_file = self.data / "openapi-v2-reconstructed" / f"v{name}.connect.json"
        if not docs and connect_file.exists():
            connect = connect_operations(json.loads(connect_file.read_text()))
            problems = cross_check_connect(table["resources"], connect)
            if problems:
                raise SystemExit(f"{name}: the resource table and {connect_file.name} disagree: " + "; ".join(problems[:5]))
            names = ", ".join(sorted({sub for subs in connect.values() for sub in subs}))
            note = (
                f"APIs from the resource table ({where}), with the connect subresources it lacks ({names}) "
                f"from the release's connect operations ({connect_file.parent.name}/{connect_file.name}); "
                "that list names no kinds, so each takes its kind from the previous release."
            )
            records = with_connect_subresources(table["resources"], connect)
            return RawRelease(name, records, ORIGIN_TABLE_CONNECT, note, unnamed_kinds=True)
        if not docs:
            return RawRelease(name, table["resources"], ORIGIN_TABLE, f"APIs from the resource table ({where}).")
        problems = cross_check_table(table["resources"], resource_urls(docs))
        if problems:
            raise SystemExit(f"{name}: the resource table and the v3 documents disagree: " + "; ".join(problems[:5]))
        note = (
            f"APIs from the resource table ({where}); its v3 documents name no x-kubernetes-action, "
            "but they have a URL for every resource and subresource of the table, and give the connect "
            "subresources (exec, proxy, ...) that the table lacks."
        )
        records = with_connect_subresources(table["resources"], connect_subresources(docs))
        return RawRelease(name, records, ORIGIN_TABLE_CHECKED, note)

    def group_order(self, records: list[Record]) -> tuple[list[str], list[str]]:
        """The release's groups as the kube-aggregator lists them, and those whose place no table gives.

        Highest groupPriorityMinimum first; a tie goes to the smaller APIService
        name (version.group) of the tied groups' versions, as the aggregator sorts.
        """
        versions: dict[str, set[str]] = {}
        for r in records:
            versions.setdefault(r["group"], set()).add(r["version"])
        unknown = sorted(g for g in versions if g not in self.priorities and g != AGGREGATOR_GROUP)

        def key(g: str) -> tuple:
            if g == "":
                return (0, 0, "")
            if g == AGGREGATOR_GROUP:
                return (1, 0, "")
            if g in unknown:
                return (3, 0, g)
            return (2, -self.priorities[g], min(f"{v}.{g}" for v in versions[g]))

        return sorted(versions, key=key), unknown

    def build(self, out: Path) -> None:
        raws = [self.raw_release(r) for r in self.releases()]
        for before, raw in zip(raws, raws[1:]):
            if raw.unnamed_kinds:
                raw.records = connect_kinds_from(raw.records, before.records, raw.name, before.name)
        names = [raw.name for raw in raws]
        (out / "releases").mkdir(parents=True, exist_ok=True)
        for stale in (out / "releases").glob("*.json"):
            stale.unlink()
        index = []
        history: dict[str, dict[tuple, dict]] = {}
        kinds: dict[str, dict[tuple[str, str], list[tuple[str, bool]]]] = {}
        previous: tuple[list[Record], dict] = ([], {})
        for raw in raws:
            name, records = raw.name, raw.records
            lists = self.defaults.get(name)
            notes = [raw.note]
            if lists is not None:
                serving = DefaultServing.from_lists(lists)
                served = {}
                for r in records:
                    verdict = serving.served(r["group"], r["version"], r["resource"])
                    if verdict is None:
                        raise SystemExit(
                            f"{name}: {group_version(r['group'], r['version'])}/{r['resource']} is in the spec "
                            "but not named in the default lists; add it to default-enabled.json"
                        )
                    served[(r["group"], r["version"], r["resource"])] = verdict
                defaults_note = "Served-by-default flags from the kube-apiserver's DefaultAPIResourceConfigSource()."
                if lists.get("match", "").startswith("content-fingerprint (development cycle)"):
                    # The release is out; only the copy of its lists predates the release branch.
                    defaults_note += (
                        " The lists were read from a copy made during the release cycle, not from the release "
                        "branch, so a change made later in the cycle would not be here."
                    )
            else:
                served = derive_serving(parse_release(name), records, *previous)
                defaults_note = (
                    "Served-by-default flags derived (no default lists for this release): GA on, alpha off, "
                    "betas as in the previous release, new betas off from 1.24 on."
                )
            notes.append(defaults_note)
            order, unknown = self.group_order(records)
            order_note = "Groups in the kube-aggregator's discovery order (group-priorities.json)"
            if unknown:
                order_note += f"; the place of {', '.join(unknown)} is not known, so it is listed last"
            notes.append(order_note + ".")
            extra: dict[str, Any] = {"defaultsDerived": lists is None, "origin": raw.origin, "groupOrder": "discovery"}
            if unknown:
                extra["groupOrderUnknown"] = unknown
            snapshot = self.snapshot(name, f"Kubernetes {name}", records, served, notes, extra, order)
            write_json(out / "releases" / f"{name}.json", snapshot.to_dict())
            index.append({"version": name, "origin": raw.origin, "defaultsDerived": lists is None})
            release_kinds = kinds.setdefault(name, {})
            for r in records:
                key = (r["group"], r["version"], r["kind"])
                entry = history.setdefault(r["resource"], {}).setdefault(
                    key, {"contained": [], "served": [], "shortNames": self.short_names(r)}
                )
                entry["contained"].append(name)
                is_served = served[(r["group"], r["version"], r["resource"])]
                if is_served:
                    entry["served"].append(name)
                release_kinds.setdefault((r["group"], r["kind"]), []).append((r["version"], is_served))
            previous = (records, served)
        origins = {raw.name: raw.origin for raw in raws}
        write_json(out / "index.json", {"releases": index, "newest": names[-1]})
        write_json(out / "lifecycle.json", compile_lifecycle(self.raw_lifecycle, history, kinds, names, origins))
        write_json(out / "history.json", compile_history(history, names))

    def short_names(self, record: Record) -> list[str]:
        return list(self.names.get((record["group"], record["resource"]), {}).get("shortNames", []))

    def snapshot(
        self, name: str, label: str, records: list[Record], served: dict, notes: list[str], extra: dict, order: list[str]
    ) -> APISnapshot:
        groups: dict[str, dict[str, list[Resource]]] = {}
        for r in records:
            names = self.names.get((r["group"], r["resource"]), {})
            resource = Resource(
                name=r["resource"],
                kind=r["kind"],
                namespaced=bool(r["namespaced"]),
                verbs=sorted(r["verbs"]),
                short_names=list(names.get("shortNames", [])),
                categories=list(names.get("categories", [])),
                subresources=[
                    Subresource(s["subresource"], s["kind"], s["group"], s["version"], sorted(s["verbs"]))
                    for s in sorted(r.get("subresources", []), key=lambda s: s["subresource"])
                ],
                served=served[(r["group"], r["version"], r["resource"])],
            )
            groups.setdefault(r["group"], {}).setdefault(r["version"], []).append(resource)
        source = SnapshotSource(kind="catalog", name=label, kubernetes_version=name, notes=notes, extra=extra)
        return APISnapshot(
            source,
            [
                Group(g, [GroupVersion(v, sorted(rs, key=lambda x: x.name)) for v, rs in groups[g].items()])
                for g in order
            ],
        )


# --- lifecycle: the upstream tags, checked against what the releases show ---


def compile_lifecycle(raw: dict, history: dict, kinds: dict, names: list[str], origins: dict[str, str]) -> dict:
    """group/version/Kind -> introduced, deprecated, removed, replacement, and where the releases disagree.

    The upstream prerelease-lifecycle tags are kept; where the releases show a
    kind before its `introduced` (or only later), `introduced` says what they
    show and `introducedUpstream` keeps the tag.  A missing replacement, or one
    that is no kind of its group/version in any release, is derived and marked
    `replacementDerived`.
    """
    contained: dict[tuple, list[str]] = {}
    for entries in history.values():
        for key, e in entries.items():
            contained.setdefault(key, [])
            contained[key] = sorted(set(contained[key]) | set(e["contained"]), key=names.index)
    catalog_kinds = {group_version(g, v) + "/" + k for g, v, k in contained}
    out: dict[str, dict] = {}
    upstream: dict[tuple, dict] = {}
    for e in raw["entries"]:
        facts = {k: e[k] for k in ("introduced", "deprecated", "removed") if e.get(k)}
        rep = e.get("replacement")
        if rep:
            facts["replacement"] = f"{group_version(rep['group'], rep['version'])}/{rep['kind']}"
        upstream[(e["group"], e["version"], e["kind"])] = facts
    for key in sorted(upstream.keys() | contained.keys()):
        facts = dict(upstream.get(key, {}))
        releases = contained.get(key)
        if releases:
            _check_introduced(facts, releases, names, origins)
            _derive_replacement(key, facts, releases, names, kinds, catalog_kinds)
        if facts:
            out[group_version(key[0], key[1]) + "/" + key[2]] = facts
    return dict(sorted(out.items()))


def _minor(name: str) -> tuple[int, int]:
    return parse_release(name)


def _check_introduced(facts: dict, releases: list[str], names: list[str], origins: dict[str, str]) -> None:
    tagged = facts.get("introduced")
    first = releases[0]
    if not tagged:
        return
    earlier = _minor(tagged) > _minor(first)
    later = _minor(tagged) < _minor(first) and first != names[0]
    if not (earlier or later):
        return
    if first == names[0]:
        # Present in the oldest release: the releases bound it from above only.
        continuous = len(releases) == names.index(releases[-1]) - names.index(first) + 1 and releases[-1] == names[-1]
        what = "spec" if origins[first] in SPEC_ORIGINS else "resource table"
        note = f"in every release since {first}" if continuous else f"already in the {first} {what}"
        del facts["introduced"]
    else:
        what = "spec" if origins[first] in SPEC_ORIGINS else "resource table"
        note = f"first in the {first} {what}"
        facts["introduced"] = first
    facts["introducedUpstream"] = tagged
    facts["introducedNote"] = note


def _derive_replacement(key: tuple, facts: dict, releases: list[str], names: list[str], kinds: dict, catalog_kinds: set) -> None:
    group, version, kind = key
    rep = facts.get("replacement")
    if rep:
        rep_group = rep.rsplit("/", 2)[0] if rep.count("/") == 2 else ""
        if rep_group != group or rep in catalog_kinds:
            return  # a Kubernetes statement we can check (or a cross-group one, which we keep)
    last = releases[-1]
    if last == names[-1]:
        if not (facts.get("removed") or facts.get("deprecated")):
            return  # still here and not on its way out: no successor needed
        target = names[-1]
    else:
        target = names[names.index(last) + 1]
    candidates = [
        (not served, version_priority_key(v), v)
        for v, served in kinds.get(target, {}).get((group, kind), [])
        if version_priority_key(v) < version_priority_key(version)
    ]
    if not candidates:
        return
    successor = min(candidates)[2]
    if rep:
        facts["replacementUpstream"] = rep
    facts["replacement"] = f"{group_version(group, successor)}/{kind}"
    facts["replacementDerived"] = True


def compile_history(history: dict, names: list[str]) -> dict:
    """resource plural -> every group/version/kind that contained it, as release ranges."""
    out = {}
    for resource in sorted(history):
        entries = []
        for (group, version, kind), e in sorted(history[resource].items()):
            entry = {"group": group, "version": version, "kind": kind, "contained": ranges(e["contained"], names)}
            if e["shortNames"]:
                entry["shortNames"] = e["shortNames"]
            if e["served"]:
                entry["served"] = ranges(e["served"], names)
            entries.append(entry)
        out[resource] = entries
    return out


def ranges(members: list[str], order: list[str]) -> list[list[str]]:
    """Consecutive runs of releases, as [first, last] pairs."""
    runs: list[list[str]] = []
    last_index = None
    for name in members:
        i = order.index(name)
        if last_index is not None and i == last_index + 1:
            runs[-1][1] = name
        else:
            runs.append([name, name])
        last_index = i
    return runs


def load_json(path: Path) -> Any:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("K8S_DATA", DEFAULT_DATA)))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--spec", action="append", default=[], metavar="VERSION=FILE|DIR", help="an extra release's swagger.json, or a folder of its OpenAPI v3 documents"
    )
    args = parser.parse_args(argv)
    extra = {}
    for item in args.spec:
        version, _, file = item.partition("=")
        extra[parse_release(version)] = Path(file)
    if not (args.data / "default-enabled.json").exists():
        parser.error(f"no Kubernetes data at {args.data} (set --data or K8S_DATA)")
    Builder(args.data, extra).build(args.out)
    # explain's schemas: a separate compiler (build_schemas.py), same data, same output directory
    import build_schemas

    build_schemas.write_schemas(args.data, args.out, {release_name(r): p for r, p in extra.items()})
    print(f"catalog written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
