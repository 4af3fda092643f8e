"""Completion of `kubectl apiinfo <TAB>`: subcommands, flags, flag values and resource names.

kubectl 1.26+ completes a plugin's arguments by running `kubectl_complete-NAME
__complete WORD... PARTIAL` and reading Cobra's format: one candidate a line,
then `:DIRECTIVE`.  The same candidates serve typer's own shell completion.
Resource names come from the cluster's cached snapshot, else the catalog; the
network is never touched and nothing is printed but candidates.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from kubectl_apiinfo.cli import router as fastpath
from kubectl_apiinfo.printers import render

# Cobra's ShellCompDirective values
NO_FILE_COMPLETION = 4
FILE_COMPLETION = 0

# The fast path's option tables, which a test keeps equal to what the typer CLI declares.
SUBCOMMANDS = (*fastpath.OPTIONS, *fastpath.OTHER_COMMANDS)
CACHE_SUBCOMMANDS = ("list", "clear", "export", "import")  # a test checks them against the CLI's
FLAGS = (*fastpath.ALL_OPTIONS, "--help")
VALUED_FLAGS = {name for name, (_, takes_value, _) in fastpath.ALL_OPTIONS.items() if takes_value}
OUTPUT_FORMATS = render.OUTPUT_FORMATS
_FILE_FLAGS = {"--kubeconfig", "--cache-dir"}


def _flag_value(words: list[str], flag: str) -> Optional[str]:
    for i, w in enumerate(words):
        if w == flag and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(flag + "="):
            return w.split("=", 1)[1]
    return None


def _positionals(words: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(words):
        w = words[i]
        if w.startswith("-"):
            i += 2 if w in VALUED_FLAGS else 1
            continue
        out.append(w)
        i += 1
    return out


def resource_names(words: list[str]) -> list[str]:
    """Plural names (and name.group for non-core groups) of what the chosen source serves."""
    from kubectl_apiinfo.sources import choose as sources

    flags = sources.ClusterFlags(
        kubeconfig=_flag_value(words, "--kubeconfig"),
        context=_flag_value(words, "--context"),
        server=_flag_value(words, "--server") or _flag_value(words, "-s"),
        cache_dir=_flag_value(words, "--cache-dir"),
    )
    snapshot = sources.snapshot_for_completion(flags, _flag_value(words, "--kube-version"))
    names: list[str] = []
    for g, _, r in snapshot.iter_resources():
        names.append(r.name)
        if g.name:
            names.append(f"{r.name}.{g.name}")
    return sorted(set(names))


def _context_names(words: list[str]) -> list[str]:
    from kubectl_apiinfo.kube.kubeconfig import context_names

    return context_names(kubeconfig=_flag_value(words, "--kubeconfig"), environ=os.environ)


def candidates(words: list[str], partial: str) -> tuple[list[str], int]:
    """What may come next after `kubectl apiinfo WORDS...`, starting with partial; and Cobra's directive."""
    previous = words[-1] if words else ""
    if previous in VALUED_FLAGS:
        if previous in _FILE_FLAGS:
            return [], FILE_COMPLETION
        values: list[str] = []
        if previous == "--kube-version":
            from kubectl_apiinfo.sources import catalog

            values = catalog.release_names()
        elif previous in ("-o", "--output"):
            values = list(OUTPUT_FORMATS)
        elif previous == "--sort-by":
            values = ["name", "kind"]
        elif previous == "--context":
            values = _context_names(words[:-1])
        return [v for v in values if v.startswith(partial)], NO_FILE_COMPLETION
    if partial.startswith("-"):
        return [f for f in FLAGS if f.startswith(partial)], NO_FILE_COMPLETION
    positionals = _positionals(words)
    if not positionals:
        values = list(SUBCOMMANDS) + resource_names(words)
    elif positionals == ["show"]:
        values = resource_names(words)
    elif positionals == ["cache"]:
        values = list(CACHE_SUBCOMMANDS)
    elif positionals[:2] in (["cache", "export"], ["cache", "import"]):
        return [], FILE_COMPLETION
    else:
        values = []
    return [v for v in values if v.startswith(partial)], NO_FILE_COMPLETION


def main(argv: Optional[list[str]] = None) -> None:
    """`kubectl_complete-apiinfo __complete WORD... PARTIAL`, as kubectl runs it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("__complete", "__completeNoDesc"):
        args = args[1:]
    words, partial = (args[:-1], args[-1]) if args else ([], "")
    try:
        found, directive = candidates(words, partial)
    except Exception:  # noqa: BLE001 - a broken kubeconfig or cache must not break the shell
        found, directive = [], NO_FILE_COMPLETION
    sys.stdout.write("".join(f"{c}\n" for c in found) + f":{directive}\n")
