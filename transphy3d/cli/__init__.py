"""The ``transphy3d`` command. Each sub-command lives in a module of ``transphy3d.cli`` listed in
``transphy3d.cli.commands``; only the module of the command being run is imported."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from transphy3d._version import __version__
from transphy3d.cli.commands import COMMANDS
from transphy3d.errors import ExitCode, UserError, error_line

PATH_ARGUMENTS = ("out", "manifest", "base", "lora", "resume", "config", "scene", "data", "pred", "cache", "report")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or with ``command`` of that one alone (the others listed)."""
    parser = argparse.ArgumentParser(
        prog="transphy3d",
        description="Synthetic videos of transparent and reflective objects (Blender Cycles), "
        "and a DKT video-depth trainer.",
    )
    parser.add_argument("--version", action="version", version=f"transphy3d {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (target, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text)
        if command in (None, name):
            module, function = target.split(":")
            getattr(importlib.import_module(module), function)(sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the first word that is not an option)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = _command(argv)
    parser = build_parser(command) if command else build_parser_light()
    args = parser.parse_args(argv)

    def work() -> int | None:
        _check_paths(args)
        return args.func(args)

    return handled(args.command, work, getattr(args, "out", None))


def handled(command: str, work: Callable[[], int | None], out: str | Path | None = None) -> int:
    """Run a command's ``work``; its exit code, a user error printed as its one line (a refused
    path too: exit 3 on the way to or inside ``out``, else 2), Ctrl-C as 130."""
    try:
        return int(work() or ExitCode.OK)
    except UserError as error:
        print(error_line(command, error), file=sys.stderr)
        return error.exit_code
    except PermissionError as error:
        code = ExitCode.OUTPUT if _is_output(error.filename, out) else ExitCode.BAD_INPUT
        where = error.filename or " ".join(str(error).split())
        print(error_line(command, f"{where}: permission denied"), file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print(f"transphy3d {command}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _check_paths(args: argparse.Namespace) -> None:
    """An empty path means the current directory to the file system, never what a user meant."""
    for name, value in vars(args).items():
        if isinstance(value, str | Path) and name in PATH_ARGUMENTS and not str(value).strip():
            raise UserError("an empty path; give a file or directory", field="--" + name.replace("_", "-"))


def _is_output(denied: str | None, out: str | Path | None) -> bool:
    """Whether the path a command was refused lies on the way to, or inside, its ``--out``."""
    if not denied or not out:
        return False
    denied_path, out_path = Path(denied).absolute(), Path(out).absolute()
    return denied_path == out_path or denied_path in out_path.parents or out_path in denied_path.parents


def build_parser_light() -> argparse.ArgumentParser:
    """The top-level parser with every command listed but none configured (``--help``, errors)."""
    return build_parser(command="")


if __name__ == "__main__":
    sys.exit(main())
