"""The one exception type the CLI turns into a single stderr line, and what keeps secrets out of such lines."""


import re


def redact_url(url):
    """A URL fit to show or store: any user:password@ in it becomes ***@."""
    return re.sub(r"//[^/@]*@", "//***@", url) if url else url


def shorten(text: str, limit: int = 80) -> str:
    """User input fit to quote in a one-line message: a 100 KB argument is not echoed whole."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UserError(Exception):
    """Something the user can fix; the message says what happened and what to do."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
