"""kubectl apiinfo RESOURCE: the explain-style answer about the resources a word names."""

from kubectl_apiinfo.answers import show as show_answers
from kubectl_apiinfo.console import out
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.printers import show as printer
from kubectl_apiinfo.sources import select


def run(inv) -> None:
    with select.for_query(inv.flags, inv.kube_version, words=[inv.resource]) as source:
        answer = show_answers.explain(source, inv.resource)
    out(printer.explain(answer, inv.output))
    problem = show_answers.not_served_message(answer)
    if problem:
        raise UserError(problem)
