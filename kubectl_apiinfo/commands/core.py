"""What the commands do once their flags are parsed: validate, then run, then print.

The typer CLI (cli.py) calls all of them; the fast path (fastpath.py), which
answers queries without importing typer, calls the query commands.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import List, Optional

from kubectl_apiinfo.answers import query
from kubectl_apiinfo.printers import render
from kubectl_apiinfo.sources import choose as sources
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.sources.choose import ClusterFlags


def emit(text: str) -> None:
    sys.stdout.write(text)


def check_output(value: Optional[str]) -> str:
    value = value or "table"
    if value not in render.OUTPUT_FORMATS:
        raise UserError(f"--output {value!r} is not available; use one of {'|'.join(render.OUTPUT_FORMATS)}")
    return value


def check_cluster_flags(flags: ClusterFlags) -> None:
    if flags.refresh and flags.offline:
        raise UserError("--refresh and --offline contradict each other; pick one")


def parse_bool(value: str, flag: str) -> bool:
    v = str(value).strip().lower()
    if v in ("true", "1", "yes", "t"):
        return True
    if v in ("false", "0", "no", "f"):
        return False
    raise UserError(f"{flag} takes true or false, not {value!r}")


def split_list(values: Optional[List[str]]) -> Optional[List[str]]:
    """kubectl's string slices: repeated flags and comma-separated values both work."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def show(flags: ClusterFlags, resource: str, kube_version: Optional[str] = None, output: str = "table") -> None:
    fmt = check_output(output)
    check_cluster_flags(flags)
    if not resource.strip():
        raise UserError("a resource name is required, e.g. 'kubectl apiinfo deployments'")
    answer = query.explain(sources.snapshot_for_query(flags, kube_version), resource)
    emit(render.explain(answer, fmt))
    problem = query.not_served_message(answer)
    if problem:
        raise UserError(problem)


def resources(
    flags: ClusterFlags,
    kube_version: Optional[str] = None,
    output: str = "table",
    api_group: Optional[str] = None,
    namespaced: Optional[str] = None,
    verbs: Optional[List[str]] = None,
    categories: Optional[List[str]] = None,
    sort_by: Optional[str] = None,
    no_headers: bool = False,
) -> None:
    fmt = check_output(output)
    check_cluster_flags(flags)
    if sort_by not in (None, "", "name", "kind"):
        raise UserError("--sort-by accepts only name or kind")
    wanted_namespaced = None if namespaced is None else parse_bool(namespaced, "--namespaced")
    rows = query.resources(
        sources.snapshot_for_query(flags, kube_version),
        api_group=api_group,
        namespaced=wanted_namespaced,
        verbs=split_list(verbs),
        categories=split_list(categories),
        sort_by=sort_by,
    )
    emit(render.listing("resources", rows, fmt, no_headers))


def versions(flags: ClusterFlags, kube_version: Optional[str] = None, output: str = "table", no_headers: bool = False) -> None:
    fmt = check_output(output)
    check_cluster_flags(flags)
    emit(render.listing("versions", query.versions(sources.snapshot_for_query(flags, kube_version)), fmt, no_headers))


def releases(output: str = "table", no_headers: bool = False) -> None:
    emit(render.listing("releases", query.releases(), check_output(output), no_headers))


def refresh(flags: ClusterFlags, all_contexts: bool = False, output: str = "table", no_headers: bool = False) -> None:
    fmt = check_output(output)
    check_cluster_flags(flags)
    contexts = sources.refresh_targets(flags, all_contexts)
    results = sources.refresh_many(flags, contexts, show_progress=sys.stderr.isatty() and len(contexts) > 1)
    failures = [(c, err) for c, _, err in results if err]
    if len(failures) < len(results):  # a table of nothing but failures would only repeat the error
        emit(render.listing("refreshed", query.refreshed(results), fmt, no_headers))
    if failures:
        context, err = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise UserError(f"refreshing {context} failed: {err}{more}")


# --- the cache ----------------------------------------------------------------


def _count(n: int) -> str:
    return f"{n} snapshot{'' if n == 1 else 's'}"


def note(message: str) -> None:
    """What a command did, on stderr, so stdout stays the answer."""
    sys.stderr.write(message + "\n")


def cache_list(cache_dir: Optional[str] = None, output: str = "table", no_headers: bool = False) -> None:
    fmt = check_output(output)
    with sources.open_cache(ClusterFlags(cache_dir=cache_dir)) as cache:
        rows = query.cached(cache.entries())
    emit(render.listing("snapshots", rows, fmt, no_headers))


def cache_clear(names: Optional[List[str]] = None, cache_dir: Optional[str] = None) -> None:
    with sources.open_cache(ClusterFlags(cache_dir=cache_dir)) as cache:
        entries = cache.entries()
        if names:
            unknown = [n for n in names if n not in {e.name for e in entries}]
            if unknown:
                raise UserError(f"no cached snapshot named {unknown[0]!r}; 'kubectl apiinfo cache list' shows them")
            dropped = cache.clear(e.identity for e in entries if e.name in names)
        else:
            dropped = cache.clear()
    note(f"dropped {_count(dropped)}")


def cache_export(file: str, cache_dir: Optional[str] = None) -> None:
    with sources.open_cache(ClusterFlags(cache_dir=cache_dir)) as cache:
        count = cache.export_bundle(file)
    note(f"exported {_count(count)} to {file}")


def cache_import(file: str, cache_dir: Optional[str] = None) -> None:
    with sources.open_cache(ClusterFlags(cache_dir=cache_dir)) as cache:
        entries = cache.import_bundle(file)
    note(f"imported {_count(len(entries))}: {', '.join(e.name for e in entries)}")
