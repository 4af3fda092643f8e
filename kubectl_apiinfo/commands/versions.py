"""kubectl apiinfo versions: what kubectl api-versions lists, with stability and preference."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import out
from kubectl_apiinfo.printers.listings import listing
from kubectl_apiinfo.sources import select


def run(inv) -> None:
    with select.for_query(inv.flags, inv.kube_version) as source:
        rows = listings.versions(source.snapshot)
    out(listing("versions", rows, inv.output, inv.no_headers))
