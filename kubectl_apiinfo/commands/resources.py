"""kubectl apiinfo resources: what kubectl api-resources lists, with its filters."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.listings import RESOURCES as FORMATS


def run(options, factory) -> None:
    with factory.source() as source:
        snapshot = source.snapshot
    rows = listings.resources(
        snapshot,
        api_group=options.api_group,
        namespaced=options.namespaced,
        verbs=options.verbs,
        categories=options.categories,
        sort_by=options.sort_by,
    )
    factory.out(pick(FORMATS, options.output)(rows, options.no_headers))
