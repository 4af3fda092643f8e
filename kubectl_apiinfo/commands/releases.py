"""kubectl apiinfo releases: the Kubernetes releases in the offline catalog."""

from kubectl_apiinfo.answers import query
from kubectl_apiinfo.console import out
from kubectl_apiinfo.printers import render


def run(inv) -> None:
    out(render.listing("releases", query.releases(), inv.output, inv.no_headers))
