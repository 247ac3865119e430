"""User-facing errors (one line, naming the file, the field and what is allowed) and the exit
codes of every command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``transphy3d`` command's exit status means."""

    OK = 0
    FAILED = 1  # the work ran but some of it failed (scenes, validation)
    BAD_INPUT = 2  # the input is wrong: retrying cannot help
    OUTPUT = 3  # the output cannot be written (permissions, full disk, existing data)
    INTERRUPTED = 130  # Ctrl-C or SIGINT
    TERMINATED = 143  # SIGTERM


class UserError(Exception):
    """An error caused by the user's input; the CLI prints it on one line and exits non-zero."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None):
        self.path = path
        self.field = field
        prefix = ""
        if path:
            prefix += f"{path}: "
        if field:
            prefix += f"{field}: "
        super().__init__(prefix + " ".join(message.split()))


class UnreadableFileError(UserError, ValueError):
    """An input file that is not what it claims to be (a truncated EXR, a PNG Pillow cannot
    decode); the message names the file. Also a ValueError, so callers that tolerate bad data
    (the validator, the DKT data loader) count it like any other."""


def unreadable(path: object, kind: str, error: BaseException) -> UnreadableFileError:
    """The UnreadableFileError for ``path`` that failed to decode as ``kind`` with ``error``."""
    detail = " ".join(str(error).split()) or type(error).__name__
    return UnreadableFileError(f"not a readable {kind} ({detail})", path=str(path))


class OutputError(UserError):
    """The output location cannot be written (permissions, full disk, existing data)."""

    exit_code = ExitCode.OUTPUT


def error_line(command: str, message: object) -> str:
    """The one line a ``transphy3d`` command prints for an error: ``transphy3d CMD: error: ...``."""
    return f"transphy3d {command}: error: {message}"


def error_message(line: str, command: str) -> str | None:
    """The message of an ``error_line`` of ``command``; None for any other line."""
    prefix = error_line(command, "")
    return line[len(prefix) :] if line.startswith(prefix) else None
