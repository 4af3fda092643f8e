"""The deprecated APIs an audit log shows being requested: grouped by who asked, judged against a release.

Each request the API server annotated k8s.io/deprecated counts once, however
many stages it logged (events of one request share its auditID), in the group
(user agent, user, group/version/resource[/subresource], verb), with the times
of its first and last request.  A group is judged as scan judges the API
server's metric series (answers/scan.py ScanRun.requested): not served once the
target reaches the removal release the API server named, else deprecated.
Memory grows with the log's distinct requests (their auditIDs) and its groups,
never with its bytes.
"""

from __future__ import annotations

from kubectl_apiinfo.answers.scan import AUDIT_LOG


class AuditSummary:
    """The requests of a log, counted as its events are read."""

    def __init__(self):
        self.events = 0
        self.requests = 0
        self.deprecated_requests = 0
        self.seen: set = set()  # every auditID: a request's stages are one request
        self.counted: set = set()  # the auditIDs already counted in a group
        self.groups: dict = {}  # (user agent, user, group, version, resource, subresource, verb) -> [count, first, last, removed]

    def add(self, request) -> None:
        """One event (inputs/audit_log.py Request)."""
        self.events += 1
        key = _uid(request.audit_id)
        if key is None or key not in self.seen:
            self.requests += 1
            if key is not None:
                self.seen.add(key)
        if not request.deprecated:
            return  # RequestReceived is logged before the handler annotates it; a later stage of it may count
        if key is not None:
            if key in self.counted:
                return
            self.counted.add(key)
        self.deprecated_requests += 1
        group = (request.user_agent, request.username, request.group, request.version, request.resource,
                 request.subresource, request.verb)
        row = self.groups.get(group)
        if row is None:
            row = self.groups[group] = [0, request.time, request.time, request.removed_release]
        row[0] += 1
        if request.time:
            row[1] = min(row[1], request.time) if row[1] else request.time
            row[2] = max(row[2], request.time)
        row[3] = row[3] or request.removed_release


def _uid(audit_id: str):
    """An auditID as a small key (an int for the UUID the API server makes), None for none."""
    if not audit_id:
        return None
    try:
        return int(audit_id.replace("-", ""), 16) if len(audit_id) == 36 else audit_id
    except ValueError:
        return audit_id


def findings(run, summary: AuditSummary) -> list:
    """A finding for each group, judged by run (answers/scan.py ScanRun) against its target: scan's finding
    shape, with who asked (userAgent, user, verb), how often (count) and when (firstSeen, lastSeen)."""
    found = []
    for (agent, user, group, version, resource, sub, verb), (count, first, last, removed) in summary.groups.items():
        how = f"{count} {verb or 'request'} request{'s' * (count != 1)} in the audit log"
        f = run.requested(group, version, resource, sub, removed, AUDIT_LOG, how)
        f.update(userAgent=agent or None, user=user or None, verb=verb or None, count=count,
                 firstSeen=first or None, lastSeen=last or None)
        found.append(f)
    return found


def scanned(log, summary: AuditSummary) -> dict:
    """What was read of the log, for the answer's scanned.auditLog (inputs/audit_log.py AuditLog)."""
    return {
        "file": log.name, "gzip": log.compressed, "lines": log.lines, "events": summary.events,
        "requests": summary.requests, "deprecatedRequests": summary.deprecated_requests,
        "skippedLines": log.not_events + log.oversized, "complete": not log.damaged,
    }
