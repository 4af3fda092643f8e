"""kubectl apiinfo cache list|clear|export|import: the snapshots on disk."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import note
from kubectl_apiinfo.errors import UserError, shorten
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.listings import SNAPSHOTS as FORMATS  # cache list's
from kubectl_apiinfo.sources.cluster.access import open_cache
from kubectl_apiinfo.sources.cluster.flags import ClusterFlags
from kubectl_apiinfo.sources.snapshots import bundle


def _count(n: int) -> str:
    return f"{n} snapshot{'' if n == 1 else 's'}"


def _open(options):
    return open_cache(ClusterFlags(cache_dir=options.cache_dir))


def run(options, factory) -> None:
    {"list": _list, "clear": _clear, "export": _export, "import": _import}[options.path[1]](options, factory)


def _list(options, factory) -> None:
    with _open(options) as cache:
        rows = listings.cached(cache.entries())
    factory.out(pick(FORMATS, options.output)(rows, options.no_headers))


def _clear(options, factory) -> None:
    with _open(options) as cache:
        names = cache.names()  # identity -> name, from the heads alone
        if options.names:
            unknown = [n for n in options.names if n not in set(names.values())]
            if unknown:
                raise UserError(f"no cached snapshot named {shorten(unknown[0])!r}; 'kubectl apiinfo cache list' shows them")
            dropped = cache.clear(i for i, name in names.items() if name in options.names)
        else:
            dropped = cache.clear()
    note(f"dropped {_count(dropped)}")


def _export(options, factory) -> None:
    from kubectl_apiinfo.sources.cluster import scans
    from kubectl_apiinfo.sources.openapi.document_store import BUNDLE_KEY, SchemaStore

    with _open(options) as cache:

        def parts(identities: list) -> dict:
            """The clusters' OpenAPI documents, so that explain works on the other side too, and their last
            scans, so that scan --offline does."""
            found = {}
            kept = scans.bundle_part(cache, identities)
            if kept:
                found[scans.BUNDLE_KEY] = kept
            if cache.read_only:
                return found
            with SchemaStore.sharing(cache, close_it=False) as store:
                part = store.bundle_part(identities)
            if part["indexes"]:
                found[BUNDLE_KEY] = part
            return found

        count = bundle.export_bundle(cache, options.file, parts)
    note(f"exported {_count(count)} to {'stdout' if options.file == '-' else options.file}")


def _import(options, factory) -> None:
    from kubectl_apiinfo.sources.cluster import scans
    from kubectl_apiinfo.sources.openapi.document_store import BUNDLE_KEY, SchemaStore, validate_part

    with _open(options) as cache:
        entries, parts = bundle.import_bundle(cache, options.file, {BUNDLE_KEY: validate_part,
                                                                    scans.BUNDLE_KEY: scans.validate_part})
        if scans.BUNDLE_KEY in parts:
            scans.import_part(cache, parts[scans.BUNDLE_KEY], [e.identity for e in entries])
        if BUNDLE_KEY in parts:
            with SchemaStore.sharing(cache, close_it=False) as store:
                store.import_part(parts[BUNDLE_KEY], "the bundle" if options.file == "-" else options.file)
    names = ", ".join(e.name for e in entries)
    note(f"imported {_count(len(entries))}" + (f": {names}" if names else ""))
