"""kubectl apiinfo migrate -f PATH --kube-version TARGET: rewrite what TARGET would not serve to what it serves.

Each object whose apiVersion the target does not serve moves to the replacement the
catalog names (answers/migrations.py), with the upstream conversion of its fields;
every other document is left byte for byte, and a rewritten one keeps its comments,
key order and quoting (inputs/roundtrip.py).  Helm templates are reported, not
rewritten.  Without --write the migrated stream is printed (or, with --diff, a
unified diff); with it each changed file is replaced whole.
"""

import re

from kubectl_apiinfo.errors import UserError, flag

# A Helm template's own top-level lines: what a report can name without rendering it.
_TEMPLATE_FIELD = re.compile(r"^(apiVersion|kind):[ \t]*['\"]?([^'\"\s#{]+)['\"]?[ \t]*(?:#.*)?$", re.M)


class Outcome:
    """One file migrated: its text before and after, what was said about it, and what was left for the user."""

    __slots__ = ("path", "before", "after", "notes", "left", "moved", "migrated")

    def __init__(self, path: str, before: str):
        self.path = path
        self.before = before
        self.after = before
        self.notes: list = []
        self.left: list = []  # objects the target does not serve that stay as they were: why each did
        self.moved = 0
        self.migrated: list = []  # the objects rewritten, as manifests.Manifest, for the check of what they became


def _named(obj: dict) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or "(unnamed)"
    return f"{obj.get('kind')} {meta['namespace']}/{name}" if meta.get("namespace") else f"{obj.get('kind')} {name}"


def _objects(data) -> list:
    """The objects of a document: itself, or a List's items; each as (its place in data, the object)."""
    if not isinstance(data, dict):
        return []
    items = data.get("items")
    if isinstance(items, list) and str(data.get("kind", "")).endswith("List") and "apiVersion" in data:
        return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]
    return [(None, data)]


def _plans(checker, data, where: str, outcome: Outcome) -> dict:
    """{place: the apiVersion to move to} for the objects of a document the target does not serve."""
    from kubectl_apiinfo.answers import migrations

    moves = {}
    for place, obj in _objects(data):
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            continue
        plan = migrations.plan(checker, api_version, kind)
        if plan.problem:
            outcome.left.append(f"{where}: {_named(obj)}: {plan.problem}")
        elif plan.api_version:
            moves[place] = plan.api_version
    return moves


class Malformed(Exception):
    """An object whose fields are not of the types its API has (a list where a mapping belongs): the
    conversions cannot read it, and check says what is wrong."""


def _convert(data, moves: dict, where: str) -> list:
    """The objects of a document at their places in moves migrated in place; what to say about them.
    Malformed when a conversion meets a field of the wrong type: the caller leaves that document as it is."""
    from kubectl_apiinfo.answers import migrations

    said = []
    for place, obj in _objects(data):
        if place not in moves:
            continue
        old = obj.get("apiVersion")
        try:
            notes = migrations.migrate(obj, moves[place])
        except (TypeError, AttributeError, KeyError, ValueError, IndexError):
            raise Malformed(f"{where}: {_named(obj)}: not migrated: a field is not of the type {old} "
                            "has ('kubectl apiinfo check' says which); left as it is") from None
        said.append(f"{where}: {_named(obj)}: {old} -> {moves[place]}")
        said.extend(f"{where}: {_named(obj)}: {n}" for n in notes)
    return said


def _apply(data, moves: dict, where: str, outcome: Outcome) -> bool:
    """Whether the document's objects were migrated (in place); a malformed one is said, and none is."""
    try:
        said = _convert(data, moves, where)
    except Malformed as e:
        outcome.left.append(str(e))
        return False
    outcome.notes.extend(said)
    outcome.moved += len(moves)
    return True


def _retagged(text: str, data, moves: dict, converted) -> "str | None":
    """The document's text with its apiVersion line alone changed, where the conversion changed nothing else (RBAC,
    storage, CronJob...): every other byte kept, whatever its layout; None where more changed."""
    if list(moves) != [None] or converted != {**data, "apiVersion": moves[None]}:
        return None
    old = re.escape(str(data.get("apiVersion")))
    found = re.findall(rf"^apiVersion:[ \t]*(['\"]?){old}\1[ \t]*(?:#.*)?$", text, re.M)
    if len(found) != 1:
        return None
    return re.sub(rf"^(apiVersion:[ \t]*['\"]?){old}(['\"]?[ \t]*(?:#.*)?)$",
                  lambda m: m.group(1) + moves[None] + m.group(2), text, count=1, flags=re.M)


def _record(outcome: Outcome, data, moves: dict, shown: str, line: int) -> None:
    """The migrated objects of a document as written (read back as plain data), to be checked."""
    from kubectl_apiinfo.inputs.manifests import Manifest

    outcome.migrated.extend(Manifest(obj, shown, line) for place, obj in _objects(data) if place in moves)


def _template(checker, outcome: Outcome, shown: str) -> None:
    """A Helm template is not YAML until rendered: each of its documents with a literal apiVersion and kind the target
    does not serve is reported with the change to make, the file left as it is."""
    from kubectl_apiinfo.answers import migrations
    from kubectl_apiinfo.inputs import roundtrip

    for doc in roundtrip.documents(outcome.before):
        fields, lines = {}, {}
        for m in _TEMPLATE_FIELD.finditer(doc.text):
            fields.setdefault(m.group(1), m.group(2))
            lines.setdefault(m.group(1), doc.line + doc.text.count("\n", 0, m.start()))
        if "apiVersion" not in fields or "kind" not in fields:
            continue
        old, kind = fields["apiVersion"], fields["kind"]
        plan = migrations.plan(checker, old, kind)
        where = f"{shown}:{lines['apiVersion']}"
        if plan.problem:
            outcome.left.append(f"{where}: {kind}: {plan.problem}")
        elif plan.api_version:
            fields = migrations.RENAMED.get(kind, ()) if plan.api_version != old else ()
            at = [f"{doc.line + doc.text.count(chr(10), 0, m.start())} ({m.group(1)})"
                  for m in re.finditer(rf"^[ \t]*(?:-[ \t]+)?({'|'.join(fields) or '(?!)'}):", doc.text, re.M)]
            lines_of = f" (lines {', '.join(at)})" if at else ""
            outcome.left.append(f"{where}: a Helm template, not rewritten: {kind}: "
                                f"{migrations.changes(kind, old, plan.api_version)}{lines_of}")


def _json(checker, outcome: Outcome, shown: str) -> None:
    import json

    try:
        data = json.loads(outcome.before)
    except ValueError as e:
        outcome.left.append(f"{shown}: not valid JSON ({e}); nothing migrated")
        return
    moves = _plans(checker, data, shown, outcome)
    if moves and _apply(data, moves, shown, outcome):
        _record(outcome, data, moves, shown, 1)
        second = outcome.before.lstrip().split("\n", 2)[1:2]
        indent = (len(second[0]) - len(second[0].lstrip(" "))) if second else 2
        outcome.after = json.dumps(data, indent=indent or 2, ensure_ascii=False) + "\n"


def _yaml(checker, outcome: Outcome, shown: str) -> None:
    import copy

    from kubectl_apiinfo.inputs import roundtrip

    docs = roundtrip.documents(outcome.before)
    for doc in docs:
        where = f"{shown}:{doc.line}"
        data = roundtrip.plain(doc.text)
        if data is roundtrip.INVALID:
            outcome.left.append(f"{where}: not valid YAML ('kubectl apiinfo check' says why); left as it is")
            continue
        moves = _plans(checker, data, where, outcome)
        if not moves:
            continue  # served, or no object: the document's bytes stay as they are
        converted = copy.deepcopy(data)
        try:
            said = _convert(converted, moves, where)
        except Malformed as e:
            outcome.left.append(str(e))
            continue
        text = _retagged(doc.text, data, moves, converted)
        if text is None:
            try:
                kept, yaml = roundtrip.load(doc.text)
            except roundtrip.Unreadable as e:
                outcome.left.append(f"{where}: not rewritten: {e}")
                continue
            _convert(kept, moves, where)
            text = roundtrip.dump(kept, yaml, doc.text)
        doc.text = text
        outcome.notes.extend(said)
        outcome.moved += len(moves)
        _record(outcome, roundtrip.plain(text), moves, shown, doc.line)
    outcome.after = roundtrip.join(docs)


def is_template(text: str) -> bool:
    """Whether the text is a Helm template: it has '{{' and a document holding one is no YAML.  A rendered chart
    has '{{' too, in its strings (Prometheus rules, Grafana dashboards): those documents are YAML, and round-trip
    keeps the strings as they were; an unrendered '{{ .Values.x }}' outside quotes never parses."""
    from kubectl_apiinfo.inputs import roundtrip

    if "{{" not in text:
        return False
    return any("{{" in d.text and roundtrip.plain(d.text) is roundtrip.INVALID for d in roundtrip.documents(text))


def migrate_text(checker, path: str, text: str) -> Outcome:
    """One file's text migrated for the checker's target."""
    outcome = Outcome(path, text)
    shown = "<stdin>" if path == "-" else path
    if is_template(text):
        _template(checker, outcome, shown)
    elif path.endswith(".json") or text.lstrip().startswith(("{", "[")):
        _json(checker, outcome, shown)
    else:
        _yaml(checker, outcome, shown)
    return outcome


def _diff(outcome: Outcome) -> str:
    import difflib

    name = "<stdin>" if outcome.path == "-" else outcome.path
    before, after = outcome.before.splitlines(keepends=True), outcome.after.splitlines(keepends=True)
    for lines in (before, after):
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n\\ No newline at end of file\n"
    return "".join(difflib.unified_diff(before, after, f"a/{name.lstrip('/')}", f"b/{name.lstrip('/')}"))


def _stream(outcomes: list) -> str:
    """The migrated files as one stream: each file's text, a '---' between files."""
    parts = []
    for o in outcomes:
        text = o.after if o.after.endswith("\n") or not o.after else o.after + "\n"
        if parts and text and not text.startswith("---"):
            text = "---\n" + text
        parts.append(text)
    return "".join(parts)


# What a migrated object must not have against its target (check's findings that would refuse it).
_REFUSED = ("not-served", "unknown-field", "invalid-value", "missing-required", "duplicate-key")


def check_migrated(target, outcomes: list) -> list:
    """check's refusing findings of the migrated objects against the target: what is left to fix by hand (a chart's
    own typo, a field the target no longer has, a value only its author can choose)."""
    from kubectl_apiinfo.answers import check

    migrated = [m for o in outcomes for m in o.migrated]
    if not migrated:
        return []
    checking = check.CheckRun([target])
    checking.add(migrated)
    answer = checking.answer(len(outcomes))
    return [f"{f['location']}: {f['kind']} {f['name']} as migrated: {f['finding']}: {f['detail']}"
            for f in answer["findings"] if f["finding"] in _REFUSED]


def run(options, factory):
    import os

    from kubectl_apiinfo.answers import check
    from kubectl_apiinfo.console import note, warn
    from kubectl_apiinfo.files import replace_file
    from kubectl_apiinfo.inputs import manifests

    given = list(options.filename or []) + list(options.files or [])
    if not given:
        raise UserError("migrate needs manifests: -f FILE, -f DIR (with -R for subdirectories), -f - for stdin, or FILE arguments")
    if not options.kube_version:
        raise UserError(f"migrate needs the release to migrate to: {flag('kube_version')} 1.25, say")
    if options.write and options.diff:
        raise UserError(f"{flag('write')} replaces the files and {flag('diff')} shows what would change; pick one")
    files = manifests.expand(given, options.recursive)
    if options.write and "-" in files:
        raise UserError(f"{flag('write')} replaces files, and stdin is none: drop {flag('write')} to print the migrated stream")
    target = factory.release(options.kube_version)
    checker = check.Checker(target)
    outcomes = [migrate_text(checker, path, manifests.read_text(path)) for path in files]
    for o in outcomes:
        for n in o.notes:
            note(n)
    if options.write:
        for o in outcomes:
            if o.after != o.before:
                replace_file(o.path, o.after.encode(), like=os.stat(o.path))
    elif options.diff:
        factory.out("".join(_diff(o) for o in outcomes if o.after != o.before))
    else:
        factory.out(_stream(outcomes))
    left = [line for o in outcomes for line in o.left]
    refused = check_migrated(target, outcomes)
    for line in left + refused:
        warn(line)
    moved = sum(o.moved for o in outcomes)
    changed = sum(o.after != o.before for o in outcomes)
    verb = "migrated" if options.write or not options.diff else "to migrate"
    note(f"{moved} object{'s' * (moved != 1)} {verb} to what {target.label} serves, in {changed} "
         f"file{'s' * (changed != 1)}" + (f"; {len(left)} left as they are" if left else "")
         + (f"; {len(refused)} finding{'s' * (len(refused) != 1)} of check in migrated objects" if refused else "")
         + (" (above)" if left or refused else ""))
    return check.BLOCKING if left or refused else check.OK
