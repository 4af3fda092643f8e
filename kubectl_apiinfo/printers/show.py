"""The explain-style answer about a resource (kubectl apiinfo RESOURCE) as text, or -o name, json, yaml:
FORMATS, its printers."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Iterable, Optional, Sequence

from kubectl_apiinfo.console import columns
from kubectl_apiinfo.errors import printable
from kubectl_apiinfo.model import release_span
from kubectl_apiinfo.printers.structured import to_json, to_yaml
from kubectl_apiinfo.printers.tabwriter import fit, hang, or_dash, tabwrite

# The free-text columns of the VERSIONS and HISTORY tables, which wrap to fit a terminal.
WRAPPED = {"REMOVED", "REPLACEMENT", "INTRODUCED", "SERVED BY DEFAULT", "IN RELEASE"}


def _ranges(rs: Iterable[Sequence[str]]) -> str:
    return ", ".join(release_span(a, b) for a, b in rs) or "-"


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
    return or_dash(lc["introduced"])


def _source_line(source: dict) -> str:
    if source["kind"] == "catalog":
        return f"{source['name']} (offline catalog; SERVED means served by a default API server)"
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


def _fields(fields: list, width: Optional[int]) -> str:
    """The "LABEL:   value" block, labels lined up as kubectl's tab writer does; values wrap under themselves."""
    if width is None:
        return tabwrite([list(f) for f in fields])
    column = max(max(len(printable(label)) + 3 for label, _ in fields), 6)
    return "".join(hang(printable(label).ljust(column), printable(value), width) for label, value in fields)


def write_line(write: dict) -> str:
    """WRITE: the apiVersion a new manifest should use, why, and why kubectl's pick differs if it does."""
    line = f"{write['apiVersion']} {write['kind']}: {write['reason']}"
    if write.get("kubectlPicks") and write["kubectlPicks"] != write["apiVersion"]:
        line += f" (kubectl picks {write['kubectlPicks']} because {write['kubectlPicksBecause']})"
    return printable(line)


def explain_text(answer: dict, wide: bool, width: Optional[int] = None) -> str:
    """The answer as text; width (a terminal's) wraps what is too long to fit it, None keeps every line whole."""
    out = []
    source = _source_line(answer["source"])
    if answer.get("write"):
        out.append(hang("WRITE: ", write_line(answer["write"]), width) + "\n")
    for res in answer["resources"]:
        best = next((v for v in res["versions"] if v["groupVersion"] == res["apiVersion"]), res["versions"][0])
        fields = [
            ("RESOURCE:", res["qualifiedName"]),
            ("KIND:", res["kind"]),
            ("SCOPE:", "Namespaced" if res["namespaced"] else "Cluster"),
            ("APIVERSION:", res["apiVersion"] or f"<none served> (only {best['groupVersion']}, which is off by default)"),
            ("PREFERRED:", or_dash(res["preferredVersion"]) + " (the group's preferred version)"),
            ("SINGULAR:", res["singularName"]),
            ("SHORT NAMES:", ",".join(res["shortNames"]) or "<none>"),
            ("CATEGORIES:", ",".join(res["categories"]) or "<none>"),
            ("VERBS:", " ".join(best["verbs"]) or "<none>"),
            ("SUBRESOURCES:", _subresources(best["subresources"], best["groupVersion"])),
            ("SOURCE:", source),
        ]
        out.append(_fields(fields, width))
        out.append("\nVERSIONS:\n")
        header = ["GROUP/VERSION", "STABILITY", "PREFERRED", "SERVED", "DEPRECATED", "REMOVED", "REPLACEMENT"]
        if wide:
            header += ["KIND", "VERBS", "SUBRESOURCES"]
        table = []
        for v in res["versions"]:
            lc = v["lifecycle"]
            cells = [
                v["groupVersion"],
                v["stability"],
                "yes" if v["preferred"] else "no",
                "yes" if v["served"] else "no",
                or_dash(lc["deprecated"]),
                lc["note"] or "-",
                _replacement(lc),
            ]
            if wide:
                cells += [v["kind"], " ".join(v["verbs"]), ",".join(s["name"] for s in v["subresources"]) or "-"]
            table.append(cells)
        out.append(fit(header, table, width, WRAPPED, indent="  "))
        out.append("\n")
    if len(answer["resources"]) > 1 or (answer["resources"] and answer["kubectlPickNote"]):
        pick = answer["kubectlPick"]
        if pick:
            line = f"kubectl picks {pick['resource']} in {pick['groupVersion']}"
            if answer["kubectlPickNote"]:
                line += f" ({answer['kubectlPickNote']})"
        else:
            line = answer["kubectlPickNote"] or "kubectl finds none of these served"
        out.append(hang("KUBECTL: ", printable(line), width) + "\n")
    if answer["history"]:
        out.append("HISTORY (offline catalog):\n")
        header = ["GROUP/VERSION", "KIND", "SERVED BY DEFAULT", "IN RELEASE", "INTRODUCED", "DEPRECATED", "REMOVED",
                  "REPLACEMENT"]
        table = []
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
                    or_dash(lc["deprecated"]),
                    lc["note"] or "-",
                    _replacement(lc),
                ]
            )
        out.append(fit(header, table, width, WRAPPED, indent="  "))
    return "".join(out)


def explain_names(answer: dict) -> str:
    return "".join(f"{printable(r['qualifiedName'])}\n" for r in answer["resources"])


# Each printer: (answer) -> text.
FORMATS = {
    "table": lambda answer: explain_text(answer, wide=False, width=columns()),
    "wide": lambda answer: explain_text(answer, wide=True),
    "json": to_json,
    "yaml": to_yaml,
    "name": explain_names,
}
