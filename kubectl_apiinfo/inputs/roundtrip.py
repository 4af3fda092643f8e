"""A YAML stream as its documents' text, and one document read and written back with its comments, key order,
quoting and indentation (ruamel.yaml's round-trip mode): what migrate rewrites, leaving every other byte alone.

ruamel.yaml is imported here only, and only when a document has to be rewritten.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(r"^---(?:[ \t]|$)")
_WIDE = 1 << 20  # never fold a long line anew


class Unreadable(Exception):
    """A document round-trip mode refuses (a duplicate key, which a rewrite would have to choose between)."""


class Document:
    """One document of a stream: the separator line before it ('' for the first), its text and its first line."""

    __slots__ = ("separator", "text", "line")

    def __init__(self, separator: str, text: str, line: int):
        self.separator = separator
        self.text = text
        self.line = line


def documents(text: str) -> list:
    """The stream cut at its '---' lines; ''.join(d.separator + d.text for d in them) is the text again."""
    found: list = []
    separator, lines, start = "", [], 1
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if _SEPARATOR.match(line):
            found.append(Document(separator, "".join(lines), start))
            separator, lines, start = line, [], number + 1
        else:
            lines.append(line)
    found.append(Document(separator, "".join(lines), start))
    return found


def join(docs: list) -> str:
    return "".join(d.separator + d.text for d in docs)


_KEY_ALONE = re.compile(r"^( *)(?:- )?[^\s#-][^#]*:\s*(?:#.*)?$")  # "key:" whose value is the block below


def _indents(text: str) -> tuple:
    """(mapping indent, sequence indent, dash offset) the document writes most often: a block mapping under its key
    by 2 or 4 spaces, a list's '- ' under its key or indented.  One of each for the whole document (ruamel writes
    one style), so a document that mixes them comes out in its commonest."""
    from collections import Counter

    mappings, offsets = Counter(), Counter()
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in zip(lines, lines[1:]):
        key = _KEY_ALONE.match(line)
        if not key:
            continue
        column = len(key.group(1)) + (2 if line.lstrip().startswith("- ") else 0)
        deeper = len(following) - len(following.lstrip(" "))
        if following.lstrip().startswith("- ") and deeper >= column:
            offsets[deeper - column] += 1
        elif deeper > column:
            mappings[deeper - column] += 1
    mapping = mappings.most_common(1)[0][0] if mappings else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return mapping, offset + 2, offset


def load(text: str):
    """(the document as CommentedMaps, a dumper keeping its style)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _WIDE
    mapping, sequence, offset = _indents(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    try:
        return yaml.load(text), yaml
    except Exception as e:  # noqa: BLE001 - ruamel's errors have no common base but Exception
        first = str(e).strip().splitlines()
        problem = getattr(e, "problem", None) or (first[0] if first else type(e).__name__)
        raise Unreadable(f"{problem} ({type(e).__name__}); fix it, then migrate again") from None


def dump(data, yaml, original: str) -> str:
    """data as YAML text, ending as the original did (with or without its last newline)."""
    import io

    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    if text.startswith("---") and not original.lstrip().startswith("---"):
        text = text.split("\n", 1)[1]
    if not original.endswith("\n") and text.endswith("\n"):
        text = text[:-1]
    return text


INVALID = object()  # what plain() gives for a document that is no valid YAML


def plain(text: str) -> object:
    """The document as plain data, read as check reads it (PyYAML's C loader where there is one, a plain `=` a
    string), or INVALID."""
    import yaml

    from kubectl_apiinfo.inputs.manifests import yaml_loader

    try:
        return yaml.load(text, Loader=yaml_loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return INVALID
