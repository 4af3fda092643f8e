"""kubectl apiinfo check -f PATH: will these manifests apply on a release, the cluster, or every cached context?"""

import re

from kubectl_apiinfo.answers import check
from kubectl_apiinfo.console import note, progress, progress_wanted
from kubectl_apiinfo.errors import UserError, flag, shorten
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.upgrade import CHECK as FORMATS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

_PROGRESS_AFTER = 1.0  # seconds: a quick check shows no progress line
# Outputs whose reader wants the counts on stderr; the others carry them (json, yaml, junit, sarif).
_READ_BY_PEOPLE = ("table", "markdown", "csv", "github")


def fail_on(values) -> tuple:
    if not values:
        return check.DEFAULT_FAIL_ON
    unknown = [v for v in values if v not in check.FINDINGS]
    if unknown:
        raise UserError(f"{flag('fail_on')} {shorten(unknown[0])!r} is not a finding; use any of {', '.join(check.FINDINGS)}")
    return tuple(values)


def _named(given: list, files: list) -> str:
    """Where check found nothing, as the user named it: "on stdin", "in charts/ (0 files)"."""
    if files == ["-"]:
        return "on stdin"
    names = ", ".join(shorten(str(g)) for g in given[:3]) + (f" and {len(given) - 3} more" if len(given) > 3 else "")
    return f"in {names} ({len(files)} file{'s' * (len(files) != 1)})" if files != list(given) else f"in {names}"


def _summary_line(summary: dict) -> str:
    """'3 findings: 2 not-served, 1 deprecated in 2 objects of 1 file'."""
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' * (count != 1)}"

    counts = ", ".join(f"{count} {name}" for name, count in summary["byFinding"].items())
    return (f"{n(summary['findings'], 'finding')}: {counts} in {n(summary['objectsWithFindings'], 'object')} "
            f"of {n(summary['filesWithFindings'], 'file')}")


def _warn_unknown(answer: dict, failing: tuple) -> None:
    """One line for the objects a target could not tell about: its discovery of their group/version failed."""
    from kubectl_apiinfo.console import warn

    unknown = [f for f in answer["findings"] if f["finding"] == check.DISCOVERY_FAILED]
    if not unknown:
        return
    gvs = sorted({f["apiVersion"] for f in unknown})
    where = sorted({f.get("context") or answer["targets"][0]["name"] for f in unknown})
    count = len({(f["file"], f["line"], f["name"]) for f in unknown})
    fails = "" if check.DISCOVERY_FAILED in failing else f"; {flag('fail_on')} {check.DISCOVERY_FAILED} makes that fail"
    warn(
        f"discovery of {', '.join(gvs)} failed in {', '.join(where)}: {count} object{'s' * (count != 1)} could not be "
        f"checked (not their fault; retry with {flag('refresh')}{fails})"
    )


def custom_definitions(objects: list, paths: list, source: "_Input") -> tuple:
    """(the CRDs the custom resources are read against, the problems of reading --crds): those of --crds, then
    the input's own, which win for a CRD of the same name (they are the ones applied with the resources)."""
    from kubectl_apiinfo.inputs import manifests
    from kubectl_apiinfo.sources.crds import definitions as crds

    given, problems = [], []
    try:
        files = manifests.expand(paths or [], True)
    except UserError as e:
        raise UserError(f"{flag('crds')}: {e}") from None
    for path in files:
        for r in source.records(path):
            (problems if isinstance(r, manifests.Problem) else given).append(r)
    found: dict = {}
    for m in [*given, *objects]:
        if crds.is_crd(m.obj):
            d = crds.read(m.obj, m.location)
            if d is not None:
                found[d.name] = d
    return list(found.values()), problems


def _warn_crds_unknown(chosen: list, groups: set) -> None:
    """One line per target whose CRDs could not be listed, when custom resources are checked against it."""
    from kubectl_apiinfo.console import warn
    from kubectl_apiinfo.sources.catalog import releases

    builtin = releases.builtin_kinds()
    if not groups - set(builtin):
        return
    for t in chosen:
        if t.custom_versions_unknown:
            warn(f"the CustomResourceDefinitions of {t.label} could not be listed ({t.custom_versions_unknown}): "
                 "deprecated or unserved CRD versions are not reported")


def _warn_unchecked(targets: list) -> bool:
    """One line per target whose CRD fields went unchecked for want of its OpenAPI documents; whether any did."""
    from kubectl_apiinfo.console import warn

    for t in targets:
        if not t.unchecked:
            continue
        reasons = sorted({why for why in t.unchecked.values() if why})
        why = "no OpenAPI document cached" + (f" ({reasons[0]})" if reasons else "")
        if t.context:
            where, fetch = f"context {t.context}", f"refresh {flag('schemas')} {flag('context')} {t.context}"
        else:
            where, fetch = t.name, f"refresh {flag('schemas')}"
        warn(f"fields of CRDs in {where} were not checked: {why}; run 'kubectl apiinfo {fetch}'")
    return any(t.unchecked for t in targets)


# A file that may define APIs (a CRD, an APIService) is read whole before any object is checked: its CRDs
# serve the custom resources of the whole input, wherever they stand.  Matching more than that only costs a parse.
_DEFINES = re.compile(r"""\bkind["']?\s*:\s*["']?(?:CustomResourceDefinition|APIService)\b""")


class _Input:
    """The files -f named, each read when asked (twice at most); stdin read once and kept."""

    def __init__(self, files: list):
        self.files = files
        self._stdin: Optional[str] = None

    def text(self, path: str) -> str:
        from kubectl_apiinfo.inputs import manifests

        if path != "-":
            return manifests.read_text(path)
        if self._stdin is None:
            self._stdin = manifests.read_text(path)
        return self._stdin

    def records(self, path: str) -> list:
        from kubectl_apiinfo.inputs import manifests

        return list(manifests.parse(self.text(path), "<stdin>" if path == "-" else path))

    def survey(self) -> tuple:
        """(the objects that define APIs, whether anything at all was read): a first pass that parses only the
        files that may define APIs, and files until the first object, to tell an empty input."""
        from kubectl_apiinfo.answers.rules import DEFINING_KINDS

        defining, anything = [], False
        for path in self.files:
            text = self.text(path)
            if anything and not _DEFINES.search(text):
                continue
            records = self.records(path)
            anything = anything or bool(records)
            defining.extend(r for r in records if getattr(r, "obj", {}).get("kind") in DEFINING_KINDS)
        return defining, anything


def _warn_rules_not_checked(targets: list) -> None:
    """One line per CRD whose CEL rules could not all be evaluated, and why; never a failure."""
    from kubectl_apiinfo.console import warn

    said: set = set()
    for t in targets:
        for crd, rules in sorted(t.rules_not_checked.items()):
            from kubectl_apiinfo.answers import cel_rules  # only where a schema had rules

            line = (f"{len(rules)} CEL rule{'s' * (len(rules) != 1)} of {crd} could not be evaluated "
                    f"({cel_rules.summary(rules.values())}): their objects were checked otherwise")
            if line not in said:
                said.add(line)
                warn(line)


def run(options, factory):
    import time

    from kubectl_apiinfo.inputs import manifests

    failing = fail_on(options.fail_on)
    given = list(options.filename or []) + list(options.files or [])
    if not given:
        raise UserError("check needs manifests: -f FILE, -f DIR (with -R for subdirectories), -f - for stdin, or FILE arguments")
    files = manifests.expand(given, options.recursive)  # a missing path is refused before any work
    source = _Input(files)
    defining, anything = source.survey()
    if not anything and not options.allow_empty:  # a failed `helm template` must not pass
        import os

        deeper = not options.recursive and any(p != "-" and os.path.isdir(p) for p in given)
        raise UserError(
            f"no objects {_named(given, files)}; nothing was checked "
            f"({flag('recursive') + ' reads subdirectories too; ' if deeper else ''}{flag('allow_empty')} makes that a pass)"
        )

    definitions, crd_problems = custom_definitions(defining, options.crds, source)
    if options.all_contexts:
        chosen = factory.cached_contexts()
    else:
        chosen = [factory.source(schemas=True)]
    try:
        for t in chosen:
            for n in t.notes:
                note(n)
            t.adopt(definitions)
            if not t.has_schemas:
                note(f"{t.label} has no OpenAPI schemas in the catalog: fields are not checked")
        checking = check.CheckRun(chosen, defining, identities=options.output == "junit")
        started = time.monotonic()
        show, shown = progress_wanted(), False
        for i, path in enumerate(files, 1):
            checking.add(source.records(path))  # a file's objects at a time: memory flat in their number
            if show and (shown or time.monotonic() - started > _PROGRESS_AFTER):
                shown = True
                progress(f"checked {i}/{len(files)} files, {checking.objects} objects")
        if shown:
            progress(f"checked {len(files)}/{len(files)} files, {checking.objects} objects", done=True)
        checking.add(crd_problems)
        answer = checking.answer(len(files))
    finally:
        for t in chosen:
            t.close()
    status = check.exit_status(answer, failing, options.ignore_deprecations)
    _warn_unknown(answer, failing)
    _warn_crds_unknown(chosen, checking.groups)
    unchecked = _warn_unchecked(chosen)
    _warn_rules_not_checked(chosen)
    answer["summary"] = check.summary(answer, failing, options.ignore_deprecations)
    printer = pick(FORMATS, options.output)
    if checking.checked is not None:  # -o junit: each object is a test case, those that passed too
        answer["checked"] = checking.checked
    factory.out(printer(answer, options.no_headers))
    if answer["findings"] and not answer["problems"] and options.output in _READ_BY_PEOPLE:
        note(_summary_line(answer["summary"]))  # with problems, the error is stderr's one line
    if not answer["findings"] and not answer["problems"] and options.output in _READ_BY_PEOPLE:
        where = ", ".join(t.label for t in chosen)
        objects, count = answer["objects"], len(files)
        verb = "is" if objects == 1 else "are"
        what = f"{objects} object{'s' * (objects != 1)} in {count} file{'s' * (count != 1)}"
        if unchecked:  # not "fine": some fields were not looked at
            note(f"No findings in what could be checked: {what} against {where}, except the fields named above.")
        else:
            note(f"No findings: {what} {verb} fine for {where}.")
    problems = answer["problems"]
    if problems:
        more = f" (and {len(problems) - 1} more; the rest was checked)" if len(problems) > 1 else "; the rest was checked"
        raise UserError(f"{problems[0]['location']}: {problems[0]['message']}{more}")
    return status
