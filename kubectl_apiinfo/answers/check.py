"""check as data: what stands between some manifests and a target release or cluster.

Findings per object, from the catalog's lifecycle facts and the target's
served set and schemas:
  not-served      its apiVersion/kind is not served there (since when, and the replacement)
  off-by-default  in the release, but a default API server does not serve it
  deprecated      served, deprecated (with the planned removal)
  unknown-field   a field the target's schema for that kind lacks (with the release that added it)
  invalid-value   a value the target's schema refuses: its type, range, enum, pattern or format, or a CRD's CEL
                  rule (answers/values.py, answers/cel_rules.py: a rule not evaluated is said on stderr)
  missing-required  a field the target's schema requires is absent or null
  duplicate-key   two entries of a keyed list (x-kubernetes-list-type map or set) with the same key
  unknown-kind    a kind the target does not know at all: a CRD it does not serve (a warning)
  discovery-failed  unknown: the target's discovery of its group/version failed (a warning, not the manifest's fault)
  stale-rule      a rule (RBAC, admission webhook or policy, APIService) names an API the target does not serve
                  (answers/rules.py; a warning: the object applies, the rule just grants or matches nothing there)
  invalid         input that could not be read (file and line)
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.answers.rules import STALE_RULE, StaleRules
from kubectl_apiinfo.answers.schema_walks import SchemaWalks
from kubectl_apiinfo.answers.unknown_fields import map_keys_text
from kubectl_apiinfo.errors import flag
from kubectl_apiinfo.model import group_version, release_key, version_priority_key
from kubectl_apiinfo.sources.catalog import releases

NOT_SERVED, OFF_BY_DEFAULT, DEPRECATED, UNKNOWN_FIELD, UNKNOWN_KIND, DISCOVERY_FAILED, INVALID = (
    "not-served", "off-by-default", "deprecated", "unknown-field", "unknown-kind", "discovery-failed", "invalid",
)
INVALID_VALUE, MISSING_REQUIRED, DUPLICATE_KEY = "invalid-value", "missing-required", "duplicate-key"
FINDINGS = (NOT_SERVED, OFF_BY_DEFAULT, DEPRECATED, UNKNOWN_FIELD, INVALID_VALUE, MISSING_REQUIRED, DUPLICATE_KEY,
            UNKNOWN_KIND, DISCOVERY_FAILED, STALE_RULE)
DEFAULT_FAIL_ON = (NOT_SERVED, OFF_BY_DEFAULT, UNKNOWN_FIELD, INVALID_VALUE, MISSING_REQUIRED, DUPLICATE_KEY, DEPRECATED)
# Exit statuses (README: "Exit status").
OK, ERROR, ONLY_DEPRECATIONS, BLOCKING = 0, 1, 2, 3


def split_api_version(api_version: str) -> tuple:
    group, _, version = api_version.strip().rpartition("/")
    return group, version


def _gvk_text(gvk: str) -> str:
    """'apps/v1/Deployment' -> 'apps/v1 Deployment'."""
    gv, _, kind = gvk.rpartition("/")
    return f"{gv} {kind}"


def _later(a: str, b: str) -> bool:
    return release_key(a) > release_key(b)


class Checker:
    """Findings of one target for any number of objects; remembers what it looked up, and shares its
    schema walks with the other targets of the same walks."""

    def __init__(self, target, walks: Optional[SchemaWalks] = None):
        self.target = target
        self.release = target.release
        self.walks = walks if walks is not None else SchemaWalks()
        self._kind_findings: dict = {}

    # --- the kind ------------------------------------------------------------

    def kind_findings(self, group: str, version: str, kind: str) -> list:
        key = (group, version, kind)
        if key not in self._kind_findings:
            self._kind_findings[key] = self._kind(group, version, kind)
        return self._kind_findings[key]

    def _served_here(self, gvk: str) -> Optional[bool]:
        """Whether the target serves a "group/version/Kind": True, False (contained, off) or None (absent)."""
        gv, _, kind = gvk.rpartition("/")
        g, v = split_api_version(gv)
        r = self.target.kinds.get((g, v, kind))
        return None if r is None else r.served

    def _replacement(self, group: str, version: str, kind: str, facts) -> Optional[str]:
        if facts.replacement:
            return facts.replacement
        # Not in the lifecycle facts (a CRD, or an API without one): the version the target serves for the kind.
        g = self.target.groups.get(group)
        if g is None:
            return None
        for gv in sorted(g.versions, key=lambda gv: version_priority_key(gv.version)):
            if gv.version != version and any(r.kind == kind and r.served and "/" not in r.name for r in gv.resources):
                return f"{group_version(group, gv.version)}/{kind}"
        return None

    def _replacement_text(self, replacement: Optional[str]) -> tuple:
        if not replacement:
            return "", None
        served = self._served_here(replacement)
        where = self.target.label
        if served:
            return f"use {_gvk_text(replacement)}, served in {where}", True
        if served is False:
            return f"use {_gvk_text(replacement)} (in {where} but not served by default)", False
        return f"its replacement {_gvk_text(replacement)} is not served in {where} either", False

    def _custom(self, group: str, version: str, kind: str) -> Optional[list]:
        """Findings where a CustomResourceDefinition (the input's or the cluster's) declares the kind; else None."""
        declared = [v for (g, _, k), v in self.target.custom_versions.items() if g == group and k == kind]
        if not declared:
            return None
        gv = group_version(group, version)
        mine = next((v for v in declared if v.version == version), None)
        usable = sorted((v for v in declared if v.served and not v.deprecated), key=lambda v: (not v.storage, version_priority_key(v.version)))
        use = f"; use {group_version(group, usable[0].version)}" if usable and usable[0] is not mine else ""
        crd = f"its CustomResourceDefinition {declared[0].crd}"
        if mine is None:
            listed = ", ".join(v.version for v in declared)
            text = f"{gv} {kind} is not served: {crd} defines only {listed}{use}"
            return [{"finding": NOT_SERVED, "detail": text, "removed": None, "replacement": None, "replacementServed": None}]
        if not mine.served:
            text = f"{gv} {kind} is not served: {crd} sets served: false for {version}{use}"
            return [{"finding": NOT_SERVED, "detail": text, "removed": None, "replacement": None, "replacementServed": None}]
        if mine.deprecated:
            # The CRD's own deprecationWarning is what the API server will print: shown as is when there is one.
            text = f"{gv} {kind} is deprecated by {crd}" + (f": {mine.warning}" if mine.warning else use)
            return [{"finding": DEPRECATED, "detail": text, "deprecated": None, "removed": None}]
        return []

    def _kind(self, group: str, version: str, kind: str) -> list:
        resource = self.target.kinds.get((group, version, kind))
        gv = group_version(group, version)
        where = self.target.label
        failed = self.target.failed_discovery.get(gv)
        if resource is None and failed is not None:  # unknown is not absent: the cluster's hiccup, not the manifest's
            text = f"{gv} {kind} is unknown in {where}: its discovery failed there ({failed}); retry with {flag('refresh')}"
            return [{"finding": DISCOVERY_FAILED, "detail": text, "reason": failed}]
        custom = self._custom(group, version, kind)
        if custom is not None:
            return custom
        facts = releases.lifecycle_of(group, version, kind)
        history = releases.history_of(group, version, kind)
        release = self.release
        if resource is None:
            builtin = history is not None or facts != releases.Lifecycle()
            replacement = self._replacement(group, version, kind, facts)
            advice, replacement_served = self._replacement_text(replacement)
            known = releases.builtin_kinds().get(group)
            if not builtin and replacement is None and known is not None:
                # A built-in group: a kind no release has is a typo or a long-gone API, never a missing CRD.
                text = f"{gv} has no kind {kind} in {where} or any catalog release; no CustomResourceDefinition can serve a built-in group"
                near = [k for k in sorted(known) if k.lower() == kind.lower()]
                if near:
                    text += f" (kinds are case-sensitive: did you mean {near[0]}?)"
                return [{"finding": NOT_SERVED, "detail": text, "removed": None, "replacement": None, "replacementServed": None}]
            if not builtin and replacement is None:
                if not self.target.default_server:
                    text = f"{where} does not serve {gv} {kind}: install its CustomResourceDefinition or API service first"
                else:
                    text = f"{gv} {kind} is not a built-in API of {where}: a CustomResourceDefinition must serve it"
                return [{"finding": UNKNOWN_KIND, "detail": text}]
            since = self._not_served_since(facts, history)
            text = f"{gv} {kind} is not served in {where}"
            if since:
                text = f"{gv} {kind} {since}"
            finding = {"finding": NOT_SERVED, "detail": f"{text}; {advice}" if advice else f"{text}; no replacement API"}
            finding.update(removed=facts.removed, replacement=replacement, replacementServed=replacement_served)
            return [finding]
        if not resource.served:
            text = (
                f"{gv} {kind} is in {where} but not served by default "
                f"(kube-apiserver --runtime-config={gv}=true turns it on)"
            )
            replacement = self._replacement(group, version, kind, facts)
            advice, served = self._replacement_text(replacement)
            finding = {"finding": OFF_BY_DEFAULT, "detail": f"{text}; {advice}" if advice else text}
            finding.update(replacement=replacement, replacementServed=served)
            return [finding]
        if facts.deprecated and release and not _later(facts.deprecated, release):
            text = f"{gv} {kind} is deprecated since {facts.deprecated}"
            if facts.removed:
                text += f"; planned removal in {facts.removed}"
            replacement = self._replacement(group, version, kind, facts)
            advice, served = self._replacement_text(replacement)
            finding = {"finding": DEPRECATED, "detail": f"{text}; {advice}" if advice else text}
            finding.update(deprecated=facts.deprecated, removed=facts.removed, replacement=replacement, replacementServed=served)
            return [finding]
        return []

    def _not_served_since(self, facts, history) -> str:
        release = self.release
        if release is None:
            return ""
        served = history.served if history is not None else []
        if served and _later(served[0][0], release):
            return f"is not served yet in {release}: it is served from {served[0][0]}"
        if facts.removed and not _later(facts.removed, release):
            return f"was removed in {facts.removed}"
        past = [b for _, b in served if not _later(b, release)]
        if past:
            last = past[-1]
            names = releases.release_names()
            i = names.index(last) if last in names else -1
            after = names[i + 1] if 0 <= i < len(names) - 1 else None
            return f"is not served since {after}" if after else f"was last served in {last}"
        return ""

    # --- fields ----------------------------------------------------------------

    def field_findings(self, group: str, version: str, kind: str, obj: dict, number: int = -1) -> list:
        """number: the object's place in the input, under which its walks are shared (-1: not shared)."""
        found = self.target.schema(group, version, kind)
        if found is None:
            return []
        defs, root = found
        unknown, value_findings = self.walks.walk(defs, root, group, kind, obj, number)
        out = []
        gv = group_version(group, version)
        custom = self.target.custom_versions.get((group, version, kind))
        for path, keyed in unknown:
            dotted = ".".join(path)
            if custom is not None and path[0] != "metadata":  # the CRD's schema, not a release's: no history to tell
                text = (f"{dotted}{map_keys_text(keyed)} is not a field of {gv} {kind} in the schema of its "
                        f"CustomResourceDefinition {custom.crd}")
                out.append({"finding": UNKNOWN_FIELD, "detail": text, "field": dotted, "added": None})
                continue
            added = self.walks.added_in(gv, kind, path)
            text = f"{dotted}{map_keys_text(keyed)} is not a field of {gv} {kind} in {self.target.label}"
            if added and self.release and _later(added, self.release):
                text += f"; it was added in {added}"
            elif added:
                text += f"; the catalog has it from {added}"
            elif self.target.default_server or releases.history_of(group, version, kind) is not None:
                text += "; no Kubernetes release has it (a typo, or a field of another version?)"
            out.append({"finding": UNKNOWN_FIELD, "detail": text, "field": dotted, "added": added})
        out.extend(value_findings)
        return out

    def rules_not_checked(self) -> dict:
        """{CRD name (or apiVersion and kind): {rule: why}}: the CEL rules that could not be evaluated."""
        out: dict = {}
        for group, kind, not_checked in self.walks.rules_not_checked():
            crds = [c.crd for (g, _, k), c in self.target.custom_versions.items() if (g, k) == (group, kind)]
            name = crds[0] if crds else f"{group}/{kind}" if group else kind
            out.setdefault(name, {}).update(not_checked)
        return out


# --- the answer -----------------------------------------------------------------


class CheckRun:
    """A check fed a batch of records at a time (a file's).  Against one target each batch is checked as
    it comes, so the objects need not all be held: memory stays flat in their number.  Against several
    (--all-contexts) the objects are held and the targets taken a release at a time, sharing the schema
    walks of the others of their release and putting their schemas away once done: a hundred contexts
    cost a few releases' schemas.  Findings come out target by target, each in input order."""

    def __init__(self, targets: list, defining: list = (), identities: bool = False):
        self.targets = targets
        # StaleRules needs the input's CRDs and APIServices before any rule is judged: given whole, up front.
        self.defining = list(defining)
        self.streaming = (Checker(targets[0]), StaleRules(targets[0], self.defining)) if len(targets) == 1 else None
        self.held: list = []  # the objects, when checked only at the end
        self.found: list = []
        self.problems: list = []
        self.too_deep: list = []  # objects nested deeper than a check can walk: each one problem
        self.objects = 0
        self.groups: set = set()  # the API groups of the objects read
        self.checked: "Optional[list]" = [] if identities else None  # -o junit makes each object a test case

    def add(self, records) -> None:
        from kubectl_apiinfo.inputs.manifests import Problem

        objects = []
        for r in records:
            if isinstance(r, Problem):
                self.problems.append(r)
            else:
                objects.append(r)
        self.objects += len(objects)
        for m in objects:
            self.groups.add(split_api_version(m.obj["apiVersion"])[0])
        if self.checked is not None:
            self.checked.extend(identity(m) for m in objects)
        if self.streaming is not None:
            checker, rules = self.streaming
            self.found.extend(target_findings(objects, checker, rules, self.too_deep))
        else:
            self.held.extend(objects)

    def answer(self, files: int) -> dict:
        """The -o json answer: every finding of every object against every target, and the input's problems."""
        from kubectl_apiinfo.inputs.manifests import Problem

        if self.streaming is None:
            self._check_held()
        problems = self.problems + [Problem(m.file, m.line, "nested too deeply to check") for m in dict.fromkeys(self.too_deep)]
        return {
            "kind": "CheckResult",
            "targets": [t.describe() for t in self.targets],
            "files": files,
            "objects": self.objects,
            "findings": self.found,
            "problems": [{"file": p.file, "line": p.line, "location": p.location, "message": p.message} for p in problems],
        }

    def _check_held(self) -> None:
        by_target: dict = {}  # target's place -> (its findings, its objects nested too deeply)
        walks, walking = SchemaWalks(), None
        for i in sorted(range(len(self.targets)), key=lambda i: self.targets[i].release or ""):
            target = self.targets[i]
            if target.release != walking:
                walks.clear()
                walking = target.release
            deep: list = []
            checker, rules = Checker(target, walks), StaleRules(target, self.defining)
            by_target[i] = (target_findings(self.held, checker, rules, deep, shared=True), deep)
            target.drop_schemas()
        self.found = [f for i in range(len(self.targets)) for f in by_target[i][0]]
        self.too_deep = [m for i in range(len(self.targets)) for m in by_target[i][1]]


def target_findings(objects: list, checker: "Checker", rules: StaleRules, too_deep: list, shared: bool = False) -> list:
    """shared: the objects are the same list for every target, so an object's walks may be shared by its place."""
    target = checker.target
    found = []
    context = target.context
    for number, m in enumerate(objects):
        obj = m.obj
        api_version, kind = obj["apiVersion"], obj["kind"]
        group, version = split_api_version(api_version)
        common = identity(m)
        if context:
            common["context"] = context
        kind_findings = checker.kind_findings(group, version, kind)
        for f in kind_findings:
            found.append({**common, **f})
        if not kind_findings or kind_findings[0]["finding"] in (DEPRECATED, OFF_BY_DEFAULT):
            try:
                fields = checker.field_findings(group, version, kind, obj, number if shared else -1)
            except RecursionError:
                too_deep.append(m)
                continue
            for f in fields:
                found.append({**common, **f})
        for f in rules.findings(group, kind, obj):
            found.append({**common, **f})
    target.rules_not_checked = checker.rules_not_checked()  # said on stderr, never a finding
    return found


def exit_status(answer: dict, fail_on, ignore_deprecations: bool) -> int:
    """0 nothing found; 2 only deprecations; 3 anything else chosen to fail; 1 input that could not be read."""
    if answer["problems"]:
        return ERROR
    kinds = {f["finding"] for f in answer["findings"]} & set(failing_findings(fail_on, ignore_deprecations))
    if kinds - {DEPRECATED}:
        return BLOCKING
    return ONLY_DEPRECATIONS if kinds else OK


def failing_findings(fail_on, ignore_deprecations: bool) -> list:
    """The findings that fail a check, as exit_status counts them, in FINDINGS order."""
    return [f for f in FINDINGS if f in fail_on and not (ignore_deprecations and f == DEPRECATED)]


def summary(answer: dict, fail_on, ignore_deprecations: bool) -> dict:
    """-o json's summary: how many of each finding, how many fail, and in how many objects and files."""
    counts: dict = {}
    for f in answer["findings"]:
        counts[f["finding"]] = counts.get(f["finding"], 0) + 1
    failing = failing_findings(fail_on, ignore_deprecations)
    objects = {object_key(f) for f in answer["findings"]}  # an object found in several contexts is one object
    return {
        "findings": len(answer["findings"]),
        "byFinding": {name: counts[name] for name in FINDINGS if name in counts},
        "failing": sum(n for name, n in counts.items() if name in failing),
        "failOn": failing,
        "objectsWithFindings": len(objects),
        "filesWithFindings": len({key[0] for key in objects}),
        "problems": len(answer["problems"]),
    }


def object_key(record: dict) -> tuple:
    """What tells one object of the input from another, in a finding or in checked_objects()."""
    return record["file"], record["line"], record["apiVersion"], record["kind"], record["name"]


def identity(m) -> dict:
    """How a finding names its object: where it is, and its apiVersion, kind, name and namespace."""
    obj = m.obj
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName") or ""
    return {
        "location": m.location, "file": m.file, "line": m.line, "source": m.source or None,
        "apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": str(name), "namespace": meta.get("namespace"),
    }
