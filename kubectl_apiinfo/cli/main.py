"""The kubectl-apiinfo executable: read the line, validate it, run the command;
a failure of any kind is one line on stderr and exit status 1, as in kubectl.

The router reads every well-formed line without typer (importing typer alone
costs ~50 ms, more than kubectl takes to answer `api-resources --cached`);
cli/help.py prints help as kubectl does, also without typer; typer is imported
only to word what is wrong with a line.
"""

from __future__ import annotations

import gc
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo import console
from kubectl_apiinfo.cli import router, spec, validate
from kubectl_apiinfo.errors import UserError

INTERRUPTED = 130  # a signal, not an error: the shell's convention for SIGINT
# Set while typer's own shell completion asks for candidates (click's _{PROG}_COMPLETE): no words, yet no help.
TYPER_COMPLETION = "_KUBECTL_APIINFO_COMPLETE"


def main(argv: Optional[list[str]] = None, prepare_cli: Optional[Callable[[], None]] = None) -> None:
    """prepare_cli runs before typer is imported (the zipapp uses it to turn off rich)."""
    if os.path.basename(sys.argv[0]).startswith("kubectl_complete-"):
        # Installed (or linked) as kubectl's completion helper for this plugin.
        from kubectl_apiinfo.cli import completion

        return completion.main(argv)
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        args = ["version"]  # what a plugin is expected to answer; the command says the same
    # A short-lived process builds thousands of small objects and no cycles worth collecting:
    # the default thresholds cost a refresh of 500 CRD groups ~30 ms in collections alone.
    gc.set_threshold(100_000, 50, 50)
    try:
        status = run(args, prepare_cli)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, while we can still say so
    except UserError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted", INTERRUPTED)
    except BrokenPipeError:
        _quiet_exit()  # the reader went away (| head): not an error worth a message
    except OSError as e:
        if e.filename is None and e.errno is not None:
            _fail(f"cannot write the answer to stdout ({e.strerror})")
        _unexpected(e)
    except Exception as e:  # noqa: BLE001 - one line instead of a traceback, always
        if hasattr(e, "format_message") and hasattr(e, "exit_code"):
            # click's usage errors: unknown flag, missing argument, extra words
            ctx = getattr(e, "ctx", None)
            path = ctx.command_path.replace("kubectl-apiinfo", spec.PROGRAM) if ctx else spec.PROGRAM
            _fail(f"{e.format_message().rstrip('.')} (see '{path} --help')")
        _unexpected(e)
    sys.exit(status)


def run(args: list[str], prepare_cli: Optional[Callable[[], None]] = None) -> int:
    """The exit status: 0, or what the command returned (check's findings); errors raise."""
    help_path = None if TYPER_COMPLETION in os.environ else router.help_path(args)
    if help_path is not None:
        from kubectl_apiinfo.cli import help as help_text

        console.out(help_text.render(help_path))  # the one channel: ASCII where the terminal needs it
        return 0
    parsed = None if os.environ.get("KUBECTL_APIINFO_NO_FASTPATH") else router.parse(args)
    if parsed is not None:
        return execute(parsed.path, parsed.command, parsed.values)
    if prepare_cli:
        prepare_cli()
    from kubectl_apiinfo.cli import typer_app

    return typer_app.run(router.typer_args(args), execute)


def execute(path: tuple, command: spec.Command, values: dict) -> int:
    """Validate everything, then run: no file or network is touched before the line is known good.

    A command's run(options, factory) returns None (success) or an exit status of its own; errors raise UserError (status 1)."""
    from kubectl_apiinfo.commands.factory import Factory

    options = validate.complete(path, command, values)
    module = __import__(f"kubectl_apiinfo.commands.{command.handler}", fromlist=["run"])
    return module.run(options, Factory(options)) or 0


def _unexpected(e: BaseException) -> None:
    if os.environ.get("KUBECTL_APIINFO_DEBUG"):
        raise e
    _fail(f"unexpected {type(e).__name__}: {e} (set KUBECTL_APIINFO_DEBUG=1 for details)")


def _quiet_exit() -> None:
    _silence_stdout()
    sys.exit(0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so what could not be written does not fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _fail(message: str, code: int = 1) -> None:
    from kubectl_apiinfo.console import note

    try:
        sys.stdout.flush()  # the answer printed before the error comes first, as it was written
    except (OSError, ValueError):
        _silence_stdout()
    try:
        note(f"error: {message}")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    sys.exit(code)
