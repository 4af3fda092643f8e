"""Help as kubectl prints it, rendered from the spec: plain text, no typer, no rich, no boxes.

`kubectl apiinfo CMD --help` is laid out as `kubectl api-resources --help` is:
the description (each positional argument a paragraph of it), Examples:
(`  # comment` over `  kubectl apiinfo ...`), Options: (`    -o,
--output='table':` then a tab and the description, each option with the
default kubectl would show: '' for a string, false for a bool, [] for a list,
30s for a duration), Usage: and a closing line.  Every option a
command takes is under Options:, the command's own first and then the
connection and cache options (kubectl keeps its global ones under `kubectl
options`; ours are not global: each command takes its own set of them, so its
help says which).  The top-level help lists the commands under headings as
`kubectl --help` does.  Nothing is wrapped, as in kubectl.
"""

from __future__ import annotations

from kubectl_apiinfo.cli import examples, spec

# The headings of the top-level help, as `kubectl --help` groups its commands; a command in no group is
# listed under OTHER, so a new command shows up before anyone places it.
GROUPS = (
    ("Basic Commands", ("show", "explain", "resources", "versions", "releases", "diff", "timeline")),
    ("Upgrade Commands", ("check", "plan", "migrate", "scan")),
    ("Cache Commands", ("refresh", "cache")),
)
OTHER = "Other Commands"
# The options that say which cluster and how to reach it (kubectl's connection flags) and how the cache answers.
CONNECTION = frozenset(o.name for o in spec.QUERY_CLUSTER_OPTIONS)
ABBREVIATIONS = ("e.g", "i.e", "etc")  # a full stop that ends no sentence
UNSET = "unset"  # the default shown for a bool whose absence means neither (resources --namespaced: both)


def first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence, without it."""
    for i, ch in enumerate(text):
        ends = i + 1 == len(text) or text[i + 1].isspace()
        if ch == "." and ends and not text[:i].endswith(ABBREVIATIONS):
            return text[:i]
    return text.rstrip(".")


def short(command: spec.Command) -> str:
    """What listings say of a command, as kubectl's Short: its help's first sentence up to a colon or semicolon."""
    return first_sentence(command.help).split(": ", 1)[0].split("; ", 1)[0]


def description(text: str) -> str:
    """The first sentence as a paragraph of its own, the rest indented by a space, as kubectl prints a Long."""
    first = first_sentence(text)
    rest = text[len(first):].lstrip(".").strip()
    paragraphs = [first + "."] + [" " + p.strip() for p in rest.split("\n\n") if p.strip()]
    return "\n\n".join(paragraphs)


def shown_default(option: spec.Option) -> str:
    """The default after '=' in an option's line, as pflag prints it: 'text', false, [], 30s."""
    default = option.default
    if option.kind == spec.BOOL:
        return UNSET if default is None else str(bool(default)).lower()
    if option.kind == spec.STRINGS:
        return "[" + ",".join(default or ()) + "]"
    if option.kind == spec.DURATION:
        return str(default) if default is not None else "0s"
    return f"'{default or ''}'"


def option_lines(option: spec.Option) -> str:
    names = f"{option.short}, {option.name}" if option.short else option.name
    return f"    {names}={shown_default(option)}:\n\t{option.help}\n"


def shown_options(command: spec.Command) -> list:
    """The options help lists: the command's own, then the connection and cache ones, each sorted by long
    name as pflag sorts them; hidden ones (accepted and ignored) are left out."""
    shown = [o for o in command.options if not o.hidden]
    by_name = lambda o: o.name.lstrip("-")  # noqa: E731
    return sorted((o for o in shown if o.name not in CONNECTION), key=by_name) + sorted(
        (o for o in shown if o.name in CONNECTION), key=by_name)


def usage(path: tuple, command: spec.Command) -> str:
    """The Usage: line: the command's words (show's is optional: it is the default), its arguments, [options]."""
    words = [f"[{w}]" if command is spec.DEFAULT_COMMAND else w for w in path]
    words += [a.metavar for a in command.arguments]
    if any(not o.hidden for o in command.options):
        words.append("[options]")
    return " ".join([spec.PROGRAM, *words])


def example_lines(path: tuple) -> str:
    pairs = examples.EXAMPLES.get(path, ())
    return "\n  \n".join(f"  # {comment}\n  {line}" for comment, line in pairs)


def command_list(commands, heading: str, width: int) -> str:
    """A heading and its commands, names padded to width as cobra pads them (the longest name, + 3)."""
    return heading + ":\n" + "".join(f"  {c.name.ljust(width)}{short(c)}\n" for c in commands)


def name_width(commands) -> int:
    return max(len(c.name) for c in commands) + 3


def arguments(command: spec.Command) -> str:
    """A paragraph for each positional argument, as it is written in Usage:, in the Long text's indent."""
    return "".join(f"\n {a.metavar}: {a.help.rstrip('.')}.\n" for a in command.arguments)


def leaf_help(path: tuple, command: spec.Command) -> str:
    parts = [description(command.help) + "\n" + arguments(command)]
    if path in examples.EXAMPLES:
        parts.append("Examples:\n" + example_lines(path) + "\n")
    options = shown_options(command)
    if options:
        parts.append("Options:\n" + "\n".join(option_lines(o) for o in options))
    parts.append("Usage:\n  " + usage(path, command) + "\n")
    parts.append(f'Use "{spec.PROGRAM} --help" for a list of all commands.\n')
    return "\n".join(parts)


def group_help(group: spec.Command) -> str:
    return "\n".join([
        description(group.help) + "\n",
        command_list(sorted(group.subcommands, key=lambda c: c.name), "Available Commands", name_width(group.subcommands)),
        f"Usage:\n  {spec.PROGRAM} {group.name} SUBCOMMAND [options]\n",
        f'Use "{spec.PROGRAM} {group.name} <command> --help" for more information about a given command.\n',
    ])


def root_help() -> str:
    parts = [description(spec.ROOT_HELP) + "\n"]
    width = name_width(spec.COMMANDS)
    placed = set()
    for heading, names in GROUPS:
        commands = [spec.command(n) for n in names if spec.command(n) is not None]
        placed.update(names)
        if commands:
            parts.append(command_list(commands, heading, width))
    others = [c for c in spec.COMMANDS if c.name not in placed]
    if others:
        parts.append(command_list(others, OTHER, width))
    parts.append(f"Usage:\n  {spec.PROGRAM} (RESOURCE | COMMAND) [options]\n")
    parts.append(f'Use "{spec.PROGRAM} <command> --help" for more information about a given command.\n')
    return "\n".join(parts)


def render(path: tuple) -> str:
    """The help for a command path: () is the top level, ('cache',) the group, ('cache', 'list') a command."""
    if not path:
        return root_help()
    top = spec.command(path[0])
    if top is None:
        return root_help()
    if top.subcommands:
        sub = top.subcommand(path[1]) if len(path) > 1 else None
        return leaf_help((top.name, sub.name), sub) if sub is not None else group_help(top)
    return leaf_help((top.name,), top)
