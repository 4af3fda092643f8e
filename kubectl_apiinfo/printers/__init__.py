"""Printers turn an answer into text.  Each answer's printer module has a table of its
formats, format -> printer function (listings.RESOURCES, show.FORMATS, explain_fields.FORMATS,
upgrade.CHECK, upgrade.DIFF ...); a command picks its printer from its table with pick().

cli/spec.py lists the same words for -o (help, completion, validation); a test keeps
each command's list equal to its table's keys."""

from kubectl_apiinfo.errors import UserError, flag, shorten


def pick(formats: dict, output: str):
    """The printer for -o output; a format the table lacks is refused as cli/validate.py refuses it."""
    printer = formats.get(output)
    if printer is None:
        names = tuple(formats)
        allowed = ", ".join(names[:-1]) + f" or {names[-1]}"
        raise UserError(f"{flag('output')} {shorten(output)!r} is not available; {flag('output')} accepts only {allowed}")
    return printer
