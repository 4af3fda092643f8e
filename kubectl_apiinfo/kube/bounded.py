"""Answers read within bounds: a body, after decompression, never past a limit for what it is, and a whole
exchange (headers and body alike) within one deadline, so neither a gigabyte, a gzip bomb nor a server
trickling a byte at a time holds us."""

from __future__ import annotations

import json
import threading
from typing import Callable, Optional

import requests

MIB = 1024 * 1024
# The most of an answer (decompressed) that is read, by what it is.  The largest real ones: a whole
# cluster's OpenAPI v2 document with a thousand CRDs (tens of MB), aggregated discovery (a few MB).
OPENAPI_LIMIT = 96 * MIB
DISCOVERY_LIMIT = 32 * MIB
SMALL_LIMIT = 1 * MIB  # /version, an OIDC issuer's documents
# A page of a list (scan asks for pages small enough: 100 objects' metadata, each under etcd's 1.5 MB at most)
# and the API server's /metrics (a few MB on a large cluster: every histogram of every resource).
LIST_PAGE_LIMIT = 32 * MIB
METRICS_LIMIT = 64 * MIB
_CHUNK = 64 * 1024


class OverLimit(Exception):
    """An answer's body is over the limit it was read with."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


class Reply:
    """A server's answer with its whole body, read within a limit: what we use of requests' Response."""

    def __init__(self, response: requests.Response, content: bytes):
        self.status_code = response.status_code
        self.reason = response.reason
        self.headers = response.headers
        self.url = response.url
        self.content = content

    def json(self):
        return json.loads(self.content)


def request_bounded(session: requests.Session, method: str, url: str, limit: int, **kwargs) -> Reply:
    """session.request, its body read whole but never more than limit bytes after decompression
    (OverLimit past it: a gzip bomb inflates no further).  requests' own exceptions pass through."""
    response = session.request(method, url, stream=True, **kwargs)
    try:
        chunks, size = [], 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise OverLimit(limit)
            chunks.append(chunk)
        return Reply(response, b"".join(chunks))
    finally:
        response.close()


def within(seconds: Optional[float], work: Callable, late: Callable[[], Exception]):
    """work(), or late() raised once seconds have passed (None: no limit).  Socket timeouts bound each read,
    not the whole: the work runs in a daemon thread, left behind when it is late."""
    if seconds is None:
        return work()
    done, box = threading.Event(), {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as e:  # handed to the waiting thread
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, name="kubectl-apiinfo request", daemon=True).start()
    if not done.wait(seconds):
        raise late()
    if "error" in box:
        raise box["error"]
    return box["value"]


def body_limit(path: str) -> tuple[int, str]:
    """(the most of path's answer that is read, what that answer is)."""
    if path.startswith("/openapi/"):
        return OPENAPI_LIMIT, "an OpenAPI document"
    if path == "/metrics":
        return METRICS_LIMIT, "the API server's metrics"
    if path.startswith("/api") and "?limit=" in path:
        return LIST_PAGE_LIMIT, "a page of a list"
    if path.startswith("/api"):
        return DISCOVERY_LIMIT, "discovery"
    return SMALL_LIMIT, "a version"
