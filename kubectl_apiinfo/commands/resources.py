"""kubectl apiinfo resources: what kubectl api-resources lists, with its filters."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import out
from kubectl_apiinfo.printers.listings import listing
from kubectl_apiinfo.sources import select


def run(inv) -> None:
    with select.for_query(inv.flags, inv.kube_version) as source:
        snapshot = source.snapshot
    rows = listings.resources(
        snapshot,
        api_group=inv.api_group,
        namespaced=inv.namespaced,
        verbs=inv.verbs,
        categories=inv.categories,
        sort_by=inv.sort_by,
    )
    out(listing("resources", rows, inv.output, inv.no_headers))
