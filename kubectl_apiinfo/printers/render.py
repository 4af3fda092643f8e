"""Output: kubectl-style tables, the explain-style text, json, yaml and name.

Tables follow kubectl's printers.GetNewTabWriter (Go's text/tabwriter with a
minimum cell width of 6 and a padding of 3; the last column is not padded), so
our columns line up exactly like kubectl's.  YAML is imported only for -o yaml.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Iterable, Sequence

from kubectl_apiinfo.errors import has_control, printable
from kubectl_apiinfo.sources.catalog import span

OUTPUT_FORMATS = ("table", "wide", "json", "yaml", "name")
_MIN_WIDTH, _PADDING = 6, 3


def tabwrite(rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Align rows of cells the way kubectl's tab writer does."""
    if not rows:
        return ""
    if has_control("".join(cell for r in rows for cell in r)):  # one scan: tables run to thousands of cells
        rows = [[printable(cell) for cell in r] for r in rows]  # a context name must not drive the terminal
    ncols = max(len(r) for r in rows)
    widths = [0] * ncols
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(cell) + _PADDING, _MIN_WIDTH)
    lines = []
    for r in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])]
        lines.append(indent + "".join(cells) + (r[-1] if r else ""))
    return "\n".join(lines) + "\n"


def to_json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_yaml(data) -> str:
    import yaml  # only for -o yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def structured(data, output: str) -> str:
    return to_json(data) if output == "json" else to_yaml(data)


def _ranges(rs: Iterable[Sequence[str]]) -> str:
    return ", ".join(span(a, b) for a, b in rs) or "-"


def _or_dash(value) -> str:
    return str(value) if value else "-"


def _replacement(lc: dict) -> str:
    # "apps/v1/Deployment" -> "apps/v1 Deployment"; a deduction, not a Kubernetes statement, says so
    rep = lc["replacement"]
    if not rep:
        return "-"
    gv, _, kind = rep.rpartition("/")
    return f"{gv} {kind} (derived)" if lc.get("replacementDerived") else f"{gv} {kind}"


def _introduced(lc: dict) -> str:
    # "in every release since 1.15 (upstream 1.19)": what the releases show, with the tag beside it
    if lc.get("introducedNote"):
        upstream = lc.get("introducedUpstream")
        return f"{lc['introducedNote']} (upstream {upstream})" if upstream else lc["introducedNote"]
    return _or_dash(lc["introduced"])


DEVELOPMENT_LABEL = "development-cycle snapshot"


# --- resources / versions / releases -------------------------------------


def resources_table(rows: list[dict], wide: bool, no_headers: bool) -> str:
    header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if wide:
        header += ["VERBS", "CATEGORIES"]
    table = [] if no_headers else [header]
    for r in rows:
        cells = [r["name"], ",".join(r["shortNames"]), r["apiVersion"], str(r["namespaced"]).lower(), r["kind"]]
        if wide:
            cells += [",".join(r["verbs"]), ",".join(r["categories"])]
        table.append(cells)
    return tabwrite(table)


def _resource_name(row: dict) -> str:
    return f"{row['name']}.{row['group']}" if row["group"] else row["name"]


def versions_table(rows: list[dict], wide: bool, no_headers: bool) -> str:
    header = ["APIVERSION", "STABILITY", "PREFERRED"]
    if wide:
        header += ["SERVED", "RESOURCES"]
    table = [] if no_headers else [header]
    for r in rows:
        cells = [r["groupVersion"], r["stability"], "yes" if r["preferred"] else "no"]
        if wide:
            cells += ["yes" if r["served"] else "no", str(r["resources"])]
        table.append(cells)
    return tabwrite(table)


def releases_table(rows: list[dict], wide: bool, no_headers: bool) -> str:
    header = ["VERSION", "NEWEST", "DEFAULTS"]
    if wide:
        header.append("SOURCE")
    table = [] if no_headers else [header]
    for r in rows:
        version = f"{r['version']} ({DEVELOPMENT_LABEL})" if r.get("developmentCycle") else r["version"]
        cells = [version, "yes" if r["newest"] else "", "derived" if r["defaultsDerived"] else "kube-apiserver lists"]
        if wide:
            cells.append(r["origin"])
        table.append(cells)
    return tabwrite(table)


# --- the explain-style answer --------------------------------------------


def _source_line(source: dict) -> str:
    if source["kind"] == "catalog":
        name = source["name"]
        if source.get("developmentCycle"):
            name = f"Kubernetes {source['kubernetesVersion']}, a {DEVELOPMENT_LABEL}"
        return f"{name} (offline catalog; SERVED means served by a default API server)"
    version = source.get("gitVersion") or source.get("kubernetesVersion")
    where = f"context {source['name']}" if source["name"] != source.get("server") else "server"
    line = f"{where} at {source.get('server', '?')}"
    if version:
        line += f", Kubernetes {version}"
    if source["kind"] == "kubectl-cache":
        return line + f", from kubectl's discovery cache ({source.get('age', '?')})"
    fetched = "cached, fetched " + source["age"] if source.get("fromCache") else "fetched just now"
    return line + f", discovery {fetched}"


def _subresources(subs: list[dict], parent_gv: str) -> str:
    parts = []
    for s in subs:
        kind = s["kind"] if s["groupVersion"] == parent_gv else f"{s['groupVersion']} {s['kind']}"
        parts.append(f"{s['name']} ({kind}: {' '.join(s['verbs']) or '-'})")
    return ", ".join(parts) or "<none>"


def explain_text(answer: dict, wide: bool) -> str:
    out = []
    source = _source_line(answer["source"])
    for res in answer["resources"]:
        best = next((v for v in res["versions"] if v["groupVersion"] == res["apiVersion"]), res["versions"][0])
        fields = [
            ("RESOURCE:", res["qualifiedName"]),
            ("KIND:", res["kind"]),
            ("SCOPE:", "Namespaced" if res["namespaced"] else "Cluster"),
            ("APIVERSION:", res["apiVersion"] or f"<none served> (only {best['groupVersion']}, which is off by default)"),
            ("PREFERRED:", _or_dash(res["preferredVersion"]) + " (the group's preferred version)"),
            ("SINGULAR:", res["singularName"]),
            ("SHORT NAMES:", ",".join(res["shortNames"]) or "<none>"),
            ("CATEGORIES:", ",".join(res["categories"]) or "<none>"),
            ("VERBS:", " ".join(best["verbs"]) or "<none>"),
            ("SUBRESOURCES:", _subresources(best["subresources"], best["groupVersion"])),
            ("SOURCE:", source),
        ]
        out.append(tabwrite([list(f) for f in fields]))
        out.append("\nVERSIONS:\n")
        header = ["GROUP/VERSION", "STABILITY", "PREFERRED", "SERVED", "DEPRECATED", "REMOVED", "REPLACEMENT"]
        if wide:
            header += ["KIND", "VERBS", "SUBRESOURCES"]
        table = [header]
        for v in res["versions"]:
            lc = v["lifecycle"]
            cells = [
                v["groupVersion"],
                v["stability"],
                "yes" if v["preferred"] else "no",
                "yes" if v["served"] else "no",
                _or_dash(lc["deprecated"]),
                lc["note"] or "-",
                _replacement(lc),
            ]
            if wide:
                cells += [v["kind"], " ".join(v["verbs"]), ",".join(s["name"] for s in v["subresources"]) or "-"]
            table.append(cells)
        out.append(tabwrite(table, indent="  "))
        out.append("\n")
    if len(answer["resources"]) > 1 or (answer["resources"] and answer["kubectlPickNote"]):
        pick = answer["kubectlPick"]
        if pick:
            line = f"kubectl picks {pick['resource']} in {pick['groupVersion']}"
            if answer["kubectlPickNote"]:
                line += f" ({answer['kubectlPickNote']})"
        else:
            line = answer["kubectlPickNote"] or "kubectl finds none of these served"
        out.append(f"KUBECTL: {line}\n\n")
    if answer["history"]:
        out.append("HISTORY (offline catalog):\n")
        header = ["GROUP/VERSION", "KIND", "SERVED BY DEFAULT", "IN RELEASE", "INTRODUCED", "DEPRECATED", "REMOVED",
                  "REPLACEMENT"]
        table = [header]
        plurals = {h["resource"] for h in answer["history"]}
        for h in answer["history"]:
            lc = h["lifecycle"]
            table.append(
                [
                    h["groupVersion"] if len(plurals) == 1 else f"{h['groupVersion']} ({h['resource']})",
                    h["kind"],
                    _ranges(h["served"]),
                    _ranges(h["contained"]),
                    _introduced(lc),
                    _or_dash(lc["deprecated"]),
                    lc["note"] or "-",
                    _replacement(lc),
                ]
            )
        out.append(tabwrite(table, indent="  "))
    return "".join(out)


def explain_names(answer: dict) -> str:
    return "".join(f"{printable(r['qualifiedName'])}\n" for r in answer["resources"])


def snapshots_table(rows: list[dict], wide: bool, no_headers: bool) -> str:
    header = ["NAME", "SERVER", "KUBERNETES", "FETCHED", "GROUPS", "RESOURCES"]
    if wide:
        header += ["DISCOVERY", "FAILED"]
    table = [] if no_headers else [header]
    for r in rows:
        cells = [r["name"], r["server"], _or_dash(r["kubernetesVersion"]), r["age"], str(r["groups"]), str(r["resources"])]
        if wide:
            cells += [_or_dash(r["discovery"]), ",".join(r["failedGroupVersions"]) or "-"]
        table.append(cells)
    return tabwrite(table)


def refreshed_table(rows: list[dict], wide: bool, no_headers: bool) -> str:
    header = ["CONTEXT", "SERVER", "KUBERNETES", "DISCOVERY", "RESOURCES", "RESULT"]
    table = [] if no_headers else [header]
    for r in rows:
        if r["error"]:
            table.append([r["context"], "-", "-", "-", "-", "failed"])
            continue
        failed = r["failedGroupVersions"]
        result = "ok" if not failed else f"partial: {','.join(failed)} failed"
        table.append([r["context"], r["server"], _or_dash(r["kubernetesVersion"]), r["discovery"], str(r["resources"]), result])
    return tabwrite(table)


# A listing's table printer and its -o name form.
_LISTINGS = {
    "resources": (resources_table, _resource_name),
    "versions": (versions_table, lambda row: row["groupVersion"]),
    "releases": (releases_table, lambda row: row["version"]),
    "snapshots": (snapshots_table, lambda row: row["name"]),
    "refreshed": (refreshed_table, lambda row: row["context"]),
}


def listing(kind: str, rows: list[dict], output: str, no_headers: bool) -> str:
    """resources / versions / releases in any output format; json and yaml wrap rows as {kind: rows}."""
    table, name = _LISTINGS[kind]
    if output in ("json", "yaml"):
        return structured({kind: rows}, output)
    if output == "name":
        return "".join(printable(name(row)) + "\n" for row in rows)
    return table(rows, wide=output == "wide", no_headers=no_headers)


def explain(answer: dict, output: str) -> str:
    if output in ("json", "yaml"):
        return structured(answer, output)
    if output == "name":
        return explain_names(answer)
    return explain_text(answer, wide=output == "wide")
