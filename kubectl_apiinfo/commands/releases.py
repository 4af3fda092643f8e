"""kubectl apiinfo releases: the Kubernetes releases in the offline catalog."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.printers.listings import listing


def run(options, factory) -> None:
    factory.out(listing("releases", listings.releases(), options.output, options.no_headers))
