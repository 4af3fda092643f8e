"""kubectl apiinfo RESOURCE: the explain-style answer about the resources a word names."""

from kubectl_apiinfo.answers import show as show_answers
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.show import FORMATS


def run(options, factory) -> None:
    with factory.source(words=[options.resource]) as source:
        answer = show_answers.explain(source, options.resource)
    factory.out(pick(FORMATS, options.output)(answer))
    problem = show_answers.not_served_message(answer)
    if problem:
        raise UserError(problem)
