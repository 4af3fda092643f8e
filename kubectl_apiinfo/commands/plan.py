"""kubectl apiinfo plan --to TARGET [--from CURRENT] (-f PATH | --live): an upgrade, hop by hop, for some
manifests or for the live cluster's objects as scan reads them (the versions their field managers wrote with)."""

from kubectl_apiinfo.console import note
from kubectl_apiinfo.errors import UserError, flag, shorten
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.upgrade import PLAN as FORMATS

# Outputs whose reader wants the closing line on stderr; the others carry the summary (json, yaml, junit, sarif).
_READ_BY_PEOPLE = ("table", "markdown", "csv", "github")


def _release(text: str, name: str) -> str:
    """A release --from or --to names, as the catalog names it."""
    from kubectl_apiinfo.model import release_key, release_name
    from kubectl_apiinfo.sources.catalog import releases

    found = release_name(text)
    if found is None:
        raise UserError(f"{flag(name)} {shorten(text)!r} is not a Kubernetes version; use a form like 1.30 or v1.30.2")
    names = releases.release_names()
    if found not in names:
        newer = release_key(found) > release_key(releases.newest())
        where = f"newer than the catalog, whose newest release is {releases.newest()}" if newer else \
            f"not in the catalog, which has {names[0]} to {names[-1]}"
        raise UserError(f"{flag(name)} {found}: Kubernetes {found} is {where}; a plan needs both ends in the catalog")
    return found


def _current(factory) -> str:
    """--from's default: the version of the cluster the kubeconfig names, as its snapshot (or discovery) says."""
    cluster = factory.cluster()
    try:
        if cluster.KIND != "cluster":
            raise UserError(f"plan needs the release the cluster runs now: give {flag('from')} (no cluster is "
                            f"configured to read it from: {flag('kubeconfig')}, {flag('context')}, KUBECONFIG)")
        return _version_of(cluster)
    finally:
        cluster.close()


def _version_of(cluster) -> str:
    if not cluster.release:
        raise UserError(f"the version of {cluster.label} is unknown; give {flag('from')}")
    try:
        return _release(cluster.release, "from")
    except UserError as e:
        raise UserError(f"{cluster.label} runs Kubernetes {cluster.release}, which cannot be planned from ({e}); "
                        f"give {flag('from')}") from None


def _live(options, factory, end: str):
    """--live: the cluster's objects, listed as scan lists them; (the PlanRun, what was read of the cluster)."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_apiinfo.answers import plan, scan
    from kubectl_apiinfo.commands.scan import list_tally
    from kubectl_apiinfo.console import warn

    if options.flags.offline:
        raise UserError(f"{flag('live')} lists the cluster's objects now, which {flag('offline')} forbids; drop one of them")
    cluster = factory.cluster()
    try:
        if cluster.KIND != "cluster":
            raise UserError(f"{flag('live')} reads a live cluster, and none is configured: name one with the "
                            f"kubeconfig ({flag('kubeconfig')}, {flag('context')}, KUBECONFIG)")
        start = _release(getattr(options, "from"), "from") if getattr(options, "from") else _version_of(cluster)
        planning = plan.PlanRun(start, end)
        resources = scan.listable(cluster)
        skipped = []
        with factory.client() as client, ThreadPoolExecutor(max_workers=4) as pool:
            for tally, error in pool.map(lambda r: list_tally(client, r, False), resources):
                planning.add_tally(tally)
                if error is not None:
                    part = tally.resource.qualified
                    warn(f"listing {part} failed ({error}): not planned for")
                    skipped.append({"part": part, "reason": str(error)})
        read = {"cluster": cluster.describe(), "resources": len(resources), "skipped": skipped}
    finally:
        cluster.close()
    return planning, read


def _closing(answer: dict) -> str:
    """'plan 1.22 → 1.30: 7 changes (6 not-served, 1 deprecated) for 5 objects of 1 file'."""
    s = answer["summary"]

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' * (count != 1)}"

    counts = ", ".join(f"{count} {name}" for name, count in s["byFinding"].items())
    if answer.get("live"):
        read = answer["live"]
        return (f"plan {answer['from']} to {answer['to']}: {n(s['findings'], 'change')} ({counts}) in "
                f"{read['cluster']['name']} ({n(answer['objects'], 'object')} of {read['resources']} resources read, "
                "judged by the versions their field managers wrote with)")
    return (f"plan {answer['from']} to {answer['to']}: {n(s['findings'], 'change')} ({counts}) for "
            f"{n(s['objectsWithFindings'], 'object')} of {n(s['filesWithFindings'], 'file')}")


def run(options, factory):
    from kubectl_apiinfo.answers import check
    from kubectl_apiinfo.answers import plan
    from kubectl_apiinfo.commands.check import fail_on
    from kubectl_apiinfo.inputs import manifests

    failing = fail_on(options.fail_on)
    if not options.to:
        raise UserError(f"plan needs the release to upgrade to: {flag('to')} 1.30, say")
    given = list(options.filename or []) + list(options.files or [])
    if options.live and given:
        raise UserError(f"{flag('live')} plans for the cluster's objects and -f for manifests: pick one")
    if not given and not options.live:
        raise UserError(f"plan needs manifests: -f FILE, -f DIR (with -R for subdirectories), -f - for stdin, or FILE "
                        f"arguments; or {flag('live')} for the cluster's objects")
    end = _release(options.to, "to")
    if options.live:
        planning, read = _live(options, factory, end)
        answer = planning.answer(0)
        answer["live"] = read
    else:
        start = _release(getattr(options, "from"), "from") if getattr(options, "from") else _current(factory)
        planning = plan.PlanRun(start, end)  # --to before --from is refused before any file is read
        files = manifests.expand(given, options.recursive)
        for path in files:
            planning.add(manifests.parse(manifests.read_text(path), "<stdin>" if path == "-" else path))
        if not planning.objects and not planning.problems and not options.allow_empty:
            raise UserError(f"no objects in {', '.join(shorten(str(g)) for g in given[:3])}; nothing was planned "
                            f"({flag('allow_empty')} makes that a pass)")
        answer = planning.answer(len(files))
    start = answer["from"]
    status = check.exit_status(answer, failing, options.ignore_deprecations)
    answer["summary"] = check.summary(answer, failing, options.ignore_deprecations)
    if options.output == "junit" and not options.live:  # each object a test case, those with nothing to change too
        answer["checked"] = planning.identities
    factory.out(pick(FORMATS, options.output)(answer, options.no_headers))
    if options.output in _READ_BY_PEOPLE and not answer["problems"]:
        if answer["findings"]:
            note(_closing(answer))
        else:
            note(f"Nothing to change from {start} to {end}: the APIs of {answer['objects']} "
                 f"object{'s' * (answer['objects'] != 1)} are served by every release on the way.")
    if planning.not_judged and options.output in _READ_BY_PEOPLE:
        one = planning.not_judged == 1
        note(f"{planning.not_judged} object{'' if one else 's'} of kinds the catalog does not know (custom resources) "
             f"{'was' if one else 'were'} not planned for")
    problems = answer["problems"]
    if problems:
        more = f" (and {len(problems) - 1} more; the rest was planned)" if len(problems) > 1 else "; the rest was planned"
        raise UserError(f"{problems[0]['location']}: {problems[0]['message']}{more}")
    return status
