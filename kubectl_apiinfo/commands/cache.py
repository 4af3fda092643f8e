"""kubectl apiinfo cache list|clear|export|import: the snapshots on disk."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import note, out
from kubectl_apiinfo.errors import UserError, shorten
from kubectl_apiinfo.printers.listings import listing
from kubectl_apiinfo.sources.cluster.access import open_cache
from kubectl_apiinfo.sources.cluster.flags import ClusterFlags
from kubectl_apiinfo.sources.snapshots import bundle


def _count(n: int) -> str:
    return f"{n} snapshot{'' if n == 1 else 's'}"


def _open(inv):
    return open_cache(ClusterFlags(cache_dir=inv.cache_dir))


def run(inv) -> None:
    {"list": _list, "clear": _clear, "export": _export, "import": _import}[inv.path[1]](inv)


def _list(inv) -> None:
    with _open(inv) as cache:
        rows = listings.cached(cache.entries())
    out(listing("snapshots", rows, inv.output, inv.no_headers))


def _clear(inv) -> None:
    with _open(inv) as cache:
        names = cache.names()  # identity -> name, from the heads alone
        if inv.names:
            unknown = [n for n in inv.names if n not in set(names.values())]
            if unknown:
                raise UserError(f"no cached snapshot named {shorten(unknown[0])!r}; 'kubectl apiinfo cache list' shows them")
            dropped = cache.clear(i for i, name in names.items() if name in inv.names)
        else:
            dropped = cache.clear()
    note(f"dropped {_count(dropped)}")


def _export(inv) -> None:
    from kubectl_apiinfo.sources.openapi.document_store import BUNDLE_KEY, SchemaStore

    with _open(inv) as cache:

        def schemas(identities: list) -> dict:
            """The clusters' OpenAPI documents, so that explain works on the other side too."""
            if cache.read_only:
                return {}
            with SchemaStore.sharing(cache, close_it=False) as store:
                part = store.bundle_part(identities)
            return {BUNDLE_KEY: part} if part["indexes"] else {}

        count = bundle.export_bundle(cache, inv.file, schemas)
    note(f"exported {_count(count)} to {'stdout' if inv.file == '-' else inv.file}")


def _import(inv) -> None:
    from kubectl_apiinfo.sources.openapi.document_store import BUNDLE_KEY, SchemaStore, validate_part

    with _open(inv) as cache:
        entries, parts = bundle.import_bundle(cache, inv.file, {BUNDLE_KEY: validate_part})
        if BUNDLE_KEY in parts:
            with SchemaStore.sharing(cache, close_it=False) as store:
                store.import_part(parts[BUNDLE_KEY], "the bundle" if inv.file == "-" else inv.file)
    note(f"imported {_count(len(entries))}: {', '.join(e.name for e in entries)}")
