"""kubectl apiinfo diff FROM TO [RESOURCE]: what changes between two releases or cached clusters.

A side that reads as a Kubernetes release (1.29, v1.29.3) is that catalog
release; any other word is a kubeconfig context whose cached snapshot answers
(as --context NAME would).  context/NAME is always a context, for a context
whose name looks like a release.
"""

from kubectl_apiinfo.model import release_name
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.upgrade import DIFF as FORMATS

CONTEXT_PREFIX = "context/"


def side(word: str, options, factory):
    from kubectl_apiinfo.errors import UserError
    from kubectl_apiinfo.sources.cluster.flags import ClusterFlags

    if not word.strip():
        raise UserError("diff takes two sides, each a release (1.29) or a context name, e.g. 'kubectl apiinfo diff 1.29 1.33'")
    if not word.startswith(CONTEXT_PREFIX) and release_name(word) is not None:
        return factory.release(word)
    context = word[len(CONTEXT_PREFIX):] if word.startswith(CONTEXT_PREFIX) else word
    flags = ClusterFlags.from_values({**options.values(), "context": context})
    try:
        return factory.context(flags, context)
    except UserError as e:
        raise UserError(f"{word!r} is neither a Kubernetes release (1.29, v1.29.3) nor a context with a snapshot: {e}") from None


def run(options, factory):
    from kubectl_apiinfo.answers import diff

    before = side(options.before, options, factory)
    try:
        after = side(options.after, options, factory)
        try:
            answer = diff.diff(before, after, options.resource, options.fields)
        finally:
            after.close()
    finally:
        before.close()
    from kubectl_apiinfo.console import note

    for n in answer["notes"]:
        note(n)
    factory.out(pick(FORMATS, options.output)(answer, options.no_headers))
    if options.output not in ("json", "yaml") and not any(answer[k] for k in ("groupVersions", "resources", "fields")):
        note(f"No changes between {before.label} and {after.label}.")
