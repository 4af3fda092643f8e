"""plan as data: an upgrade from one release to another, a minor release at a time, for some objects.

For each hop FROM+1 … TO: which of the objects' apiVersions stop being served there, and for each
object the version to write instead, chosen from the catalog's facts alone:
  the window  the releases in which both the version in use and its replacement are served by default
              (off-by-default versions do not count)
  the advice  "migrate now" when the replacement is served at FROM already; "migrate at the 1.23 hop,
              before 1.26" when it comes later; "no replacement: remove or replace" when none exists
A replacement is recommended only if it is served where the change must be made (the release before the
hop) and at the hop itself, so every cluster on the way serves what is written: FlowSchema
flowcontrol.apiserver.k8s.io/v1beta1 goes to v1beta2 before 1.26, v1beta2 to v1beta3 before 1.29.  The
version the chain ends on, if the target still serves it but deprecates it, gets a deprecated finding
with its own replacement, window and advice.

Findings are shaped as check's (answers/check.py identity(), a finding word, a detail), so the exit
status, --fail-on and the summary are check's, and so are the CI formats.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.answers.check import DEPRECATED, NOT_SERVED, identity, split_api_version
from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.model import group_version, release_key, version_priority_key
from kubectl_apiinfo.sources.catalog import releases

# What replaces an API that has no API to replace it: named, since no apiVersion can say it.
OUTSIDE_THE_API = {
    "policy/v1beta1/PodSecurityPolicy": "Pod Security admission (the pod-security.kubernetes.io labels of namespaces)",
}


def releases_between(start: str, end: str) -> list:
    """The catalog's releases start … end, both included; start and end are catalog releases."""
    if release_key(end) <= release_key(start):
        raise UserError(f"{flag('to')} {end} is not after {flag('from')} {start}: a plan goes to a later release")
    names = releases.release_names()
    return names[names.index(start): names.index(end) + 1]


def _gvk(group: str, version: str, kind: str) -> str:
    return f"{group_version(group, version)}/{kind}"


def _parts(gvk: str) -> tuple:
    gv, _, kind = gvk.rpartition("/")
    group, version = split_api_version(gv)
    return group, version, kind


def _api_version(gvk: str) -> str:
    return gvk.rpartition("/")[0]


def served_in(gvk: str, release: str) -> bool:
    """Whether a default API server of the release serves the group/version/Kind."""
    history = releases.history_of(*_parts(gvk))
    if history is None:
        return False
    key = release_key(release)
    return any(release_key(a) <= key <= release_key(b) for a, b in history.served)


def _first_served(gvk: str) -> Optional[str]:
    history = releases.history_of(*_parts(gvk))
    return history.served[0][0] if history is not None and history.served else None


def _last_served(gvk: str) -> str:
    history = releases.history_of(*_parts(gvk))
    return history.served[-1][1] if history is not None and history.served else "0.0"


def successors(gvk: str) -> list:
    """What may replace an API: its replacement chain in the lifecycle facts, and the versions of the same
    group and kind first served after it (FlowSchema v1beta1's facts name v1beta3; v1beta2 came between)."""
    found: dict = {}
    step = releases.lifecycle_of(*_parts(gvk)).replacement
    while step and step not in found and step != gvk:
        found[step] = True
        step = releases.lifecycle_of(*_parts(step)).replacement
    group, version, kind = _parts(gvk)
    history = releases.history_of(group, version, kind)
    first = _first_served(gvk)
    if history is not None and first is not None:
        for e in releases.history().get(history.resource, []):
            other = _gvk(e.group, e.version, e.kind)
            later = _first_served(other)
            if e.group == group and e.kind == kind and other != gvk and later and release_key(later) > release_key(first):
                found.setdefault(other, True)
    return list(found)


def _best(candidates: list, end: str) -> Optional[str]:
    """The candidate that lasts: served at the target, then served longest, then the highest version."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (not served_in(c, end), tuple(-n for n in release_key(_last_served(c))),
                                          version_priority_key(_parts(c)[1])))


def window(used: str, replacement: str, around: str, names: list) -> Optional[list]:
    """[first, last]: the run of releases around `around` in which both are served by default."""
    if not (served_in(used, around) and served_in(replacement, around)):
        return None
    i = names.index(around)
    first = last = i
    while first > 0 and served_in(used, names[first - 1]) and served_in(replacement, names[first - 1]):
        first -= 1
    while last < len(names) - 1 and served_in(used, names[last + 1]) and served_in(replacement, names[last + 1]):
        last += 1
    return [names[first], names[last]]


def _text(gvk: str) -> str:
    return f"{_api_version(gvk)} {gvk.rpartition('/')[2]}"


class PlanRun:
    """A plan for any number of objects, fed a batch of records at a time (a file's)."""

    def __init__(self, start: str, end: str):
        self.start, self.end = start, end
        self.hops = releases_between(start, end)[1:]
        self.names = releases.release_names()
        self.found: list = []
        self.problems: list = []
        self.objects = 0
        self.not_judged = 0  # objects of kinds the catalog does not know (custom resources)
        self.identities: list = []  # every object, as a finding names it (-o junit's test cases)
        self._steps: dict = {}  # group/version/Kind -> its steps (the same for every object of it)

    def add(self, records) -> None:
        from kubectl_apiinfo.inputs.manifests import Problem

        for r in records:
            if isinstance(r, Problem):
                self.problems.append(r)
                continue
            self.objects += 1
            common = identity(r)
            self.identities.append(dict(common))
            group, version = split_api_version(r.obj["apiVersion"])
            key = _gvk(group, version, r.obj["kind"])
            if key not in self._steps:
                self._steps[key] = self.steps(key)
            steps = self._steps[key]
            if steps is None:
                self.not_judged += 1
                continue
            common["order"] = self.objects
            self.found.extend({**common, **s} for s in steps)

    def add_tally(self, tally) -> None:
        """A live cluster's resource as scan counts it (answers/scan.py Tally): a finding per (apiVersion
        written, field manager) and hop, with the number of its objects and a few of their names."""
        from kubectl_apiinfo.answers.scan import MANAGED_FIELDS

        resource = tally.resource
        self.objects += tally.objects
        for (api_version, manager, origin), (count, names, _ops, _time) in tally.rows.items():
            if origin != MANAGED_FIELDS:
                continue
            group, version = split_api_version(api_version)
            key = _gvk(group, version, resource.kind)
            if key not in self._steps:
                self._steps[key] = self.steps(key)
            steps = self._steps[key]
            if steps is None:
                self.not_judged += count
                continue
            shown = ", ".join(names) + (", ..." if count > len(names) else "")
            common = {
                "location": f"{resource.qualified} by {manager or '(no manager)'}", "file": None, "line": None,
                "source": None, "apiVersion": api_version, "kind": resource.kind, "name": shown, "namespace": None,
                "origin": origin, "resource": resource.qualified, "manager": manager, "objects": count,
                "names": list(names), "order": len(self.found),
            }
            self.found.extend({**common, **s} for s in steps)

    def steps(self, gvk: str) -> Optional[list]:
        """Each change an object of gvk needs on the way (None: the catalog does not know the kind)."""
        group, version, kind = _parts(gvk)
        if releases.history_of(group, version, kind) is None:
            return None
        start, end = self.start, self.end
        if not served_in(gvk, start):
            first = _first_served(gvk)
            if first and release_key(first) > release_key(start):
                why = f"not served yet in {start} (a default API server serves it from {first})"
            elif first:
                why = f"no longer served in {start} (last served by default in {_last_served(gvk)})"
            else:
                why = "never served by default"
            advice = f"fix it first: 'kubectl apiinfo check {flag('kube_version')} {start}' says what to write"
            return [self._step(NOT_SERVED, start, gvk, None, None, f"{_text(gvk)} is {why}; {advice}", advice)]
        out, used = [], gvk
        for hop in self.hops:
            if served_in(used, hop):
                continue
            before = self.names[self.names.index(hop) - 1]
            written = _best([c for c in successors(used) if served_in(c, before) and served_in(c, hop)], end)
            out.append(self._removal(used, written, before, hop))
            if written is None:
                return out
            used = written
        facts = releases.lifecycle_of(*_parts(used))
        if facts.deprecated and release_key(facts.deprecated) <= release_key(end):
            out.append(self._deprecation(used, facts))
        return out

    def _step(self, finding, hop, used, written, span, detail, advice) -> dict:
        return {"finding": finding, "hop": hop, "uses": _api_version(used), "write": written and _api_version(written),
                "window": span, "advice": advice, "detail": detail}

    def _advice(self, written: str, span: list, deadline: str) -> str:
        if release_key(span[0]) <= release_key(self.start):
            return f"write {_api_version(written)}: migrate now (the replacement is served in {self.start})"
        return f"write {_api_version(written)}: migrate at the {span[0]} hop, before {deadline}"

    def _removal(self, used: str, written: Optional[str], before: str, hop: str) -> dict:
        detail = f"{_text(used)} is not served from {hop}"
        if written is not None:
            span = window(used, written, before, self.names)
            advice = self._advice(written, span, hop)
            return self._step(NOT_SERVED, hop, used, written, span, f"{detail}; {advice}", advice)
        named = OUTSIDE_THE_API.get(used)
        replacement = releases.lifecycle_of(*_parts(used)).replacement
        if named:
            advice = f"no replacement: remove or replace it with {named}"
        elif replacement:
            advice = (f"no replacement served in both {before} and {hop} ({_text(replacement)} is served "
                      f"from {_first_served(replacement) or 'no release'}): remove it before the {hop} hop, recreate it after")
        else:
            advice = "no replacement: remove or replace it"
        return self._step(NOT_SERVED, hop, used, None, None, f"{detail}; {advice}", advice)

    def _deprecation(self, used: str, facts) -> dict:
        end = self.end
        hop = facts.deprecated if release_key(facts.deprecated) > release_key(self.start) else None
        deadline = facts.removed or "its removal"
        detail = f"{_text(used)} is deprecated from {facts.deprecated}" + (
            f", planned for removal in {facts.removed}" if facts.removed else "")
        written = _best([c for c in successors(used) if served_in(c, end)
                         and not _deprecated_in(c, end)], end)
        if written is None:
            named = OUTSIDE_THE_API.get(used)
            advice = f"no replacement: remove or replace it{' with ' + named if named else ''} before {deadline}"
            return self._step(DEPRECATED, hop, used, None, None, f"{detail}; {advice}", advice)
        span = window(used, written, end, self.names)
        advice = self._advice(written, span, deadline)
        return self._step(DEPRECATED, hop, used, written, span, f"{detail}; {advice}", advice)

    def answer(self, files: int) -> dict:
        """The -o json answer: the hops, the findings in hop order (the objects in input order), the problems."""
        hop_key = {h: i for i, h in enumerate([self.start, *self.hops])}
        findings = sorted(self.found, key=lambda f: (hop_key.get(f["hop"] or self.start, 0), f["order"]))
        for f in findings:
            del f["order"]  # the input's order, kept only to sort by
        hops = []
        for h in self.hops:
            here = [f for f in findings if f["hop"] == h]
            hops.append({
                "release": h,
                "stopsServing": sorted({f"{f['uses']}/{f['kind']}" for f in here if f["finding"] == NOT_SERVED}),
                "deprecates": sorted({f"{f['uses']}/{f['kind']}" for f in here if f["finding"] == DEPRECATED}),
                "objects": _objects(here),
            })
        return {
            "kind": "PlanResult",
            "from": self.start,
            "to": self.end,
            "files": files,
            "objects": self.objects,
            "notJudged": self.not_judged,
            "hops": hops,
            "findings": findings,
            "problems": [{"file": p.file, "line": p.line, "location": p.location, "message": p.message} for p in self.problems],
        }


def _objects(findings: list) -> int:
    """How many objects the findings are about: in files, each object once; in a cluster, each (resource,
    version written, manager) row's count (an object two managers wrote with the same version counts twice)."""
    rows = {(f["file"], f["line"], f["name"], f.get("resource"), f.get("manager"), f["uses"]): f.get("objects", 1)
            for f in findings}
    if all(f["file"] is not None for f in findings):
        return len({key[:3] for key in rows})
    return sum(rows.values())


def _deprecated_in(gvk: str, release: str) -> bool:
    facts = releases.lifecycle_of(*_parts(gvk))
    return bool(facts.deprecated) and release_key(facts.deprecated) <= release_key(release)
