"""The kubectl-apiinfo command line: flags, arguments and wiring, nothing else.

`kubectl apiinfo RESOURCE` is the default command: argv is rewritten to
`show RESOURCE` unless its first positional word names a subcommand, so
subcommand names win and `show` is the explicit spelling for a resource that
clashes with one.  Flags may come before or after the words, as in kubectl.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer

try:
    from typing import Annotated
except ImportError:  # Python 3.8
    from typing_extensions import Annotated  # type: ignore

from kubectl_apiinfo import __version__, catalog, query, render
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.model import APISnapshot

DEFAULT_COMMAND = "show"

app = typer.Typer(
    name="kubectl-apiinfo",
    help=(
        "Which API group/version serves a Kubernetes resource: kind, scope, short names, verbs, "
        "subresources, the apiVersion to write, and its history across Kubernetes releases.\n\n"
        "Run 'kubectl apiinfo RESOURCE' (e.g. deployments, deploy, Deployment, deployments.apps, "
        "ingresses.v1beta1.networking.k8s.io)."
    ),
    no_args_is_help=True,
    add_completion=False,
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


def _output(value: str) -> str:
    value = value or "table"
    if value not in render.OUTPUT_FORMATS:
        raise UserError(f"--output {value!r} is not available; use one of {'|'.join(render.OUTPUT_FORMATS)}")
    return value


def _snapshot(kube_version: Optional[str]) -> APISnapshot:
    name = catalog.normalize_release(kube_version) if kube_version else catalog.newest()
    return catalog.load_release(name)


def _emit(text: str) -> None:
    sys.stdout.write(text)


@app.command(
    "show",
    help="Explain a resource: the group/versions that serve it and its history. "
    "The default command: 'kubectl apiinfo deployments' is 'kubectl apiinfo show deployments'.",
)
def show(
    resource: Annotated[str, typer.Argument(metavar="RESOURCE", help="plural, singular, short name, Kind, resource.group or resource.version.group")],
    kube_version: KubeVersionOpt = None,
    output: OutputOpt = "table",
) -> None:
    fmt = _output(output)
    if not resource.strip():
        raise UserError("a resource name is required, e.g. 'kubectl apiinfo deployments'")
    snapshot = _snapshot(kube_version)
    answer = query.explain(snapshot, resource)
    _emit(render.explain(answer, fmt))
    problem = query.not_served_message(answer)
    if problem:
        raise UserError(problem)


@app.command("resources", help="List the served resources, like 'kubectl api-resources'.")
def resources(
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
    fmt = _output(output)
    if sort_by not in (None, "", "name", "kind"):
        raise UserError("--sort-by accepts only name or kind")
    rows = query.resources(
        _snapshot(kube_version),
        api_group=api_group,
        namespaced=None if namespaced is None else _bool(namespaced, "--namespaced"),
        verbs=_split(verbs),
        categories=_split(categories),
        sort_by=sort_by,
    )
    _emit(render.listing("resources", rows, fmt, no_headers))


@app.command("versions", help="List the served group/versions, like 'kubectl api-versions', with stability and preference.")
def versions(
    kube_version: KubeVersionOpt = None,
    output: OutputOpt = "table",
    no_headers: NoHeadersOpt = False,
) -> None:
    fmt = _output(output)
    rows = query.versions(_snapshot(kube_version))
    _emit(render.listing("versions", rows, fmt, no_headers))


@app.command("releases", help="List the Kubernetes releases in the offline catalog.")
def releases(output: OutputOpt = "table", no_headers: NoHeadersOpt = False) -> None:
    fmt = _output(output)
    rows = query.releases()
    _emit(render.listing("releases", rows, fmt, no_headers))


@app.command("version", help="Print the plugin's version.")
def version() -> None:
    _emit(f"kubectl-apiinfo {__version__}\n")


def _bool(value: str, flag: str) -> bool:
    v = str(value).strip().lower()
    if v in ("true", "1", "yes", "t"):
        return True
    if v in ("false", "0", "no", "f"):
        return False
    raise UserError(f"{flag} takes true or false, not {value!r}")


def _split(values: Optional[List[str]]) -> Optional[List[str]]:
    """kubectl's string slices: repeated flags and comma-separated values both work."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


# --- argv routing and error handling --------------------------------------


def _command_table() -> tuple[set[str], set[str]]:
    """Subcommand names, and every option that takes a value (so its value is not a positional word)."""
    command = typer.main.get_command(app)
    names = set(getattr(command, "commands", {}))
    valued: set[str] = set()
    for sub in getattr(command, "commands", {}).values():
        for param in sub.params:
            if getattr(param, "param_type_name", "") == "option" and not getattr(param, "is_flag", False):
                valued.update(param.opts)
    return names, valued


# Like Go's pflag booleans: a bare --namespaced means true; --namespaced=false works too.
_OPTIONAL_VALUE_FLAGS = {"--namespaced"}


def route(args: list[str]) -> list[str]:
    """Put the subcommand first, or make 'show' the command when the first word is not one."""
    names, valued = _command_table()
    args = [
        f"{a}=true" if a in _OPTIONAL_VALUE_FLAGS and (i + 1 == len(args) or args[i + 1].lower() not in ("true", "false")) else a
        for i, a in enumerate(args)
    ]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return [DEFAULT_COMMAND] + args if i + 1 < len(args) else args
        if arg.startswith("-") and arg != "-":
            if arg in valued:
                i += 2
            else:
                i += 1
            continue
        if arg in names:
            return [arg] + args[:i] + args[i + 1 :]
        return [DEFAULT_COMMAND] + args
    return args


def main(argv: Optional[list[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status = app(args=route(args), prog_name="kubectl-apiinfo", standalone_mode=False)
    except UserError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (| head): not an error worth a message.
        sys.stderr = open(os.devnull, "w")
        sys.exit(0)
    except Exception as e:  # noqa: BLE001 - one line instead of a traceback, always
        if hasattr(e, "format_message") and hasattr(e, "exit_code"):
            # typer/click usage errors: unknown flag, missing argument, bad value
            ctx = getattr(e, "ctx", None)
            path = ctx.command_path.replace("kubectl-apiinfo", "kubectl apiinfo") if ctx else "kubectl apiinfo"
            _fail(f"{e.format_message().rstrip('.')} (see '{path} --help')", e.exit_code)
        if os.environ.get("KUBECTL_APIINFO_DEBUG"):
            raise
        _fail(f"unexpected {type(e).__name__}: {e} (set KUBECTL_APIINFO_DEBUG=1 for details)", 2)
    sys.exit(status if isinstance(status, int) else 0)


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)
