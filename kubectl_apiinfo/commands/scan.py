"""kubectl apiinfo scan: which live objects, Helm releases and clients of the cluster (or of an audit log) use APIs a
target release does not serve."""

from __future__ import annotations

import time

from kubectl_apiinfo.answers import scan
from kubectl_apiinfo.commands.check import fail_on
from kubectl_apiinfo.console import note, progress, progress_wanted, warn
from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.upgrade import SCAN as FORMATS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

_PROGRESS_AFTER = 1.0  # seconds: a quick scan shows no progress line
_READ_BY_PEOPLE = ("table", "markdown", "csv", "github")  # the others carry the counts and what was skipped
# Resources listed at once: each list is paged in turn, as kubectl pages it; several lists overlap.
_LISTS_AT_ONCE = 4
# The resources Helm 3 keeps its release records in, by its driver's name.
_HELM_DRIVERS = {"secrets": "secret", "configmaps": "configmap"}


def list_tally(client, resource, last_applied: bool) -> tuple:
    """(the resource's Tally, the TransportError that stopped its listing or None)."""
    from kubectl_apiinfo.kube import object_lists
    from kubectl_apiinfo.kube.transport import TransportError

    tally = scan.Tally(resource)
    path = object_lists.list_path(resource.group, resource.version, resource.name)
    try:
        for page in object_lists.objects(client, path, last_applied):
            tally.add(page)
    except TransportError as e:
        if e.unreachable:
            raise
        return tally, e
    return tally, None


def say(run, line: str) -> None:
    """A warning of the scan: said now, or (--all-contexts) held until every context is scanned."""
    if run.said is None:
        warn(line)
    else:
        run.said.append((warn, line))


def _skipped_list(run, resource, error, read: int, helm: bool) -> None:
    where = "in any namespace" if resource.namespaced else "(cluster-scoped)"
    permission, reason = f"list {resource.qualified}", str(error)
    if error.status == 403 and helm and resource.qualified in _HELM_DRIVERS:  # one line for both of its reads
        line = f"cannot list {resource.qualified} {where} (403): their managedFields and Helm releases are not scanned"
        reason += "; the Helm releases kept in them were not read either"
    elif error.status == 403:
        line = f"cannot list {resource.qualified} {where} (403): not scanned"
    else:
        after = f" after {read} objects" if read else ""
        line = f"listing {resource.qualified} failed{after} ({error}): not scanned"
    say(run, line)
    run.skip(resource.qualified, permission if error.status == 403 else "", reason, listed=True)


def _metrics(run, client) -> None:
    from kubectl_apiinfo.kube import api_metrics
    from kubectl_apiinfo.kube.transport import TransportError

    try:
        series = api_metrics.deprecated_requests(client)
    except TransportError as e:
        lost = "the deprecated APIs clients still request are not scanned"
        _not_read(run, e, api_metrics.METRICS, f"get {api_metrics.METRICS}",
                  f"cannot get {api_metrics.METRICS} (403): {lost}", f"reading {api_metrics.METRICS} failed ({e}): {lost}")
        return
    run.add_metrics(series)


def _not_read(run, error, part: str, permission: str, refused: str, failed: str) -> None:
    """A part the server would not give: one line (refused for a 403, else failed) and an entry among what was
    not scanned, naming the missing permission: unknown, not absent.  An unreachable server ends the scan."""
    if error.unreachable:
        raise error
    say(run, refused if error.status == 403 else failed)
    run.skip(part, permission if error.status == 403 else "", str(error))


def _scan_objects(run, client, resources: list, last_applied: bool, helm: bool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    show, shown = progress_wanted() and run.said is None, False  # several contexts: their own progress line
    with ThreadPoolExecutor(max_workers=_LISTS_AT_ONCE) as pool:
        listed = pool.map(lambda r: list_tally(client, r, last_applied), resources)
        for i, (tally, error) in enumerate(listed, 1):
            run.add(tally)  # counts only: the tally of a resource is as small as its writers are few
            if error is not None:
                _skipped_list(run, tally.resource, error, tally.objects, helm)
            if show and (shown or time.monotonic() - started > _PROGRESS_AFTER):
                shown = True
                progress(f"listed {i}/{len(resources)} resources, {run.objects} objects")
    if shown:
        progress(f"listed {len(resources)}/{len(resources)} resources, {run.objects} objects", done=True)


def _helm(run, client) -> None:
    """Each Helm release's current revision, read and checked one at a time.  A driver whose resource could
    not be listed at all (403) has said so in its one line; a record that does not decode is one line."""
    from kubectl_apiinfo.kube import helm_releases
    from kubectl_apiinfo.kube.transport import TransportError

    forbidden = {s["part"] for s in run.skipped if s["permission"]}
    run.helm_releases = 0
    for resource, driver in _HELM_DRIVERS.items():
        if resource in forbidden:
            continue
        try:
            records = helm_releases.records(client, driver)
        except TransportError as e:
            _not_read(run, e, f"Helm releases in {resource}", f"list {resource}",
                      f"cannot list {resource} in any namespace (403): their Helm releases are not scanned",
                      f"listing Helm releases in {resource} failed ({e}): not scanned")
            continue
        records.reverse()
        while records:
            _release(run, records.pop(), helm_releases)  # each encoded record dropped once checked


def _release(run, record, helm_releases) -> None:
    what = f"Helm release {record.namespace}/{record.release} (revision {record.revision}, {record.driver} {record.object_name})"
    try:
        release = helm_releases.decode(record)
    except helm_releases.Unreadable as e:  # our own words: never the record's content
        say(run, f"{what} could not be read ({e}): not scanned")
        run.skip(f"{record.driver} {record.namespace}/{record.object_name}", "", f"not a readable Helm release: {e}")
        return
    if record.status != helm_releases.DEPLOYED:
        line = f"{what}: checked {record.chosen}"
        note(line) if run.said is None else run.said.append((note, line))
    unreadable = run.add_release(release)
    if unreadable:
        where = ", ".join(unreadable[:3]) + (f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else "")
        say(run, f"{what}: {len(unreadable)} document{'s' * (len(unreadable) != 1)} of its manifest could not be read "
             f"({where}): not checked")


def _what_was_read(answer: dict) -> str:
    scanned = answer["scanned"]
    read = scanned.get("auditLog")
    if read:
        return (f"the audit log {read['file']} against {answer['target']['name']} ({read['requests']} requests in "
                f"{read['events']} events, {read['deprecatedRequests']} to deprecated APIs)")
    what = f"{scanned['objects']} object{'s' * (scanned['objects'] != 1)} of {scanned['resources']} resources"
    if scanned.get("crds") is not None:
        what += f", {scanned['crds']} CustomResourceDefinition{'s' * (scanned['crds'] != 1)}"
    if scanned["helmReleases"] is not None:
        what += f", {scanned['helmReleases']} Helm release{'s' * (scanned['helmReleases'] != 1)}"
    if scanned["metrics"]:
        what += " and the API server's requested deprecated APIs"
    if "clusters" in answer:  # --all-contexts
        names = [c["context"] for c in answer["clusters"]]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        where = f"in {len(names)} context{'s' * (len(names) != 1)} ({shown})"
    else:
        where = f"on {answer['cluster']['name']}"
    line = f"{what} {where} against {answer['target']['name']} ({scanned['requests']} requests)"
    if answer.get("fromCache"):
        line += f", kept from {answer['scannedAt']}"
    return line


def _closing(answer: dict) -> str:
    line = _what_was_read(answer)
    skipped = [f"context {n['context']}" for n in answer.get("contextsNotScanned", ())]
    skipped += [f"{s['context']}: {s['part']}" if s.get("context") else s["part"] for s in answer["skipped"]]
    if skipped:
        line += f"; not scanned: {', '.join(skipped)}"
    if answer["findings"]:
        summary = answer["summary"]
        counts = ", ".join(f"{n} {name}" for name, n in summary["byFinding"].items())
        return f"{summary['findings']} finding{'s' * (summary['findings'] != 1)}: {counts}; scanned {line}"
    if skipped:  # unknown is not absent: nothing is said of what was not read
        return f"No findings in what could be scanned: {line}"
    return f"No findings: scanned {line}"


def run(options, factory):
    failing = fail_on(options.fail_on)
    if options.audit_log is not None:
        answer = _audit_log(options, factory)
    elif options.flags.offline:
        answer = _kept(options, factory)
    else:
        target = factory.release(options.kube_version)
        try:
            if options.all_contexts:
                from kubectl_apiinfo.commands import scan_contexts

                answer = scan_contexts.scan_all(options, factory, target, scan_context)
            else:
                answer = scan_context(options, factory, target)
        finally:
            target.close()
    status = scan.exit_status(answer, failing, options.ignore_deprecations)
    answer["summary"] = scan.summary(answer, failing, options.ignore_deprecations)
    if "contextsNotScanned" in answer:
        answer["summary"]["contextsNotScanned"] = len(answer["contextsNotScanned"])
    factory.out(pick(FORMATS, options.output)(answer, options.no_headers))
    if options.output in _READ_BY_PEOPLE:
        note(_closing(answer))
    return status


def _refuse_without_cluster(cluster) -> None:
    if cluster.KIND != "cluster":
        raise UserError(
            "scan reads a live cluster, and none is configured: name one with the kubeconfig "
            f"({flag('kubeconfig')}, {flag('context')}, KUBECONFIG)"
        )


def scan_context(options, factory, target, context: str = "", said: Optional[list] = None) -> dict:
    """One cluster's scan: the flags' own, or (--all-contexts) that context's, its notes and warnings held in
    said as (console.note or console.warn, line).  A whole scan is kept in the cache, for an offline scan and
    for 'cache export'."""
    from kubectl_apiinfo.sources.cluster import scans

    try:
        cluster = factory.cluster(context)
    except UserError as e:  # scan's --kube-version is its target: not a way to answer without the cluster
        raise UserError(getattr(e, "without_hint", str(e))) from None
    try:
        _refuse_without_cluster(cluster)
        answer = _scan(options, factory, cluster, target, context, said)
        answer["scannedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if cluster.identity and not options.resources:  # a narrowed scan is not the cluster's whole story
            with factory.cache() as cache:
                scans.save(cache, cluster.identity, scan.kept_copy(answer))
        return answer
    finally:
        cluster.close()


def _kept(options, factory) -> dict:
    """--offline: the cluster's last whole scan, as the cache (or an imported bundle) keeps it."""
    from kubectl_apiinfo.sources.catalog import releases
    from kubectl_apiinfo.sources.cluster import scans

    if options.all_contexts:
        raise UserError(f"{flag('offline')} answers from one cluster's last scan; {flag('all_contexts')} scans every "
                        "context live: drop one of them")
    if options.resources or options.last_applied:
        raise UserError(f"{flag('offline')} answers from the cluster's last whole scan: it cannot be narrowed "
                        f"with {flag('resources')} or widened with {flag('last_applied')}")
    cluster = factory.cluster()
    try:
        _refuse_without_cluster(cluster)
        with factory.cache() as cache:
            answer = scans.load(cache, cluster.identity) if cluster.identity else None
    finally:
        cluster.close()
    if answer is None:
        raise UserError(f"no scan of {cluster.label} is kept in the cache: run 'kubectl apiinfo scan' while it "
                        "is reachable (or import a bundle that has one)")
    kept = answer["target"]["kubernetesVersion"]
    if options.kube_version and releases.normalize_release(options.kube_version) != kept:
        raise UserError(f"the scan of {cluster.label} kept from {answer['scannedAt']} was judged against {kept}; "
                        f"scan again while it is reachable to judge it against {options.kube_version}")
    answer["fromCache"] = True
    return answer


def _scan(options, factory, cluster, target, context: str, said: Optional[list]) -> dict:
    for n in cluster.notes:
        note(n) if said is None else said.append((note, n))
    resources = scan.listable(cluster, options.resources)
    run = scan.ScanRun(cluster, target)
    run.said = said
    for gv, why in sorted(cluster.failed_discovery.items()):  # discovery's own warning has said so
        run.skip(gv, "", f"its discovery failed ({why}): its resources were not listed")
    # Narrowed to some resources: neither the whole server's counter nor every Helm release is asked for.
    helm = not options.resources and not options.no_helm
    with factory.client(context) as client:
        from kubectl_apiinfo.commands.scan_crds import read_crds

        resources = read_crds(run, client, resources, bool(options.resources), lambda line: say(run, line))
        _scan_objects(run, client, resources, options.last_applied, helm)
        if helm:
            _helm(run, client)
        if not options.resources:
            _metrics(run, client)
        requests = client.requests
    answer = run.answer(requests)
    if not run.anything_read:
        reasons = "; ".join(f"{s['part']}: {s['reason']}" for s in answer["skipped"][:2])
        raise UserError(f"nothing could be scanned on {cluster.label} ({reasons})")
    return answer


# --- scan --audit-log: the log alone, offline ------------------------------------------


def _audit_log(options, factory) -> dict:
    """The log alone, judged against --kube-version (else the newest release): no kubeconfig is read and no
    server asked.  The log may be another cluster's, or older than the cluster: one answer is about one thing."""
    target = factory.release(options.kube_version)
    try:
        return _scan_audit_log(options.audit_log, target)
    finally:
        target.close()


def _scan_audit_log(path: str, target) -> dict:
    from kubectl_apiinfo.answers import audit_events
    from kubectl_apiinfo.inputs.audit_log import AuditLog

    log, summary = AuditLog(path), audit_events.AuditSummary()
    started = time.monotonic()
    show, shown = progress_wanted(), False
    for i, request in enumerate(log.read(), 1):
        summary.add(request)
        if show and not i % 50_000 and (shown or time.monotonic() - started > _PROGRESS_AFTER):
            shown = True
            progress(f"read {log.lines} lines of {log.name}, {summary.requests} requests")
    if shown:
        progress(f"read {log.lines} lines of {log.name}, {summary.requests} requests", done=True)
    if not log.events:
        raise UserError(log.no_events())
    for line in log.warnings():
        warn(line)
    run = scan.ScanRun(None, target)
    run.add_findings(audit_events.findings(run, summary))
    run.audit_log = audit_events.scanned(log, summary)
    for part, reason in log.unread():  # unknown, not absent: what may have been events and was not read
        run.skip(part, "", reason)
    return run.answer(0)
