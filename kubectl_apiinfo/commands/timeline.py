"""kubectl apiinfo timeline WORD...: when each group/version of resources or API groups came and went, across
every catalog release, with the answering release marked."""

from kubectl_apiinfo import console
from kubectl_apiinfo.answers import timeline as timeline_answers
from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.timeline import FORMATS


def run(options, factory) -> None:
    printer = pick(FORMATS, options.output)
    words = list(options.words or [])
    if not words and not options.all:
        raise UserError(f"name a resource or an API group (apps, networking.k8s.io, core), or give {flag('all')}")
    with factory.source() as source:  # the whole snapshot: a word may name a group, not only a resource
        answer = timeline_answers.timeline(source, words, options.all)
    if answer.get("markedNote") and options.output != "json":
        console.warn(answer["markedNote"] + ": no release is marked and its CRDs have no column")
    factory.out(printer(answer, console.columns(), console.colour_wanted(options.color)))
