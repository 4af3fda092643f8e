"""The kubectl-apiinfo command line: flags, arguments and wiring, nothing else.

`kubectl apiinfo RESOURCE` is the default command: argv is rewritten to
`show RESOURCE` unless its first positional word names a subcommand, so
subcommand names win and `show` is the explicit spelling for a resource that
clashes with one.  Flags may come before or after the words, as in kubectl.
"""

import functools
import inspect
from typing import Annotated, List, Optional

import typer

from kubectl_apiinfo import __version__
from kubectl_apiinfo.commands import core as commands
from kubectl_apiinfo.cli import router as fastpath
from kubectl_apiinfo.sources.choose import ClusterFlags

DEFAULT_COMMAND = "show"


class _Commands(typer.core.TyperGroup):
    """The top-level group: shell completion offers resource names too, as they are the default command."""

    def shell_complete(self, ctx, incomplete):
        from click.shell_completion import CompletionItem

        from kubectl_apiinfo.cli import completion

        items = super().shell_complete(ctx, incomplete)
        try:
            names = completion.resource_names([])
        except Exception:  # noqa: BLE001 - completion must never break the shell
            names = []
        return items + [CompletionItem(n) for n in names if n.startswith(incomplete)]


def _complete_resource(incomplete: str) -> list[str]:
    from kubectl_apiinfo.cli import completion

    return [n for n in completion.resource_names([]) if n.startswith(incomplete)]


app = typer.Typer(
    cls=_Commands,
    name="kubectl-apiinfo",
    help=(
        "Which API group/version serves a Kubernetes resource: kind, scope, short names, verbs, "
        "subresources, the apiVersion to write, and its history across Kubernetes releases.\n\n"
        "Run 'kubectl apiinfo RESOURCE' (e.g. deployments, deploy, Deployment, deployments.apps, "
        "ingresses.v1beta1.networking.k8s.io)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

KubeVersionOpt = Annotated[
    Optional[str],
    typer.Option(
        "--kube-version",
        metavar="VERSION",
        help="Answer for this Kubernetes release from the offline catalog (1.24 or v1.24.3); default: the newest.",
    ),
]
OutputOpt = Annotated[
    str, typer.Option("--output", "-o", metavar="FORMAT", help="Output format: table|wide|json|yaml|name.")
]
NoHeadersOpt = Annotated[bool, typer.Option("--no-headers", help="Don't print column headers.")]


def _opt(*names: str, help: str, metavar: Optional[str] = None, flag: bool = False):
    default = False if flag else None
    annotation = Annotated[bool if flag else Optional[str], typer.Option(*names, help=help, metavar=metavar)]
    return inspect.Parameter(names[0].lstrip("-").replace("-", "_"), inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


# kubectl's connection flags, shared by every command that reads a cluster.
_CLUSTER_PARAMS = [
    _opt("--kubeconfig", metavar="FILE", help="Path to the kubeconfig file (else KUBECONFIG, else ~/.kube/config)."),
    _opt("--context", metavar="NAME", help="The kubeconfig context to use."),
    _opt("--cluster", metavar="NAME", help="The kubeconfig cluster to use."),
    _opt("--user", metavar="NAME", help="The kubeconfig user to use."),
    _opt("--server", "-s", metavar="URL", help="The API server's address, e.g. http://127.0.0.1:8001 behind 'kubectl proxy'."),
    _opt("--token", metavar="TOKEN", help="Bearer token for the API server."),
    _opt("--request-timeout", metavar="DURATION", help="How long to wait for the server (0 = no limit; 30s, 1m, ...). Default 30s."),
    _opt("--cache-dir", metavar="DIR", help="Where snapshots are kept (else KUBECTL_APIINFO_CACHE_DIR, else the user cache dir)."),
    _opt("--refresh", flag=True, help="Fetch the cluster's discovery again instead of answering from the cache."),
    _opt("--offline", flag=True, help="Never touch the network: answer from the cache (ours, else kubectl's)."),
]


def with_cluster_flags(func):
    """Add the cluster flags to a command; it receives them as one ClusterFlags argument."""
    # No `from __future__ import annotations` in this module: typer (on Python 3.9 too)
    # must see the Annotated objects themselves, here and in every command.
    signature = inspect.signature(func)
    own = [p for p in signature.parameters.values() if p.name != "flags"]

    @functools.wraps(func)
    def command(**kwargs):
        return func(flags=ClusterFlags(**{p.name: kwargs.pop(p.name) for p in _CLUSTER_PARAMS}), **kwargs)

    command.__signature__ = signature.replace(parameters=own + _CLUSTER_PARAMS)  # type: ignore[attr-defined]
    return command


@app.command(
    "show",
    help="Explain a resource: the group/versions that serve it and its history. "
    "The default command: 'kubectl apiinfo deployments' is 'kubectl apiinfo show deployments'.",
)
@with_cluster_flags
def show(
    flags: ClusterFlags,
    resource: Annotated[
        str,
        typer.Argument(
            metavar="RESOURCE",
            help="plural, singular, short name, Kind, resource.group or resource.version.group",
            autocompletion=_complete_resource,
        ),
    ],
    kube_version: KubeVersionOpt = None,
    output: OutputOpt = "table",
) -> None:
    commands.show(flags, resource, kube_version, output)


@app.command("resources", help="List the served resources, like 'kubectl api-resources'.")
@with_cluster_flags
def resources(
    flags: ClusterFlags,
    kube_version: KubeVersionOpt = None,
    output: OutputOpt = "table",
    api_group: Annotated[Optional[str], typer.Option("--api-group", help="Limit to resources in this API group ('' for core).")] = None,
    namespaced: Annotated[
        Optional[str],
        typer.Option("--namespaced", metavar="true|false", help="true: only namespaced resources; false: only cluster-scoped ones."),
    ] = None,
    verbs: Annotated[Optional[List[str]], typer.Option("--verbs", help="Limit to resources that support these verbs (comma-separated or repeated).")] = None,
    categories: Annotated[Optional[List[str]], typer.Option("--categories", help="Limit to resources in these categories.")] = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="Sort by 'name' or 'kind'.")] = None,
    no_headers: NoHeadersOpt = False,
) -> None:
    commands.resources(flags, kube_version, output, api_group, namespaced, verbs, categories, sort_by, no_headers)


@app.command("versions", help="List the served group/versions, like 'kubectl api-versions', with stability and preference.")
@with_cluster_flags
def versions(
    flags: ClusterFlags,
    kube_version: KubeVersionOpt = None,
    output: OutputOpt = "table",
    no_headers: NoHeadersOpt = False,
) -> None:
    commands.versions(flags, kube_version, output, no_headers)


@app.command("releases", help="List the Kubernetes releases in the offline catalog.")
def releases(output: OutputOpt = "table", no_headers: NoHeadersOpt = False) -> None:
    commands.releases(output, no_headers)


@app.command("version", help="Print the plugin's version.")
def version() -> None:
    commands.emit(f"kubectl-apiinfo {__version__}\n")


@app.command("refresh", help="Fetch clusters' discovery into the cache (the current context, or all of them).")
@with_cluster_flags
def refresh(
    flags: ClusterFlags,
    all_contexts: Annotated[bool, typer.Option("--all-contexts", help="Refresh every context of the kubeconfig, concurrently.")] = False,
    output: OutputOpt = "table",
    no_headers: NoHeadersOpt = False,
) -> None:
    commands.refresh(flags, all_contexts, output, no_headers)


cache_app = typer.Typer(help="Show, drop, export and import cached cluster snapshots.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
CacheDirOpt = Annotated[
    Optional[str], typer.Option("--cache-dir", metavar="DIR", help="The cache directory (else KUBECTL_APIINFO_CACHE_DIR, else the user cache dir).")
]


@cache_app.command("list", help="List the cached snapshots: which cluster, which Kubernetes, how old.")
def cache_list(cache_dir: CacheDirOpt = None, output: OutputOpt = "table", no_headers: NoHeadersOpt = False) -> None:
    commands.cache_list(cache_dir, output, no_headers)


@cache_app.command("clear", help="Drop cached snapshots: the named ones (context names), or all.")
def cache_clear(
    names: Annotated[Optional[List[str]], typer.Argument(metavar="[NAME]...", help="Context names; none means every snapshot.")] = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    commands.cache_clear(names, cache_dir)


@cache_app.command("export", help="Write every cached snapshot to FILE, a plain JSON bundle for an air-gapped machine.")
def cache_export(file: Annotated[str, typer.Argument(metavar="FILE")], cache_dir: CacheDirOpt = None) -> None:
    commands.cache_export(file, cache_dir)


@cache_app.command("import", help="Add the snapshots of a bundle made by 'cache export'; a bad bundle changes nothing.")
def cache_import(file: Annotated[str, typer.Argument(metavar="FILE")], cache_dir: CacheDirOpt = None) -> None:
    commands.cache_import(file, cache_dir)


# --- argv routing and error handling --------------------------------------


def _valued_options(command) -> set[str]:
    """Every option in the command tree that takes a value (so its value is not a positional word)."""
    valued: set[str] = set()
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "option" and not getattr(param, "is_flag", False):
            valued.update(param.opts)
    for sub in getattr(command, "commands", {}).values():
        valued |= _valued_options(sub)
    return valued


def route(root, args: list[str]) -> list[str]:
    """Put each subcommand word first, or make 'show' the command when the first word is not one."""
    args = fastpath.spell_out_bare_booleans(args)
    root_options = {opt for p in root.params for opt in p.opts} - {"--help", "-h"}
    if any(a.split("=", 1)[0] in root_options for a in args):
        return args  # --install-completion, --show-completion [SHELL]: the group's own options
    return _route(root, args, _valued_options(root), top=True)


def _route(group, args: list[str], valued: set[str], top: bool) -> list[str]:
    names = getattr(group, "commands", {})
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return [DEFAULT_COMMAND] + args if top and i + 1 < len(args) else args
        if arg.startswith("-") and arg != "-":
            i += 2 if arg in valued else 1
            continue
        if arg in names:
            rest = args[:i] + args[i + 1 :]
            if getattr(names[arg], "commands", None):
                rest = _route(names[arg], rest, valued, top=False)
            return [arg] + rest
        return [DEFAULT_COMMAND] + args if top else args
    return args


def run(args: list[str]) -> int:
    """Parse and run with typer; errors propagate to entry.main, which reports them."""
    root = typer.main.get_command(app)  # built once: it costs milliseconds on every run
    status = root.main(args=route(root, args), prog_name="kubectl-apiinfo", standalone_mode=False)
    return status if isinstance(status, int) else 0
