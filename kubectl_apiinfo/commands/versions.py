"""kubectl apiinfo versions: what kubectl api-versions lists, with stability and preference; or, with -o helm
and -o argocd, what helm template and Argo CD are to be told the target serves."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.listings import CAPABILITIES, VERSIONS

FORMATS = {**VERSIONS, **CAPABILITIES}


def run(options, factory) -> None:
    printer = pick(FORMATS, options.output)
    with factory.source() as source:
        snapshot = source.snapshot
    if options.output not in CAPABILITIES:
        factory.out(printer(listings.versions(snapshot), options.no_headers))
        return
    answer = listings.capabilities(snapshot)
    _warn(answer, snapshot.source.name)
    factory.out(printer(answer, options.no_headers))


def _warn(answer: dict, name: str) -> None:
    from kubectl_apiinfo.console import warn

    if not answer["kubeVersion"]:
        warn(f"the Kubernetes version of {name} is not known: none is given, so helm assumes its own")
    if answer["skipped"]:
        warn(f"left out {len(answer['skipped'])} API name(s) that are not one plain word for a shell: {answer['skipped'][0]!r}")
