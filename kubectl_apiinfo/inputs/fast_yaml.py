"""A reader for the block YAML that helm, kustomize and kubectl write, for when
PyYAML has no libyaml (the release zipapp ships pure-Python PyYAML, which takes
about 8 s for 10,000 objects; this takes about one).

It reads a strict subset: block mappings and sequences indented with spaces,
plain and quoted one-line scalars, one-line flow collections, literal block
scalars (|, |-, |+) and comments.  Anything else (anchors, tags, folded or
multi-line scalars, tabs, complex keys, ...) raises Unsupported and the caller
loads the document with PyYAML, so what this returns is what PyYAML's
SafeLoader returns (tests/test_fast_yaml.py compares the two).  Plain scalars
are typed by PyYAML's own resolver and constructor.
"""

from __future__ import annotations

import re


class Unsupported(Exception):
    """Not in the subset: load the document with PyYAML."""


_KEY = re.compile(r"""([^\s'"\-?:,\[\]{}#&*!|>%@`][^:#]*?|-[^\s:#][^:#]*?|'(?:[^']|'')*'|"[^"\\]*") *:(?: +|$)""")
_PLAIN_START = re.compile(r"""[^\s'"\-?:,\[\]{}#&*!|>%@`]|[-?:][^\s]""")
_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t\n\r]|$)", re.M)
_BLOCK = re.compile(r"\|([+-]?)$")
# Outside YAML's printable set (NUL, ESC, ...: PyYAML refuses them), or a line break other than \n (NEL,
# U+2028, U+2029: PyYAML breaks lines there): either way, PyYAML's to read or to refuse.
_NOT_PLAIN_TEXT = re.compile("[^\x09\x0A\x0D\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_FLOW_PLAIN = re.compile(r"[^,\[\]{}]*?(?=\s*(?:[,\]}]|:(?:\s|[,\]}])|$))")


class _Typer:
    """Plain scalars as PyYAML's SafeLoader types them: its resolver picks the tag, its constructor the value."""

    def __init__(self):
        import yaml

        self.resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers
        self.constructor = yaml.SafeLoader("")  # a loader on empty input: its constructor methods, its resolver
        self.node = yaml.ScalarNode
        self.cache: dict = {}

    def plain(self, text: str):
        hit = self.cache.get(text, self)
        if hit is not self:
            return hit
        tag = "tag:yaml.org,2002:str"
        for t, regexp in list(self.resolvers.get(text[:1], ())) + list(self.resolvers.get(None, ())):
            if regexp.match(text):
                tag = t
                break
        if tag == "tag:yaml.org,2002:str":
            value = text
        elif tag in ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value", "tag:yaml.org,2002:timestamp"):
            raise Unsupported(tag)
        else:
            value = self.constructor.construct_object(self.node(tag, text))
        if len(self.cache) < 10000:
            self.cache[text] = value
        return value


_TYPER: list = []


def _typer() -> _Typer:
    if not _TYPER:
        _TYPER.append(_Typer())
    return _TYPER[0]


def _strip_comment(text: str) -> str:
    """The line without a trailing ' # comment' (a '#' inside quotes stays)."""
    if "#" not in text:
        return text.rstrip()
    quote = ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"" and (i == 0 or text[i - 1] in " \t[{,:"):
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    if quote:
        raise Unsupported("an unclosed or multi-line quoted scalar")
    return text.rstrip()


def _quoted(text: str) -> str:
    if text[0] == "'":
        if len(text) < 2 or text[-1] != "'" or "'" in text[1:-1].replace("''", ""):
            raise Unsupported("quoted")
        return text[1:-1].replace("''", "'")
    if len(text) < 2 or text[-1] != '"' or '"' in text[1:-1] or "\\" in text:
        raise Unsupported("double-quoted with escapes")
    return text[1:-1]


def _scalar(text: str):
    if text[0] in "'\"":
        return _quoted(text)
    if text[0] in "[{":
        value, rest = _flow(text, 0)
        if rest != len(text):
            raise Unsupported("text after a flow collection")
        return value
    if not _PLAIN_START.match(text) or ": " in text or text.endswith(":") or " #" in text or "\t" in text:
        raise Unsupported("not a plain one-line scalar")
    return _typer().plain(text)


def _flow(text: str, i: int):
    """A one-line flow collection starting at text[i]: (value, the index after it)."""
    opening = text[i]
    closing = "]" if opening == "[" else "}"
    out: object = [] if opening == "[" else {}
    i += 1
    while True:
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text):
            raise Unsupported("a flow collection over several lines")
        if text[i] == closing:
            return out, i + 1
        key, i = _flow_item(text, i)
        while i < len(text) and text[i] == " ":
            i += 1
        if isinstance(out, dict):
            if i < len(text) and text[i] == ":":
                i += 1
                while i < len(text) and text[i] == " ":
                    i += 1
                if i < len(text) and text[i] in ",}":
                    value = None
                else:
                    value, i = _flow_item(text, i)
            else:
                value = None
            try:
                out[key] = value
            except TypeError:
                raise Unsupported("an unhashable key") from None
        else:
            if i < len(text) and text[i] == ":":
                raise Unsupported("a single-pair mapping in a flow sequence")
            out.append(key)
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
        elif i < len(text) and text[i] == closing:
            continue
        else:
            raise Unsupported("flow syntax")


def _flow_item(text: str, i: int):
    c = text[i]
    if c in "[{":
        return _flow(text, i)
    if c in "'\"":
        end = i + 1
        while True:
            end = text.find(c, end)
            if end < 0:
                raise Unsupported("an unclosed quote")
            if c == "'" and text[end + 1:end + 2] == "'":
                end += 2
                continue
            break
        return _quoted(text[i:end + 1]), end + 1
    m = _FLOW_PLAIN.match(text, i)
    plain = m.group(0).strip() if m else ""
    # in a flow collection '?' and '#' end a plain scalar (PyYAML's scanner), so here they are errors
    if not plain or not _PLAIN_START.match(plain) or plain[0] == ":" or "#" in plain or "?" in plain:
        raise Unsupported("flow scalar")
    return _typer().plain(plain), m.end()


class _Lines:
    def __init__(self, text: str):
        if _MARKER.search(text):
            raise Unsupported("a document marker inside the document")
        if "\t" in text:
            raise Unsupported("a tab: YAML allows it in some places only")
        self.raw = text.split("\n")
        self.i = 0

    def peek(self):
        """(indent, content) of the next line with content, skipping blank and comment lines; None at the end."""
        while self.i < len(self.raw):
            line = self.raw[self.i]
            stripped = line.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                self.i += 1
                continue
            return len(line) - len(stripped), _strip_comment(stripped)
        return None


def load(text: str):
    """The document's value, as yaml.safe_load gives it; raises Unsupported outside the subset."""
    if text.startswith("\ufeff") or "\r" in text:
        raise Unsupported("BOM or CR")
    if _NOT_PLAIN_TEXT.search(text):
        raise Unsupported("a character YAML refuses, or a line break other than \\n")
    lines = _Lines(text)
    first = lines.peek()
    if first is None:
        return None
    if first[1].startswith(("%", "---", "...")):
        raise Unsupported("directives or markers")
    value = _node(lines)
    if lines.peek() is not None:
        raise Unsupported("content after the document's root")
    return value


def _node(lines: _Lines):
    """The block collection that starts at the next line: a sequence or a mapping at its indent."""
    indent, content = lines.peek()
    if content.startswith("- ") or content == "-":
        return _sequence(lines, indent)
    if _KEY.match(content):
        return _mapping(lines, indent)
    raise Unsupported("a scalar where a collection starts, or an unknown line")


def _key(text: str):
    if text[0] in "'\"":
        return _quoted(text)
    key = text.rstrip()
    return _typer().plain(key)


def _value_after(lines: _Lines, rest: str, indent: int, in_mapping: bool):
    """A mapping value or sequence item whose line continues with rest; indent is the owner's."""
    if rest:
        m = _BLOCK.match(rest)
        if m:
            return _literal(lines, indent, m.group(1))
        if rest[0] in "&*!>|":
            raise Unsupported("anchor, alias, tag or folded scalar")
        value = _scalar(rest)
        nxt = lines.peek()
        if nxt is not None and nxt[0] > indent:
            raise Unsupported("a multi-line scalar")
        return value
    nxt = lines.peek()
    if nxt is None or nxt[0] < indent:
        return None
    if nxt[0] == indent:
        # a mapping's value may be a sequence at the key's own indent (kubectl writes them so)
        if in_mapping and (nxt[1].startswith("- ") or nxt[1] == "-"):
            return _sequence(lines, indent)
        return None
    return _node(lines)


def _mapping(lines: _Lines, indent: int) -> dict:
    out: dict = {}
    while True:
        nxt = lines.peek()
        if nxt is None or nxt[0] < indent:
            return out
        if nxt[0] > indent:
            raise Unsupported("bad indentation")
        m = _KEY.match(nxt[1])
        if not m:
            if nxt[1].startswith("- ") or nxt[1] == "-":
                return out  # the owner's sequence at the same indent
            raise Unsupported("not a key")
        key = _key(m.group(1))
        if key == "<<":
            raise Unsupported("merge key")
        rest = nxt[1][m.end():]
        lines.i += 1
        try:
            out[key] = _value_after(lines, rest, indent, in_mapping=True)
        except TypeError:
            raise Unsupported("an unhashable key") from None


def _sequence(lines: _Lines, indent: int) -> list:
    out = []
    while True:
        nxt = lines.peek()
        if nxt is None or nxt[0] < indent:
            return out
        if nxt[0] > indent:
            raise Unsupported("bad indentation")
        content = nxt[1]
        if not (content.startswith("- ") or content == "-"):
            return out  # a key of the owning mapping at the same indent
        rest = content[2:].lstrip(" ") if content != "-" else ""
        item_indent = indent + (len(content) - len(rest)) if rest else indent + 2
        lines.i += 1
        if rest.startswith("- ") or rest == "-":
            raise Unsupported("a compact nested sequence")
        m = _KEY.match(rest) if rest else None
        if m:
            # '- key: value' opens a mapping whose keys sit at the column of the first one
            item: dict = {}
            key = _key(m.group(1))
            if key == "<<":
                raise Unsupported("merge key")
            item[key] = _value_after(lines, rest[m.end():], item_indent, in_mapping=True)
            more = _mapping(lines, item_indent) if (lines.peek() or (-1,))[0] == item_indent else {}
            for k, v in more.items():
                if k in item:
                    raise Unsupported("a duplicate key")
                item[k] = v
            out.append(item)
        else:
            out.append(_value_after(lines, rest, indent, in_mapping=False))


def _literal(lines: _Lines, indent: int, chomp: str) -> str:
    """A literal block scalar's text (|, |- or |+), its content indented more than indent."""
    raw = lines.raw
    start = lines.i
    body = []
    content_indent = None
    i = start
    while i < len(raw):
        line = raw[i]
        stripped = line.lstrip(" ")
        if not stripped:
            if content_indent is None or len(line) > content_indent:
                raise Unsupported("blank lines with spaces that belong to a block scalar")
            body.append("")
            i += 1
            continue
        here = len(line) - len(stripped)
        if content_indent is None:
            if here <= indent:
                break
            content_indent = here
        if here < content_indent:
            if here > indent:
                raise Unsupported("a less indented line inside a block scalar")
            break
        body.append(line[content_indent:])
        i += 1
    lines.i = i
    if i >= len(raw) and raw[-1] != "":
        raise Unsupported("a block scalar without a final line break")
    text_lines = list(body)  # trailing empty lines belong to the chomping, not the text
    trailing = 0
    while text_lines and text_lines[-1] == "":
        text_lines.pop()
        trailing += 1
    if i >= len(raw) and trailing:
        trailing -= 1  # the split on the final newline is not an empty line
    if not text_lines:
        if chomp == "+":
            raise Unsupported("an empty kept block scalar")
        return ""
    text = "\n".join(text_lines)
    if chomp == "-":
        return text
    if chomp == "+":
        return text + "\n" + "\n" * trailing
    return text + "\n"
