"""The one channel to the terminal: answers on stdout; warnings, notes and progress on stderr.

Every layer writes through here, so a terminal that cannot show UTF-8
(PYTHONIOENCODING=ascii, a C locale) gets ASCII instead of a crash, and
progress appears only where a person is watching.
"""

from __future__ import annotations

import sys

from kubectl_apiinfo.errors import printable

# Characters our answers use, spelled in ASCII for a stream that cannot encode them.
_ASCII = {0x2013: "-", 0x2014: "-", 0x2026: "...", 0x2192: "->", 0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"',
          0x2588: "=", 0x25BC: "v"}  # timeline's stable bar and its marker


def _write(stream, text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.translate(_ASCII).encode(encoding, "backslashreplace").decode(encoding))


def out(text: str) -> None:
    """The answer itself."""
    _write(sys.stdout, text)


def warn(message: str) -> None:
    """Something the user should know about the answer, as kubectl prints warnings."""
    _write(sys.stderr, f"warning: {printable(message)}\n")  # a name from a kubeconfig may hold escapes


def note(message: str) -> None:
    """What a command did, so that stdout stays the answer."""
    _write(sys.stderr, printable(message) + "\n")


def progress_wanted() -> bool:
    return sys.stderr.isatty()


def progress(text: str, done: bool = False) -> None:
    """A line that redraws itself on a terminal; done ends it."""
    _write(sys.stderr, f"\r{text}" + ("\n" if done else ""))
    sys.stderr.flush()


def columns() -> int | None:
    """How wide the answer may be: the terminal's width when stdout is one (COLUMNS overrides, as in
    kubectl and less), else None: a pipe or a file gets full-width lines, for grep and diff."""
    if not sys.stdout.isatty():
        return None
    import os

    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns or None
    except (OSError, ValueError):
        return None


def colour_wanted(choice: str = "auto") -> bool:
    """--color=always|never|auto, as git: auto means stdout is a terminal, NO_COLOR is unset and TERM is not dumb."""
    if choice in ("always", "never"):
        return choice == "always"
    import os

    if os.environ.get("NO_COLOR"):  # https://no-color.org: any non-empty value
        return False
    return sys.stdout.isatty() and os.environ.get("TERM", "") != "dumb"
