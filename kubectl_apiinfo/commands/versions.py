"""kubectl apiinfo versions: what kubectl api-versions lists, with stability and preference."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import out
from kubectl_apiinfo.printers.listings import listing
from kubectl_apiinfo.sources import choose


def run(inv) -> None:
    rows = listings.versions(choose.snapshot_for_query(inv.flags, inv.kube_version))
    out(listing("versions", rows, inv.output, inv.no_headers))
