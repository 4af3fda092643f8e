"""Reading manifests as kubectl's -f does: files, directories (-R), stdin ('-'),
YAML multi-document streams and JSON, with each object's file and line.

An object's location is where a person finds it: FILE:LINE, or the template
Helm rendered it from (its `# Source:` comment) when the stream came through
`helm template`.  `kind: List` is opened into its items.  A document that does
not parse is one Problem (file and line) and the rest of the input is still read.

YAML is split into documents on their `---` lines and each is read on its own,
by fast_yaml (the block YAML charts render, about eight times faster than
pure-Python PyYAML and twice libyaml), else by PyYAML: composing node trees only
to learn line numbers costs several times the load, and only a List's items need them.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Iterator

from kubectl_apiinfo.errors import UserError

# kubectl's FileExtensions for directories (k8s.io/cli-runtime resource.FileExtensions)
EXTENSIONS = (".json", ".yaml", ".yml")
_SOURCE = re.compile(r"^#\s*Source:\s*(\S.*?)\s*$")
_SEPARATOR = re.compile(r"^---(?:\s|$)")
_END = re.compile(r"^\.\.\.\s*$")


class Manifest:
    """One object of the input, and where it was written."""

    __slots__ = ("obj", "file", "line", "source")

    def __init__(self, obj: dict, file: str, line: int, source: str = ""):
        self.obj = obj
        self.file = file  # as given ('-' is shown as <stdin>)
        self.line = line  # 1-based line of the object's first line
        self.source = source  # Helm's "# Source: chart/templates/x.yaml", if any

    @property
    def location(self) -> str:
        return self.source or f"{self.file}:{self.line}"


class Problem:
    """Input that could not be read as objects: its file and line, and what is wrong."""

    __slots__ = ("file", "line", "message")

    def __init__(self, file: str, line: int, message: str):
        self.file = file
        self.line = line
        self.message = message

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def expand(paths: list, recursive: bool) -> list:
    """The files -f names, as kubectl visits them: a directory's files with a manifest extension,
    in name order (its subdirectories too with -R); '-' is stdin."""
    files = []
    for path in paths:
        if path == "-":
            files.append(path)
            continue
        if os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs.sort()
                if not recursive:
                    dirs[:] = []
                found.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(EXTENSIONS))
            files.extend(found)
        elif os.path.exists(path):
            files.append(path)
        else:
            raise UserError(f"the path {path!r} does not exist; -f takes files, directories or '-' for stdin")
    return files


MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # one file or stdin: a whole rendered chart is a few MB


def read_text(path: str) -> str:
    from kubectl_apiinfo.files import read_bounded

    try:
        return read_bounded(path, MAX_MANIFEST_BYTES, "a manifest").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text; -f takes YAML or JSON manifests") from None
    except OSError as e:
        raise UserError(f"cannot read {path} ({e.strerror})") from None


def read(paths: list, recursive: bool = False) -> Iterator:
    """Manifest and Problem records for every object of every file, in the order given."""
    for path in expand(paths, recursive):
        name = "<stdin>" if path == "-" else path
        yield from parse(read_text(path), name)


def parse(text: str, name: str) -> Iterator:
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        yield from _parse_json(text, name)
    else:
        yield from _parse_yaml(text, name)


# --- YAML ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _loader():
    """PyYAML's safe loader (libyaml's when there is one), reading a plain `=` as the string it is to kubectl:
    YAML 1.1's "value" tag, which go-yaml never had (prometheus-operator's CRDs use `=` as a match type)."""
    import yaml

    base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

    class ManifestLoader(base):  # type: ignore[misc, valid-type]
        pass

    ManifestLoader.add_constructor("tag:yaml.org,2002:value", base.construct_yaml_str)
    return ManifestLoader


def yaml_loader():
    """The PyYAML loader check reads documents with: migrate reads the same documents the same way."""
    return _loader()


def _chunks(text: str) -> Iterator:
    """(first line number, the document's text, its Helm source) for each document of a stream."""
    lines = text.splitlines(keepends=True)
    start, chunk, source, content = 1, [], "", False
    for number, line in enumerate(lines, 1):
        if _SEPARATOR.match(line) or _END.match(line):
            if chunk:
                yield start, "".join(chunk), source
            rest = line[3:] if line.startswith("---") else ""
            # '--- {...}' or '--- |' starts the document on the separator's own line
            chunk, start, source, content = ([rest] if rest.strip() else []), number + (0 if rest.strip() else 1), "", bool(rest.strip())
            continue
        if not content:  # Helm writes '# Source:' above the document's first line
            stripped = line.strip()
            m = _SOURCE.match(stripped)
            if m and not source:
                source = m.group(1)
            elif stripped and not stripped.startswith("#"):
                content = True
        chunk.append(line)
    if chunk:
        yield start, "".join(chunk), source


def _first_content_line(text: str, start: int) -> int:
    for offset, line in enumerate(text.splitlines()):
        s = line.strip()
        if s and not s.startswith("#"):
            return start + offset
    return start


def _parse_yaml(text: str, name: str) -> Iterator:
    import yaml

    from kubectl_apiinfo.inputs import fast_yaml

    loader = _loader()
    for start, chunk, source in _chunks(text):
        try:
            try:
                obj = fast_yaml.load(chunk)
            except fast_yaml.Unsupported:
                obj = fast_yaml  # PyYAML reads it, and words any error
            if obj is fast_yaml:
                obj = yaml.load(chunk, Loader=loader)  # noqa: S506 - a safe loader
        except (RecursionError, ValueError) as e:
            yield Problem(name, _first_content_line(chunk, start), f"not readable ({_beyond_bounds(e)})")
            continue
        except yaml.YAMLError as e:
            # where an unclosed [ or { began, else where the parser stopped
            mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
            line = start + mark.line if mark is not None else start
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            yield Problem(name, line, f"not valid YAML ({problem})")
            continue
        if obj is None:
            continue  # an empty document, or only comments
        yield from _objects(obj, name, _first_content_line(chunk, start), source, lambda: _item_lines(chunk, start))


def _item_lines(chunk: str, start: int) -> list:
    """The first line of each of a List's items (composing the nodes: Lists are rare)."""
    import yaml

    try:
        node = yaml.compose(chunk, Loader=_loader())
    except yaml.YAMLError:
        return []
    for key, value in getattr(node, "value", []) or []:
        if getattr(key, "value", None) == "items" and isinstance(value, yaml.SequenceNode):
            return [start + item.start_mark.line for item in value.value]
    return []


# --- JSON ---------------------------------------------------------------------


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _parse_json(text: str, name: str) -> Iterator:
    import json

    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        try:
            obj, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as e:
            yield Problem(name, e.lineno, f"not valid JSON ({e.msg}, column {e.colno})")
            return  # the rest of a broken JSON text cannot be found reliably
        except (RecursionError, ValueError) as e:
            yield Problem(name, _line_of(text, position), f"not readable ({_beyond_bounds(e)})")
            return
        line = _line_of(text, position)
        items = obj if isinstance(obj, list) else None
        if items is not None:  # a bare array of objects: each item is one
            for item in items:
                yield from _objects(item, name, line, "", list)
        else:
            yield from _objects(obj, name, line, "", lambda: _json_item_lines(text, position, end))
        position = end


def _json_item_lines(text: str, start: int, end: int) -> list:
    """The line of each item of a JSON List's top-level "items" array."""
    import json

    decoder = json.JSONDecoder()
    position = start + 1
    lines = []
    while position < end:
        while position < end and text[position] in " \t\r\n,":
            position += 1
        if text[position] == "}":
            break
        key, position = decoder.raw_decode(text, position)
        while text[position] in " \t\r\n:":
            position += 1
        if key != "items" or text[position] != "[":
            _, position = decoder.raw_decode(text, position)
            continue
        position += 1
        while True:
            while text[position] in " \t\r\n,":
                position += 1
            if text[position] == "]":
                return lines
            lines.append(_line_of(text, position))
            _, position = decoder.raw_decode(text, position)
    return lines


# --- objects --------------------------------------------------------------------


def _objects(obj, name: str, line: int, source: str, item_lines) -> Iterator:
    if not isinstance(obj, dict):
        yield Problem(name, line, f"a manifest is a mapping with apiVersion and kind, not {_a(obj)}")
        return
    kind = obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list) and _is_list(obj):
        lines = item_lines() if obj["items"] else []
        for i, item in enumerate(obj["items"]):
            yield from _objects(item, name, lines[i] if i < len(lines) else line, source, list)
        return
    for key, example in (("apiVersion", "apps/v1"), ("kind", "Deployment")):
        value = obj.get(key)
        if value is None or value == "":
            yield Problem(name, line, f"the object has no {key}")
            return
        if not isinstance(value, str):
            yield Problem(name, line, f"the object's {key} is {_a(value)}, not a string like {example}")
            return
    yield Manifest(obj, name, line, source)


def _a(value) -> str:
    """What a YAML or JSON value is, in words: "an integer", "a list"."""
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a mapping",
            type(None): "null"}.get(type(value), f"a {type(value).__name__}")


def _is_list(obj: dict) -> bool:
    # v1 List (kubectl get -o yaml), or any FooList (kubectl get deployments -o yaml) of the list's own group
    meta = obj.get("metadata")
    return obj.get("kind") == "List" or meta is None or isinstance(meta, dict) and set(meta) <= {
        "resourceVersion", "continue", "selfLink", "remainingItemCount"}


def _beyond_bounds(error: Exception) -> str:
    """What a reader gave up on: nesting deeper than Python recurses, or a number longer than it converts."""
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).split(";")[0] or "a value out of range"
