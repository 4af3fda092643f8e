"""Output of check and diff: kubectl-style tables, GitHub markdown (tabulate, imported
only for -o markdown), csv (the csv module), json and yaml."""

from __future__ import annotations

from kubectl_apiinfo.printers.structured import structured
from kubectl_apiinfo.printers.tabwriter import tabwrite

CHECK_FORMATS = ("table", "json", "yaml", "markdown", "csv")
DIFF_FORMATS = CHECK_FORMATS


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


def output(answer: dict, rows_of, output: str, no_headers: bool) -> str:
    if output in ("json", "yaml"):
        return structured(answer, output)
    headers, rows = rows_of(answer)
    if output == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if not no_headers:
            writer.writerow(headers)
        writer.writerows(rows)
        return buffer.getvalue()
    if output == "markdown":
        if not rows:
            return ""
        from tabulate import tabulate  # only for -o markdown

        escaped = [[cell.replace("|", "\\|") for cell in row] for row in rows]
        if no_headers:
            return tabulate(escaped, tablefmt="github") + "\n"
        return tabulate(escaped, headers=headers, tablefmt="github") + "\n"
    if not rows:
        return ""
    return tabwrite(rows if no_headers else [headers] + rows)
