"""Helm v3's release records, as scan reads them: listed, one revision kept per release, decoded in memory.

Helm 3 stores each revision of a release as a Secret (its default driver; type helm.sh/release.v1) or a
ConfigMap (HELM_DRIVER=configmap), named sh.helm.release.v1.NAME.vREVISION and labelled owner=helm,
name, status and version.  Its data.release is Helm's base64 of gzip of the release's JSON (gzip
optional: Helm looks for the magic bytes 1f 8b); a Secret's data is base64 once more, as all are.

Only the revision Helm would call current is kept: the deployed one (the highest, should several say
deployed), else the highest revision.  While listing, a release's best record so far is held still
compressed; each is decoded when asked, one at a time, and of its JSON only the names and the manifest
text are kept.  Nothing decoded goes into a message: a record that does not decode is Unreadable with a
reason in our own words.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Optional
from urllib.parse import quote

from kubectl_apiinfo.kube.object_lists import pages
from kubectl_apiinfo.kube.transport import Client

SECRETS, CONFIGMAPS = "/api/v1/secrets", "/api/v1/configmaps"
SELECTOR = "labelSelector=" + quote("owner=helm", safe="")
SECRET_TYPE = "fieldSelector=" + quote("type=helm.sh/release.v1", safe="")
# Records a page: a record is at most a Secret's 1 MiB of data (base64 once more in the list's JSON), so 16
# of them stay under kube/bounded.py's LIST_PAGE_LIMIT (32 MiB) for a page of a list.
PAGE = 16
MAX_PAGES = 10_000
# The most a release's JSON may inflate to.  Helm's own records hold the chart's templates and files and
# the values: a few MB for the largest charts (kube-prometheus-stack's CRDs); past 64 MiB it is no release
# Helm wrote but a gzip bomb, and that one release is not read.
MAX_DECOMPRESSED = 64 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
DEPLOYED = "deployed"


class Unreadable(Exception):
    """A record that did not decode to a release; its message is our own words, never the record's content."""


class Record:
    """A release record as listed, still encoded: which release, revision and status its labels say."""

    __slots__ = ("driver", "object_name", "namespace", "release", "revision", "status", "data")

    def __init__(self, driver: str, object_name: str, namespace: str, release: str, revision: int, status: str, data):
        self.driver, self.object_name, self.namespace = driver, object_name, namespace
        self.release, self.revision, self.status, self.data = release, revision, status, data

    @property
    def chosen(self) -> str:
        """Why this revision is the one checked."""
        if self.status == DEPLOYED:
            return DEPLOYED
        return f"the latest revision (none is deployed; it is {self.status or 'without a status'})"


class Release:
    """What scan keeps of a decoded release: its names, revision, status, chart and rendered manifest."""

    __slots__ = ("name", "namespace", "revision", "status", "chart", "chart_version", "manifest", "record")

    def __init__(self, record: Record, doc: dict):
        chart = doc.get("chart") if isinstance(doc.get("chart"), dict) else {}
        meta = chart.get("metadata") if isinstance(chart.get("metadata"), dict) else {}
        info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
        self.record = record
        self.name = _text(doc.get("name")) or record.release
        self.namespace = _text(doc.get("namespace")) or record.namespace
        self.revision = doc.get("version") if isinstance(doc.get("version"), int) else record.revision
        self.status = _text(info.get("status")) or record.status
        self.chart, self.chart_version = _text(meta.get("name")), _text(meta.get("version"))
        self.manifest = _text(doc.get("manifest"))

    @property
    def chart_label(self) -> str:
        return f"{self.chart}-{self.chart_version}" if self.chart_version else self.chart


def path(driver: str) -> str:
    return SECRETS if driver == "secret" else CONFIGMAPS


def records(client: Client, driver: str, page: int = PAGE) -> list:
    """The record to check of each release the driver ("secret" or "configmap") stores, in name order.
    A TransportError (403) is the caller's to report."""
    base = path(driver)
    query = SELECTOR + (f"&{SECRET_TYPE}" if driver == "secret" else "")
    best: dict = {}
    for items in pages(client, base, "application/json", page, query, MAX_PAGES):
        for item in items:
            r = _record(driver, item)
            if r is None:
                continue
            key = (r.namespace, r.release)
            held = best.get(key)
            if held is None or _rank(r) > _rank(held):
                best[key] = r  # the one it replaces, still encoded, is dropped here
    return [best[k] for k in sorted(best)]


def _record(driver: str, item) -> Optional[Record]:
    if not isinstance(item, dict) or not isinstance(item.get("metadata"), dict):
        return None
    meta = item["metadata"]
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    if labels.get("owner") != "helm" or (driver == "secret" and item.get("type") not in (None, "helm.sh/release.v1")):
        return None
    name = _text(meta.get("name"))
    release = _text(labels.get("name"))
    if not release and name.startswith("sh.helm.release.v1."):
        release = name[len("sh.helm.release.v1."):].rpartition(".v")[0]
    try:
        revision = int(labels.get("version") or name.rpartition(".v")[2])
    except ValueError:
        revision = 0
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    return Record(driver, name, _text(meta.get("namespace")), release, revision, _text(labels.get("status")),
                  data.get("release"))


def _rank(r: Record) -> tuple:
    return r.status == DEPLOYED, r.revision


def decode(record: Record) -> Release:
    """The release a record holds; Unreadable (a reason in our words) when it does not decode."""
    data = record.data
    if not isinstance(data, str) or not data:
        raise Unreadable("it has no data.release")
    try:
        raw = base64.b64decode(data, validate=True)
        if record.driver == "secret":  # Kubernetes' base64 of Helm's base64 text
            raw = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Unreadable("its data.release is not base64") from None
    del data
    if raw[:2] == GZIP_MAGIC:
        raw = _gunzip(raw)
    elif len(raw) > MAX_DECOMPRESSED:
        raise Unreadable(f"it is over {MAX_DECOMPRESSED // (1024 * 1024)} MiB")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise Unreadable("it is not a Helm release's JSON") from None
    del raw
    if not isinstance(doc, dict):
        raise Unreadable("it is not a Helm release's JSON")
    release = Release(record, doc)  # the names and the manifest kept; the chart, values and hooks dropped with doc
    del doc
    return release


def _gunzip(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, MAX_DECOMPRESSED)
        if inflater.unconsumed_tail:
            raise Unreadable(f"it inflates past {MAX_DECOMPRESSED // (1024 * 1024)} MiB")
        out += inflater.flush()
    except zlib.error:
        raise Unreadable("its gzip data is damaged") from None
    if len(out) > MAX_DECOMPRESSED:
        raise Unreadable(f"it inflates past {MAX_DECOMPRESSED // (1024 * 1024)} MiB")
    if not inflater.eof:
        raise Unreadable("its gzip data is cut short")
    return out


def _text(value) -> str:
    return value if isinstance(value, str) else ""
