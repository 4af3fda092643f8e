"""The command line, declared once: every command, argument and option as plain data.

Everything else is built from this: the router that answers well-formed lines
without typer, help (cli/help.py, with cli/examples.py), the typer app (the
wording of usage errors), option validation, completion and the tests that
keep them equal.  Each option is written here once; a default lives here and
nowhere else.  Importing this module must stay cheap: no typer, no `typing`.
"""

from kubectl_apiinfo.cli.spec_kinds import (  # noqa: F401  (the kinds are spec's too: spec.BOOL, spec.Option)
    STRING, STRINGS, BOOL, DURATION, CHOICE, RELEASE, RELEASES, CONTEXTS, CLUSTERS, USERS, RESOURCES, SNAPSHOTS, FIELD_PATHS,
    API_WORDS,
    Option, Argument, Command,
)


# --- the options, each written once -------------------------------------------

OUTPUT = Option("--output", CHOICE, short="-o", metavar="FORMAT", help="Output format.")
NO_HEADERS = Option("--no-headers", BOOL, default=False, help="Don't print column headers.")
KUBE_VERSION = Option(
    "--kube-version", RELEASE, metavar="VERSION", completer=RELEASES,
    help="Answer for this Kubernetes release from the offline catalog (1.24 or v1.24.3); default: the cluster, else the newest release.",
)
CACHE_DIR = Option(
    "--cache-dir", metavar="DIR",
    help="Where snapshots are kept (else KUBECTL_APIINFO_CACHE_DIR, else the user cache dir).",
)
KUBECONFIG = Option("--kubeconfig", metavar="FILE", help="Path to the kubeconfig file (else KUBECONFIG, else ~/.kube/config).")
CONTEXT = Option("--context", metavar="NAME", completer=CONTEXTS, help="The kubeconfig context to use.")
CLUSTER = Option("--cluster", metavar="NAME", completer=CLUSTERS, help="The kubeconfig cluster to use.")
USER = Option("--user", metavar="NAME", completer=USERS, help="The kubeconfig user to use.")
SERVER = Option(
    "--server", short="-s", metavar="URL",
    help="The API server's address, e.g. http://127.0.0.1:8001 behind 'kubectl proxy'.",
)
TOKEN = Option("--token", metavar="TOKEN", help="Bearer token for the API server.")
REQUEST_TIMEOUT = Option(
    "--request-timeout", DURATION, metavar="DURATION", default="30s",
    help="How long to wait for the server (0 = no limit; 30s, 1m, ...).",
)
CACHE_TTL = Option(
    "--cache-ttl", DURATION, metavar="DURATION", default="6h", env="KUBECTL_APIINFO_CACHE_TTL",
    help="How long a cached snapshot answers with no request (as kubectl's discovery cache: 6h); after that "
    "the first query revalidates it. 0 = always revalidate. Else KUBECTL_APIINFO_CACHE_TTL.",
)
REFRESH = Option("--refresh", BOOL, default=False, help="Fetch the cluster's discovery again instead of answering from the cache.")
OFFLINE = Option("--offline", BOOL, default=False, help="Never touch the network: answer from the cache (ours, else kubectl's).")
ALL_CONTEXTS = Option("--all-contexts", BOOL, default=False, help="Every context of the kubeconfig, concurrently.")
API_GROUP = Option("--api-group", metavar="GROUP", help="Limit to resources in this API group ('' for core).")
NAMESPACED = Option(
    "--namespaced", BOOL,
    help="--namespaced: only namespaced resources; --namespaced=false: only cluster-scoped ones; default: both.",
)
VERBS = Option("--verbs", STRINGS, metavar="VERBS", help="Limit to resources that support these verbs (comma-separated or repeated).")
CATEGORIES = Option("--categories", STRINGS, metavar="CATEGORIES", help="Limit to resources in these categories.")
SORT_BY = Option("--sort-by", CHOICE, metavar="FIELD", choices=("name", "kind"), help="Sort by 'name' or 'kind'.")

API_VERSION = Option(
    "--api-version", metavar="GROUP/VERSION",
    help="Explain the resource in this group/version (apps/v1, or v1 for the core group) rather than the preferred one.",
)
SCHEMAS = Option(
    "--schemas", BOOL, default=False,
    help="Also fetch every OpenAPI document (the field schemas explain reads, CRDs included), for a trip off the network.",
)
FILENAME = Option(
    "--filename", STRINGS, short="-f", metavar="FILE",
    help="Manifests to check or migrate: YAML or JSON files, directories, or '-' for stdin (repeatable, comma-separated).",
)
RECURSIVE = Option(
    "--recursive", BOOL, short="-R", default=False,
    help="All the way down: explain prints the fields of fields; check and migrate read the directories given with -f and theirs.",
)
CRDS = Option(
    "--crds", STRINGS, metavar="PATH",
    help="CustomResourceDefinitions to read the custom resources against, as if applied first: files or directories "
    "(read all the way down; repeatable, comma-separated). CRDs among the checked manifests count too.",
)
IGNORE_DEPRECATIONS = Option(
    "--ignore-deprecations", BOOL, default=False,
    help="Deprecated APIs are still listed but do not make the exit status 2.",
)
ALLOW_EMPTY = Option(
    "--allow-empty", BOOL, default=False,
    help="No objects to check is a pass, not an error (an empty chart, on purpose).",
)
FAIL_ON = Option(
    "--fail-on", STRINGS, metavar="FINDINGS",
    help="The findings that fail (exit status 3, or 2 for deprecated alone): any of not-served, off-by-default, "
    "unknown-field, invalid-value, missing-required, duplicate-key, deprecated, unknown-kind, discovery-failed, "
    "stale-rule; default: all but unknown-kind, discovery-failed and stale-rule.",
)
# scan reads the cluster and judges it against a release: the same flag, naming the target.
SCAN_TARGET = Option(
    KUBE_VERSION.name, RELEASE, metavar="VERSION", completer=RELEASES,
    help="The release to judge the cluster (or the audit log) against, from the offline catalog (1.33 or v1.33.2); default: the newest release.",
)
SCAN_RESOURCES = Option(
    "--resources", STRINGS, metavar="RESOURCES", completer=RESOURCES,
    help="Scan only these resources (plural, singular, short name, Kind or resource.group; comma-separated or repeated).",
)
LAST_APPLIED = Option(
    "--last-applied", BOOL, default=False,
    help="Also report the apiVersion of each object's kubectl.kubernetes.io/last-applied-configuration annotation "
    "(labelled last-applied: it says what was last applied client-side, not how the object is written).",
)
NO_HELM = Option(
    "--no-helm", BOOL, default=False,
    help="Do not read Helm releases (their Secrets or ConfigMaps); without it each release's deployed manifest is "
    "checked as check checks a file. --resources skips them too.",
)
AUDIT_LOG = Option(
    "--audit-log", metavar="FILE",
    help="Scan this audit log instead of the cluster, offline, with no kubeconfig: JSON lines of audit.k8s.io/v1 Event "
    "as the API server's --audit-log-path writes them (gzip too; '-' for stdin). Requests to deprecated APIs, "
    "by user agent, user and verb, judged against --kube-version.",
)
# plan's two ends: releases, checked by the command (a release newer than the catalog cannot be planned for).
# --from's dest is "from", a Python keyword: read it with getattr (typer's parameter is from_, cli/typer_app.py).
PLAN_FROM = Option(
    "--from", metavar="VERSION", completer=RELEASES,
    help="The release the cluster runs now (1.22 or v1.22.4); default: the cluster's version, from its snapshot.",
)
PLAN_TO = Option(
    "--to", metavar="VERSION", completer=RELEASES,
    help="The release to upgrade to, a minor release at a time (1.30 or v1.30.1). Required.",
)
LIVE = Option(
    "--live", BOOL, default=False,
    help="Plan for the live cluster's objects instead of manifests: the version each object's field managers wrote "
    "with (metadata.managedFields), as scan reads them.",
)
# migrate rewrites manifests for a release: the same flag, naming the release to migrate to.
MIGRATE_TARGET = Option(
    KUBE_VERSION.name, RELEASE, metavar="VERSION", completer=RELEASES,
    help="The release to migrate to, from the offline catalog (1.25 or v1.25.3); required.",
)
WRITE = Option(
    "--write", BOOL, short="-w", default=False,
    help="Replace each file that changes, whole, instead of printing the migrated stream (never stdin).",
)
DIFF = Option("--diff", BOOL, default=False, help="Print a unified diff of what would change instead of the migrated stream.")
FIELDS = Option("--fields", BOOL, default=False, help="Compare the fields of every resource both sides have (not just RESOURCE's).")
ALL = Option("--all", BOOL, default=False, help="Every group/version of the catalog (and of the cluster: its CRDs and aggregated APIs).")
COLOR = Option(
    "--color", CHOICE, metavar="WHEN", choices=("auto", "always", "never"), default="auto",
    help="Colour the chart: auto (a terminal, NO_COLOR unset, TERM not dumb), always or never.",
)

# kubectl's connection flags, and ours that choose between the cache and the network.
CLUSTER_OPTIONS = (KUBECONFIG, CONTEXT, CLUSTER, USER, SERVER, TOKEN, REQUEST_TIMEOUT, CACHE_DIR, REFRESH, OFFLINE)
# kubectl accepts its connection flags on every command; those that read no cluster (releases, cache) take them
# too, so a habit or an alias carrying --kubeconfig or --context does not turn into a usage error.
UNUSED_CONNECTION_OPTIONS = tuple(o.unused() for o in (KUBECONFIG, CONTEXT, CLUSTER, USER, SERVER, TOKEN, REQUEST_TIMEOUT))
# A query answered from a cluster's snapshot: the connection flags, and how old a snapshot may be.
QUERY_CLUSTER_OPTIONS = (*CLUSTER_OPTIONS, CACHE_TTL)
# The flags that pick a cluster (or how to read it): meaningless with --kube-version.
SELECTS_A_CLUSTER = (KUBECONFIG, CONTEXT, CLUSTER, USER, SERVER, TOKEN, REFRESH, OFFLINE)

# Each command's -o formats, in the order help and errors list them.  A command's printer table has the
# same words (tests/test_seams.py checks): a new format is a printer in that table and its word here.
SHOW_FORMATS = ("table", "wide", "json", "yaml", "name")
EXPLAIN_FORMATS = ("text", "plaintext", "plaintext-openapiv2", "json", "yaml")
LISTING_FORMATS = ("table", "wide", "json", "yaml", "name")  # resources, versions, releases, refresh, cache list
VERSIONS_FORMATS = (*LISTING_FORMATS, "helm", "argocd")  # helm template's flags; an Argo CD Application's helm fields
CHECK_FORMATS = ("table", "json", "yaml", "markdown", "csv", "junit", "sarif", "github")
DIFF_FORMATS = ("table", "json", "yaml", "markdown", "csv")
SCAN_FORMATS = CHECK_FORMATS
PLAN_FORMATS = CHECK_FORMATS
TIMELINE_FORMATS = ("table", "wide", "json", "svg")  # wide: every release its own column, never merged

# check's positional FILEs are -f's files as a file list gives them (pre-commit, xargs): one name each, never
# split at commas, since a file's name may hold one.
FILES = Argument(
    "files", "[FILE]...", "Manifests to check, as with -f, one path each (for pre-commit and xargs).",
    required=False, repeatable=True,
)

RESOURCE = Argument(
    "resource", "RESOURCE", "plural, singular, short name, Kind, resource.group or resource.version.group",
    completer=RESOURCES,
)

SHOW = Command(
    "show",
    "Explain a resource: the group/versions that serve it and its history. "
    "The default command: 'kubectl apiinfo deployments' is 'kubectl apiinfo show deployments'.",
    arguments=(RESOURCE,),
    options=(KUBE_VERSION, OUTPUT.with_choices(SHOW_FORMATS, "table"), *QUERY_CLUSTER_OPTIONS),
    handler="show",
    takes_cluster=True,
)

COMMANDS = (
    SHOW,
    Command(
        "explain",
        "Explain a resource's fields, as 'kubectl explain' does, offline: for any catalog release or a cached cluster "
        "(CRDs included), with the releases in which each field exists.",
        arguments=(Argument("resource", "RESOURCE[.FIELD...]",
                            "a resource as for 'show', then a field path: deployments.spec.strategy",
                            completer=FIELD_PATHS),),
        options=(API_VERSION, RECURSIVE, OUTPUT.with_choices(EXPLAIN_FORMATS, "text"), KUBE_VERSION,
                 *QUERY_CLUSTER_OPTIONS),
        handler="explain",
        takes_cluster=True,
    ),
    Command(
        "resources",
        "List the served resources, like 'kubectl api-resources'.",
        options=(
            KUBE_VERSION, OUTPUT.with_choices(LISTING_FORMATS, "table"), NO_HEADERS,
            API_GROUP, NAMESPACED, VERBS, CATEGORIES, SORT_BY, *QUERY_CLUSTER_OPTIONS,
        ),
        handler="resources",
        takes_cluster=True,
    ),
    Command(
        "versions",
        "List the served group/versions, like 'kubectl api-versions', with stability and preference. "
        "-o helm prints helm template's --kube-version and --api-versions flags for the release or cluster "
        "(CRDs included), for $(...); -o argocd the kubeVersion and apiVersions of an Argo CD Application's "
        "spec.source.helm.",
        options=(KUBE_VERSION, OUTPUT.with_choices(VERSIONS_FORMATS, "table"), NO_HEADERS, *QUERY_CLUSTER_OPTIONS),
        handler="versions",
        takes_cluster=True,
    ),
    Command(
        "releases",
        "List the Kubernetes releases in the offline catalog.",
        options=(OUTPUT.with_choices(LISTING_FORMATS, "table"), NO_HEADERS, *UNUSED_CONNECTION_OPTIONS),
        handler="releases",
    ),
    Command(
        "refresh",
        "Fetch clusters' discovery into the cache (the current context, or all of them).",
        options=(ALL_CONTEXTS, SCHEMAS, OUTPUT.with_choices(LISTING_FORMATS, "table"), NO_HEADERS, *CLUSTER_OPTIONS),
        handler="refresh",
        takes_cluster=True,
    ),
    Command(
        "cache",
        "Show, drop, export and import cached cluster snapshots.",
        subcommands=(
            Command(
                "list",
                "List the cached snapshots: which cluster, which Kubernetes, how old.",
                options=(CACHE_DIR, OUTPUT.with_choices(LISTING_FORMATS, "table"), NO_HEADERS, *UNUSED_CONNECTION_OPTIONS),
                handler="cache",
            ),
            Command(
                "clear",
                "Drop cached snapshots: the named ones (context names), or all.",
                arguments=(Argument("names", "[NAME]...", "Context names; none means every snapshot.", required=False,
                                    repeatable=True, completer=SNAPSHOTS),),
                options=(CACHE_DIR, *UNUSED_CONNECTION_OPTIONS),
                handler="cache",
            ),
            Command(
                "export",
                "Write every cached snapshot to FILE ('-' for stdout), a plain JSON bundle for an air-gapped machine.",
                arguments=(Argument("file", "FILE", "The bundle to write; '-' writes to stdout."),),
                options=(CACHE_DIR, *UNUSED_CONNECTION_OPTIONS),
                handler="cache",
            ),
            Command(
                "import",
                "Add the snapshots of a bundle made by 'cache export' ('-' reads stdin); a bad bundle changes nothing.",
                arguments=(Argument("file", "FILE", "The bundle to read; '-' reads stdin."),),
                options=(CACHE_DIR, *UNUSED_CONNECTION_OPTIONS),
                handler="cache",
            ),
        ),
    ),
    Command(
        "check",
        "Check manifests against a release, the cluster or every cached context: APIs not served, off by default "
        "or deprecated there, and fields its schemas lack. Exit status 0: nothing found; 2: only deprecations; "
        "3: anything else; 1: an error. -o junit, sarif and github are for CI.",
        arguments=(FILES,),
        options=(
            FILENAME, RECURSIVE, KUBE_VERSION, ALL_CONTEXTS, OUTPUT.with_choices(CHECK_FORMATS, "table"), NO_HEADERS,
            CRDS, IGNORE_DEPRECATIONS, FAIL_ON, ALLOW_EMPTY, *CLUSTER_OPTIONS,
        ),
        handler="check",
        takes_cluster=True,
    ),
    Command(
        "diff",
        "What changes between two releases or cached clusters: group/versions, resources and, for RESOURCE "
        "(or all with --fields), fields. With RESOURCE every section is about it alone. FROM and TO are releases (1.29, v1.29.3) or context names; "
        "context/NAME names a context that looks like a release.",
        arguments=(
            Argument("before", "FROM", "A release (1.29) or a cached context's name.", completer=RELEASES),
            Argument("after", "TO", "A release (1.33) or a cached context's name.", completer=RELEASES),
            Argument("resource", "[RESOURCE]", "Only this resource's changes: the group/versions serving it, its own rows and its fields.", required=False, completer=RESOURCES),
        ),
        options=(FIELDS, OUTPUT.with_choices(DIFF_FORMATS, "table"), NO_HEADERS, KUBECONFIG, REQUEST_TIMEOUT, CACHE_DIR, REFRESH, OFFLINE),
        handler="diff",
    ),
    Command(
        "scan",
        "Scan the live cluster for APIs a release removes or deprecates: the version each object's field managers "
        "wrote with (metadata.managedFields), each Helm release's deployed manifest, and the deprecated APIs the API "
        "server counts as still requested. "
        "The cluster is the kubeconfig's, as for every command; with --all-contexts, every context's at once; "
        "with --offline, the last whole scan the cache keeps; with --audit-log, an audit log instead, alone and "
        "offline. Exit status as check's: 0 nothing found; 2 only deprecations; 3 anything else; 1 an error.",
        options=(
            SCAN_TARGET, ALL_CONTEXTS, OUTPUT.with_choices(SCAN_FORMATS, "table"), NO_HEADERS, SCAN_RESOURCES,
            LAST_APPLIED, NO_HELM, AUDIT_LOG, IGNORE_DEPRECATIONS, FAIL_ON, *CLUSTER_OPTIONS,
        ),
        handler="scan",
        takes_cluster=True,
    ),
    Command(
        "plan",
        "Plan an upgrade hop by hop: for each release after FROM up to TO, the APIs the manifests (or, with --live, "
        "the cluster's objects) use that stop being served there, the version to write instead (one every release "
        "on the way serves), the window in which both are served by default, and when to migrate. Exit status as "
        "check's: 0 nothing found; 2 only deprecations; 3 anything else; 1 an error.",
        arguments=(FILES,),
        options=(
            PLAN_TO, PLAN_FROM, FILENAME, RECURSIVE, LIVE, OUTPUT.with_choices(PLAN_FORMATS, "table"), NO_HEADERS,
            IGNORE_DEPRECATIONS, FAIL_ON, ALLOW_EMPTY, *QUERY_CLUSTER_OPTIONS,
        ),
        handler="plan",
        takes_cluster=True,
    ),
    Command(
        "migrate",
        "Rewrite manifests for a release: each object whose apiVersion it does not serve moves to the replacement it "
        "serves, with the upstream conversion of the fields whose schema changed; comments, key order and quoting "
        "are kept and every other document is left as it is. Helm templates are reported, not rewritten. Prints "
        "the migrated stream (or with --diff a unified diff); --write replaces the files. Exit status 3 when "
        "something could not be migrated (no replacement, a template), else 0; 1: an error.",
        arguments=(FILES,),
        options=(FILENAME, RECURSIVE, MIGRATE_TARGET, WRITE, DIFF, *UNUSED_CONNECTION_OPTIONS),
        handler="migrate",
    ),
    Command(
        "timeline",
        "Chart across every catalog release when each group/version of a resource or an API group came, was beta, "
        "stable, deprecated and removed; the cluster's release (or --kube-version's) is marked and, from a cluster, "
        "its CRDs' versions are rows too. WORD is a resource (as for 'show') or an API group (apps, "
        "networking.k8s.io; core for the core group).",
        arguments=(
            Argument("words", "[WORD]...", "Resources or API groups; none with --all.", required=False, repeatable=True,
                     completer=API_WORDS),
        ),
        options=(ALL, KUBE_VERSION, OUTPUT.with_choices(TIMELINE_FORMATS, "table"), COLOR, *QUERY_CLUSTER_OPTIONS),
        handler="timeline",
        takes_cluster=True,
    ),
    Command("version", "Print the plugin's version.", handler="version"),
)

DEFAULT_COMMAND = SHOW  # 'kubectl apiinfo WORD' is 'kubectl apiinfo show WORD'
HELP_NAMES = ("-h", "--help")
HELP_COMMAND = "help"  # 'kubectl apiinfo help [COMMAND]' is 'kubectl apiinfo [COMMAND] --help', as 'kubectl help' is
# typer's own options on the top-level command (its shell completion), which typer declares.
TYPER_ROOT_OPTIONS = ("--install-completion", "--show-completion")
PROGRAM = "kubectl apiinfo"
ROOT_HELP = (
    "Which API group/version serves a Kubernetes resource: kind, scope, short names, verbs, "
    "subresources, the apiVersion to write, and its history across Kubernetes releases.\n\n"
    "Run 'kubectl apiinfo RESOURCE' (e.g. deployments, deploy, Deployment, deployments.apps, "
    "ingresses.v1beta1.networking.k8s.io)."
)


def command(name):
    for c in COMMANDS:
        if c.name == name:
            return c
    return None


def leaves():
    """(path, command) for every command that runs: ('show',), ('cache', 'list'), ..."""
    for c in COMMANDS:
        if c.subcommands:
            for sub in c.subcommands:
                yield (c.name, sub.name), sub
        else:
            yield (c.name,), c


def all_options():
    """Every option of every command, by each of its names (a name means the same thing everywhere)."""
    found = {}
    for _, c in leaves():
        for o in c.options:
            for n in o.names:
                found.setdefault(n, o)
    return found
