"""The listings (resources, versions, releases, cache list, refresh) as kubectl-style tables,
-o name lines, json or yaml: a table of printers for each (RESOURCES, VERSIONS, ...); and versions'
-o helm and -o argocd (CAPABILITIES)."""

from __future__ import annotations

from kubectl_apiinfo.errors import printable
from kubectl_apiinfo.printers.structured import to_json, to_yaml
from kubectl_apiinfo.printers.tabwriter import or_dash, tabwrite


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
            cells += ["yes" if r["served"] else "no", "unknown" if r["resources"] is None else str(r["resources"])]
        table.append(cells)
    return tabwrite(table)


def helm_flags(answer: dict, no_headers: bool) -> str:
    """helm template's flags, one a line and each one word (--flag=value): whole for $(...), xargs or mapfile."""
    lines = [f"--kube-version={answer['kubeVersion']}"] if answer["kubeVersion"] else []
    lines += [f"--api-versions={name}" for name in answer["apiVersions"]]
    return "".join(line + "\n" for line in lines)


def argocd_helm(answer: dict, no_headers: bool) -> str:
    """The kubeVersion and apiVersions of an Argo CD Application's spec.source.helm, as YAML."""
    fields = {"kubeVersion": answer["kubeVersion"]} if answer["kubeVersion"] else {}
    fields["apiVersions"] = answer["apiVersions"]
    return to_yaml(fields)


def releases_table(rows: list[dict], wide: bool, no_headers: bool) -> str:
    header = ["VERSION", "NEWEST", "DEFAULTS"]
    if wide:
        header.append("SOURCE")
    table = [] if no_headers else [header]
    for r in rows:
        cells = [r["version"], "yes" if r["newest"] else "", "derived" if r["defaultsDerived"] else "kube-apiserver lists"]
        if wide:
            cells.append(r["origin"])
        table.append(cells)
    return tabwrite(table)


def snapshots_table(rows: list[dict], wide: bool, no_headers: bool) -> str:
    header = ["NAME", "SERVER", "KUBERNETES", "FETCHED", "GROUPS", "RESOURCES"]
    if wide:
        header += ["DISCOVERY", "FAILED"]
    table = [] if no_headers else [header]
    for r in rows:
        cells = [r["name"], r["server"], or_dash(r["kubernetesVersion"]), r["age"], str(r["groups"]), str(r["resources"])]
        if wide:
            cells += [or_dash(r["discovery"]), ",".join(r["failedGroupVersions"]) or "-"]
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
        table.append([r["context"], r["server"], or_dash(r["kubernetesVersion"]), r["discovery"], str(r["resources"]), result])
    return tabwrite(table)


def _formats(kind: str, table, name) -> dict:
    """A listing's printers, each (rows, no_headers) -> text: its table, plain or wide, one name a line
    for -o name, and the rows as {kind: rows} in json or yaml."""
    return {
        "table": lambda rows, no_headers: table(rows, wide=False, no_headers=no_headers),
        "wide": lambda rows, no_headers: table(rows, wide=True, no_headers=no_headers),
        "json": lambda rows, no_headers: to_json({kind: rows}),
        "yaml": lambda rows, no_headers: to_yaml({kind: rows}),
        "name": lambda rows, no_headers: "".join(printable(name(row)) + "\n" for row in rows),
    }


RESOURCES = _formats("resources", resources_table, _resource_name)
VERSIONS = _formats("versions", versions_table, lambda row: row["groupVersion"])
# versions' other formats print listings.capabilities(), not its rows: what helm and Argo CD are told of a target.
CAPABILITIES = {"helm": helm_flags, "argocd": argocd_helm}
RELEASES = _formats("releases", releases_table, lambda row: row["version"])
SNAPSHOTS = _formats("snapshots", snapshots_table, lambda row: row["name"])
REFRESHED = _formats("refreshed", refreshed_table, lambda row: row["context"])  # its wide table is its table
