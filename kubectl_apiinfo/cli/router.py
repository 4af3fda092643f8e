"""The query commands without typer: a strict parser for well-formed command lines.

Importing typer costs about 50 ms, more than kubectl needs to answer
`api-resources --cached`; a plugin typed dozens of times a day answers from its
cache faster than that.  This parser accepts only the query commands (show,
resources, versions, releases, refresh) with the options they declare, in well-formed
use; anything else (help, an unknown or misplaced flag, a missing value, other
commands) returns None and the typer CLI takes over, with its messages.  Both
paths call the same functions in commands.py, and a test keeps the option
tables here equal to what cli.py declares.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.commands import core as commands
from kubectl_apiinfo.sources.choose import ClusterFlags

# option -> (keyword argument, takes a value, may repeat into a list)
_QUERY = {
    "--kube-version": ("kube_version", True, False),
    "--output": ("output", True, False),
    "-o": ("output", True, False),
}
_CLUSTER = {
    "--kubeconfig": ("kubeconfig", True, False),
    "--context": ("context", True, False),
    "--cluster": ("cluster", True, False),
    "--user": ("user", True, False),
    "--server": ("server", True, False),
    "-s": ("server", True, False),
    "--token": ("token", True, False),
    "--request-timeout": ("request_timeout", True, False),
    "--cache-dir": ("cache_dir", True, False),
    "--refresh": ("refresh", False, False),
    "--offline": ("offline", False, False),
}
_NO_HEADERS = {"--no-headers": ("no_headers", False, False)}
_RESOURCE_FILTERS = {
    "--api-group": ("api_group", True, False),
    "--namespaced": ("namespaced", True, False),
    "--verbs": ("verbs", True, True),
    "--categories": ("categories", True, True),
    "--sort-by": ("sort_by", True, False),
}

OPTIONS = {
    "show": {**_QUERY, **_CLUSTER},
    "resources": {**_QUERY, **_CLUSTER, **_NO_HEADERS, **_RESOURCE_FILTERS},
    "versions": {**_QUERY, **_CLUSTER, **_NO_HEADERS},
    "releases": {"--output": _QUERY["--output"], "-o": _QUERY["-o"], **_NO_HEADERS},
    "refresh": {"--output": _QUERY["--output"], "-o": _QUERY["-o"], **_CLUSTER, **_NO_HEADERS,
                "--all-contexts": ("all_contexts", False, False)},
}
OTHER_COMMANDS = ("cache", "version")  # typer's alone
ALL_OPTIONS = {name: spec for table in OPTIONS.values() for name, spec in table.items()}
_SHORT_WITH_VALUE = ("-o", "-s")  # click also reads -ojson and -shttps://...
_CLUSTER_FIELDS = {spec[0] for spec in _CLUSTER.values()}
# Like Go's pflag booleans: a bare --namespaced means true; --namespaced=false works too.
_BARE_MEANS_TRUE = {"--namespaced"}


def spell_out_bare_booleans(args: list[str]) -> list[str]:
    """A bare '--namespaced' becomes '--namespaced=true' (for both front ends; click needs a value)."""
    return [
        f"{a}=true" if a in _BARE_MEANS_TRUE and (i + 1 == len(args) or args[i + 1].lower() not in ("true", "false")) else a
        for i, a in enumerate(args)
    ]


def parse(args: list[str]) -> Optional[tuple[str, dict]]:
    """(command, keyword arguments), or None where the typer CLI should handle the line."""
    args = spell_out_bare_booleans(args)
    options: list[tuple[str, object]] = []
    words: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--" or arg in ("-h", "--help"):
            return None
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if not eq and arg[:2] in _SHORT_WITH_VALUE and len(arg) > 2 and not arg.startswith("--"):
            name, eq, value = arg[:2], "=", arg[2:]
        spec = ALL_OPTIONS.get(name)
        if spec is None:
            return None
        takes_value = spec[1]
        if not takes_value:
            if eq:
                return None  # --offline=true and the like: let typer judge
            options.append((name, True))
        elif eq:
            options.append((name, value))
        elif i < len(args):
            options.append((name, args[i]))
            i += 1
        else:
            return None  # a missing value

    if words and words[0] in OPTIONS:
        command, positionals = words[0], words[1:]
    elif words and words[0] in OTHER_COMMANDS:
        return None
    else:
        command, positionals = "show", words
    if len(positionals) != (1 if command == "show" else 0):
        return None
    table = OPTIONS[command]
    kwargs: dict = {}
    for name, value in options:
        if name not in table:
            return None  # an option of another command: typer says so
        key, _, repeats = table[name]
        if repeats:
            kwargs.setdefault(key, []).append(value)
        else:
            kwargs[key] = value  # the last one wins, as in click
    if command == "show":
        kwargs["resource"] = positionals[0]
    return command, kwargs


def run(args: list[str]) -> Optional[int]:
    """Run the command line if it is a well-formed query; None hands it to the typer CLI."""
    parsed = parse(args)
    if parsed is None:
        return None
    command, kwargs = parsed
    if command == "releases":
        commands.releases(**kwargs)
        return 0
    flags = ClusterFlags(**{k: kwargs.pop(k) for k in list(kwargs) if k in _CLUSTER_FIELDS})
    getattr(commands, command)(flags, **kwargs)
    return 0
