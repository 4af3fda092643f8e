"""A small, faithful fake Kubernetes API server: discovery only.

Run it as ``python tests/fakeapi/server.py --config CONFIG.json``.  It prints one
JSON line on stdout (``{"ready": true, "port": N, "url": "..."}``) once it
listens, then serves until it gets SIGTERM.  Only the standard library is used
(plus the package under test, for the APISnapshot it serves).

Config keys (JSON object; relative paths are relative to the config file):

  what is served
    release          catalog release ("1.33"); only resources with served=True
    snapshot         path of an APISnapshot JSON file (to_dict form); every
                     resource with served=True (one of release/snapshot)
    crd_groups       N synthetic CRD groups g0001.example.com ... (default 0)
    widget_spec      the Widget CRD's spec schema, instead of WIDGET_SPEC (a test's enum, pattern, bounds)
    crd_versions     versions of each CRD group (default ["v1"])
    crd_deprecated   {"v1beta1": "warning"}: those versions are deprecated in the CRDs the server lists
    crd_unserved     ["v1alpha1"]: versions the CRDs declare with served: false (absent from discovery)
    crd_stored       ["v1alpha1", "v1"]: the CRDs' status.storedVersions (default: the storage version,
                     the first of crd_versions); a custom resource's objects are the objects key's
                     ("g0001.example.com/v1/widgets"), written in any version their managedFields say
    metrics          true adds the aggregated API metrics.k8s.io/v1beta1
    git_version      /version's gitVersion (default: from the snapshot)
    aggregated       false = a legacy-only server (before 1.26) (default true)
    openapi_v3       false = no /openapi/v3 (404), as before Kubernetes 1.23 (default true)
    openapi_v2       false = no /openapi/v2 (default true)
    k8s_data         the shared Kubernetes data (default $K8S_DATA, else ../shared/k8s-data);
                     without it /openapi/* answer 404 and each such answer writes a line
                     on stderr saying so (the test fixtures turn a failure after one
                     into a skip)
    openapi_release  the release whose OpenAPI documents are served (default: release,
                     else the snapshot's Kubernetes version)
    openapi_unpublished  ["metrics.k8s.io/v1beta1"]: group/versions served with no OpenAPI
                     document (none in /openapi/v3's index; a group not built in has
                     none in /openapi/v2 either), as an aggregated API that publishes none
    objects, generated, deprecated_api_series, helm_releases
                     the objects every listable resource lists (paged, plain or metadata
                     only; labelSelector and fieldSelector honoured), /metrics'
                     apiserver_requested_deprecated_apis and Helm v3 release records
                     (Secrets or ConfigMaps): see objects.py

  transport and authentication
    host, port       default 127.0.0.1 and 0 (a free port)
    http             true = plain HTTP (default HTTPS)
    tls_cert         PEM file: server certificate chain (HTTPS)
    tls_key          PEM file: its private key (HTTPS)
    token            require "Authorization: Bearer <token>" ...
    client_ca        ... or a client certificate signed by this CA
    oidc             ... or an OIDC id_token: {"issuer": URL, "client_id": ID,
                     "hmac_key": KEY}, as --oidc-issuer-url/--oidc-client-id: a JWT
                     signed with KEY (HS256, see oidc_issuer.py) whose iss and aud
                     match and whose exp has not passed
                     (any one is enough; none set = no authentication)

  faults (also changeable at run time: POST /__fake__/config)
    fail_group_versions  ["metrics.k8s.io/v1beta1"]: legacy GET answers 503,
                         aggregated discovery marks the version Stale
    unauthorized         true: every API request gets 401
    latency_ms           sleep this long before every response
    malformed            ["/apis"]: these paths answer 200 with invalid JSON
    status_override      {"/apis": 500}: these paths answer that status
    echo_credentials     true: an overridden status's reason phrase repeats the request's Authorization header
    doctored_openapi     ["apis/apps/v1"]: these OpenAPI v3 documents are served with every description
                         changed ("DOCTORED ..."), under the hash of the true document (a poisoning server)
    oversized            {"/apis": 1073741824}: these paths answer 200 with a JSON body of that many bytes,
                         streamed (the server never holds it)
    gzip_bomb            {"/apis": 1073741824}: these paths answer 200 with a gzip body that inflates to that
                         many bytes (about a thousandth of it on the wire)
    trickle_ms           {"/apis": 500}: these paths answer a byte at a time, this many ms apart, headers included
    impostor             {"/api": "html"}: these paths answer 200 with a login page ("html") or with JSON that is
                         no Kubernetes document ("json"), as a proxy in front of the wrong address does

Like a kube-apiserver, responses over 128 KiB are gzipped for clients that send
"Accept-Encoding: gzip"; discovery answers carry an ETag and honour If-None-Match.

Control endpoints (no authentication, not counted, no faults):
  GET  /__fake__/requests   {"count", "paths", "requests": [{method, path, query, headers}]}
  POST /__fake__/reset      forget the counted requests
  GET  /__fake__/config     the current fault settings
  POST /__fake__/config     merge a JSON object of fault settings
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import re
import socket
import ssl
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

try:
    import shared_data  # run as a script: this directory is on sys.path
    from objects import Objects, list_body, select, wants_metadata
    from oidc_issuer import verify_jwt
    from serving import announce_and_serve
except ImportError:
    from fakeapi import shared_data
    from fakeapi.objects import Objects, list_body, select, wants_metadata
    from fakeapi.oidc_issuer import verify_jwt
    from fakeapi.serving import announce_and_serve

try:
    from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, group_version
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, group_version

DISCOVERY_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")
# Like a kube-apiserver (APIResponseCompression): gzip bodies over 128 KiB for clients that accept it.
GZIP_THRESHOLD = 128 * 1024

FAULT_DEFAULTS: dict[str, Any] = {
    "fail_group_versions": [],
    "unauthorized": False,
    "latency_ms": 0,
    "malformed": [],
    "status_override": {},
    "doctored_openapi": [],
    "echo_credentials": False,
    "oversized": {},
    "gzip_bomb": {},
    "trickle_ms": {},
    "impostor": {},
}

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
_MESSAGES = {
    401: "Unauthorized",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    406: "the server was unable to respond with a content type that the client supports",
    500: "an error on the server has prevented the request from succeeding",
    503: "the server is currently unable to handle the request",
}


# --- what is served ----------------------------------------------------------


def validate_faults(data: Any) -> dict:
    """Check a (partial) fault setting; raises ValueError naming the bad key."""
    if not isinstance(data, dict):
        raise ValueError("fault settings must be a JSON object")
    out = {}
    for key, value in data.items():
        if key not in FAULT_DEFAULTS:
            raise ValueError(f"unknown fault setting {key!r} (known: {', '.join(sorted(FAULT_DEFAULTS))})")
        if key in ("fail_group_versions", "malformed", "doctored_openapi"):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValueError(f"{key} must be a list of strings")
        elif key in ("unauthorized", "echo_credentials"):
            if not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
        elif key == "latency_ms":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError("latency_ms must be a non-negative number")
        elif key in ("oversized", "gzip_bomb", "trickle_ms"):
            if not (isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, int) and v > 0 for k, v in value.items())):
                raise ValueError(f"{key} must map paths to positive integers")
        elif key == "impostor":
            if not (isinstance(value, dict) and all(isinstance(k, str) and v in ("html", "json") for k, v in value.items())):
                raise ValueError('impostor must map paths to "html" or "json"')
        elif key == "status_override":
            if not (
                isinstance(value, dict)
                and all(isinstance(k, str) and isinstance(v, int) and 100 <= v <= 599 for k, v in value.items())
            ):
                raise ValueError("status_override must map paths to HTTP status codes")
        out[key] = value
    return out


@functools.lru_cache(maxsize=4)
def gzip_bomb(size: int) -> bytes:
    """A gzip stream that inflates to a JSON string of size bytes, built a megabyte at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(b'{"padding":"')]
    left, block = size - 12, b"a" * (1 << 20)
    while left > 0:
        out.append(packer.compress(block[:left]))
        left -= len(block)
    out.append(packer.flush())
    return b"".join(out)


def crd_group(index: int, versions: list[str]) -> Group:
    verbs = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]
    return Group(
        name=f"g{index:04d}.example.com",
        versions=[
            GroupVersion(v, [Resource("widgets", "Widget", True, list(verbs), singular="widget")]) for v in versions
        ],
    )


def metrics_group() -> Group:
    return Group(
        name="metrics.k8s.io",
        versions=[
            GroupVersion(
                "v1beta1",
                [
                    Resource("nodes", "NodeMetrics", False, ["get", "list"], singular=""),
                    Resource("pods", "PodMetrics", True, ["get", "list"], singular=""),
                ],
            )
        ],
    )


class ServedGroup:
    """One group as the server lists it: served versions only, highest priority first."""

    def __init__(self, group: Group):
        self.name = group.name
        self.versions: list[tuple[str, list[Resource]]] = []
        for gv in group.versions:
            served = sorted((r for r in gv.resources if r.served), key=lambda r: r.name)
            if served:
                self.versions.append((gv.version, served))
        names = [v for v, _ in self.versions]
        self.preferred = group.preferred if group.preferred in names else (names[0] if names else None)
        if self.preferred and names and names[0] != self.preferred:
            # Aggregated discovery says "first is preferred": keep both forms consistent.
            self.versions.sort(key=lambda item: item[0] != self.preferred)


def build_snapshot(config: dict, base: Path) -> APISnapshot:
    if "release" in config and "snapshot" in config:
        raise ValueError("give either 'release' or 'snapshot', not both")
    if "release" in config:
        from kubectl_apiinfo.sources.catalog import releases

        snap = releases.load_release(releases.normalize_release(str(config["release"])))
    elif "snapshot" in config:
        path = Path(config["snapshot"])
        if not path.is_absolute():
            path = base / path
        snap = APISnapshot.from_dict(json.loads(path.read_text()))
    else:
        raise ValueError("the config needs 'release' or 'snapshot'")
    extra: list[Group] = []
    if config.get("metrics"):
        extra.append(metrics_group())
    n = int(config.get("crd_groups", 0))
    versions = list(config.get("crd_versions", ["v1"]))
    extra.extend(crd_group(i, versions) for i in range(1, n + 1))
    if extra:
        known = {g.name for g in snap.groups}
        clash = [g.name for g in extra if g.name in known]
        if clash:
            raise ValueError(f"groups already in the snapshot: {clash}")
        snap = APISnapshot(snap.source, list(snap.groups) + extra)
    return snap


def version_info(git_version: str) -> dict:
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$", git_version.strip())
    if not m:
        raise ValueError(f"not a Kubernetes version: {git_version!r}")
    major, minor, patch, rest = m.group(1), m.group(2), m.group(3) or "0", m.group(4)
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"v{major}.{minor}.{patch}{rest}",
        "gitCommit": hashlib.sha1(f"fake-{major}.{minor}.{patch}{rest}".encode()).hexdigest(),
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


# --- the JSON bodies ---------------------------------------------------------


def _gv_for_discovery(group: str, version: str) -> dict:
    return {"groupVersion": group_version(group, version), "version": version}


def legacy_group(g: ServedGroup) -> dict:
    d: dict[str, Any] = {"name": g.name, "versions": [_gv_for_discovery(g.name, v) for v, _ in g.versions]}
    if g.preferred:
        d["preferredVersion"] = _gv_for_discovery(g.name, g.preferred)
    return d


def legacy_resources(g: ServedGroup, version: str, resources: list[Resource]) -> dict:
    entries = []
    for r in resources:
        e: dict[str, Any] = {
            "name": r.name,
            "singularName": r.singular_name,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            e["shortNames"] = list(r.short_names)
        if r.categories:
            e["categories"] = list(r.categories)
        entries.append(e)
        for s in r.subresources:
            se: dict[str, Any] = {"name": f"{r.name}/{s.name}", "singularName": "", "namespaced": r.namespaced}
            if (s.group, s.version) != (g.name, version):
                se["group"] = s.group
                se["version"] = s.version
            se["kind"] = s.kind
            se["verbs"] = list(s.verbs)
            entries.append(se)
    entries.sort(key=lambda e: e["name"])
    d: dict[str, Any] = {"kind": "APIResourceList"}
    if g.name:
        d["apiVersion"] = "v1"  # the core list has none, as on a real server
    d["groupVersion"] = group_version(g.name, version)
    d["resources"] = entries
    return d


def _response_kind(group: str, version: str, kind: str, parent_group: str, parent_version: str) -> dict:
    if (group, version) == (parent_group, parent_version):
        group, version = "", ""
    return {"group": group, "version": version, "kind": kind}


def aggregated_item(g: ServedGroup, failed: set[str]) -> dict:
    versions = []
    for version, resources in g.versions:
        if group_version(g.name, version) in failed:
            versions.append({"version": version, "freshness": "Stale"})
            continue
        out = []
        for r in resources:
            e: dict[str, Any] = {
                "resource": r.name,
                "responseKind": _response_kind(g.name, version, r.kind, g.name, version),
                "scope": "Namespaced" if r.namespaced else "Cluster",
                "singularResource": r.singular_name,
                "verbs": list(r.verbs),
            }
            if r.short_names:
                e["shortNames"] = list(r.short_names)
            if r.categories:
                e["categories"] = list(r.categories)
            if r.subresources:
                e["subresources"] = [
                    {
                        "subresource": s.name,
                        "responseKind": _response_kind(s.group, s.version, s.kind, g.name, version),
                        "verbs": list(s.verbs),
                    }
                    for s in sorted(r.subresources, key=lambda s: s.name)
                ]
            out.append(e)
        versions.append({"version": version, "resources": out, "freshness": "Current"})
    metadata: dict[str, Any] = {"creationTimestamp": None}
    if g.name:  # ObjectMeta.name is omitempty: the core group's item has no name key
        metadata = {"name": g.name, "creationTimestamp": None}
    return {"metadata": metadata, "versions": versions}


def aggregated_list(groups: list[ServedGroup], failed: set[str], api_version: str) -> dict:
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{DISCOVERY_GROUP}/{api_version}",
        "metadata": {},
        "items": [aggregated_item(g, failed) for g in groups],
    }


def status_body(code: int, message: Optional[str] = None, details: Optional[dict] = None) -> dict:
    d: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message or _MESSAGES.get(code, f"the server responded with status {code}"),
        "reason": _REASONS.get(code, "Unknown"),
    }
    if details is not None:
        d["details"] = details
    d["code"] = code
    return d


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


# --- content negotiation -----------------------------------------------------


def parse_accept(header: Optional[str]) -> list[tuple[str, dict, float]]:
    """Media ranges of an Accept header as (type/subtype, params, q), best first.

    Parameters may come in any order; values may be quoted.  Ranges with an
    invalid q are dropped; equal q keeps the header order.
    """
    if header is None or not header.strip():
        return [("*/*", {}, 1.0)]
    ranges = []
    for position, part in enumerate(_split_outside_quotes(header, ",")):
        pieces = _split_outside_quotes(part, ";")
        mtype = pieces[0].strip().lower()
        if not mtype:
            continue
        if "/" not in mtype:
            mtype = "*/*" if mtype == "*" else mtype
        params: dict[str, str] = {}
        q = 1.0
        bad = False
        for p in pieces[1:]:
            if "=" not in p:
                continue
            k, v = p.split("=", 1)
            k, v = k.strip().lower(), v.strip()
            if len(v) >= 2 and v[0] == v[-1] == '"':
                v = v[1:-1]
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    bad = True
                if not 0 <= q <= 1:
                    bad = True
            else:
                params[k] = v
        if not bad:
            ranges.append((position, mtype, params, q))
    ranges.sort(key=lambda r: (-r[3], r[0]))
    return [(m, p, q) for _, m, p, q in ranges]


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def negotiate(accept: Optional[str], aggregated_allowed: bool) -> Optional[str]:
    """'v2' / 'v2beta1' (aggregated discovery), 'json' (plain) or None (406)."""
    for mtype, params, q in parse_accept(accept):
        if q <= 0:
            continue
        if mtype in ("*/*", "application/*"):
            return "json"
        if mtype != "application/json":
            continue  # protobuf, yaml, ...: not offered by this server
        if any(k in params for k in ("g", "v", "as")):
            if (
                aggregated_allowed
                and params.get("g") == DISCOVERY_GROUP
                and params.get("as") == AGGREGATED_KIND
                and params.get("v") in AGGREGATED_VERSIONS
            ):
                return params["v"]
            continue
        return "json"
    return None


# --- OpenAPI documents (/openapi/v3, /openapi/v2) -------------------------------
# The built-in group/versions' documents are the real ones of the release (the
# shared data's openapi-v3/v1.N/), for the group/versions discovery serves.
# Synthetic groups (CRDs, metrics) get documents shaped like the ones the
# kube-apiserver publishes for CRDs: a Kind with metadata, spec and status.

WIDGET_SPEC: dict[str, Any] = {
    "description": "WidgetSpec is what the user asks of a widget.",
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": {"description": "How big the widget is.", "type": "string", "enum": ["small", "medium", "large"]},
        "replicas": {"description": "How many copies run; each one serves every port below.", "type": "integer", "format": "int32", "default": 1},
        "labels": {"description": "Labels copied onto every copy of the widget.", "type": "object", "additionalProperties": {"type": "string"}},
        "ports": {
            "description": "The ports the widget listens on. A long description that kubectl wraps at its usual width so that the wrapping is exercised as well.",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "port"],
                "properties": {
                    "name": {"description": "The port's name.", "type": "string"},
                    "port": {"description": "The port number.", "type": "integer", "format": "int32"},
                    "protocol": {"description": "The protocol.", "type": "string", "enum": ["TCP", "UDP", "SCTP", "HTTP", "HTTPS"], "default": "TCP"},
                },
            },
        },
        "template": {
            "description": "The pod-like template of each copy.",
            "type": "object",
            "properties": {
                "containers": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "image": {"description": "The image to run.", "type": "string"},
                            "args": {"description": "Arguments.", "type": "array", "items": {"type": "string"}},
                            "env": {"type": "object", "additionalProperties": {"type": "object", "properties": {"value": {"type": "string"}}}},
                        },
                    },
                },
            },
        },
        "config": {"description": "Free-form configuration.", "type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "priority": {"description": "Scheduling priority.", "type": "integer", "enum": [0, 10, 1000000]},
        # Values with no type, as structural schemas allow: kubectl still calls these maps and lists.
        "annotations": {"description": "Notes of any shape, by name.", "type": "object",
                        "additionalProperties": {"x-kubernetes-preserve-unknown-fields": True}},
        "limits": {"description": "Limits by resource name.", "type": "object",
                   "additionalProperties": {"anyOf": [{"type": "integer"}, {"type": "string"}],
                                            "x-kubernetes-int-or-string": True}},
        "extensions": {"description": "Extensions of any shape.", "type": "array",
                       "items": {"x-kubernetes-preserve-unknown-fields": True}},
        "opaque": {"x-kubernetes-preserve-unknown-fields": True},
    },
}
WIDGET_STATUS: dict[str, Any] = {
    "description": "WidgetStatus is what the controller observed.",
    "type": "object",
    "properties": {
        "phase": {"description": "Where the widget is in its life.", "type": "string", "enum": ["", "Pending", "Ready"]},
        "conditions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "status"],
                "properties": {"type": {"type": "string"}, "status": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_API_VERSION_DOC = (
    "APIVersion defines the versioned schema of this representation of an object. Servers should convert "
    "recognized schemas to the latest internal value, and may reject unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_KIND_DOC = (
    "Kind is a string value representing the REST resource this object represents. Servers may infer this from "
    "the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
_METADATA_DOC = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def _doctored(raw: bytes) -> bytes:
    """The document with every schema's description changed: what a poisoning server would serve."""
    doc = json.loads(raw)
    for schema in (doc.get("components") or {}).get("schemas", {}).values():
        if isinstance(schema, dict):
            schema["description"] = "DOCTORED " + str(schema.get("description", ""))
    return dumps(doc)


def _sha512(raw: bytes) -> str:
    return hashlib.sha512(raw).hexdigest().upper()


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _reverse_domain(group: str) -> str:
    return ".".join(reversed(group.split(".")))


def synthetic_document(group: str, version: str, resources: list[Resource], meta: dict) -> dict:
    """A v3 document for a non-built-in group/version, shaped as kube-apiserver publishes a CRD's."""
    prefix = _reverse_domain(group) + "." + version
    schemas: dict[str, Any] = dict(meta)
    paths: dict[str, Any] = {}
    ref = "#/components/schemas/"
    for r in resources:
        gvk = {"group": group, "kind": r.kind, "version": version}
        props: dict[str, Any] = {
            "apiVersion": {"description": _API_VERSION_DOC, "type": "string"},
            "kind": {"description": _KIND_DOC, "type": "string"},
            "metadata": {"allOf": [{"$ref": ref + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}], "description": _METADATA_DOC},
        }
        if r.kind == "Widget":
            props["spec"] = WIDGET_SPEC
            props["status"] = WIDGET_STATUS
        schemas[f"{prefix}.{r.kind}"] = {
            "description": f"{r.kind} is a test resource of {group}.",
            "type": "object",
            "required": ["spec"] if r.kind == "Widget" else [],
            "properties": props,
            "x-kubernetes-group-version-kind": [gvk],
        }
        if not schemas[f"{prefix}.{r.kind}"]["required"]:
            del schemas[f"{prefix}.{r.kind}"]["required"]
        base = f"/apis/{group}/{version}/" + ("namespaces/{namespace}/" if r.namespaced else "")
        op = {"x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk}
        paths[base + r.name + "/{name}"] = {"get": dict(op, description=f"read the specified {r.kind}")}
        paths[base + r.name] = {"get": dict(op, **{"x-kubernetes-action": "list"}, description=f"list {r.kind}")}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"}, "paths": paths,
            "components": {"schemas": schemas}}


# kubectl reads /openapi/v2 only as protobuf (gnostic's openapi_v2.Document); the
# fields it uses, by number, from google/gnostic's OpenAPIv2.proto.
PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
PROTOBUF_V2_SERVED = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"  # kube-openapi answers with this spelling


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _string(number: int, text: str) -> bytes:
    return _field(number, text.encode())


def _any_yaml(number: int, value: Any) -> bytes:
    return _field(number, _string(2, json.dumps(value)))  # Any{yaml}: JSON is YAML


def proto_schema(s: dict) -> bytes:
    out = b""
    if "$ref" in s:
        out += _string(1, s["$ref"])
    if "format" in s:
        out += _string(2, s["format"])
    if "description" in s:
        out += _string(4, s["description"])
    for name in s.get("required") or []:
        out += _string(19, name)
    for value in s.get("enum") or []:
        out += _any_yaml(20, value)
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out += _field(21, _field(1, proto_schema(extra)))
    elif isinstance(extra, bool):
        out += _field(21, _varint(2 << 3 | 0) + _varint(int(extra)))
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        out += _field(22, b"".join(_string(1, t) for t in types))
    if isinstance(s.get("items"), dict):
        out += _field(23, _field(1, proto_schema(s["items"])))
    for sub in s.get("allOf") or []:
        out += _field(24, proto_schema(sub))
    if isinstance(s.get("properties"), dict):
        out += _field(25, b"".join(_field(1, _string(1, k) + _field(2, proto_schema(v))) for k, v in s["properties"].items()))
    for key, value in s.items():
        if key.startswith("x-"):
            out += _field(31, _string(1, key) + _field(2, _string(2, json.dumps(value))))
    return out


def proto_document(spec: dict) -> bytes:
    info = spec.get("info") or {}
    out = _string(1, spec.get("swagger", "2.0"))
    out += _field(2, _string(1, info.get("title", "Kubernetes")) + _string(2, info.get("version", "unversioned")))
    defs = b"".join(_field(1, _string(1, name) + _field(2, proto_schema(d))) for name, d in sorted(spec.get("definitions", {}).items()))
    return out + _field(9, defs)


def v3_to_v2(schema: Any) -> Any:
    """A synthetic v3 schema as v2 publishes it: #/definitions/ references, no allOf wrapping."""
    if isinstance(schema, list):
        return [v3_to_v2(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v3_to_v2(v) for k, v in schema.items() if k not in ("allOf", "default")}
    if "properties" in schema:
        out["properties"] = {k: v3_to_v2(v) for k, v in schema["properties"].items()}
    if isinstance(schema.get("$ref"), str):
        out["$ref"] = schema["$ref"].replace("#/components/schemas/", "#/definitions/")
    wrapped = schema.get("allOf")
    if isinstance(wrapped, list) and len(wrapped) == 1 and "$ref" in wrapped[0]:
        out["$ref"] = wrapped[0]["$ref"].replace("#/components/schemas/", "#/definitions/")
    return out


class OpenAPIDocuments:
    """The documents one server publishes, built once each, on first request."""

    def __init__(self, config: dict, base: Path, snapshot: APISnapshot, groups: list[ServedGroup]):
        configured = config.get("k8s_data")
        self.data = base / configured if configured else shared_data.location()  # base / an absolute path is that path
        self.missing_data = None if shared_data.present(self.data) else shared_data.missing_reason(configured)
        self.release = str(config.get("openapi_release") or config.get("release") or snapshot.source.kubernetes_version or "")
        self.v3_enabled = bool(config.get("openapi_v3", True))
        self.v2_enabled = bool(config.get("openapi_v2", True))
        self.v3_configured = self.v3_enabled
        self.unpublished = {_gv_path(*gv.rpartition("/")[::2]) for gv in config.get("openapi_unpublished", [])}
        self.lock = threading.Lock()
        self._docs: dict[str, Optional[bytes]] = {}
        self._index: Optional[bytes] = None
        self._v2_bodies: dict[str, Optional[bytes]] = {}
        self._meta_defs: Optional[dict] = None
        self.served: dict[str, tuple[str, str, list[Resource]]] = {}
        for g in groups:
            for version, resources in g.versions:
                self.served[_gv_path(g.name, version)] = (g.name, version, resources)
        self.builtin_dir = self.data / "openapi-v3" / f"v{self.release}"
        # A release the data has no v3 documents for is served as a server before v3 was: /openapi/v2 only.
        self.v3_enabled = self.v3_enabled and self.builtin_dir.is_dir()

    def note_missing_data(self, path: str) -> None:
        """A document the server would serve with the shared data is refused without it: say so on stderr."""
        sys.stderr.write(f"fake-apiserver: 404 for {path}: {self.missing_data}\n")
        sys.stderr.flush()

    def failing(self, faults: dict) -> set[str]:
        out = set()
        for gv in faults["fail_group_versions"]:
            group, _, version = gv.rpartition("/")
            out.add(_gv_path(group, version))
        return out

    def _builtin_file(self, gv_path: str) -> Path:
        return self.builtin_dir / (gv_path.replace("/", "__") + "_openapi.json.gz")

    def _meta(self) -> dict:
        """The apimachinery meta/v1 definitions a synthetic document refers to, from the release's own documents."""
        if self._meta_defs is None:
            self._meta_defs = self._read_meta()
        return self._meta_defs

    def _read_meta(self) -> dict:
        for name in ("apis__apps__v1_openapi.json.gz", "api__v1_openapi.json.gz"):
            path = self.builtin_dir / name
            if path.exists():
                schemas = json.loads(gzip.decompress(path.read_bytes()))["components"]["schemas"]
                return {k: v for k, v in schemas.items() if k.startswith("io.k8s.apimachinery.pkg.apis.meta.v1.")}
        return {}

    def document(self, gv_path: str) -> Optional[bytes]:
        with self.lock:
            if gv_path in self._docs:
                return self._docs[gv_path]
        raw = None
        if gv_path in self.served and gv_path not in self.unpublished:
            path = self._builtin_file(gv_path)
            if path.exists():
                raw = dumps(json.loads(gzip.decompress(path.read_bytes())))
            else:
                group, version, resources = self.served[gv_path]
                raw = dumps(synthetic_document(group, version, resources, self._meta()))
        with self.lock:
            self._docs[gv_path] = raw
        return raw

    def index(self) -> bytes:
        with self.lock:
            if self._index is not None:
                return self._index
        paths = {}
        for gv_path in sorted(self.served):
            raw = self.document(gv_path)
            if raw is not None:
                paths[gv_path] = {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={_sha512(raw)}"}
        raw = dumps({"paths": paths})
        with self.lock:
            self._index = raw
        return raw

    def v2_spec(self) -> Optional[dict]:
        """The release's v2 spec, with the synthetic groups' definitions added as a server adds CRDs'."""
        path = self.data / "openapi-v2" / f"v{self.release}.json.gz"
        if not path.exists():
            return None
        spec = json.loads(gzip.decompress(path.read_bytes()))
        builtin = {
            _gv_path(gvk.get("group", ""), gvk.get("version", ""))
            for d in spec.get("definitions", {}).values()
            for gvk in d.get("x-kubernetes-group-version-kind") or []
        }
        for gv_path in sorted(self.served):
            if gv_path not in builtin and gv_path not in self.unpublished and not self._builtin_file(gv_path).exists():
                group, version, resources = self.served[gv_path]
                for name, d in synthetic_document(group, version, resources, {})["components"]["schemas"].items():
                    spec["definitions"].setdefault(name, v3_to_v2(d))
        return spec

    def v2(self, protobuf: bool = False) -> Optional[bytes]:
        with self.lock:
            key = "protobuf" if protobuf else "json"
            if key not in self._v2_bodies:
                spec = self.v2_spec()
                self._v2_bodies[key] = None if spec is None else (proto_document(spec) if protobuf else dumps(spec))
            return self._v2_bodies[key]



# --- the server --------------------------------------------------------------


class State:
    """Everything the handler threads share; the lock guards the mutable parts."""

    def __init__(self, config: dict, base: Path):
        self.config = config
        if isinstance(config.get("widget_spec"), dict):  # a test's own Widget spec schema (enum, pattern, bounds, ...)
            WIDGET_SPEC.clear()
            WIDGET_SPEC.update(config["widget_spec"])
        self.snapshot = build_snapshot(config, base)
        self.groups = [ServedGroup(g) for g in self.snapshot.groups]
        self.groups = [g for g in self.groups if g.versions]
        self.core = next((g for g in self.groups if g.name == ""), None)
        self.api_groups = [g for g in self.groups if g.name != ""]
        self.by_name = {g.name: g for g in self.api_groups}
        self.aggregated = bool(config.get("aggregated", True))
        self.token = config.get("token") or None
        self.client_ca = bool(config.get("client_ca"))
        self.oidc = config.get("oidc") or None
        kv = config.get("git_version") or self.snapshot.source.kubernetes_version
        if not kv:
            from kubectl_apiinfo.sources.catalog import releases

            kv = releases.newest()
        self.version = version_info(str(kv))
        self.lock = threading.Lock()
        self.faults = dict(FAULT_DEFAULTS)
        self.faults.update(validate_faults({k: config[k] for k in FAULT_DEFAULTS if k in config}))
        self.log: list[dict] = []
        self._cache: dict[tuple, tuple[bytes, str]] = {}
        self.server_address = ""
        self.openapi = OpenAPIDocuments(config, base, self.snapshot, self.groups)
        self.objects = Objects(config)

    def current_faults(self) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.faults))

    def merge_faults(self, data: Any) -> dict:
        update = validate_faults(data)
        with self.lock:
            self.faults.update(update)
        return self.current_faults()

    def record(self, entry: dict) -> None:
        with self.lock:
            self.log.append(entry)

    def body(self, key: tuple) -> tuple[bytes, str]:
        """A discovery body and its ETag, built once per (endpoint, representation, faults)."""
        with self.lock:
            hit = self._cache.get(key)
        if hit:
            return hit
        data = self._build(key)
        raw = dumps(data)
        etag = '"' + hashlib.sha256(repr(key[:2]).encode() + raw).hexdigest()[:32].upper() + '"'
        with self.lock:
            self._cache[key] = (raw, etag)
        return raw, etag

    def _build(self, key: tuple) -> Any:
        what, form, arg, failed = key
        if what == "api":
            if form == "json":
                return {
                    "kind": "APIVersions",
                    "versions": [v for v, _ in self.core.versions] if self.core else [],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}],
                }
            return aggregated_list([self.core] if self.core else [], set(failed), form)
        if what == "apis":
            if form == "json":
                return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [legacy_group(g) for g in self.api_groups]}
            return aggregated_list(self.api_groups, set(failed), form)
        if what == "group":
            return {"kind": "APIGroup", "apiVersion": "v1", **legacy_group(self.by_name[arg])}
        if what == "resources":
            gname, version = arg
            g = self.core if gname == "" else self.by_name[gname]
            return legacy_resources(g, version, dict(g.versions)[version])
        raise KeyError(what)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver"
    sys_version = ""
    timeout = 30  # idle keep-alive connections end after this long
    server: "FakeServer"

    _entry: Optional[dict] = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class name
        if self.server.verbose:
            super().log_message(format, *args)

    def send_response(self, code: int, message: Optional[str] = None) -> None:
        # Like a kube-apiserver: a Date header but no Server header.
        if self._entry is not None:
            with self.server.state.lock:
                self._entry["status"] = code
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    # Every method goes through one place: a real server answers them all.
    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = unquote(parts.path) or "/"
        body_in = self._read_body()
        self._entry = None
        if path.startswith("/__fake__/"):
            self._control(path, body_in)
            return
        headers = {k: v for k, v in self.headers.items()}
        if "Authorization" in headers:
            headers["Authorization"] = headers["Authorization"].split(" ", 1)[0] + " <redacted>"
        self._entry = {"method": self.command, "path": path, "query": parts.query, "headers": headers, "status": None}
        state.record(self._entry)
        faults = state.current_faults()
        if faults["latency_ms"]:
            time.sleep(faults["latency_ms"] / 1000.0)
        if faults["unauthorized"] or not self._authenticated():
            self._status(401)
            return
        override = faults["status_override"].get(path)
        if override:
            if faults["echo_credentials"]:  # a careless proxy: the credential comes back in the status line
                self.send_response(override, f"Failed for {self.headers.get('Authorization', '')}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._status(override)
            return
        if self.command not in ("GET", "HEAD"):
            self._status(405)
            return
        if self._hostile(path, faults):
            return
        self._route(path, faults)

    def _hostile(self, path: str, faults: dict) -> bool:
        """Answer as a hostile server would (an endless body, a gzip bomb, a trickle), if path is set to."""
        try:
            if path in faults["oversized"]:
                size = faults["oversized"][path]
                self._raw_headers(f"Content-Type: application/json\r\nContent-Length: {size}\r\n")
                self.wfile.write(b'{"padding":"')
                left, block = size - 12, b"a" * (1 << 20)
                while left > 0:
                    self.wfile.write(block[:left])
                    left -= len(block)
            elif path in faults["gzip_bomb"]:
                bomb = gzip_bomb(faults["gzip_bomb"][path])
                self._raw_headers(f"Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n")
                self.wfile.write(bomb)
            elif path in faults["impostor"]:
                html = faults["impostor"][path] == "html"
                body = b"<html><body><form>Sign in</form></body></html>" if html else b'{"message":"welcome"}'
                ctype = "text/html; charset=utf-8" if html else "application/json"
                self._raw_headers(f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n")
                self.wfile.write(body)
            elif path in faults["trickle_ms"]:
                body = b'{"kind":"APIGroupList","groups":[]}'
                answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                for i in range(len(answer)):
                    self.wfile.write(answer[i : i + 1])
                    self.wfile.flush()
                    time.sleep(faults["trickle_ms"][path] / 1000.0)
            else:
                return False
        except OSError:
            pass  # the client gave up, as it should
        self.close_connection = True
        return True

    def _raw_headers(self, headers: str) -> None:
        self.wfile.write(f"HTTP/1.1 200 OK\r\n{headers}Connection: close\r\n\r\n".encode())

    def _authenticated(self) -> bool:
        state = self.server.state
        if not state.token and not state.client_ca and not state.oidc:
            return True
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        bearer = value.strip() if scheme.lower() == "bearer" else ""
        if state.token and bearer == state.token:
            return True
        if state.oidc and bearer:
            claims = verify_jwt(bearer, state.oidc["hmac_key"])
            if (
                isinstance(claims, dict)
                and claims.get("iss") == state.oidc["issuer"]
                and claims.get("aud") == state.oidc["client_id"]
                and isinstance(claims.get("exp"), (int, float))
                and claims["exp"] > time.time()
            ):
                return True
        if state.client_ca and isinstance(self.connection, ssl.SSLSocket):
            # CERT_OPTIONAL: a presented certificate was verified against the client CA
            # during the handshake; getpeercert() is empty when none was presented.
            if self.connection.getpeercert():
                return True
        return False

    def _route(self, path: str, faults: dict) -> None:
        state = self.server.state
        failed = tuple(sorted(faults["fail_group_versions"]))
        segments = [s for s in path.split("/") if s]
        if path.endswith("/") and len(path) > 1:
            self._status(404)
            return
        if segments == ["version"]:
            self._send(200, dumps(state.version), "application/json", path, faults)
            return
        if segments[:1] == ["openapi"]:
            self._openapi(segments, faults)
            return
        if segments in (["healthz"], ["livez"], ["readyz"]):
            self._send(200, b"ok", "text/plain; charset=utf-8", path, faults)
            return
        if segments in (["api"], ["apis"]):
            form = negotiate(self.headers.get("Accept"), state.aggregated)
            if not state.aggregated:
                form = "json"
            if form is None:
                self._status(406)
                return
            # The legacy lists do not change with faults; only aggregated ones carry freshness.
            raw, etag = state.body((segments[0], form, None, failed if form != "json" else ()))
            ctype = "application/json"
            if form != "json":
                ctype = f"application/json;g={DISCOVERY_GROUP};v={form};as={AGGREGATED_KIND}"
            self._send(200, raw, ctype, path, faults, etag=etag, vary=True)
            return
        if segments and segments[0] in ("api", "apis") and negotiate(self.headers.get("Accept"), False) is None:
            self._status(406)  # the other discovery documents come in plain JSON only
            return
        if len(segments) == 2 and segments[0] == "api":
            self._resource_list("", segments[1], path, faults)
            return
        if len(segments) == 2 and segments[0] == "apis":
            if segments[1] not in state.by_name:
                self._status(404)
                return
            raw, etag = state.body(("group", "json", segments[1], ()))
            self._send(200, raw, "application/json", path, faults, etag=etag)
            return
        if len(segments) == 3 and segments[0] == "apis":
            self._resource_list(segments[1], segments[2], path, faults)
            return
        if segments == ["apis", "apiextensions.k8s.io", "v1", "customresourcedefinitions"] and "apiextensions.k8s.io" in state.by_name:
            self._crd_list(path, faults)
            return
        if segments == ["metrics"]:
            self._send(200, state.objects.metrics, "text/plain; version=0.0.4; charset=utf-8", path, faults)
            return
        if self._object_list(segments, path, faults):
            return
        self._status(404)

    def _object_list(self, segments: list[str], path: str, faults: dict) -> bool:
        """A resource's objects (objects.py), in every namespace or one: whether path was such a list."""
        state = self.server.state
        if segments[:1] == ["api"]:
            group, rest = "", segments[1:]
        elif segments[:1] == ["apis"] and len(segments) > 1:
            group, rest = segments[1], segments[2:]
        else:
            return False
        namespace = None
        if len(rest) == 4 and rest[1] == "namespaces":
            namespace, rest = rest[2], [rest[0], rest[3]]
        if len(rest) != 2:
            return False
        version, name = rest
        g = state.core if group == "" else state.by_name.get(group)
        resources = dict(g.versions).get(version) if g is not None else None
        found = next((r for r in resources or [] if r.name == name and "list" in r.verbs), None)
        if found is None or (namespace is not None and not found.namespaced):
            return False
        query = dict(p.split("=", 1) for p in urlsplit(self.path).query.split("&") if "=" in p)
        query = {k: unquote(v) for k, v in query.items()}
        as_metadata = wants_metadata(self.headers.get("Accept"))
        items = state.objects.items(group, name, namespace)
        try:
            items = select(items, query.get("labelSelector"), query.get("fieldSelector"))
        except ValueError as e:
            self._send(400, dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": str(e),
                                   "reason": "BadRequest", "code": 400}), "application/json", path, faults)
            return True
        body = list_body(items, group, version, found.kind, found.namespaced, query, as_metadata)
        ctype = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1" if as_metadata else "application/json"
        self._send(200, dumps(body), ctype, path, faults)
        return True

    def _crd_list(self, path: str, faults: dict) -> None:
        """The synthetic groups' CRDs, as 'kubectl get crd -o json' pages them (limit/continue)."""
        config = self.server.state.config
        query = dict(p.split("=", 1) for p in urlsplit(self.path).query.split("&") if "=" in p)
        served = list(config.get("crd_versions", ["v1"]))
        deprecated = dict(config.get("crd_deprecated", {}))
        versions = [
            {"name": v, "served": v in served, "storage": v == served[0], "schema": {"openAPIV3Schema": WIDGET_SPEC},
             **({"deprecated": True, "deprecationWarning": deprecated[v]} if v in deprecated else {})}
            for v in served + list(config.get("crd_unserved", []))
        ]
        stored = list(config.get("crd_stored", served[:1]))
        items = [
            {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
             "metadata": {"name": f"widgets.g{i:04d}.example.com"},
             "spec": {"group": f"g{i:04d}.example.com", "scope": "Namespaced", "versions": versions,
                      "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"}},
             "status": {"storedVersions": stored, "acceptedNames": {"kind": "Widget", "plural": "widgets"}}}
            for i in range(1, int(config.get("crd_groups", 0)) + 1)
        ]
        start = int(unquote(query.get("continue", "0")) or 0)
        limit = int(query.get("limit", "0")) or len(items) or 1
        page, rest = items[start:start + limit], start + limit < len(items)
        body = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinitionList", "items": page,
                "metadata": {"resourceVersion": "1", **({"continue": str(start + limit)} if rest else {})}}
        self._send(200, dumps(body), "application/json", path, faults)

    def _openapi(self, segments: list[str], faults: dict) -> None:
        """/openapi/v3 (index), /openapi/v3/<group/version>?hash=..., /openapi/v2: as kube-openapi serves them."""
        openapi = self.server.state.openapi
        query = dict(p.split("=", 1) for p in urlsplit(self.path).query.split("&") if "=" in p)
        if openapi.missing_data and (
            (segments[1:2] == ["v2"] and len(segments) == 2 and openapi.v2_enabled)
            or (segments[1:2] == ["v3"] and openapi.v3_configured)
        ):
            openapi.note_missing_data("/" + "/".join(segments))  # before the answer: the client sees it afterwards
        if segments[1:2] == ["v2"] and len(segments) == 2:
            protobuf = PROTOBUF_V2 in (self.headers.get("Accept") or "")
            raw = openapi.v2(protobuf) if openapi.v2_enabled else None
            if raw is None:
                self._status(404)
                return
            if not protobuf and negotiate(self.headers.get("Accept"), False) is None:
                self._status(406)
                return
            ctype = PROTOBUF_V2_SERVED if protobuf else "application/json"
            self._send(200, raw, ctype, "/openapi/v2", faults, etag='"' + _sha512(raw)[:32] + '"')
            return
        if segments[1:2] != ["v3"] or not openapi.v3_enabled:
            self._status(404)
            return
        if len(segments) == 2:
            raw = openapi.index()
            self._send(200, raw, "application/json", "/openapi/v3", faults, etag='"' + _sha512(raw) + '"')
            return
        gv_path = "/".join(segments[2:])
        if gv_path in openapi.failing(faults):
            self._status(503)
            return
        raw = openapi.document(gv_path)
        if raw is None:
            self._status(404)
            return
        digest = _sha512(raw)
        asked = query.get("hash")
        if asked is not None and asked != digest:
            # kube-openapi: a stale hash is redirected to the current document
            self.send_response(301)
            self._common_headers()
            self.send_header("Location", f"/openapi/v3/{gv_path}?hash={digest}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if gv_path in faults["doctored_openapi"]:
            raw = _doctored(raw)
        self._send(200, raw, "application/json", "/openapi/v3/" + gv_path, faults, etag=f'"{digest}"',
                   cache_control="public, immutable" if asked else None)

    def _resource_list(self, group: str, version: str, path: str, faults: dict) -> None:
        state = self.server.state
        g = state.core if group == "" else state.by_name.get(group)
        if g is None or version not in dict(g.versions):
            self._status(404)
            return
        if group_version(group, version) in faults["fail_group_versions"]:
            self._status(
                503,
                details={"causes": [{"reason": "UnexpectedServerResponse", "message": "service unavailable"}]},
            )
            return
        raw, etag = state.body(("resources", "json", (group, version), ()))
        self._send(200, raw, "application/json", path, faults, etag=etag)

    def _send(
        self,
        code: int,
        raw: bytes,
        ctype: str,
        path: str,
        faults: dict,
        etag: Optional[str] = None,
        vary: bool = False,
        cache_control: Optional[str] = None,
    ) -> None:
        if path in faults["malformed"]:
            raw = raw[: max(1, len(raw) // 2)] if len(raw) > 2 else b"{"
            etag = None
        if etag and code == 200 and _etag_matches(self.headers.get("If-None-Match"), etag):
            self.send_response(304)
            self._common_headers()
            self.send_header("ETag", etag)
            if vary:
                self.send_header("Vary", "Accept")
            self.end_headers()
            return
        gzipped = len(raw) > GZIP_THRESHOLD and _accepts_gzip(self.headers.get("Accept-Encoding"))
        if gzipped:
            raw = gzip.compress(raw, compresslevel=4, mtime=0)
        self.send_response(code)
        self._common_headers(cache_control)
        self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
        if vary:
            self.send_header("Vary", "Accept")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _common_headers(self, cache_control: Optional[str] = None) -> None:
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", cache_control or "no-cache, private")

    def _status(self, code: int, details: Optional[dict] = None) -> None:
        raw = dumps(status_body(code, details=details))
        self.send_response(code)
        self._common_headers()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _json(self, code: int, data: Any) -> None:
        raw = dumps(data)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _control(self, path: str, body: bytes) -> None:
        state = self.server.state
        if path == "/__fake__/requests" and self.command == "GET":
            with state.lock:
                log = list(state.log)
            self._json(200, {"count": len(log), "paths": [e["path"] for e in log], "requests": log})
        elif path == "/__fake__/reset" and self.command == "POST":
            with state.lock:
                state.log.clear()
            self._json(200, {"count": 0})
        elif path == "/__fake__/config" and self.command == "GET":
            self._json(200, state.current_faults())
        elif path == "/__fake__/config" and self.command == "POST":
            try:
                data = json.loads(body or b"{}")
                self._json(200, state.merge_faults(data))
            except ValueError as e:
                self._json(400, {"error": str(e)})
        else:
            self._json(404, {"error": f"no control endpoint {self.command} {path}"})


def _accepts_gzip(header: Optional[str]) -> bool:
    for coding in (header or "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() == "gzip":
            q = params.strip()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def _etag_matches(header: Optional[str], etag: str) -> bool:
    if not header:
        return False
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


# Go's tlsRecordHeaderLooksLikeHTTP: the first five bytes of a plain HTTP request.
_HTTP_STARTS = (b"GET /", b"HEAD ", b"POST ", b"PUT /", b"OPTIO")


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], state: State, ssl_context: Optional[ssl.SSLContext], verbose=False):
        self.state = state
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(address, Handler)

    def finish_request(self, request: socket.socket, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, so one slow
        # or broken client never holds up accept() for the others.
        # As Go's net/http (TCP_NODELAY by default): a body written after its headers is not held back by
        # Nagle's algorithm waiting for the client's delayed ACK (40 ms a request).
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(15)
            if request.recv(5, socket.MSG_PEEK) in _HTTP_STARTS:
                # What Go's net/http answers plain HTTP on a TLS port with (kube-apiserver included).
                # Unlike Go, read the request first, so that closing does not reset the connection
                # before the client has read the answer.
                request.recv(65536)
                request.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
                return
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError)):
            return  # a client going away is normal
        super().handle_error(request, client_address)


def make_ssl_context(config: dict, base: Path) -> ssl.SSLContext:
    def p(key: str) -> str:
        value = Path(config[key])
        return str(value if value.is_absolute() else base / value)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(p("tls_cert"), p("tls_key"))
    ctx.set_alpn_protocols(["http/1.1"])
    if config.get("client_ca"):
        ctx.load_verify_locations(p("client_ca"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def create_server(config: dict, base: Path = Path("."), verbose: bool = False) -> FakeServer:
    """Build (and bind) a server from a config dict; call serve_forever() on it."""
    state = State(config, base)
    ctx = None
    if not config.get("http"):
        if not (config.get("tls_cert") and config.get("tls_key")):
            raise ValueError("HTTPS needs tls_cert and tls_key (or set http: true)")
        ctx = make_ssl_context(config, base)
    server = FakeServer((config.get("host", "127.0.0.1"), int(config.get("port", 0))), state, ctx, verbose)
    host, port = server.server_address[:2]
    state.server_address = f"{host}:{port}"
    server.url = f"{'http' if ctx is None else 'https'}://{host}:{port}"  # type: ignore[attr-defined]
    return server


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="A fake Kubernetes API server (discovery only).")
    parser.add_argument("--config", required=True, help="JSON config file")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    config_path = Path(args.config).resolve()
    config = json.loads(config_path.read_text())
    server = create_server(config, config_path.parent, verbose=args.verbose)
    return announce_and_serve(server, server.url)  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
