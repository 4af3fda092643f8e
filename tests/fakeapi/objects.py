"""The fake API server's objects and metrics: object lists (paged, plain or metadata only) and /metrics.

Config keys (server.py's config object):

  objects     {"apps/v1/deployments": [{"name": "web", "namespace": "default",
                "managedFields": [{"manager": "legacy-ci", "operation": "Update",
                "apiVersion": "extensions/v1beta1"}], "annotations": {...}}]}:
              the objects of a resource, keyed GROUP/VERSION/RESOURCE (core: v1/pods); a
              resource is one storage, so they are listed at every version of its group
              that discovery serves.  Every other listable resource lists no objects.
  generated   {"v1/configmaps": {"count": 10000, "namespaces": 10, "managers":
              [["helm", "v1"]]}}: that many synthetic objects (cm-000001 ...), each written by
              every [manager, apiVersion] pair given
  deprecated_api_series  [{"group": "flowcontrol.apiserver.k8s.io", "version": "v1beta3",
              "resource": "flowschemas", "subresource": "", "removed_release": "1.32"}]:
              apiserver_requested_deprecated_apis series on /metrics (served always, with
              a few other series around them, as a kube-apiserver's page has)
  helm_releases  [{"name": "web", "namespace": "apps", "chart": "mychart", "chart_version": "1.2.3",
              "revision": 2, "status": "deployed", "driver": "secret", "manifest": "<rendered YAML>"}]:
              Helm v3 release records, as helm writes them: a Secret (driver "secret", the default;
              type helm.sh/release.v1) or a ConfigMap ("configmap") named
              sh.helm.release.v1.NAME.vREVISION in the namespace, labelled owner=helm, name, status
              and version, whose data.release is base64 of gzip of the release's JSON (a Secret's
              data base64 once more).  "encoding" breaks or varies that: "plain" (no gzip, which
              Helm reads too), "damaged" (the gzip stream cut in half), "bomb" (gzip of
              "inflates_to" bytes, default 65 MiB); "values" sets the release's config.

Lists answer as a kube-apiserver does: ?limit=N&continue=TOKEN pages (an opaque
token, remainingItemCount), `Accept: application/json;as=PartialObjectMetadataList;
g=meta.k8s.io;v=v1` gives metadata only, anything else the resource's own List;
labelSelector (equality, comma-joined: owner=helm,status=deployed) and fieldSelector
(type, metadata.name, metadata.namespace) narrow a list before it is paged.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any, Optional

METADATA_LIST = "PartialObjectMetadataList"
STAMP = "2024-01-01T00:00:00Z"


def _key(group: str, resource: str) -> tuple:
    return group, resource


class Objects:
    """Every resource's objects by (group, resource), from the config; built once."""

    def __init__(self, config: dict):
        self.by_resource: dict = {}
        for key, items in (config.get("objects") or {}).items():
            group, resource = _split(key)
            self.by_resource.setdefault(_key(group, resource), []).extend(_object(i, item) for i, item in enumerate(items))
        for key, spec in (config.get("generated") or {}).items():
            group, resource = _split(key)
            self.by_resource.setdefault(_key(group, resource), []).extend(_generated(resource, spec))
        for i, spec in enumerate(config.get("helm_releases") or []):
            resource = "configmaps" if spec.get("driver") == "configmap" else "secrets"
            self.by_resource.setdefault(_key("", resource), []).append(helm_record(i, spec))
        series = config.get("deprecated_api_series") or []
        self.metrics = metrics_text(series).encode()

    def items(self, group: str, resource: str, namespace: Optional[str]) -> list:
        found = self.by_resource.get(_key(group, resource), [])
        return [o for o in found if namespace is None or o.get("namespace") == namespace]


def _split(key: str) -> tuple:
    parts = key.split("/")
    if len(parts) == 2:  # v1/pods: the core group
        return "", parts[1]
    if len(parts) == 3:
        return parts[0], parts[2]
    raise ValueError(f"objects key {key!r} is not GROUP/VERSION/RESOURCE (or v1/RESOURCE)")


def _object(index: int, item: dict) -> dict:
    out = dict(item)
    out.setdefault("uid", f"00000000-0000-4000-8000-{index:012d}")
    return out


def _generated(resource: str, spec: dict) -> list:
    count, spaces = int(spec.get("count", 0)), max(1, int(spec.get("namespaces", 1)))
    writers = [{"manager": m, "operation": "Update", "apiVersion": v} for m, v in spec.get("managers", [["kubectl", "v1"]])]
    stem = resource[:-1] if resource.endswith("s") else resource
    return [
        {"name": f"{stem}-{i:06d}", "namespace": f"ns-{i % spaces:03d}", "uid": f"10000000-0000-4000-8000-{i:012d}",
         "managedFields": writers, "annotations": spec.get("annotations") or {}}
        for i in range(count)
    ]


def helm_record(index: int, spec: dict) -> dict:
    """A Helm v3 release record (storage/driver/secrets.go, cfgmaps.go, util.go's encodeRelease)."""
    name, revision, status = spec["name"], int(spec.get("revision", 1)), spec.get("status", "deployed")
    release = {
        "name": name, "namespace": spec.get("namespace", "default"), "version": revision,
        "info": {"first_deployed": STAMP, "last_deployed": STAMP, "deleted": "", "description": "Install complete",
                 "status": status},
        "chart": {"metadata": {"name": spec.get("chart", "mychart"), "version": spec.get("chart_version", "0.1.0"),
                               "apiVersion": "v2"}, "templates": [], "values": {}},
        "config": spec.get("values") or {}, "manifest": spec.get("manifest", ""),
    }
    raw = json.dumps(release).encode()
    encoding = spec.get("encoding", "gzip")
    if encoding == "bomb":
        raw = gzip.compress(b" " * int(spec.get("inflates_to", 65 * 1024 * 1024)), 9)
    elif encoding == "damaged":
        raw = gzip.compress(raw)
        raw = raw[: len(raw) // 2]
    elif encoding != "plain":
        raw = gzip.compress(raw)
    helm_text = base64.b64encode(raw)
    driver = spec.get("driver", "secret")
    data = base64.b64encode(helm_text).decode() if driver != "configmap" else helm_text.decode()
    obj = {
        "name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": spec.get("namespace", "default"),
        "uid": f"20000000-0000-4000-8000-{index:012d}",
        "labels": {"name": name, "owner": "helm", "status": status, "version": str(revision)},
        "managedFields": [{"manager": "helm", "operation": "Update", "apiVersion": "v1"}],
        "data": {"release": data},
    }
    if driver != "configmap":
        obj["type"] = "helm.sh/release.v1"
    return obj


def select(items: list, labels: Optional[str], fields: Optional[str]) -> list:
    """The items a labelSelector (equality: a=b,c=d; a!=b; a bare key) and a fieldSelector (type,
    metadata.name, metadata.namespace; = or ==) choose.  ValueError: a field label not supported."""
    def label_ok(o: dict, term: str) -> bool:
        have = o.get("labels") or {}
        if "!=" in term:
            k, v = term.split("!=", 1)
            return have.get(k.strip()) != v.strip()
        if "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            return have.get(k.strip()) == v.strip()
        return term.strip() in have

    def field_ok(o: dict, term: str) -> bool:
        negate = "!=" in term
        k, v = term.replace("!=", "=").replace("==", "=").split("=", 1)
        value = {"type": o.get("type", ""), "metadata.name": o.get("name"), "metadata.namespace": o.get("namespace", "")}
        if k not in value:
            raise ValueError(f'field label not supported: {k}')
        return (value[k] == v) != negate

    chosen = items
    for term in [t for t in (labels or "").split(",") if t.strip()]:
        chosen = [o for o in chosen if label_ok(o, term)]
    for term in [t for t in (fields or "").split(",") if t.strip()]:
        chosen = [o for o in chosen if field_ok(o, term)]
    return chosen


def metadata(obj: dict, namespaced: bool) -> dict:
    meta: dict[str, Any] = {"name": obj["name"]}
    if namespaced and obj.get("namespace"):
        meta["namespace"] = obj["namespace"]
    meta.update(uid=obj["uid"], resourceVersion="1", creationTimestamp=STAMP)
    if obj.get("labels"):
        meta["labels"] = obj["labels"]
    if obj.get("annotations"):
        meta["annotations"] = obj["annotations"]
    meta["managedFields"] = [
        {"manager": m.get("manager"), "operation": m.get("operation", "Update"), "apiVersion": m["apiVersion"],
         "time": m.get("time", STAMP), "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}
        for m in obj.get("managedFields") or []
    ]
    return meta


def wants_metadata(accept: Optional[str]) -> bool:
    """Whether the first media range the server can give is PartialObjectMetadataList (as a kube-apiserver reads Accept)."""
    for part in (accept or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        params = dict(p.split("=", 1) for p in pieces[1:] if "=" in p)
        if pieces[0] in ("application/json", "*/*") and params.get("as") == METADATA_LIST:
            return params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1")
        if pieces[0] in ("application/json", "*/*") and "as" not in params:
            return False
    return False


def list_body(items: list, group: str, version: str, kind: str, namespaced: bool, query: dict, as_metadata: bool) -> dict:
    """One page of a list: items from the continue token's offset, at most limit of them."""
    start = 0
    token = query.get("continue")
    if token:
        start = int(json.loads(base64.urlsafe_b64decode(token.encode()))["start"])
    limit = int(query.get("limit") or 0) or len(items) or 1
    page, rest = items[start:start + limit], len(items) - start - limit
    meta: dict[str, Any] = {"resourceVersion": "1"}
    if rest > 0:
        meta["continue"] = base64.urlsafe_b64encode(json.dumps({"start": start + limit, "rv": 1}).encode()).decode()
        meta["remainingItemCount"] = rest
    api_version = f"{group}/{version}" if group else version
    if as_metadata:
        return {"kind": METADATA_LIST, "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": metadata(o, namespaced)} for o in page]}
    return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": meta,
            "items": [{"apiVersion": api_version, "kind": kind, "metadata": metadata(o, namespaced),
                       **({k: o[k] for k in ("spec", "data", "type") if k in o})} for o in page]}


def metrics_text(series: list) -> str:
    lines = [
        "# HELP apiserver_request_total [STABLE] Counter of apiserver requests.",
        "# TYPE apiserver_request_total counter",
        'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="cluster",'
        'subresource="",verb="LIST",version="v1"} 42',
        "# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken "
        "out by API group, version, resource, subresource, and removed_release.",
        "# TYPE apiserver_requested_deprecated_apis gauge",
    ]
    for s in series:
        labels = ",".join(f'{k}="{s.get(k, "")}"' for k in ("group", "removed_release", "resource", "subresource", "version"))
        lines.append(f"apiserver_requested_deprecated_apis{{{labels}}} {s.get('value', 1)}")
    lines += [
        "# HELP process_start_time_seconds [ALPHA] Start time of the process since unix epoch in seconds.",
        "# TYPE process_start_time_seconds gauge",
        "process_start_time_seconds 1.7e+09",
    ]
    return "\n".join(lines) + "\n"
