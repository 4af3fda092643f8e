"""The kubectl-apiinfo executable: answer on the fast path, else through the typer CLI;
either way a failure is one line on stderr and a non-zero exit status.

The fast path exists because importing typer alone costs ~50 ms, more than
kubectl takes to answer `api-resources --cached`; see fastpath.py.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo.errors import UserError


def main(argv: Optional[list[str]] = None, prepare_cli: Optional[Callable[[], None]] = None) -> None:
    """prepare_cli runs before typer is imported (the zipapp uses it to turn off rich)."""
    if os.path.basename(sys.argv[0]).startswith("kubectl_complete-"):
        # Installed (or linked) as kubectl's completion helper for this plugin.
        from kubectl_apiinfo.cli import completion

        return completion.main(argv)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status = _fast(args)
        if status is None:
            if prepare_cli:
                prepare_cli()
            from kubectl_apiinfo.cli import typer_app as cli

            status = cli.run(args)
    except UserError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (| head): not an error worth a message.
        sys.stderr = open(os.devnull, "w")
        sys.exit(0)
    except Exception as e:  # noqa: BLE001 - one line instead of a traceback, always
        if type(e).__name__ == "NoArgsIsHelpError":
            sys.exit(0)  # no words at all: the help it printed is the answer, as with kubectl
        if hasattr(e, "format_message") and hasattr(e, "exit_code"):
            # click/typer usage errors: unknown flag, missing argument, bad value
            ctx = getattr(e, "ctx", None)
            path = ctx.command_path.replace("kubectl-apiinfo", "kubectl apiinfo") if ctx else "kubectl apiinfo"
            _fail(f"{e.format_message().rstrip('.')} (see '{path} --help')", e.exit_code)
        if os.environ.get("KUBECTL_APIINFO_DEBUG"):
            raise
        _fail(f"unexpected {type(e).__name__}: {e} (set KUBECTL_APIINFO_DEBUG=1 for details)", 2)
    sys.exit(status)


def _fast(args: list[str]) -> Optional[int]:
    if os.environ.get("KUBECTL_APIINFO_NO_FASTPATH"):
        return None
    from kubectl_apiinfo.cli import router as fastpath

    return fastpath.run(args)


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)
