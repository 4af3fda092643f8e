"""kubectl apiinfo versions: what kubectl api-versions lists, with stability and preference."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.printers.listings import listing


def run(options, factory) -> None:
    with factory.source() as source:
        rows = listings.versions(source.snapshot)
    factory.out(listing("versions", rows, options.output, options.no_headers))
