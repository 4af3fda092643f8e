"""Reading a Kubernetes audit log as the API server's log backend writes it: one audit.k8s.io Event per line.

kube-apiserver --audit-log-path (--audit-log-format=json, the default) writes a
JSON object per line, one per stage of a request (RequestReceived,
ResponseStarted, ResponseComplete, Panic) sharing the request's auditID.  A
request to a deprecated API carries the annotation k8s.io/deprecated: "true",
and k8s.io/removed-release: "1.22" when its removal is planned.

The log is streamed a line at a time, never held whole: a line is read up to
MAX_LINE_BYTES (decompressed, when the file is gzip, known by its magic bytes,
not its name), and a longer one is skipped unread.  Lines that are not JSON or
not an Event are counted, not fatal: the caller warns once.  Of an event only a
few facts are kept (who, what API, which verb, when); its request and response
bodies, and everything else it holds, are never kept or shown.
"""

from __future__ import annotations

import io
import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Iterator

from kubectl_apiinfo.errors import UserError, flag

# An event at level Metadata is a few KB; RequestResponse events carry bodies (a list's may be many MB).
MAX_LINE_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024
_TEXT_KEPT = 1024  # the API server itself cuts a user agent at 1024 characters
_GZIP = b"\x1f\x8b"
DEPRECATED, REMOVED_RELEASE = "k8s.io/deprecated", "k8s.io/removed-release"
KIND, API_GROUP = "Event", "audit.k8s.io"


class Request:
    """The facts of one audit event that scan uses: nothing else of the event is kept."""

    __slots__ = ("line", "audit_id", "stage", "verb", "username", "user_agent", "group", "version", "resource",
                 "subresource", "time", "deprecated", "removed_release")

    def __init__(self, line: int, event: dict):
        ref = event.get("objectRef")
        ref = ref if isinstance(ref, dict) else {}
        user = event.get("user")
        annotations = event.get("annotations")
        annotations = annotations if isinstance(annotations, dict) else {}
        self.line = line
        self.audit_id = _text(event, "auditID")
        self.stage = _text(event, "stage")
        self.verb = _text(event, "verb")
        self.username = _text(user, "username") if isinstance(user, dict) else ""
        self.user_agent = _text(event, "userAgent")
        self.group, self.version = _text(ref, "apiGroup"), _text(ref, "apiVersion")
        self.resource, self.subresource = _text(ref, "resource"), _text(ref, "subresource")
        self.time = _text(event, "requestReceivedTimestamp") or _text(event, "stageTimestamp")
        self.deprecated = annotations.get(DEPRECATED) == "true" and bool(self.resource and self.version)
        self.removed_release = _text(annotations, REMOVED_RELEASE)


def _text(d: dict, key: str) -> str:
    value = d.get(key)
    return value[:_TEXT_KEPT] if isinstance(value, str) else ""


class AuditLog:
    """One log file (or stdin), read once by events(); afterwards, what the reading met."""

    def __init__(self, path: str):
        self.path = path
        self.name = "<stdin>" if path == "-" else path
        self.compressed = False
        self.lines = 0  # every line, blank ones too
        self.events = 0
        self.not_events = 0
        self.first_not_event = (0, "")  # (line, why)
        self.oversized = 0
        self.first_oversized = 0
        self.damaged = ""  # why a gzip stream stopped early

    def read(self) -> Iterator:
        """A Request for each audit event of the log, in the order written."""
        from kubectl_apiinfo.files import open_regular

        try:
            raw = open_regular(self.path, "an audit log")
        except OSError as e:
            raise UserError(f"cannot read {self.name} ({e.strerror}); {flag('audit_log')} takes a file or '-' for stdin") from None
        try:
            yield from self._lines(self._stream(raw))
        finally:
            if self.path != "-":
                raw.close()

    def _stream(self, raw):
        head = b""
        while len(head) < len(_GZIP):
            more = raw.read(len(_GZIP) - len(head))
            if not more:
                break
            head += more
        stream = io.BufferedReader(_Prefixed(head, raw), _CHUNK)
        if head == _GZIP:
            import gzip

            self.compressed = True
            return gzip.GzipFile(fileobj=stream, mode="rb")  # concatenated members (rotated logs, cat'ed) read on
        return stream

    def _lines(self, stream) -> Iterator:
        import zlib

        while True:
            try:
                line = stream.readline(MAX_LINE_BYTES + 1)
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    self.lines += 1
                    self._oversized()
                    while line and not line.endswith(b"\n"):  # the rest of it, a chunk at a time, unkept
                        line = stream.readline(_CHUNK)
                    continue
            except (EOFError, zlib.error, OSError) as e:
                if not self.compressed:
                    raise UserError(f"reading {self.name} failed ({getattr(e, 'strerror', None) or e})") from None
                self.damaged = str(e) or type(e).__name__
                return
            if not line:
                return
            self.lines += 1
            if not line.strip():
                continue
            request = self._event(line)
            if request is not None:
                self.events += 1
                yield request

    def _event(self, line: bytes):
        try:
            text = line.decode("utf-8")  # as Go's encoding/json writes it
        except UnicodeDecodeError:
            return self._not_event("not UTF-8 text")
        try:
            event = json.loads(text)
        except RecursionError:
            return self._not_event("nested too deeply")
        except ValueError:
            return self._not_event("not JSON")
        if not isinstance(event, dict):
            return self._not_event("not a JSON object")
        kind, api_version = event.get("kind"), event.get("apiVersion")
        if kind != KIND or not isinstance(api_version, str) or not api_version.startswith(API_GROUP + "/"):
            return self._not_event(f"not an {API_GROUP} Event")
        return Request(self.lines, event)

    def _not_event(self, why: str) -> None:
        self.not_events += 1
        if self.not_events == 1:
            self.first_not_event = (self.lines, why)

    def _oversized(self) -> None:
        self.oversized += 1
        if self.oversized == 1:
            self.first_oversized = self.lines

    def warnings(self) -> list:
        """One line for each kind of trouble the reading met (never one per line)."""
        found = []
        if self.not_events:
            line, why = self.first_not_event
            n = self.not_events
            what = "lines are not audit events and were" if n != 1 else "line is not an audit event and was"
            found.append(f"{self.name}: {n} {what} skipped (the first, line {line}: {why})")
        if self.oversized:
            n = self.oversized
            found.append(f"{self.name}: {n} line{'s' * (n != 1)} over {MAX_LINE_BYTES // (1024 * 1024)} MB "
                         f"{'were' if n != 1 else 'was'} skipped unread (the first, line {self.first_oversized}); "
                         "an audit policy at level Metadata logs no bodies and keeps events small")
        if self.damaged:
            found.append(f"{self.name}: the gzip stream is damaged after line {self.lines} ({self.damaged}); "
                         "the lines before it were read")
        return found

    def unread(self) -> list:
        """(part, reason) for what may have held events and was not read: lines over the bound, a damaged tail."""
        found = []
        if self.oversized:
            n = self.oversized
            found.append((f"{n} line{'s' * (n != 1)} of {self.name} over {MAX_LINE_BYTES // (1024 * 1024)} MB",
                          f"a line is read up to {MAX_LINE_BYTES // (1024 * 1024)} MB (the first over it: line {self.first_oversized})"))
        if self.damaged:
            found.append((f"{self.name} after line {self.lines}", f"its gzip stream is damaged ({self.damaged})"))
        return found

    def no_events(self) -> str:
        """Why a log with no event at all is not an audit log, in one line."""
        if self.lines == 0:
            what = "is empty"
        elif self.not_events:
            line, why = self.first_not_event
            what = f"holds no audit events (line {line}: {why})"
        elif self.oversized:
            what = f"holds no audit events it could read (its lines are over {MAX_LINE_BYTES // (1024 * 1024)} MB)"
        elif self.damaged:
            what = f"holds no audit events it could read (its gzip stream is damaged: {self.damaged})"
        else:
            what = "holds no audit events"
        return (f"{self.name} {what}; {flag('audit_log')} reads the API server's audit log: JSON lines of "
                f"{API_GROUP}/v1 Event, as --audit-log-path writes them with --audit-log-format=json (gzip accepted)")


class _Prefixed(io.RawIOBase):
    """The bytes already read to tell gzip from text, then the rest of the stream."""

    def __init__(self, head: bytes, rest):
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        read = getattr(self.rest, "read1", self.rest.read)  # what is there, without waiting for a full buffer
        data = read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
