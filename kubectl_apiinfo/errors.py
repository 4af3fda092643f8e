"""The one exception type the CLI turns into a single stderr line, and what keeps secrets
(and terminal escape sequences) out of such lines."""


import re

# Control characters, and the bidirectional overrides that reorder what a terminal shows (Trojan Source).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}  # as repr() shows them


def redact_url(url):
    """A URL fit to show or store: any user:password@ in it becomes ***@."""
    return re.sub(r"//[^/@]*@", "//***@", url) if url else url


def has_control(text):
    return _CONTROL.search(text) is not None


def shorten(text: str, limit: int = 80) -> str:
    """User input fit to quote in a one-line message: a 100 KB argument is not echoed whole."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text):
    """text with control characters (ESC, CR, newline...) shown as \\x1b etc., so a name can
    neither drive the terminal nor break a message into two lines.  repr() does the same for quoted names."""
    if not text or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def _escape(match) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def flag(dest: str) -> str:
    """How a message names a command-line flag by its setting: flag("context") is "--context".

    cli/spec.py declares the flags; a test checks that every name given here is one of them,
    so lower layers name a flag without spelling it out a second time."""
    return "--" + dest.replace("_", "-")


_LONG_WORD = re.compile(r"\S{201,}")


def _cut(match) -> str:
    return match.group()[:180] + "..."


class UserError(Exception):
    """Something the user can fix; the message says what happened and what to do."""

    def __init__(self, message: str, exit_code: int = 1):
        # Names from a kubeconfig or a server may hold escapes; a 3,000-character argument is not echoed whole.
        super().__init__(_LONG_WORD.sub(_cut, printable(message)))
        self.exit_code = exit_code
