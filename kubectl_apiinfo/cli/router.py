"""Reading a command line against the spec, without typer.

Importing typer costs about 50 ms, more than kubectl needs to answer
`api-resources --cached`, so every well-formed line is read here (and a line
asking for help is found here, for cli/help.py) and typer is imported only to
word a usage error.  Flags may come before
or after the words, as in kubectl; the first word that names a command is the
command, and any other first word is a resource for `show`.  Flag syntax is
pflag's: `--name value`, `--name=value`, `-o json`, `-ojson`, `-o=json`, and a
bool is `--flag` or `--flag=value`, never followed by its value.

Values stay text here; cli/validate.py turns them into what commands use.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.cli import spec
from kubectl_apiinfo.errors import UserError


class Parsed:
    """A well-formed line: the command's path, its spec, and every value by dest as typed (None when absent)."""

    __slots__ = ("path", "command", "values")

    def __init__(self, path: tuple, command: spec.Command, values: dict):
        self.path = path
        self.command = command
        self.values = values

    def __repr__(self) -> str:
        return f"Parsed({self.path!r}, {self.values!r})"


class Words:
    """The line split into options (name, value or None, the word as typed) and positional words."""

    __slots__ = ("options", "positionals", "help", "problem", "missing_value")

    def __init__(self):
        self.options: list[tuple[str, Optional[str], str]] = []
        self.positionals: list[str] = []
        self.help = False
        self.problem = ""  # why the line is malformed, for completion and tests
        self.missing_value = ""  # a flag at the end that lacks its value: our own error, in pflag's words


def split(args: list[str]) -> Words:
    """Options and positional words; an option takes the next word only if it is not a bool."""
    known = spec.all_options()
    words = Words()
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            words.positionals.extend(args[i:])
            break
        if arg in spec.HELP_NAMES:
            words.help = True
            continue
        if not arg.startswith("-") or arg == "-":
            words.positionals.append(arg)
            continue
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
        else:  # -o json, -ojson, -o=json
            name, value = arg[:2], arg[2:]
            eq = "=" if value else ""
            if value.startswith("="):
                value = value[1:]
        option = known.get(name)
        if option is None:
            words.problem = words.problem or f"unknown flag {name}"
            words.options.append((name, value if eq else None, arg))
            continue
        if eq:
            words.options.append((name, value, arg))
        elif not option.takes_value:
            words.options.append((name, None, arg))  # a bare bool: true
        elif i < len(args):
            words.options.append((name, args[i], arg))
            i += 1
        else:
            shown = f"'{name[1:]}' in {name}" if not name.startswith("--") else name  # pflag's words
            words.missing_value = words.missing_value or f"flag needs an argument: {shown}"
            words.options.append((name, None, arg))  # completion offers its values
    return words


def find_command(positionals: list[str]) -> tuple[tuple, Optional[spec.Command], list[str]]:
    """(path, command, the positionals left for it); command is None for a group with no subcommand."""
    if not positionals:
        return (), None, []  # options alone: typer's root says what is missing
    top = spec.command(positionals[0])
    if top is None:
        return (spec.DEFAULT_COMMAND.name,), spec.DEFAULT_COMMAND, positionals
    rest = positionals[1:]
    if not top.subcommands:
        return (top.name,), top, rest
    sub = top.subcommand(rest[0]) if rest else None
    if sub is None:
        return (top.name,), None, rest
    return (top.name, sub.name), sub, rest[1:]


def help_path(args: list[str]) -> Optional[tuple]:
    """The command path whose help the line asks for, () for the top level, else None.

    As kubectl: -h or --help anywhere before '--', no words at all, `help [COMMAND]`
    or a group (cache) without its subcommand; cli/help.py prints it."""
    if not args:
        return ()
    words = split(args)
    if words.positionals[:1] == [spec.HELP_COMMAND]:
        return find_command(words.positionals[1:])[0]
    path, command, positionals = find_command(words.positionals)
    if words.help:
        return path
    if path and command is None and not positionals and not words.options:
        return path  # 'kubectl apiinfo cache': what it holds
    return None


def parse(args: list[str]) -> Optional[Parsed]:
    """The line as a command and its values, or None for help (help_path) or where typer should word the error."""
    words = split(args)
    if words.missing_value and not words.help:
        # Left to typer, the line would be reordered and the next positional taken as the value.
        raise UserError(words.missing_value)
    if words.help or words.problem or not args:
        return None
    path, command, positionals = find_command(words.positionals)
    if command is None:
        return None
    # An absent option is None, as typer gives it; validation fills in its environment variable or default.
    values: dict = {o.dest: ([] if o.kind == spec.STRINGS else None) for o in command.options}
    for name, value, _ in words.options:
        option = command.option(name)
        if option is None:
            return None  # another command's flag: typer says so
        if option.kind == spec.STRINGS:
            values[option.dest].append(value)
        elif option.kind == spec.BOOL:
            values[option.dest] = "true" if value is None else value
        else:
            values[option.dest] = value  # the last one wins, as in pflag
    for argument in command.arguments:
        if argument.repeatable:
            values[argument.dest], positionals = list(positionals), []
        elif positionals:
            values[argument.dest], positionals = positionals[0], positionals[1:]
        elif argument.required:
            return None
        else:
            values[argument.dest] = None
    if positionals:
        return None  # more words than the command takes
    return Parsed(path, command, values)


def typer_args(args: list[str]) -> list[str]:
    """The line as the generated typer app reads it: command words first, bools spelled --flag=value.

    click cannot read a bool that takes an optional '=value' without also taking
    the next word, so a bare bool is written out as --flag=true.
    """
    if not args or any(a.split("=", 1)[0] in spec.TYPER_ROOT_OPTIONS for a in args):
        return list(args)  # typer's own top-level options: its line as typed
    words = split(args)
    path, _, positionals = find_command(words.positionals)
    known = spec.all_options()
    options: list[str] = []
    for name, value, typed in words.options:
        option = known.get(name)
        if option is not None and not option.takes_value and value is None:
            options.append(f"{name}=true")
        elif value is not None and typed == name:
            options.extend([name, value])  # the value was the next word
        else:
            options.append(typed)  # it carries its own value (--x=v, -ojson), or is unknown
    dashed = ["--"] if any(p.startswith("-") for p in positionals) else []
    return [*path, *options, *dashed, *positionals]
