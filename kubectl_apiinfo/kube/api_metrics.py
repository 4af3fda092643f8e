"""The API server's own count of deprecated APIs still requested: /metrics, one series read out of it.

kube-apiserver sets apiserver_requested_deprecated_apis{group, version,
resource, subresource, removed_release} to 1 for each deprecated API a client
has requested since it started.  Only those lines are read from the text
exposition format; the rest of a page of several megabytes is never split.
"""

from __future__ import annotations

import re

from kubectl_apiinfo.kube.transport import Client

METRICS = "/metrics"
SERIES = "apiserver_requested_deprecated_apis"
ACCEPT_TEXT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
MAX_SERIES = 10_000  # one per deprecated group/version/resource/subresource: a few hundred at the very most

_LINE = re.compile(rb"^" + SERIES.encode() + rb"\{([^}\n]*)\}[ \t]+(\S+)", re.MULTILINE)
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def deprecated_requests(client: Client) -> list:
    """[{group, version, resource, subresource, removedRelease}] of the series whose value is not 0.
    A TransportError (403 without the nonResourceURL /metrics) is the caller's to report."""
    return parse(client.get(METRICS, ACCEPT_TEXT).content)


def parse(text: bytes) -> list:
    found, seen = [], set()
    for match in _LINE.finditer(text):
        if len(found) >= MAX_SERIES:
            break
        try:
            value = float(match.group(2))
        except ValueError:
            continue
        if value == 0:
            continue
        labels = {k: _unescape(v) for k, v in _LABEL.findall(match.group(1).decode("utf-8", "replace"))}
        row = {
            "group": labels.get("group", ""), "version": labels.get("version", ""), "resource": labels.get("resource", ""),
            "subresource": labels.get("subresource", ""), "removedRelease": labels.get("removed_release", ""),
        }
        key = tuple(row.values())
        if row["version"] and row["resource"] and key not in seen:
            seen.add(key)
            found.append(row)
    return found


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
