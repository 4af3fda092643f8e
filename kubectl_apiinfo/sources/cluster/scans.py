"""A cluster's last scan, kept in the cache beside its snapshot: an offline scan answers from it, and
`cache export` carries it, so an air-gapped machine knows what the cluster still runs.

What is kept is scan's -o json answer: findings, the names of objects, managers, Helm releases and
user agents, counts and what was skipped; never an object's or a release's contents (the answer
has none).  A kept answer is checked as strictly as a bundle: a value of the wrong shape is no
scan, so a damaged cache or a hostile bundle cannot reach the printers.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.sources.snapshots.layout import SCAN

BUNDLE_KEY = "scans"  # the part of a 'cache export' bundle that carries the clusters' last scans
MAX_FINDINGS = 100_000  # a scan's findings are one per writer and version: far fewer than objects
# The keys a finding may carry, by the type each must have (None allowed for all but these three).
_REQUIRED = ("finding", "origin", "detail")
_TEXT = ("resource", "group", "kind", "apiVersion", "manager", "lastWritten", "subresource", "removedRelease",
         "removed", "replacement", "context", "release", "namespace", "chart", "template", "field", "crd",
         "userAgent", "user", "verb", "firstSeen", "lastSeen", "location", "name", "path")
_COUNTS = ("objects", "count", "revision")
_LISTS = ("names", "operations")


def save(cache, identity: str, answer: dict) -> bool:
    """Keep answer as the cluster's last scan (answers/scan.py kept_copy: without the values its findings quote);
    False if it was not stored (said once, as any write)."""
    return cache.set_value(SCAN + identity, answer, "keep the scan for answering offline")


def load(cache, identity: str) -> Optional[dict]:
    """The cluster's last scan; None when there is none, or what is there is not a scan's answer."""
    value = cache.value(SCAN + identity)
    return value if value is not None and problem(value) is None else None


def bundle_part(cache, identities: list) -> dict:
    """{identity: answer} of the exported clusters that have a kept scan."""
    found = {}
    for identity in identities:
        answer = load(cache, identity)
        if answer is not None:
            found[identity] = answer
    return found


def validate_part(part: object, where: str = "the bundle") -> None:
    """A UserError naming what is wrong with a bundle's scans; called before anything of the bundle is stored."""
    if not isinstance(part, dict):
        raise UserError(f"{where}: {BUNDLE_KEY}: expected a mapping of clusters to scans; nothing was imported")
    for identity, answer in part.items():
        wrong = "an empty cluster identity" if not isinstance(identity, str) or not identity else problem(answer)
        if wrong:
            raise UserError(f"{where}: {BUNDLE_KEY}: {wrong}; nothing was imported")


def import_part(cache, part: dict, identities: list) -> int:
    """Keep the bundle's scans of the clusters it brought (validated first); how many were kept."""
    brought = set(identities)
    kept = 0
    for identity, answer in part.items():
        if identity in brought and save(cache, identity, answer):
            kept += 1
    return kept


def problem(answer: object) -> Optional[str]:
    """What makes answer no scan's answer, or None."""
    if not isinstance(answer, dict) or answer.get("kind") != "ScanResult":
        return "a scan that is not a ScanResult"
    for key in ("cluster", "target", "scanned"):
        if not isinstance(answer.get(key), dict):
            return f"a scan without {key}"
    for key in ("name", "kubernetesVersion"):
        if not _text_or_none(answer["target"].get(key)) or not _text_or_none(answer["cluster"].get(key)):
            return f"a scan whose target or cluster has no {key}"
    if not _text_or_none(answer.get("scannedAt")):
        return "a scan whose scannedAt is not a time"
    skipped, findings = answer.get("skipped"), answer.get("findings")
    if not isinstance(skipped, list) or not all(
            isinstance(s, dict) and isinstance(s.get("part"), str) and isinstance(s.get("reason"), str) for s in skipped):
        return "a scan whose skipped parts are malformed"
    if not isinstance(findings, list) or len(findings) > MAX_FINDINGS:
        return "a scan whose findings are not a list (or too many)"
    for i, f in enumerate(findings):
        wrong = _finding_problem(f)
        if wrong:
            return f"findings[{i}]: {wrong}"
    return None


def _finding_problem(f: object) -> Optional[str]:
    if not isinstance(f, dict):
        return "not a mapping"
    for key in _REQUIRED:
        if not isinstance(f.get(key), str):
            return f"{key} is not text"
    for key in _TEXT:
        if not _text_or_none(f.get(key)):
            return f"{key} is not text"
    for key in _COUNTS:
        value = f.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            return f"{key} is not a count"
    for key in _LISTS:
        value = f.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key} is not a list of names"
    return None


def _text_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)
