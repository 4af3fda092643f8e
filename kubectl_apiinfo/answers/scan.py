"""scan as data: what a live cluster's objects and clients still use that a target release does not serve.

Signals the stored object itself cannot give (the API
server stores one version and serves every version):
  managedFields  each object's field managers and the apiVersion each last wrote with; one finding per
                 (resource, apiVersion written, manager), with the count of objects and a few names
  last-applied   with --last-applied, the apiVersion of kubectl's last-applied-configuration annotation
  metrics        apiserver_requested_deprecated_apis: deprecated APIs requested since the API server started
  audit-log      with --audit-log, alone: the requests an audit log shows to deprecated APIs (answers/audit_events.py)
  helm           each Helm release's current manifest (kube/helm_releases.py), checked as check checks a file:
                 kinds, fields and values; a finding per object, naming the release, chart, revision and template
Each is judged as check judges an apiVersion/kind (answers/check.py Checker), against a catalog release;
a custom resource's against the cluster's own CRDs, whose storedVersions are judged too (answers/crd_scan.py).
Counts are kept as objects are read; no object is kept, and a release's manifest only while it is checked.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.answers import check
from kubectl_apiinfo.errors import UserError, flag, shorten
from kubectl_apiinfo.model import group_version, release_key
from kubectl_apiinfo.sources.catalog import releases

MANAGED_FIELDS, LAST_APPLIED, METRICS, AUDIT_LOG, HELM = "managedFields", "last-applied", "metrics", "audit-log", "helm"
# A value finding's words for what the object gives: a Helm release's values, which no cache or bundle may hold.
QUOTED = ("given", "message")
NAMES_KEPT = 3  # names shown per finding: enough to find the objects, never all ten thousand
# What breaks first: an API not served, a field or value the API server refuses (Helm manifests alone have
# fields), then what still applies.
FINDINGS = (check.NOT_SERVED, check.OFF_BY_DEFAULT, check.UNKNOWN_FIELD, check.INVALID_VALUE, check.MISSING_REQUIRED,
            check.DUPLICATE_KEY, check.DEPRECATED)


class Listable:
    """A resource scan lists: where (group, the version asked for), its name and kind."""

    __slots__ = ("group", "version", "name", "kind", "namespaced")

    def __init__(self, group: str, version: str, name: str, kind: str, namespaced: bool):
        self.group, self.version, self.name, self.kind, self.namespaced = group, version, name, kind, namespaced

    @property
    def qualified(self) -> str:
        return f"{self.name}.{self.group}" if self.group else self.name


def listable(source, wanted: Optional[list] = None) -> list:
    """Every resource of the cluster's snapshot that can be listed, once: in its group's preferred version;
    a built-in resource served by several groups (events, and extensions' deployments or ingresses on an
    old cluster) is one storage, listed in the first group discovery names, extensions last (its successors
    name the resource as manifests should).  wanted narrows by name."""
    builtin = releases.builtin_kinds()
    found, seen = [], set()
    for group in sorted(source.snapshot.groups, key=lambda g: g.name == "extensions"):
        versions = sorted(group.versions, key=lambda gv: gv.version != group.preferred_version)
        taken = set()
        for gv in versions:
            for r in gv.resources:
                if "/" in r.name or "list" not in r.verbs or r.name in taken:
                    continue
                taken.add(r.name)
                if group.name in builtin:
                    if (r.name, r.kind) in seen:
                        continue
                    seen.add((r.name, r.kind))
                found.append((Listable(group.name, gv.version, r.name, r.kind, r.namespaced), r))
    if not wanted:
        return [item for item, _ in found]
    chosen = []
    for word in wanted:
        matches = [item for item, r in found if _names(word, item, r)]
        if not matches:
            raise UserError(
                f"{flag('resources')}: the cluster lists no resource {shorten(word)!r} "
                f"('kubectl apiinfo resources {flag('verbs')} list' lists those it can)"
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def _names(word: str, item: Listable, r) -> bool:
    word = word.strip().lower()
    name, _, group = word.partition(".")
    if group and group != item.group:
        return False
    return name in (item.name, r.singular_name.lower(), item.kind.lower(), *[s.lower() for s in r.short_names])


class Tally:
    """One resource's objects, counted as they are read: by (apiVersion written, manager, origin), the
    number of objects, a few names, the operations and the latest time.  Its size is the number of distinct
    writers, never the number of objects."""

    def __init__(self, resource: Listable):
        self.resource = resource
        self.objects = 0
        self.rows: dict = {}  # (apiVersion, manager, origin) -> [objects, names, operations, latest time]

    def add(self, page: list) -> None:
        for o in page:
            self.objects += 1
            name = f"{o.namespace}/{o.name}" if o.namespace else o.name
            keys: dict = {}
            for manager, operation, api_version, time in o.managed:
                ops, latest = keys.get((api_version, manager, MANAGED_FIELDS), (set(), ""))
                ops.add(operation)
                keys[(api_version, manager, MANAGED_FIELDS)] = (ops, max(latest, time))
            if o.last_applied:
                keys[(o.last_applied, "", LAST_APPLIED)] = (set(), "")
            for key, (ops, time) in keys.items():  # an object counts once per writer however many entries it has
                row = self.rows.get(key)
                if row is None:
                    row = self.rows[key] = [0, [], set(), ""]
                row[0] += 1
                if len(row[1]) < NAMES_KEPT:
                    row[1].append(name)
                row[2] |= ops
                row[3] = max(row[3], time)


class ScanRun:
    """Findings of one cluster against one target, fed a resource's tally at a time and the metric's series."""

    def __init__(self, cluster, target):
        self.cluster = cluster  # None when an audit log is scanned alone
        self.target = target
        self.checker = check.Checker(target)
        self.findings: list = []
        self.skipped: list = []
        self.lists_failed = 0
        self.resources = 0
        self.objects = 0
        self.metrics_read = False
        self.helm_releases: Optional[int] = None  # releases checked; None: not scanned
        self.audit_log: Optional[dict] = None  # what was read of an audit log, when one was scanned
        self.crds_read: Optional[int] = None  # CRDs listed; None: not listed
        self.said: Optional[list] = None  # --all-contexts: this context's warnings, held to be printed in order
        self._crd_names: dict = {}

    def use_crds(self, crds: list, chosen: Optional[set] = None) -> None:
        """The cluster's CRDs (kube.crd_storage.CRDFacts): their kinds judged by them, their storedVersions
        reported (only those of the resources chosen, with --resources)."""
        from kubectl_apiinfo.answers import crd_scan

        self.checker = check.Checker(crd_scan.with_crds(self.target, crds))
        self._crd_names = crd_scan.by_kind(crds)
        self.findings.extend(crd_scan.stored_findings(crd_scan.wanted(crds, chosen)))
        self.crds_read = len(crds)

    def add(self, tally: Tally) -> None:
        r = tally.resource
        self.resources += 1
        self.objects += tally.objects
        for (api_version, manager, origin), (count, names, ops, time) in sorted(tally.rows.items()):
            group, version = check.split_api_version(api_version)
            for f in self.checker.kind_findings(group, version, r.kind):
                if f["finding"] not in FINDINGS:
                    continue
                self.findings.append({
                    "finding": f["finding"], "origin": origin, "resource": r.qualified, "group": r.group,
                    "kind": r.kind, "apiVersion": api_version, "manager": manager if origin == MANAGED_FIELDS else None,
                    "operations": sorted(o for o in ops if o), "objects": count, "names": list(names),
                    "lastWritten": time or None, **_facts(f), **self._crd(r), "detail": f["detail"],
                })

    def _crd(self, r: Listable) -> dict:
        name = self._crd_names.get((r.group, r.kind))
        return {"crd": name} if name else {}

    def add_metrics(self, series: list) -> None:
        """The API server's apiserver_requested_deprecated_apis series: each a deprecated API still requested."""
        self.metrics_read = True
        for s in series:
            self.findings.append(self._requested(s))

    def _requested(self, s: dict) -> dict:
        what = f"{s['resource']}/{s['subresource']}" if s["subresource"] else s["resource"]
        return self.requested(
            s["group"], s["version"], s["resource"], s["subresource"], s["removedRelease"], METRICS,
            f"clients have requested {what} since the API server started (its apiserver_requested_deprecated_apis)",
        )

    def requested(self, group: str, version: str, resource: str, sub: str, removed: str, origin: str, how: str) -> dict:
        """A deprecated API clients requested (the API server's word: removed in removed, if known), judged against
        the target: not served once the target reaches its removal, else deprecated; the catalog's facts (its
        replacement) where the catalog judges the same.  how ends the detail: where the request was seen."""
        gv = group_version(group, version)
        what = f"{resource}/{sub}" if sub else resource
        kind = self._kind(group, version, resource)
        judged = [f for f in self.checker.kind_findings(group, version, kind) if f["finding"] in FINDINGS] if kind else []
        release = self.target.release
        if removed and release:
            finding = check.NOT_SERVED if release_key(removed) <= release_key(release) else check.DEPRECATED
        else:
            finding = judged[0]["finding"] if judged else check.DEPRECATED
        same = judged[0] if judged and judged[0]["finding"] == finding else None
        if same is not None:
            text = same["detail"]
        elif finding == check.NOT_SERVED:
            text = f"{gv} {what} is removed in {removed}: {self.target.label} does not serve it"
        else:
            text = f"{gv} {what} is deprecated" + (f"; removal planned in {removed}" if removed else "")
        return {
            "finding": finding, "origin": origin, "resource": f"{resource}.{group}" if group else resource,
            "group": group, "kind": kind, "apiVersion": gv, "manager": None, "operations": [], "objects": None,
            "names": [], "lastWritten": None, "subresource": sub or None, "removedRelease": removed or None,
            **(_facts(same) if same is not None else {"removed": removed or None, "replacement": None, "replacementServed": None}),
            "detail": f"{text}; {how}",
        }

    def add_release(self, release) -> list:
        """A Helm release's manifest (kube/helm_releases.py Release), checked against the target as check checks
        a file; the answer's findings are its.  Returns the locations of its documents that could not be read
        (their text never: a release may be a Secret's)."""
        from kubectl_apiinfo.answers.rules import DEFINING_KINDS
        from kubectl_apiinfo.inputs.manifests import Manifest, parse

        self.helm_releases = (self.helm_releases or 0) + 1
        records = list(parse(release.manifest, f"{release.namespace}/{release.name}"))
        defining = [r for r in records if isinstance(r, Manifest) and r.obj.get("kind") in DEFINING_KINDS]
        run = check.CheckRun([self.target], defining)
        run.add(records)
        del records
        answer = run.answer(1)
        unreadable = [_template_at(release.manifest, p["line"]) for p in answer["problems"]]
        about = {"release": release.name, "namespace": release.namespace, "revision": release.revision,
                 "chart": release.chart_label or None}
        for f in answer["findings"]:
            if f["finding"] in FINDINGS:
                self.findings.append(self._helm_finding(f, about, release))
        return unreadable

    def _helm_finding(self, f: dict, about: dict, release) -> dict:
        group, version = check.split_api_version(f["apiVersion"])
        namespace = f["namespace"] if isinstance(f["namespace"], str) and f["namespace"] else release.namespace
        name = f"{namespace}/{f['name']}" if namespace else f["name"]
        resource = self._resource(group, version, f["kind"])
        return {
            "finding": f["finding"], "origin": HELM, "resource": f"{resource}.{group}" if group else resource,
            "group": group, "kind": f["kind"], "apiVersion": f["apiVersion"], "manager": None, "operations": [],
            "objects": 1, "names": [name], "lastWritten": None, **about, "template": f["source"],
            **({"field": f["field"]} if f.get("field") else {}), **_facts(f), "detail": f["detail"],
            # What the detail quotes of the release's own values: printed, but never kept (kept_copy)
            **{k: f[k] for k in QUOTED if f.get(k)},
        }

    def _resource(self, group: str, version: str, kind: str) -> str:
        """The resource (plural) of a kind a manifest names: the cluster's discovery, the target's, the catalog's
        history; else the kind in lower case."""
        for source in (self.cluster, self.target):
            r = source.kinds.get((group, version, kind))
            if r is not None:
                return r.name
        for plural, entries in releases.history().items():
            if any(e.group == group and e.kind == kind for e in entries):
                return plural
        return kind.lower()

    def _kind(self, group: str, version: str, resource: str) -> Optional[str]:
        """The kind of a resource the metric names: the cluster's discovery, else the catalog's history."""
        for source in (self.cluster, self.target):
            gv = source.versions.get((group, version)) if source is not None else None
            for r in gv.resources if gv is not None else ():
                if r.name == resource:
                    return r.kind
        entry = next((e for e in releases.history().get(resource, ()) if (e.group, e.version) == (group, version)), None)
        return entry.kind if entry is not None else None

    def add_findings(self, findings: list) -> None:
        """Findings judged elsewhere in this run's shape (answers/audit_events.py's, by requested())."""
        self.findings.extend(findings)

    def skip(self, part: str, permission: str, reason: str, listed: bool = False) -> None:
        """A part not read (a list, /metrics, a group/version whose discovery failed): unknown, not absent;
        the answer and the closing note say so."""
        self.skipped.append({"part": part, "permission": permission or None, "reason": reason})
        self.lists_failed += listed

    @property
    def anything_read(self) -> bool:
        return (self.resources > self.lists_failed or self.metrics_read or self.crds_read is not None
                or bool(self.helm_releases))

    def answer(self, requests: int) -> dict:
        scanned = {"resources": self.resources, "objects": self.objects, "metrics": self.metrics_read,
                   "crds": self.crds_read, "helmReleases": self.helm_releases, "requests": requests}
        if self.audit_log is not None:
            scanned["auditLog"] = dict(self.audit_log)
        return {
            "kind": "ScanResult",
            "cluster": self.cluster.describe() if self.cluster is not None else None,
            "target": self.target.describe(),
            "scanned": scanned,
            "skipped": list(self.skipped),
            "findings": sorted(self.findings, key=_order),
        }


def _template_at(manifest: str, line: int) -> str:
    """Where a manifest's line is, as a person finds it: the template of its document (Helm's `# Source:`)."""
    lines = manifest.splitlines()
    for text in reversed(lines[:max(0, line)]):
        if text.startswith("# Source:"):
            return f"{text[len('# Source:'):].strip()} (line {line} of the manifest)"
        if text.startswith("---") and text.strip() == "---":
            break
    return f"line {line} of the manifest"


def _facts(f: dict) -> dict:
    return {k: f.get(k) for k in ("removed", "replacement", "replacementServed")}


def _order(f: dict) -> tuple:
    """What breaks first, then by resource, version and manager (or, from an audit log, who asked and how;
    from a Helm release, which release, template and object)."""
    return (FINDINGS.index(f["finding"]), f["resource"], f["apiVersion"], f["origin"], f["manager"] or "",
            f.get("subresource") or "", f.get("userAgent") or "", f.get("user") or "", f.get("verb") or "",
            f.get("namespace") or "", f.get("release") or "", f.get("template") or "", f["names"], f.get("field") or "")


def kept_copy(answer: dict) -> dict:
    """answer as the cache and a bundle may hold it: a finding that quotes an object's own value (a Helm
    release's, which no cache may hold) says so instead."""
    return dict(answer, findings=[_without_values(f) for f in answer["findings"]])


def _without_values(f: dict) -> dict:
    quoted = [f[k] for k in QUOTED if isinstance(f.get(k), str) and f[k]]
    if not quoted:
        return f
    detail = f["detail"]
    for text in quoted:
        detail = detail.replace(text, "(a value of the release, not kept)")
    return {**{k: v for k, v in f.items() if k not in QUOTED}, "detail": detail}


def exit_status(answer: dict, fail_on, ignore_deprecations: bool) -> int:
    """As check's: 0 nothing found; 2 only deprecations; 3 anything else chosen to fail."""
    return check.exit_status({"problems": [], "findings": answer["findings"]}, fail_on, ignore_deprecations)


def summary(answer: dict, fail_on, ignore_deprecations: bool) -> dict:
    counts: dict = {}
    for f in answer["findings"]:
        counts[f["finding"]] = counts.get(f["finding"], 0) + 1
    failing = [f for f in check.failing_findings(fail_on, ignore_deprecations) if f in FINDINGS]
    return {
        "findings": len(answer["findings"]),
        "byFinding": {name: counts[name] for name in FINDINGS if name in counts},
        "failing": sum(n for name, n in counts.items() if name in failing),
        "failOn": failing,
        "skipped": len(answer["skipped"]),
    }
