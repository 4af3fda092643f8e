"""kubectl apiinfo explain RESOURCE[.field.path]: kubectl explain, offline, for any release or cached cluster."""

from __future__ import annotations

from kubectl_apiinfo.errors import UserError


def run(options, factory) -> None:
    """The flags were validated by cli/validate.py: -o, --api-version and the contradictions."""
    with factory.explain_source() as source:
        factory.out(_answer(source, options.resource, options.api_version, options.recursive, options.output))


def _answer(source, resource: str, api_version, recursive: bool, output: str) -> str:
    from kubectl_apiinfo.answers import fields
    from kubectl_apiinfo.printers import explain_fields
    from kubectl_apiinfo.sources.catalog import schemas

    target = fields.split_request(source, resource, api_version)
    found = source.definitions(target.group_version, target.kind)
    if found is None:
        raise UserError(source.missing_kind(target.group_version, target.kind))
    defs, root = found
    history = None
    if output != "plaintext" and output != "plaintext-openapiv2":
        history = fields.field_history(schemas.schema_releases(), schemas.catalog_root_finder(target.group_version, target.kind), target)
    # kubectl explain prints its older layout for a server without /openapi/v3; so do we, from its v2 document
    v2_layout = output == "plaintext-openapiv2" or (output in ("plaintext", "text") and source.v2_only(target.group_version))
    printer = explain_fields.plaintext_v2 if v2_layout else explain_fields.plaintext
    text = printer(defs, target.group, target.version, target.kind, root, target.path, recursive)
    if text is None or (output in ("json", "yaml") and fields.located(defs, root, target.path) is None):
        index, near = fields.nearest_fields(defs, root, target.path)
        missing = target.path[index]
        message = f'field "{missing}" does not exist in {target.group_version} {target.kind} in {source.schema_label}'
        if near:
            message += f"; did you mean {' or '.join(repr(n) for n in near)}?"
        if history is None:
            history = fields.field_history(schemas.schema_releases(), schemas.catalog_root_finder(target.group_version, target.kind), target)
        if history["contained"] and index == len(target.path) - 1:
            message += "; " + fields.absent_message(target, source.schema_release or "", history)
        raise UserError(message)
    if output in ("json", "yaml"):
        from kubectl_apiinfo.printers.structured import structured

        return structured(fields.json_answer(defs, target, root, source.describe_schemas(), history), output)
    if output == "text":
        text += explain_fields.history_block(history, source.schema_label)
    return text
