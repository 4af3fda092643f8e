"""Completion of `kubectl apiinfo <TAB>`, per command, from the spec.

kubectl 1.26+ completes a plugin's arguments by running `kubectl_complete-NAME
__complete WORD... PARTIAL` and reading Cobra's format: one candidate a line,
then `:DIRECTIVE`.  The same candidates serve typer's own shell completion.
A command offers only its own flags; a flag's values come from its choices, a
named completer, or the shell's file (FILE) or directory (DIR) completion.
Resource names come from the cluster's cached snapshot, else the catalog; the
network is never touched and nothing is printed but candidates.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.cli import router, spec

# Cobra's ShellCompDirective values
FILE_COMPLETION = 0  # the shell's own file-name completion
NO_FILE_COMPLETION = 4
NO_SPACE = 2  # the word goes on: a field path takes another '.'
FILTER_DIRS = 16  # directories only


def _value_of(words: list[str], option: spec.Option) -> Optional[str]:
    found = None
    for name, value, _ in router.split(words).options:
        if name in option.names and value is not None:
            found = value
    return found


def _cluster_flags(words: list[str]):
    """The cluster flags typed so far (the ones that take a word; nothing is validated while completing)."""
    from kubectl_apiinfo.sources.cluster.flags import ClusterFlags

    return ClusterFlags.from_values({o.dest: _value_of(words, o) for o in spec.CLUSTER_OPTIONS if o.kind == spec.STRING})


def resource_names(words: list[str]) -> list[str]:
    """Plural names (and name.group for non-core groups) of what the chosen source serves."""
    from kubectl_apiinfo.sources import select

    snapshot = select.for_completion(_cluster_flags(words), _value_of(words, spec.KUBE_VERSION)).snapshot
    names: list[str] = []
    for g, _, r in snapshot.iter_resources():
        names.append(r.name)
        if g.name:
            names.append(f"{r.name}.{g.name}")
    return sorted(set(names))


def api_words(words: list[str]) -> list[str]:
    """timeline's words: the resource names, and the API groups the chosen source serves (core for "")."""
    from kubectl_apiinfo.sources import select

    snapshot = select.for_completion(_cluster_flags(words), _value_of(words, spec.KUBE_VERSION)).snapshot
    return sorted(set(resource_names(words)) | {g.name or "core" for g in snapshot.groups})


def _kubeconfig_names(words: list[str], section: str) -> list[str]:
    from kubectl_apiinfo.kube.kubeconfig import KubeConfig

    config = KubeConfig.read(_value_of(words, spec.KUBECONFIG), os.environ)
    return config.names(section)


def _snapshot_names(words: list[str]) -> list[str]:
    from kubectl_apiinfo.sources.cluster.access import open_cache

    with open_cache(_cluster_flags(words)) as cache:
        return sorted(set(cache.names().values()))


def _named(completer: str, words: list[str]) -> list[str]:
    if completer == spec.RELEASES:
        from kubectl_apiinfo.sources.catalog import releases

        return releases.release_names()
    if completer == spec.RESOURCES:
        return resource_names(words)
    if completer == spec.API_WORDS:
        return api_words(words)
    if completer == spec.CONTEXTS:
        return _kubeconfig_names(words, "contexts")
    if completer == spec.CLUSTERS:
        return _kubeconfig_names(words, "clusters")
    if completer == spec.USERS:
        return _kubeconfig_names(words, "users")
    if completer == spec.SNAPSHOTS:
        return _snapshot_names(words)
    return []


def _field_paths(words: list[str], partial: str) -> tuple[list[str], int]:
    """deployments.spec.<TAB>: field paths from the catalog or the cluster's cached documents."""
    return field_completions(_cluster_flags(words), _value_of(words, spec.KUBE_VERSION), partial), NO_FILE_COMPLETION | NO_SPACE


def field_completions(flags, kube_version: Optional[str], partial: str) -> list:
    """Completion of RESOURCE.field.pa<TAB>: from the catalog or a cluster's cached documents, never the network."""
    from kubectl_apiinfo.answers.fields import completions, split_request
    from kubectl_apiinfo.errors import UserError
    from kubectl_apiinfo.sources import select

    head, dot, last = partial.rpartition(".")
    if not dot:
        return []
    try:
        with select.for_completion(flags, kube_version, schemas=True) as source:
            request = split_request(source, head)
            found = source.definitions(request.group_version, request.kind, quiet=True)
    except UserError:
        return []
    if found is None:
        return []
    defs, root = found
    return completions(defs, root, head, request.path, last)


def _values(option_or_argument, words: list[str], partial: str) -> tuple[list[str], int]:
    if option_or_argument.completer == spec.FIELD_PATHS:
        if "." in partial:
            return _field_paths(words, partial)
        return [n for n in resource_names(words) if n.startswith(partial)], NO_FILE_COMPLETION
    metavar = option_or_argument.metavar.strip("[].")  # an argument's "[FILE]..." completes as a FILE
    if metavar == "FILE":
        return [], FILE_COMPLETION
    if metavar == "DIR":
        return [], FILTER_DIRS
    choices = list(getattr(option_or_argument, "choices", ()))
    values = choices or _named(option_or_argument.completer, words)
    return [v for v in values if v.startswith(partial)], NO_FILE_COMPLETION


def candidates(words: list[str], partial: str) -> tuple[list[str], int]:
    """What may come next after `kubectl apiinfo WORDS...`, starting with partial; and Cobra's directive."""
    split = router.split(words)
    path, command, positionals = router.find_command(split.positionals)
    known = spec.all_options()
    # A flag waiting for its value: the last word is a flag that takes one and has none yet.
    if words and split.options and split.options[-1][2] == words[-1] and split.options[-1][1] is None:
        option = known.get(split.options[-1][0])
        if option is not None and option.takes_value:
            return _values(option, words, partial)
    if partial.startswith("-"):
        name, eq, value = partial.partition("=")
        if eq:  # --output=js
            option = known.get(name)
            if option is None or (command is not None and command.option(name) is None):
                return [], NO_FILE_COMPLETION
            found, directive = _values(option, words, value)
            return [f"{name}={v}" for v in found], directive
        options = command.options if command is not None else ()
        names = [n for o in options if not o.hidden for n in o.names] + list(spec.HELP_NAMES)
        return [n for n in names if n.startswith(partial)], NO_FILE_COMPLETION
    if split.positionals[:1] == [spec.HELP_COMMAND]:  # help [COMMAND [SUBCOMMAND]]
        group = spec.command(split.positionals[1]) if len(split.positionals) == 2 else None
        names = [c.name for c in spec.COMMANDS] if len(split.positionals) == 1 else [
            c.name for c in (group.subcommands if group else ())]
        return [n for n in names if n.startswith(partial)], NO_FILE_COMPLETION
    if not path:  # the first word: a command, or a resource for the default command
        values = [c.name for c in spec.COMMANDS] + [spec.HELP_COMMAND] + resource_names(words)
        return [v for v in values if v.startswith(partial)], NO_FILE_COMPLETION
    if command is None:  # a group: its subcommands
        group = spec.command(path[0])
        return [c.name for c in group.subcommands if c.name.startswith(partial)], NO_FILE_COMPLETION
    arguments = command.arguments
    if not arguments:
        return [], NO_FILE_COMPLETION
    index = min(len(positionals), len(arguments) - 1)
    argument = arguments[index]
    if len(positionals) >= len(arguments) and not argument.repeatable:
        return [], NO_FILE_COMPLETION
    return _values(argument, words, partial)


def main(argv: Optional[list[str]] = None) -> None:
    """`kubectl_complete-apiinfo __complete WORD... PARTIAL`, as kubectl runs it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("__complete", "__completeNoDesc"):
        args = args[1:]
    words, partial = (args[:-1], args[-1]) if args else ([], "")
    import contextlib
    import io

    try:
        # The sources warn as a query would (a KUBECONFIG naming no file, kubectl's cache answering):
        # the shell would print that over the command line.
        with contextlib.redirect_stderr(io.StringIO()):
            found, directive = candidates(words, partial)
    except Exception:  # noqa: BLE001 - a broken kubeconfig or cache must not break the shell
        found, directive = [], NO_FILE_COMPLETION
    sys.stdout.write("".join(f"{c}\n" for c in found) + f":{directive}\n")
