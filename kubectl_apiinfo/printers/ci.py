"""check's and scan's answers for CI: JUnit XML (-o junit), SARIF 2.1.0 for code scanning (-o sarif) and
GitHub workflow commands that annotate files (-o github).

check's findings are located in files, scan's in a cluster: a scan finding is a test case of its cluster's
suite, a SARIF result at a logical location (the cluster, the resource, the writer: there is no file for
code scanning to annotate), and a workflow annotation of the run rather than of a file.  A part of a
cluster scan could not read is a skipped test case and a SARIF notification: unknown, not absent.

A finding fails when the answer's summary says so (--fail-on less --ignore-deprecations): an error in
each format; any other finding is a warning.  Input that could not be read is an error too.  xml.etree
is imported only for -o junit.
"""

from __future__ import annotations

import json
import re

from kubectl_apiinfo import HOMEPAGE, __version__
from kubectl_apiinfo.answers.check import DEFAULT_FAIL_ON, FINDINGS, INVALID, object_key
from kubectl_apiinfo.errors import printable

TOOL = "kubectl-apiinfo"
# SARIF rules: one per finding, with GitHub's short and full descriptions.
RULES = {
    "not-served": ("API not served", "The object's apiVersion and kind are not served by the target: removed, not yet "
                   "added, or no such kind. Move it to the replacement API named in the message."),
    "off-by-default": ("API off by default", "The target has the API but a default API server does not serve it "
                       "(it needs kube-apiserver --runtime-config)."),
    "deprecated": ("API deprecated", "The target still serves the object's apiVersion and kind, but they are "
                   "deprecated and will be removed in the release the message names."),
    "unknown-field": ("Unknown field", "The target's schema for the object's kind has no such field: a typo, or a field "
                      "of a later release; the API server would drop or refuse it."),
    "invalid-value": ("Invalid value", "The target's schema refuses the value: its type, range, quantity or time "
                      "grammar, enum, pattern, bounds or format; the API server would reject the object."),
    "missing-required": ("Missing required field", "The target's schema requires the field, and the object leaves it "
                         "out or null; the API server would reject the object."),
    "duplicate-key": ("Duplicate key", "Two entries of a keyed list (x-kubernetes-list-type map or set) have the same "
                      "key; the API server would reject the object or merge the entries."),
    "stale-rule": ("Stale rule", "A rule in the object (RBAC, admission webhook or policy, APIService) names an API the "
                   "target does not serve: it grants or matches nothing there."),
    "unknown-kind": ("Unknown kind", "The target does not know the kind: a custom resource whose "
                     "CustomResourceDefinition the target does not serve."),
    "discovery-failed": ("Discovery failed", "The cluster's discovery of the object's group/version failed, so the "
                         "object could not be checked; not the manifest's fault."),
    INVALID: ("Invalid input", "The input could not be read as Kubernetes objects (not YAML or JSON, or not an object)."),
}
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _failing(answer: dict) -> set:
    summary = answer.get("summary")
    return set(summary["failOn"] if summary else DEFAULT_FAIL_ON)


def _kind_name(f: dict) -> str:
    return f"{f['kind']}/{f['name']}" if f.get("name") else f["kind"]


def _said(f: dict) -> str:
    """A finding as one sentence: its object, then the detail; the context where several targets answered."""
    where = f"[{f['context']}] " if f.get("context") else ""
    return f"{where}{_kind_name(f)}: {f['detail']}"


# --- JUnit XML -------------------------------------------------------------------------


_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _xml_text(text) -> str:
    """Text XML 1.0 can carry: control characters (which no XML may hold, escaped or not) shown as \\x1b."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", printable(str(text)))


def junit(answer: dict, no_headers: bool = False) -> str:
    """<testsuites>: one <testsuite> per target with a <testcase> per object, a <failure> where a finding fails
    and the other findings in <system-out>; then a suite "input" with an <error> per file that could not be read."""
    import xml.etree.ElementTree as ET  # only for -o junit

    failing = _failing(answer)
    objects = answer.get("checked")
    if objects is None:  # an answer without the list: the objects with findings
        objects = list({object_key(f): f for f in answer["findings"]}.values())
    root = ET.Element("testsuites", name=f"{TOOL} check")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for target in answer["targets"]:
        context = target.get("context")
        found: dict = {}
        for f in answer["findings"]:
            if f.get("context") == context:
                found.setdefault(object_key(f), []).append(f)
        suite = ET.SubElement(root, "testsuite", name=_xml_text(target["name"]))
        failures = 0
        for obj in objects:
            findings = found.get(object_key(obj), [])
            case = ET.SubElement(suite, "testcase", classname=_xml_text(obj["file"]),
                                 name=_xml_text(f"{_kind_name(obj)} {obj['apiVersion']} ({obj['location']})"),
                                 file=_xml_text(obj["file"]), line=str(obj["line"]), time="0")
            fails = [f for f in findings if f["finding"] in failing]
            if fails:
                failures += 1
                more = f" (and {len(fails) - 1} more)" if len(fails) > 1 else ""
                failure = ET.SubElement(case, "failure", message=_xml_text(fails[0]["detail"] + more),
                                        type=",".join(dict.fromkeys(f["finding"] for f in fails)))
                failure.text = "\n".join(_xml_text(f"{f['finding']}: {f['detail']}") for f in fails)
            warnings = [f for f in findings if f["finding"] not in failing]
            if warnings:
                ET.SubElement(case, "system-out").text = "\n".join(
                    _xml_text(f"{f['finding']} (not failing): {f['detail']}") for f in warnings)
        _counts(suite, len(objects), failures, 0)
        totals["tests"] += len(objects)
        totals["failures"] += failures
    if answer["problems"]:
        suite = ET.SubElement(root, "testsuite", name="input")
        for p in answer["problems"]:
            case = ET.SubElement(suite, "testcase", classname=_xml_text(p["file"]), name=_xml_text(p["location"]),
                                 file=_xml_text(p["file"]), line=str(p["line"]), time="0")
            ET.SubElement(case, "error", message=_xml_text(p["message"]), type=INVALID).text = _xml_text(
                f"{p['location']}: {p['message']}")
        _counts(suite, len(answer["problems"]), 0, len(answer["problems"]))
        totals["tests"] += len(answer["problems"])
        totals["errors"] += len(answer["problems"])
    _counts(root, totals["tests"], totals["failures"], totals["errors"])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _counts(element, tests: int, failures: int, errors: int) -> None:
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("errors", str(errors))
    element.set("skipped", "0")
    element.set("time", "0")


# --- SARIF 2.1.0 ---------------------------------------------------------------------------


def _uri(path: str) -> str:
    """A file as SARIF's artifactLocation.uri: a relative path as given (GitHub reads it from the repository's
    root), an absolute one as a file: URI; either percent-encoded where a URI needs it."""
    import os.path
    from pathlib import PurePath
    from urllib.parse import quote

    if os.path.isabs(path):
        return PurePath(path).as_uri()
    return quote(PurePath(path).as_posix(), safe="/")


def sarif(answer: dict, no_headers: bool = False) -> str:
    """One run of the tool: a rule per finding (and invalid), a result per finding and per unreadable file."""
    failing = _failing(answer)
    names = (*FINDINGS, INVALID)
    rules = []
    for name in names:
        short, full = RULES[name]
        rules.append({
            "id": name,
            "name": "".join(word.title() for word in name.split("-")),
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "help": {"text": full},
            "helpUri": HOMEPAGE,
            "defaultConfiguration": {"level": "error" if name in DEFAULT_FAIL_ON or name == INVALID else "warning"},
            "properties": {"tags": ["kubernetes"]},
        })
    results = []
    for f in answer["findings"]:
        properties = {k: f[k] for k in ("apiVersion", "kind", "name", "namespace", "context", "field") if f.get(k)}
        results.append(_result(f["finding"], names, "error" if f["finding"] in failing else "warning",
                               _said(f), f["file"], f["line"], properties))
    for p in answer["problems"]:
        results.append(_result(INVALID, names, "error", p["message"], p["file"], p["line"], {}))
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "version": __version__, "semanticVersion": __version__,
                                "informationUri": HOMEPAGE, "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def _result(rule: str, names: tuple, level: str, message: str, file: str, line, properties: dict) -> dict:
    result = {
        "ruleId": rule,
        "ruleIndex": names.index(rule),
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(file)},
            "region": {"startLine": max(1, int(line or 1))},
        }}],
    }
    if properties:
        result["properties"] = properties
    return result


# --- GitHub workflow commands ------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message, as the runner decodes it (actions/toolkit's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file=, title=): also its separators ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _visible(text: str) -> str:
    """Terminal escapes shown as \\x1b, newlines kept: the runner shows an escaped newline as one."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


def _command(level: str, title: str, message: str, file: str, line, location: str) -> str:
    if file == "<stdin>":  # no file to annotate: the location (a Helm template's name, or the line) says where
        properties, message = [], f"{location}: {message}"
    else:
        properties = [f"file={escape_property(_visible(file))}", f"line={max(1, int(line or 1))}"]
    properties.append(f"title={escape_property(_visible(title))}")
    return f"::{level} {','.join(properties)}::{escape_data(_visible(message))}"


def github(answer: dict, no_headers: bool = False) -> str:
    """A line per finding: ::error for one that fails, ::warning for the others; ::error per unreadable file."""
    failing = _failing(answer)
    lines = []
    for f in answer["findings"]:
        title = f"{f['finding']} ({f['context']})" if f.get("context") else f["finding"]
        lines.append(_command("error" if f["finding"] in failing else "warning", title, _said(f), f["file"], f["line"], f["location"]))
    for p in answer["problems"]:
        lines.append(_command("error", INVALID, p["message"], p["file"], p["line"], p["location"]))
    return "".join(line + "\n" for line in lines)



# --- scan: findings of a cluster, not of files ------------------------------------------------------


def scan_subject(f: dict) -> str:
    """What a scan finding is about, in a few words: the resource and version, and who wrote or asked."""
    what = f"{f.get('resource') or f.get('kind') or ''} {f.get('apiVersion') or ''}".strip()
    if f.get("release"):
        where = f"Helm release {f.get('namespace') or ''}/{f['release']}".replace(" /", " ")
        return f"{where} {f.get('template') or ''}: {what}".replace("  ", " ")
    if f.get("crd") and not f.get("manager"):
        return f"CustomResourceDefinition {f['crd']}: {what}"
    by = f.get("manager") or f.get("userAgent") or ("(requests)" if f.get("origin") == "metrics" else f.get("origin") or "")
    return f"{what} by {by}" if by else what


def _scan_said(f: dict) -> str:
    where = f"[{f['context']}] " if f.get("context") else ""
    return f"{where}{scan_subject(f)}: {f['detail']}"


def _clusters(answer: dict) -> list:
    """(the context or None, the cluster's name) of every cluster scanned, as the answer has them."""
    clusters = answer.get("clusters") or ([answer["cluster"]] if answer.get("cluster") else [])
    return [(c.get("context"), c.get("name") or c.get("context") or "cluster") for c in clusters] or [(None, "cluster")]


def scan_junit(answer: dict, no_headers: bool = False) -> str:
    """<testsuites>: a <testsuite> per cluster with a <testcase> per finding (a <failure> where it fails,
    <system-out> where it only warns) and a skipped <testcase> per part that could not be scanned."""
    import xml.etree.ElementTree as ET  # only for -o junit

    failing = _failing(answer)
    root = ET.Element("testsuites", name=f"{TOOL} scan")
    totals = [0, 0, 0]
    for context, name in _clusters(answer):
        suite = ET.SubElement(root, "testsuite", name=_xml_text(name))
        tests = failures = skipped = 0
        for f in answer["findings"]:
            if f.get("context") != context:
                continue
            tests += 1
            case = ET.SubElement(suite, "testcase", classname=_xml_text(f.get("origin") or "scan"),
                                 name=_xml_text(scan_subject(f)), time="0")
            if f["finding"] in failing:
                failures += 1
                ET.SubElement(case, "failure", message=_xml_text(f["detail"]), type=f["finding"]).text = _xml_text(
                    f"{f['finding']}: {f['detail']}")
            else:
                ET.SubElement(case, "system-out").text = _xml_text(f"{f['finding']} (not failing): {f['detail']}")
        for s in answer.get("skipped", ()):
            if s.get("context") != context:
                continue
            tests += 1
            skipped += 1
            case = ET.SubElement(suite, "testcase", classname="not scanned", name=_xml_text(s["part"]), time="0")
            ET.SubElement(case, "skipped", message=_xml_text(s["reason"]))
        if not tests:  # a clean scan is one passing case, so the report shows it ran
            tests = 1
            ET.SubElement(suite, "testcase", classname="scan", name="no findings", time="0")
        _counts(suite, tests, failures, 0)
        suite.set("skipped", str(skipped))
        totals = [totals[0] + tests, totals[1] + failures, totals[2] + skipped]
    _counts(root, totals[0], totals[1], 0)
    root.set("skipped", str(totals[2]))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def scan_sarif(answer: dict, no_headers: bool = False) -> str:
    """One run: a rule per finding scan reports, a result per finding at its logical location, and what could
    not be scanned as the run's tool notifications."""
    failing = _failing(answer)
    names = tuple(dict.fromkeys(f["finding"] for f in answer["findings"]))
    rules = [{
        "id": name, "name": "".join(word.title() for word in name.split("-")),
        "shortDescription": {"text": RULES[name][0]}, "fullDescription": {"text": RULES[name][1]},
        "helpUri": HOMEPAGE, "properties": {"tags": ["kubernetes"]},
    } for name in names]
    results = []
    for f in answer["findings"]:
        path = [p for p in (f.get("context"), f.get("resource"), f.get("apiVersion")) if p]
        result = {
            "ruleId": f["finding"], "ruleIndex": names.index(f["finding"]),
            "level": "error" if f["finding"] in failing else "warning",
            "message": {"text": _scan_said(f)},
            "locations": [{"logicalLocations": [{"fullyQualifiedName": "/".join(path) or "cluster",
                                                 "kind": "resource"}]}],
        }
        properties = {k: f[k] for k in ("origin", "apiVersion", "kind", "resource", "manager", "release", "chart",
                                        "template", "crd", "userAgent", "context") if f.get(k)}
        if properties:
            result["properties"] = properties
        results.append(result)
    notes = [{"level": "warning", "message": {"text": f"not scanned: {s['part']}: {s['reason']}"}}
             for s in answer.get("skipped", ())]
    run: dict = {
        "tool": {"driver": {"name": TOOL, "version": __version__, "semanticVersion": __version__,
                            "informationUri": HOMEPAGE, "rules": rules}},
        "results": results,
    }
    if notes:
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": notes}]
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def scan_github(answer: dict, no_headers: bool = False) -> str:
    """A line per finding, annotating the workflow run (no file to point at); ::warning per part not scanned."""
    failing = _failing(answer)
    lines = []
    for f in answer["findings"]:
        title = f"{f['finding']} ({f['context']})" if f.get("context") else f["finding"]
        level = "error" if f["finding"] in failing else "warning"
        lines.append(f"::{level} title={escape_property(_visible(title))}::{escape_data(_visible(_scan_said(f)))}")
    for s in answer.get("skipped", ()):
        text = f"not scanned: {s['part']}: {s['reason']}"
        lines.append(f"::warning title=not scanned::{escape_data(_visible(text))}")
    return "".join(line + "\n" for line in lines)
