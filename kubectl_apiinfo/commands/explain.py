"""kubectl apiinfo explain RESOURCE[.field.path]: kubectl explain, offline, for any release or cached cluster."""

from __future__ import annotations

from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.explain_fields import FORMATS


def run(options, factory) -> None:
    """The flags were validated by cli/validate.py: -o, --api-version and the contradictions."""
    printer = pick(FORMATS, options.output)
    with factory.explain_source() as source:
        factory.out(_answer(source, options.resource, options.api_version, options.recursive, printer))


def _answer(source, resource: str, api_version, recursive: bool, printer) -> str:
    from kubectl_apiinfo.answers import fields

    request = fields.split_request(source, resource, api_version)
    found = source.definitions(request.group_version, request.kind)
    if found is None:
        raise UserError(source.missing_kind(request.group_version, request.kind))
    defs, root = found
    explained = fields.Explained(source, request, defs, root, recursive)
    text = printer(explained)
    if text is None:  # the field path does not exist in the layout printed
        index, near = fields.nearest_fields(defs, root, request.path)
        missing = request.path[index]
        message = f'field "{missing}" does not exist in {request.group_version} {request.kind} in {source.schema_label}'
        if near:
            message += f"; did you mean {' or '.join(repr(n) for n in near)}?"
        history = explained.history
        if history["contained"] and index == len(request.path) - 1:
            message += "; " + fields.absent_message(request, source.schema_release or "", history)
        raise UserError(message)
    return text
