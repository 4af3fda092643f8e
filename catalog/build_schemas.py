"""Compile every release's OpenAPI schemas into the catalog, for 'explain'.

Called by build_catalog.py (write_schemas); also runnable alone:

    python catalog/build_schemas.py [--data DIR] [--out DIR]

Sources (see the data README): the v3 documents (openapi-v3/v1.N/*.json.gz)
where a release has them, since they are what a live server's /openapi/v3
serves (defaults included); else the v2 spec (openapi-v2/v1.N.json.gz); else
the v2 definitions reconstructed for a release whose raw spec is out of reach
(openapi-v2-reconstructed/v1.N.json.gz: `definitions` only, read like a v2
spec).  All are normalized into one form (kubectl_apiinfo.sources.openapi.schema_form),
the form a cluster's documents are converted into as well.

Output under OUT/schemas/:
  releases/1.N.json.gz   {release, source, kinds: {groupVersion: {Kind: name}},
                          defs: {name: hash}, overrides: {groupVersion: {name: hash}},
                          types: {name: type}}
  defs/NN.json.gz        {hash: definition}: every distinct definition once,
                          packed by a hash of its *name* so one answer (and the
                          history of one field across releases) opens few packs.
The hash is the first 16 hex digits of the SHA-256 of a definition's canonical
JSON, descriptions included.  Output is deterministic (gzip mtime 0, sorted keys).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubectl_apiinfo.sources.openapi import schema_form  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "k8s-data"


def _load(path: Path) -> Any:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return json.loads(raw)


def release_of(name: str) -> tuple[int, int]:
    m = re.fullmatch(r"v?(\d+)\.(\d+)", name)
    if not m:
        raise ValueError(f"not a release: {name!r}")
    return int(m.group(1)), int(m.group(2))


# What each kind of source is called in a release's schema index
SOURCE_NAMES = {
    "v3": "OpenAPI v3 documents",
    "v2": "OpenAPI v2 spec",
    "v2-definitions": "OpenAPI v2 definitions (reconstructed)",
}


def sources(data: Path, extra_specs: Optional[dict] = None) -> dict[str, tuple[str, list[Path]]]:
    """release -> ("v3" | "v2" | "v2-definitions", files), v3 preferred, reconstructed definitions last.

    extra_specs (build_catalog's --spec) maps a release to a swagger.json or to a
    directory of v3 documents, and wins over the data.
    """
    found: dict[str, tuple[str, list[Path]]] = {}
    for p in sorted((data / "openapi-v2-reconstructed").glob("v*.json*")):
        if ".connect." in p.name:
            continue  # a release's connect operations (build_catalog.py reads them), not schemas
        found[p.name.split(".json")[0][1:]] = ("v2-definitions", [p])
    for p in sorted((data / "openapi-v2").glob("v*.json*")):
        found[p.name.split(".json")[0][1:]] = ("v2", [p])
    for d in sorted((data / "openapi-v3").glob("v*")):
        files = sorted(d.glob("*.json*"))
        if files:
            found[d.name[1:]] = ("v3", files)
    for name, path in (extra_specs or {}).items():
        path = Path(path)
        found[name] = ("v3", sorted(path.glob("*.json*"))) if path.is_dir() else ("v2", [path])
    return dict(sorted(found.items(), key=lambda kv: release_of(kv[0])))


def document_group_version(path: Path) -> str:
    """'apis__apps__v1_openapi.json.gz' -> 'apps/v1'; 'api__v1_openapi.json.gz' -> 'v1'."""
    parts = path.name.split("_openapi")[0].split("__")
    return "/".join(parts[1:])


def compile_release(kind: str, files: list[Path]) -> tuple[dict, dict, dict]:
    """(definitions by name in the normalized form, {groupVersion: {Kind: name}},
    {groupVersion: {name: definition}} where that group/version's document has its own copy of a name).

    In a release's v3 documents a name nearly always means one definition; 1.23
    and 1.24 ship a few meta/v1 types that differ between documents.
    """
    if kind in ("v2", "v2-definitions"):
        defs, kinds = schema_form.from_v2(_load(files[0]))
        return defs, kinds, {}
    defs: dict[str, dict] = {}
    kinds: dict[str, dict[str, str]] = {}
    overrides: dict[str, dict[str, dict]] = {}
    for f in files:
        d, k = schema_form.from_v3(_load(f))
        for name, definition in d.items():
            if name not in defs:
                defs[name] = definition
            elif defs[name] != definition:
                overrides.setdefault(document_group_version(f), {})[name] = definition
        for gv, by_kind in k.items():
            for kind_name, name in by_kind.items():
                kinds.setdefault(gv, {}).setdefault(kind_name, name)
    return defs, kinds, overrides


def gzip_json(data: Any) -> bytes:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def write_schemas(data: Path, out: Path, extra_specs: Optional[dict] = None) -> dict[str, str]:
    """Write OUT/schemas; returns {release: source description}."""
    base = out / "schemas"
    for sub in ("releases", "defs"):
        (base / sub).mkdir(parents=True, exist_ok=True)
        for stale in (base / sub).glob("*.json.gz"):
            stale.unlink()
    packs: dict[int, dict[str, dict]] = {}
    written: dict[str, str] = {}
    order = list(sources(data, extra_specs))
    history = History(order)
    for release, (kind, files) in sources(data, extra_specs).items():
        defs, kinds, overrides = compile_release(kind, files)

        def store(name: str, definition: dict) -> str:
            h = schema_form.content_hash(definition)
            pack = packs.setdefault(schema_form.pack_of(name), {})
            if pack.get(h, definition) != definition:
                raise SystemExit(f"hash collision on {h}; lengthen schema_form.HASH_DIGITS")
            pack[h] = definition
            return h

        index_defs = {name: store(name, d) for name, d in defs.items()}
        index_overrides = {gv: {n: store(n, d) for n, d in by_name.items()} for gv, by_name in overrides.items()}
        source = SOURCE_NAMES[kind]
        index = {
            "release": release,
            "source": source,
            "kinds": kinds,
            "defs": index_defs,
            "overrides": index_overrides,
            "types": schema_form.primitive_types(defs),
        }
        (base / "releases" / f"{release}.json.gz").write_bytes(gzip_json(index))
        history.add(release, index)
        written[release] = source
    for number, pack in sorted(packs.items()):
        (base / "defs" / f"{number:03d}.json.gz").write_bytes(gzip_json(pack))
    (base / "history.json.gz").write_bytes(gzip_json(history.compiled()))
    return written


class History:
    """Every release's index folded into one file, so a field's history opens one index, not one per release.

    {releases: [...], kinds: {gv: {Kind: [[name, runs]]}}, defs: {name: [[hash, runs]]},
     overrides: {gv: {name: [[hash, runs]]}}, types: {name: [[type, runs]]}}; runs are [[first, last]]
    positions in releases.
    """

    def __init__(self, order: list[str]):
        self.order = order
        self.kinds: dict = {}
        self.defs: dict = {}
        self.overrides: dict = {}
        self.types: dict = {}

    def add(self, release: str, index: dict) -> None:
        i = self.order.index(release)
        for gv, by_kind in index["kinds"].items():
            for kind, name in by_kind.items():
                self.kinds.setdefault(gv, {}).setdefault(kind, {}).setdefault(name, []).append(i)
        for name, h in index["defs"].items():
            self.defs.setdefault(name, {}).setdefault(h, []).append(i)
        for gv, by_name in index["overrides"].items():
            for name, h in by_name.items():
                self.overrides.setdefault(gv, {}).setdefault(name, {}).setdefault(h, []).append(i)
        for name, t in index["types"].items():
            self.types.setdefault(name, {}).setdefault(t, []).append(i)

    @staticmethod
    def _runs(positions: list[int]) -> list[list[int]]:
        runs: list[list[int]] = []
        for p in sorted(positions):
            if runs and runs[-1][1] == p - 1:
                runs[-1][1] = p
            else:
                runs.append([p, p])
        return runs

    def _fold(self, table: dict) -> dict:
        return {k: sorted([v, self._runs(ps)] for v, ps in values.items()) for k, values in table.items()}

    def compiled(self) -> dict:
        return {
            "releases": self.order,
            "kinds": {gv: self._fold(by_kind) for gv, by_kind in self.kinds.items()},
            "defs": self._fold(self.defs),
            "overrides": {gv: self._fold(by_name) for gv, by_name in self.overrides.items()},
            "types": self._fold(self.types),
        }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("K8S_DATA", DEFAULT_DATA)))
    parser.add_argument("--out", type=Path, default=ROOT / "catalog" / "data")
    args = parser.parse_args(argv)
    written = write_schemas(args.data, args.out)
    print(f"schemas of {len(written)} releases written to {args.out / 'schemas'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
