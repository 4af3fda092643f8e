"""The one exception type the CLI turns into a single stderr line and an exit status."""


class UserError(Exception):
    """Something the user can fix; the message says what happened and what to do."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
