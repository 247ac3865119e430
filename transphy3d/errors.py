"""User-facing errors: one line, naming the file, the field and what is allowed."""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the user's input; the CLI prints it on one line and exits non-zero."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None):
        self.path = path
        self.field = field
        prefix = ""
        if path:
            prefix += f"{path}: "
        if field:
            prefix += f"{field}: "
        super().__init__(prefix + " ".join(message.split()))


class OutputError(UserError):
    """The output location cannot be written (permissions, full disk, existing data)."""

    exit_code = 3
