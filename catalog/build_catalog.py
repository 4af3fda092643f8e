#!/usr/bin/env python3
"""Compile the offline catalog from the Kubernetes facts in shared/k8s-data.

    python catalog/build_catalog.py [--data DIR] [--out DIR] [--spec VERSION=FILE ...]

A release comes from its raw OpenAPI v2 spec (swagger.json, gzipped or not)
where one is given or found in DIR/openapi-v2, else from DIR/resources.  To add
a future release, drop its swagger.json into openapi-v2 (and its default lists
into default-enabled.json) and run this again.  The output is deterministic.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Optional

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
)

DEFAULT_DATA = ROOT.parent / "shared" / "k8s-data"
DEFAULT_OUT = ROOT / "catalog" / "data"
KEP_3136_RELEASE = (1, 24)  # from here on, new beta APIs are off by default

# A raw resource record: the shape of resources/v1.N.json, which the spec converter also produces.
Record = dict


def parse_release(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    if not m:
        raise ValueError(f"not a Kubernetes minor version: {text!r}")
    return int(m.group(1)), int(m.group(2))


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
_CONNECT_METHOD_VERBS = {"get": "get", "post": "create", "put": "update", "patch": "patch", "delete": "delete"}
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def records_from_openapi(spec: dict) -> list[Record]:
    """Every resource an OpenAPI v2 spec describes, in the shape of resources/*.json."""
    found: dict[tuple, dict] = {}
    for path, item in spec.get("paths", {}).items():
        parsed = _split_path(path)
        if parsed is None:
            continue
        group, version, rest = parsed
        segments = rest.split("/")
        watch = segments[0] == "watch"
        if watch:
            segments = segments[1:]
        namespaced = len(segments) >= 3 and segments[0] == "namespaces" and segments[1] == "{namespace}"
        if namespaced:
            segments = segments[2:]
        if not segments or segments[0].startswith("{"):
            continue
        resource = segments[0]
        # [resource], [resource, {name}], [resource, {name}, sub] or [resource, {name}, sub, {path}]
        sub = segments[2] if len(segments) >= 3 else None
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
            verb = _CONNECT_METHOD_VERBS.get(method) if action == "connect" else _ACTION_VERBS.get(action)
            if verb:
                s["verbs"].add(verb)
    records = []
    for (group, version, resource), e in found.items():
        if not e["kinds"]:
            continue  # only subresource paths (never happens for real resources)
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


class Builder:
    def __init__(self, data_dir: Path, extra_specs: dict[tuple[int, int], Path]):
        self.data = data_dir
        self.extra_specs = extra_specs
        self.defaults = json.loads((data_dir / "default-enabled.json").read_text())["releases"]
        self.names = {
            (n["group"], n["resource"]): n for n in json.loads((data_dir / "names.json").read_text())["names"]
        }
        self.lifecycle = compile_lifecycle(json.loads((data_dir / "lifecycle.json").read_text()))

    def releases(self) -> list[tuple[int, int]]:
        found = set(self.extra_specs)
        for p in (self.data / "resources").glob("v*.json"):
            found.add(parse_release(p.stem))
        for p in (self.data / "openapi-v2").glob("v*.json*"):
            found.add(parse_release(p.name.split(".json")[0]))
        return sorted(found)

    def spec_path(self, release: tuple[int, int]) -> Optional[Path]:
        if release in self.extra_specs:
            return self.extra_specs[release]
        for suffix in (".json.gz", ".json"):
            p = self.data / "openapi-v2" / f"v{release_name(release)}{suffix}"
            if p.exists():
                return p
        return None

    def raw_release(self, release: tuple[int, int]) -> tuple[list[Record], str]:
        spec = self.spec_path(release)
        if spec is not None:
            doc = load_json(spec)
            origin = f"OpenAPI v2 spec of Kubernetes {spec_kubernetes_version(doc) or release_name(release)}"
            return records_from_openapi(doc), origin
        table = json.loads((self.data / "resources" / f"v{release_name(release)}.json").read_text())
        return table["resources"], f"resource tables ({table.get('source', 'resources/*.json')})"

    def build(self, out: Path) -> None:
        releases = self.releases()
        (out / "releases").mkdir(parents=True, exist_ok=True)
        for stale in (out / "releases").glob("*.json"):
            stale.unlink()
        index = []
        history: dict[str, dict[tuple, dict]] = {}
        previous: tuple[list[Record], dict] = ([], {})
        for release in releases:
            name = release_name(release)
            records, origin = self.raw_release(release)
            lists = self.defaults.get(name)
            notes = [f"APIs from the {origin}."]
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
                    defaults_note += " Its lists come from a development-cycle snapshot; later changes are possible."
            else:
                served = derive_serving(release, records, *previous)
                defaults_note = (
                    "Served-by-default flags derived (no default lists for this release): GA on, alpha off, "
                    "betas as in the previous release, new betas off from 1.24 on."
                )
            notes.append(defaults_note)
            snapshot = self.snapshot(name, records, served, notes, derived=lists is None)
            write_json(out / "releases" / f"{name}.json", snapshot.to_dict())
            index.append({"version": name, "origin": origin, "defaultsDerived": lists is None})
            for r in records:
                key = (r["group"], r["version"], r["kind"])
                entry = history.setdefault(r["resource"], {}).setdefault(
                    key, {"contained": [], "served": [], "shortNames": self.short_names(r)}
                )
                entry["contained"].append(name)
                if served[(r["group"], r["version"], r["resource"])]:
                    entry["served"].append(name)
            previous = (records, served)
        names = [release_name(r) for r in releases]
        write_json(out / "index.json", {"releases": index, "newest": names[-1]})
        write_json(out / "lifecycle.json", self.lifecycle)
        write_json(out / "history.json", compile_history(history, names))

    def short_names(self, record: Record) -> list[str]:
        return list(self.names.get((record["group"], record["resource"]), {}).get("shortNames", []))

    def snapshot(self, name: str, records: list[Record], served: dict, notes: list[str], derived: bool) -> APISnapshot:
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
        source = SnapshotSource(
            kind="catalog",
            name=f"Kubernetes {name}",
            kubernetes_version=name,
            notes=notes,
            extra={"defaultsDerived": derived},
        )
        return APISnapshot(
            source,
            [
                Group(g, [GroupVersion(v, sorted(rs, key=lambda x: x.name)) for v, rs in versions.items()])
                for g, versions in sorted(groups.items())
            ],
        )


def compile_lifecycle(raw: dict) -> dict:
    """group/version/Kind -> introduced, deprecated, removed, replacement."""
    out = {}
    for e in raw["entries"]:
        facts = {k: e[k] for k in ("introduced", "deprecated", "removed") if e.get(k)}
        rep = e.get("replacement")
        if rep:
            facts["replacement"] = f"{group_version(rep['group'], rep['version'])}/{rep['kind']}"
        out[f"{group_version(e['group'], e['version'])}/{e['kind']}"] = facts
    return dict(sorted(out.items()))


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
        "--spec", action="append", default=[], metavar="VERSION=FILE", help="an extra release's swagger.json"
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
