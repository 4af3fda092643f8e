"""kubectl's own HTTP cache (~/.kube/cache/http, moved by KUBECACHEDIR): OpenAPI documents kubectl fetched.

client-go keeps one file per request URL, named by the SHA-256 of the URL,
holding the SHA-256 of the rest followed by the HTTP response as it came
(status line, headers, body).  A document's URL carries its hash, so a cached
one is exactly the document the index names.
"""

from __future__ import annotations

import hashlib
import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Mapping, Optional

# The discovery client's default timeout, which client-go adds to the request URLs (not always to a document's).
_TIMEOUT_QUERY = "timeout=32s"


def http_dir(environ: Mapping[str, str]) -> str:
    parent = environ.get("KUBECACHEDIR") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".kube", "cache")
    return os.path.join(parent, "http")


def _body(server: str, relative_url: str, environ: Mapping[str, str]) -> Optional[bytes]:
    key = server.rstrip("/") + relative_url
    path = os.path.join(http_dir(environ), hashlib.sha256(key.encode()).hexdigest())
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    checksum, response = raw[:32], raw[32:]
    if hashlib.sha256(response).digest() != checksum:
        return None  # torn or foreign file: client-go would not use it either
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/") or b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        return None
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}
    if headers.get(b"transfer-encoding") == b"chunked":
        body = _unchunk(body)
    if headers.get(b"content-encoding") == b"gzip":
        import gzip

        body = gzip.decompress(body)
    return body


def _unchunk(data: bytes) -> bytes:
    out, i = [], 0
    while i < len(data):
        end = data.find(b"\r\n", i)
        if end < 0:
            break
        size = int(data[i:end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(data[end + 2 : end + 2 + size])
        i = end + 2 + size + 2
    return b"".join(out)


def _json(raw: Optional[bytes]) -> Optional[dict]:
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def index(server: str, environ: Mapping[str, str]) -> Optional[dict]:
    """kubectl's cached /openapi/v3 answer for this server, or None."""
    for query in ("?" + _TIMEOUT_QUERY, ""):
        doc = _json(_body(server, "/openapi/v3" + query, environ))
        if doc is not None and isinstance(doc.get("paths"), dict):
            return doc
    return None


def document(server: str, path: str, digest: str, environ: Mapping[str, str]) -> Optional[dict]:
    """The document kubectl cached for /openapi/v3/<path>?hash=<digest>, or None."""
    for query in (f"?hash={digest}&{_TIMEOUT_QUERY}", f"?hash={digest}"):
        raw = _body(server, f"/openapi/v3/{path}{query}", environ)
        if raw is not None and hashlib.sha512(raw).hexdigest().upper() != digest.upper():
            continue  # not the document that hash names: never believed
        doc = _json(raw)
        if doc is not None:
            return doc
    return None
