"""Output of check, scan, plan and diff: kubectl-style tables, GitHub markdown (tabulate, imported
only for -o markdown), csv (the csv module), json and yaml; check's CI formats (junit,
sarif, github) are printers/ci.py's, scan's and plan's too.  CHECK, SCAN, PLAN and DIFF are their tables of printers; a new
format for one of them is a printer function in its table (and the word in cli/spec.py)."""

from __future__ import annotations

from kubectl_apiinfo.console import columns
from kubectl_apiinfo.errors import printable
from kubectl_apiinfo.model import release_span
from kubectl_apiinfo.printers import ci
from kubectl_apiinfo.printers.structured import to_json, to_yaml
from kubectl_apiinfo.printers.tabwriter import fit

# The free-text columns, which wrap within themselves to fit a terminal; the others keep their width.
WRAPPED = {"LOCATION", "KIND/NAME", "DETAIL", "ADVICE", "NAME", "OBJECTS", "MANAGER", "RELEASE", "TEMPLATE",
           "USER AGENT", "USER"}


def _kind_name(f: dict) -> str:
    return f"{f['kind']}/{f['name']}" if f.get("name") else f["kind"]


def check_rows(answer: dict) -> tuple:
    """(headers, rows): findings in input order, then what could not be read."""
    contexts = any(t.get("context") for t in answer["targets"])
    headers = (["CONTEXT"] if contexts else []) + ["LOCATION", "KIND/NAME", "APIVERSION", "FINDING", "DETAIL"]
    rows = []
    for f in answer["findings"]:
        rows.append(([f.get("context", "")] if contexts else []) + [f["location"], _kind_name(f), f["apiVersion"], f["finding"], f["detail"]])
    for p in answer["problems"]:
        rows.append(([""] if contexts else []) + [p["location"], "-", "-", "invalid", p["message"]])
    return headers, rows


def scan_rows(answer: dict) -> tuple:
    """(headers, rows): a row per (resource, apiVersion, manager) with its objects, then the requested APIs;
    from an audit log, a row per (resource, who asked, verb) with its requests and when; with Helm findings, the
    release and template of each (a row per object)."""
    if answer["scanned"].get("auditLog") is not None:
        return _audit_rows(answer)
    contexts = "clusters" in answer  # --all-contexts
    helm = any(f["origin"] == "helm" for f in answer["findings"])
    headers = ((["CONTEXT"] if contexts else []) + ["RESOURCE", "APIVERSION", "MANAGER", "OBJECTS"]
               + (["RELEASE", "TEMPLATE"] if helm else []) + ["FINDING", "DETAIL"])
    rows = []
    for f in answer["findings"]:
        names, count = f.get("names") or [], f.get("objects")
        if f["origin"] == "metrics":
            by = "(requests)"
        else:  # a CRD's storedVersions count no objects: what etcd may hold
            by = f.get("manager") or "" if f["origin"] == "managedFields" else f"({f['origin']})"
        objects = "-" if count is None else f"{count} ({', '.join(names)}{', ...' if count > len(names) else ''})"
        release = ["", ""]
        if f["origin"] == "helm":
            chart = f", {f['chart']}" if f.get("chart") else ""
            release = [f"{f.get('namespace')}/{f.get('release')} (revision {f.get('revision')}{chart})", f.get("template") or "-"]
        rows.append(([f.get("context") or ""] if contexts else []) + [
            f.get("resource") or "-", f.get("apiVersion") or "-", by, objects] + (release if helm else []) + [
            f["finding"], f["detail"]])
    return headers, rows


def _audit_rows(answer: dict) -> tuple:
    headers = ["RESOURCE", "APIVERSION", "VERB", "USER AGENT", "USER", "REQUESTS", "FIRST SEEN", "LAST SEEN", "FINDING", "DETAIL"]
    rows = []
    for f in answer["findings"]:
        resource = f"{f['resource']} ({f['subresource']})" if f.get("subresource") else f["resource"]
        rows.append([resource, f["apiVersion"], f["verb"] or "-", f["userAgent"] or "-", f["user"] or "-", str(f["count"]),
                     _seconds(f["firstSeen"]), _seconds(f["lastSeen"]), f["finding"], f["detail"]])
    return headers, rows


def _seconds(time) -> str:
    """An audit timestamp to the second (2024-03-01T10:00:00.123456Z is 2024-03-01T10:00:00Z): the table's width."""
    if not time:
        return "-"
    head, dot, rest = time.partition(".")
    return head + rest.lstrip("0123456789") if dot else time


def plan_rows(answer: dict) -> tuple:
    """(headers, rows): a row per object and hop, in hop order; then what could not be read."""
    headers = ["HOP", "LOCATION", "KIND/NAME", "APIVERSION", "WINDOW", "ADVICE"]
    rows = []
    for f in answer["findings"]:
        advice = f["advice"] if f["finding"] != "deprecated" else f"(deprecated) {f['advice']}"
        rows.append([f["hop"] or "-", f["location"], _kind_name(f), f["uses"],
                     release_span(*f["window"]) if f["window"] else "-", advice])
    for p in answer["problems"]:
        rows.append(["-", p["location"], "-", "-", "-", f"invalid: {p['message']}"])
    return headers, rows


def _plan_ci(check_printer, scan_printer):
    """A CI printer of plan's answer: check's for manifests (their files and lines), scan's for a live cluster;
    either reads one target (the upgrade) and each finding's detail led by its hop."""

    def printer(answer: dict, no_headers: bool) -> str:
        findings = [{**f, "detail": f"at the {f['hop']} hop: {f['detail']}" if f["hop"] else f["detail"]}
                    for f in answer["findings"]]
        live = answer.get("live")
        if live:
            return scan_printer({**answer, "findings": findings, "cluster": live["cluster"], "skipped": live["skipped"]},
                                no_headers)
        return check_printer({**answer, "targets": [{"name": f"upgrade {answer['from']} to {answer['to']}"}],
                              "findings": findings}, no_headers)

    return printer


def diff_rows(answer: dict) -> tuple:
    """(headers, rows) grouped as an upgrade reads: group/versions, resources, then fields; what breaks first."""
    from kubectl_apiinfo.answers.diff import SECTIONS

    headers = ["WHAT", "CHANGE", "NAME", "DETAIL"]
    rows = []
    labels = {"groupVersions": "group/version", "resources": "resource", "fields": "field"}
    for section, change in SECTIONS:
        for r in answer[section]:
            if r["change"] != change:
                continue
            if section == "groupVersions":
                name = r["groupVersion"]
            elif section == "resources":
                name = f"{r['resource']} ({r['kind']})"
            else:
                name = f"{r['groupVersion']} {r['kind']} {r['field']}"
            rows.append([labels[section], change, name, r["detail"]])
    return headers, rows


# --- (headers, rows) in each format ------------------------------------------------


def _table(headers_rows: tuple, no_headers: bool) -> str:
    """kubectl's columns; on a terminal, fit to its width (printers/tabwriter.py's fit)."""
    headers, rows = headers_rows
    if not rows:
        return ""
    return fit(headers, rows, columns(), WRAPPED, no_headers=no_headers)


def _markdown(headers_rows: tuple, no_headers: bool) -> str:
    headers, rows = headers_rows
    if not rows:
        return ""
    from tabulate import tabulate  # only for -o markdown

    escaped = [[printable(cell).replace("|", "\\|") for cell in row] for row in rows]
    # Cells stay text: a release such as 1.30 read as a number would print as 1.3.
    if no_headers:
        return tabulate(escaped, tablefmt="github", disable_numparse=True) + "\n"
    return tabulate(escaped, headers=headers, tablefmt="github", disable_numparse=True) + "\n"


def _csv(headers_rows: tuple, no_headers: bool) -> str:
    import csv
    import io

    headers, rows = headers_rows
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not no_headers:
        writer.writerow(headers)
    writer.writerows([printable(cell) for cell in row] for row in rows)  # a name must not drive the terminal
    return buffer.getvalue()


def _formats(rows) -> dict:
    """The formats every upgrade answer has, from its (headers, rows) function; each printer is
    (answer, no_headers) -> text."""
    return {
        "table": lambda answer, no_headers: _table(rows(answer), no_headers),
        "json": lambda answer, no_headers: to_json(answer),
        "yaml": lambda answer, no_headers: to_yaml(answer),
        "markdown": lambda answer, no_headers: _markdown(rows(answer), no_headers),
        "csv": lambda answer, no_headers: _csv(rows(answer), no_headers),
    }


CHECK = {**_formats(check_rows), "junit": ci.junit, "sarif": ci.sarif, "github": ci.github}
SCAN = {**_formats(scan_rows), "junit": ci.scan_junit, "sarif": ci.scan_sarif, "github": ci.scan_github}
PLAN = {**_formats(plan_rows), "junit": _plan_ci(ci.junit, ci.scan_junit), "sarif": _plan_ci(ci.sarif, ci.scan_sarif),
        "github": _plan_ci(ci.github, ci.scan_github)}
DIFF = _formats(diff_rows)
