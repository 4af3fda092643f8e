"""kubectl apiinfo releases: the Kubernetes releases in the offline catalog."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import out
from kubectl_apiinfo.printers.listings import listing


def run(inv) -> None:
    out(listing("releases", listings.releases(), inv.output, inv.no_headers))
