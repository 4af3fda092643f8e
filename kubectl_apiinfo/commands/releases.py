"""kubectl apiinfo releases: the Kubernetes releases in the offline catalog."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.listings import RELEASES as FORMATS


def run(options, factory) -> None:
    factory.out(pick(FORMATS, options.output)(listings.releases(), options.no_headers))
