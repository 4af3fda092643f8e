"""The typer app, generated from the spec: it words usage errors.

Well-formed lines never get here (cli/router.py reads them without typer),
nor does a line asking for help (cli/help.py prints it as kubectl does);
whatever typer does parse runs through the same validation and commands.
A bool reaches typer spelled --flag=value (router.typer_args), so it is
declared here as an option with a value: click's own flags take no value.
"""

import inspect
import keyword
from typing import Annotated, Callable, List, Optional

import typer

from kubectl_apiinfo.cli import spec


class _Commands(typer.core.TyperGroup):
    """The top-level group: shell completion offers resource names too, as they are the default command."""

    def shell_complete(self, ctx, incomplete):
        from click.shell_completion import CompletionItem

        items = super().shell_complete(ctx, incomplete)
        return items + [CompletionItem(n) for n in _complete_resource(incomplete)]


def _complete_resource(incomplete: str) -> List[str]:
    from kubectl_apiinfo.cli import completion

    try:
        return [n for n in completion.resource_names([]) if n.startswith(incomplete)]
    except Exception:  # noqa: BLE001 - completion must never break the shell
        return []


def _option_parameter(option: spec.Option) -> inspect.Parameter:
    if option.kind == spec.STRINGS:
        annotation, default = Optional[List[str]], None
    else:
        annotation, default = Optional[str], None  # absent: the spec's default, applied in validation
    metavar = "[=true|false]" if option.kind == spec.BOOL else (option.metavar or None)
    declared = typer.Option(*option.names, help=option.help, metavar=metavar, show_default=False, hidden=option.hidden)
    return inspect.Parameter(_parameter_name(option.dest), inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[annotation, declared])


def _parameter_name(dest: str) -> str:
    """A dest as a Python parameter: plan's --from is from_ (a keyword cannot name a parameter)."""
    return dest + "_" if keyword.iskeyword(dest) else dest


def _argument_parameter(argument: spec.Argument) -> inspect.Parameter:
    annotation = Optional[List[str]] if argument.repeatable else (str if argument.required else Optional[str])
    autocompletion = _complete_resource if argument.completer == spec.RESOURCES else None
    declared = typer.Argument(metavar=argument.metavar, help=argument.help, autocompletion=autocompletion,
                              show_default=False)
    default = inspect.Parameter.empty if argument.required else None
    return inspect.Parameter(argument.dest, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                             annotation=Annotated[annotation, declared])


def _function(path: tuple, command: spec.Command, execute: Callable) -> Callable:
    """A function with the command's parameters, which hands what typer read to execute()."""

    lists = [o.dest for o in command.options if o.kind == spec.STRINGS]
    lists += [a.dest for a in command.arguments if a.repeatable]

    renamed = {_parameter_name(o.dest): o.dest for o in command.options if _parameter_name(o.dest) != o.dest}

    def function(**values):
        for name, dest in renamed.items():
            values[dest] = values.pop(name, None)
        for dest in lists:
            values[dest] = list(values.get(dest) or [])  # the router's form: a list, maybe empty
        return execute(path, command, values)

    parameters = [_argument_parameter(a) for a in command.arguments] + [_option_parameter(o) for o in command.options]
    function.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    function.__name__ = "_".join(path)
    function.__doc__ = command.help
    return function


def build(execute: Callable) -> typer.Typer:
    """The whole command tree; execute(path, command, values) runs a command line typer has read."""
    app = typer.Typer(
        cls=_Commands,
        name="kubectl-apiinfo",
        help=spec.ROOT_HELP,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": list(spec.HELP_NAMES)},
    )
    for command in spec.COMMANDS:
        if command.subcommands:
            group = typer.Typer(help=command.help, context_settings={"help_option_names": list(spec.HELP_NAMES)})
            for sub in command.subcommands:
                group.command(sub.name, help=sub.help)(_function((command.name, sub.name), sub, execute))
            app.add_typer(group, name=command.name)
        else:
            app.command(command.name, help=command.help)(_function((command.name,), command, execute))
    return app


def run(args: List[str], execute: Callable) -> int:
    """Parse with typer and run; errors propagate to cli.main, which reports them."""
    root = typer.main.get_command(build(execute))
    status = root.main(args=args, prog_name="kubectl-apiinfo", standalone_mode=False)
    return status if isinstance(status, int) else 0
