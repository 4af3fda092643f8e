"""kubectl apiinfo cache list|clear|export|import: the snapshots on disk."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import note, out
from kubectl_apiinfo.errors import UserError, shorten
from kubectl_apiinfo.printers.listings import listing
from kubectl_apiinfo.sources import choose
from kubectl_apiinfo.sources.choose import ClusterFlags


def _count(n: int) -> str:
    return f"{n} snapshot{'' if n == 1 else 's'}"


def _open(inv):
    return choose.open_cache(ClusterFlags(cache_dir=inv.cache_dir))


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
    with _open(inv) as cache:
        count = cache.export_bundle(inv.file)
    note(f"exported {_count(count)} to {'stdout' if inv.file == '-' else inv.file}")


def _import(inv) -> None:
    with _open(inv) as cache:
        entries = cache.import_bundle(inv.file)
    note(f"imported {_count(len(entries))}: {', '.join(e.name for e in entries)}")
