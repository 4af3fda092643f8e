"""kubectl apiinfo RESOURCE: the explain-style answer about the resources a word names."""

from kubectl_apiinfo.answers import query
from kubectl_apiinfo.console import out
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.printers import show as printer
from kubectl_apiinfo.sources import choose


def run(inv) -> None:
    answer = query.explain(choose.snapshot_for_query(inv.flags, inv.kube_version), inv.resource)
    out(printer.explain(answer, inv.output))
    problem = query.not_served_message(answer)
    if problem:
        raise UserError(problem)
