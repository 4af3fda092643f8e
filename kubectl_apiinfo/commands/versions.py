"""kubectl apiinfo versions: what kubectl api-versions lists, with stability and preference."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.listings import VERSIONS as FORMATS


def run(options, factory) -> None:
    with factory.source() as source:
        rows = listings.versions(source.snapshot)
    factory.out(pick(FORMATS, options.output)(rows, options.no_headers))
