"""Output of check, scan and diff: kubectl-style tables, GitHub markdown (tabulate, imported
only for -o markdown), csv (the csv module), json and yaml; check's CI formats (junit,
sarif, github) are printers/ci.py's.  CHECK, SCAN and DIFF are their tables of printers; a new
format for one of them is a printer function in its table (and the word in cli/spec.py)."""

from __future__ import annotations

from kubectl_apiinfo.errors import printable
from kubectl_apiinfo.printers import ci
from kubectl_apiinfo.printers.structured import to_json, to_yaml
from kubectl_apiinfo.printers.tabwriter import tabwrite


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
    with Helm findings, the release and template of each (a row per object)."""
    helm = any(f["origin"] == "helm" for f in answer["findings"])
    headers = ["RESOURCE", "APIVERSION", "MANAGER", "OBJECTS"] + (["RELEASE", "TEMPLATE"] if helm else []) + ["FINDING", "DETAIL"]
    rows = []
    for f in answer["findings"]:
        release = ["", ""]
        if f["origin"] == "metrics":
            by, objects = "(requests)", "-"
        else:
            by = {"managedFields": f["manager"], "helm": "(helm)"}.get(f["origin"], "(last-applied)")
            shown = ", ".join(f["names"]) + (", ..." if f["objects"] > len(f["names"]) else "")
            objects = f"{f['objects']} ({shown})"
        if f["origin"] == "helm":
            chart = f", {f['chart']}" if f.get("chart") else ""
            release = [f"{f['namespace']}/{f['release']} (revision {f['revision']}{chart})", f.get("template") or "-"]
        rows.append([f["resource"], f["apiVersion"], by, objects] + (release if helm else []) + [f["finding"], f["detail"]])
    return headers, rows


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
    headers, rows = headers_rows
    if not rows:
        return ""
    return tabwrite(rows if no_headers else [headers] + rows)


def _markdown(headers_rows: tuple, no_headers: bool) -> str:
    headers, rows = headers_rows
    if not rows:
        return ""
    from tabulate import tabulate  # only for -o markdown

    escaped = [[printable(cell).replace("|", "\\|") for cell in row] for row in rows]
    if no_headers:
        return tabulate(escaped, tablefmt="github") + "\n"
    return tabulate(escaped, headers=headers, tablefmt="github") + "\n"


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


# Each printer: (answer, no_headers) -> text.
CHECK = {
    "table": lambda answer, no_headers: _table(check_rows(answer), no_headers),
    "json": lambda answer, no_headers: to_json(answer),
    "yaml": lambda answer, no_headers: to_yaml(answer),
    "markdown": lambda answer, no_headers: _markdown(check_rows(answer), no_headers),
    "csv": lambda answer, no_headers: _csv(check_rows(answer), no_headers),
    "junit": ci.junit,
    "sarif": ci.sarif,
    "github": ci.github,
}

SCAN = {
    "table": lambda answer, no_headers: _table(scan_rows(answer), no_headers),
    "json": lambda answer, no_headers: to_json(answer),
    "yaml": lambda answer, no_headers: to_yaml(answer),
    "markdown": lambda answer, no_headers: _markdown(scan_rows(answer), no_headers),
    "csv": lambda answer, no_headers: _csv(scan_rows(answer), no_headers),
}

DIFF = {
    "table": lambda answer, no_headers: _table(diff_rows(answer), no_headers),
    "json": lambda answer, no_headers: to_json(answer),
    "yaml": lambda answer, no_headers: to_yaml(answer),
    "markdown": lambda answer, no_headers: _markdown(diff_rows(answer), no_headers),
    "csv": lambda answer, no_headers: _csv(diff_rows(answer), no_headers),
}
