"""kubectl apiinfo scan: which live objects, Helm releases and clients of the cluster use APIs a target release does not serve."""

from __future__ import annotations

import time

from kubectl_apiinfo.answers import scan
from kubectl_apiinfo.commands.check import fail_on
from kubectl_apiinfo.console import note, progress, progress_wanted, warn
from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.upgrade import SCAN as FORMATS

_PROGRESS_AFTER = 1.0  # seconds: a quick scan shows no progress line
_READ_BY_PEOPLE = ("table", "markdown", "csv")  # the others carry the counts and what was skipped
# Resources listed at once: each list is paged in turn, as kubectl pages it; several lists overlap.
_LISTS_AT_ONCE = 4
# The resources Helm 3 keeps its release records in, by its driver's name.
_HELM_DRIVERS = {"secrets": "secret", "configmaps": "configmap"}


def _list(client, resource, last_applied: bool) -> tuple:
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
    warn(line)
    run.skip(resource.qualified, permission if error.status == 403 else "", reason, listed=True)


def _metrics(run, client) -> None:
    from kubectl_apiinfo.kube import api_metrics
    from kubectl_apiinfo.kube.transport import TransportError

    try:
        series = api_metrics.deprecated_requests(client)
    except TransportError as e:
        if e.unreachable:
            raise
        if e.status == 403:
            warn(f"cannot get {api_metrics.METRICS} (403): the deprecated APIs clients still request are not scanned")
        else:
            warn(f"reading {api_metrics.METRICS} failed ({e}): the deprecated APIs clients still request are not scanned")
        run.skip(api_metrics.METRICS, f"get {api_metrics.METRICS}" if e.status == 403 else "", str(e))
        return
    run.add_metrics(series)


def _scan_objects(run, client, resources: list, last_applied: bool, helm: bool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    show, shown = progress_wanted(), False
    with ThreadPoolExecutor(max_workers=_LISTS_AT_ONCE) as pool:
        listed = pool.map(lambda r: _list(client, r, last_applied), resources)
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
            if e.unreachable:
                raise
            if e.status == 403:
                warn(f"cannot list {resource} in any namespace (403): their Helm releases are not scanned")
            else:
                warn(f"listing Helm releases in {resource} failed ({e}): not scanned")
            run.skip(f"Helm releases in {resource}", f"list {resource}" if e.status == 403 else "", str(e))
            continue
        records.reverse()
        while records:
            _release(run, records.pop(), helm_releases)  # each encoded record dropped once checked


def _release(run, record, helm_releases) -> None:
    what = f"Helm release {record.namespace}/{record.release} (revision {record.revision}, {record.driver} {record.object_name})"
    try:
        release = helm_releases.decode(record)
    except helm_releases.Unreadable as e:  # our own words: never the record's content
        warn(f"{what} could not be read ({e}): not scanned")
        run.skip(f"{record.driver} {record.namespace}/{record.object_name}", "", f"not a readable Helm release: {e}")
        return
    if record.status != helm_releases.DEPLOYED:
        note(f"{what}: checked {record.chosen}")
    unreadable = run.add_release(release)
    if unreadable:
        where = ", ".join(unreadable[:3]) + (f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else "")
        warn(f"{what}: {len(unreadable)} document{'s' * (len(unreadable) != 1)} of its manifest could not be read "
             f"({where}): not checked")


def _closing(answer: dict, cluster, target) -> str:
    scanned = answer["scanned"]
    what = f"{scanned['objects']} object{'s' * (scanned['objects'] != 1)} of {scanned['resources']} resources"
    if scanned["helmReleases"] is not None:
        what += f", {scanned['helmReleases']} Helm release{'s' * (scanned['helmReleases'] != 1)}"
    if scanned["metrics"]:
        what += " and the API server's requested deprecated APIs"
    line = f"{what} on {cluster.label} against {target.label} ({scanned['requests']} requests)"
    skipped = answer["skipped"]
    if skipped:
        line += f"; not scanned: {', '.join(s['part'] for s in skipped)}"
    if answer["findings"]:
        summary = answer["summary"]
        counts = ", ".join(f"{n} {name}" for name, n in summary["byFinding"].items())
        return f"{summary['findings']} finding{'s' * (summary['findings'] != 1)}: {counts}; scanned {line}"
    if skipped:  # unknown is not absent: nothing is said of what was not read
        return f"No findings in what could be scanned: {line}"
    return f"No findings: scanned {line}"


def run(options, factory):
    failing = fail_on(options.fail_on)
    target = factory.release(options.kube_version)
    cluster = factory.cluster()
    try:
        answer = _scan(options, factory, cluster, target)
    finally:
        cluster.close()
        target.close()
    status = scan.exit_status(answer, failing, options.ignore_deprecations)
    answer["summary"] = scan.summary(answer, failing, options.ignore_deprecations)
    factory.out(pick(FORMATS, options.output)(answer, options.no_headers))
    if options.output in _READ_BY_PEOPLE:
        note(_closing(answer, cluster, target))
    return status


def _scan(options, factory, cluster, target) -> dict:
    if cluster.KIND != "cluster":
        raise UserError(
            "scan reads a live cluster, and none is configured: name one with the kubeconfig "
            f"({flag('kubeconfig')}, {flag('context')}, KUBECONFIG)"
        )
    for n in cluster.notes:
        note(n)
    resources = scan.listable(cluster, options.resources)
    run = scan.ScanRun(cluster, target)
    for gv, why in sorted(cluster.failed_discovery.items()):  # discovery's own warning has said so
        run.skip(gv, "", f"its discovery failed ({why}): its resources were not listed")
    # Narrowed to some resources: neither the whole server's counter nor every Helm release is asked for.
    helm = not options.resources and not options.no_helm
    with factory.client() as client:
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
