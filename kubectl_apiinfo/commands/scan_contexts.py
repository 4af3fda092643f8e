"""kubectl apiinfo scan --all-contexts: every context of the kubeconfig scanned at once, against one target.

A few contexts are scanned at a time (each lists a few resources at once);
on a terminal a progress line counts them and names those still being
scanned, the slowest first.  A context that cannot be read is one warning and
the rest are scanned: it is unknown, not absent, and the closing note says so.
Each context's notes and warnings are held and printed in context order once
all are done, so that they neither break the progress line nor interleave.
"""

from __future__ import annotations

import os
import time

from kubectl_apiinfo.console import note, progress, progress_wanted, warn
from kubectl_apiinfo.errors import UserError, shorten

_CONTEXTS_AT_ONCE = 4  # times scan's own lists at once: sixteen requests in flight at most
_PROGRESS_AFTER = 1.0  # seconds before the progress line appears, and between its redraws
_SLOW_SHOWN = 3  # contexts named on the progress line


def _contexts(flags) -> list:
    from kubectl_apiinfo.kube.kubeconfig import context_names

    names = context_names(kubeconfig=flags.kubeconfig, environ=os.environ)
    if not names:
        raise UserError("the kubeconfig has no contexts to scan")
    return names


def scan_all(options, factory, target, scan_context) -> dict:
    """The answer of every context, merged.  scan_context is commands/scan.py's, called as
    scan_context(options, factory, target, context, said)."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    contexts = _contexts(options.flags)
    started: dict = {}
    said: dict = {c: [] for c in contexts}

    def one(context: str):
        started[context] = time.monotonic()
        try:
            return scan_context(options, factory, target, context, said[context])
        except UserError as e:
            return e

    show, shown, begun, drawn = progress_wanted(), False, time.monotonic(), 0
    results: dict = {}
    with ThreadPoolExecutor(max_workers=min(_CONTEXTS_AT_ONCE, len(contexts))) as pool:
        pending = {pool.submit(one, c): c for c in contexts}
        while pending:
            done, _ = wait(pending, timeout=_PROGRESS_AFTER, return_when=FIRST_COMPLETED)
            for future in done:
                results[pending.pop(future)] = future.result()
            if show and pending and (shown or time.monotonic() - begun > _PROGRESS_AFTER):
                shown = True
                line = _progress_line(len(results), len(contexts), started, set(pending.values()))
                progress(line.ljust(drawn))  # blanks over the rest of a longer line drawn before
                drawn = len(line)
    if shown:
        progress(f"scanned {len(contexts)}/{len(contexts)} contexts".ljust(drawn), done=True)
    return _merged(contexts, results, said, target)


def _progress_line(done: int, total: int, started: dict, running: set) -> str:
    """'scanned 3/8 contexts; still scanning prod-eu (41s), staging (12s) and 1 more'."""
    now = time.monotonic()
    slow = sorted((c for c in running if c in started), key=lambda c: started[c])
    named = ", ".join(f"{shorten(c)} ({now - started[c]:.0f}s)" for c in slow[:_SLOW_SHOWN])
    more = len(running) - min(len(slow), _SLOW_SHOWN)
    line = f"scanned {done}/{total} contexts"
    if named:
        line += f"; still scanning {named}" + (f" and {more} more" if more else "")
    return line


def _merged(contexts: list, results: dict, said: dict, target) -> dict:
    """One answer: each scanned context's cluster, counts and skipped parts, every finding with its context."""
    clusters, skipped, findings, not_scanned = [], [], [], []
    for c in contexts:
        for printer, line in said[c]:
            printer(f"context {c}: {line}")
        result = results[c]
        if isinstance(result, UserError):
            warn(f"context {c} was not scanned: {result}")
            not_scanned.append({"context": c, "reason": str(result)})
            continue
        clusters.append({"context": c, "cluster": result["cluster"], "scanned": result["scanned"],
                         "skipped": result["skipped"]})
        skipped.extend({"context": c, **s} for s in result["skipped"])
        findings.extend({"context": c, **f} for f in result["findings"])
    if not clusters:
        reasons = "; ".join(f"{n['context']}: {n['reason']}" for n in not_scanned[:2])
        raise UserError(f"no context of the kubeconfig could be scanned ({reasons})")
    total = {k: sum(c["scanned"][k] or 0 for c in clusters) for k in ("resources", "objects", "requests")}
    for key in ("crds", "helmReleases"):  # None where no context read them
        read = [c["scanned"][key] for c in clusters if c["scanned"][key] is not None]
        total[key] = sum(read) if read else None
    total.update(metrics=any(c["scanned"]["metrics"] for c in clusters), contexts=len(clusters))
    return {
        "kind": "ScanResult",
        "target": target.describe(),
        "clusters": clusters,
        "contextsNotScanned": not_scanned,
        "scanned": total,
        "skipped": skipped,
        "findings": findings,
    }
