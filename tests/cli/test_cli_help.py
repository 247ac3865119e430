"""The help of every command, generated from the command table (``transphy3d.cli.commands``):
``transphy3d --help`` lists each command with its one-line help, in the table's order, and each
command's ``--help`` (and each sub-command's) runs and shows every option its ``configure``
adds, with that option's help text; every command dispatches to a handler."""

from __future__ import annotations

import argparse
import importlib

import pytest
from helpers import run_in_process

from transphy3d.cli.commands import COMMANDS


@pytest.fixture(autouse=True)
def _wide_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """Help text on one line per option (argparse wraps at $COLUMNS)."""
    monkeypatch.setenv("COLUMNS", "1000")


def _configured(command: str) -> argparse.ArgumentParser:
    """A parser with the options the command table's ``configure`` for ``command`` adds."""
    module, function = COMMANDS[command][0].split(":")
    parser = argparse.ArgumentParser(prog=f"transphy3d {command}")
    getattr(importlib.import_module(module), function)(parser)
    return parser


def _parsers(words: tuple[str, ...], parser: argparse.ArgumentParser):
    """(words, parser) of ``parser`` and of every sub-command under it."""
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers((*words, name), sub)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_top_level_help_lists_the_command_table(capsys: pytest.CaptureFixture) -> None:
    result = run_in_process(capsys, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: transphy3d ")
    listed = result.stdout.split("COMMAND\n", 1)[1].split("\noptions:")[0]
    names = [line.split()[0] for line in listed.splitlines() if line[:4] == "    " and line[4:5].strip()]
    assert names == list(COMMANDS)
    text = _flat(listed)
    for name, (_, help_text) in COMMANDS.items():
        assert f"{name} {_flat(help_text)}" in text


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_of_a_command_is_in_its_help(command: str, capsys: pytest.CaptureFixture) -> None:
    for words, parser in _parsers((command,), _configured(command)):
        result = run_in_process(capsys, *words, "--help")
        assert result.returncode == 0 and result.stderr == "", result
        assert result.stdout.startswith(f"usage: transphy3d {' '.join(words)} ")
        text = _flat(result.stdout)
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for shown in action.option_strings or [action.metavar or action.dest]:
                assert shown in text, (words, shown)
            if action.help and action.help != argparse.SUPPRESS and "%" not in action.help:
                assert _flat(action.help) in text, (words, action.help)
        subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        assert subcommands or callable(parser.get_default("func")), f"{words} runs no handler"


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    result = run_in_process(capsys, "rendr")
    assert result.returncode == 2 and "invalid choice: 'rendr'" in result.stderr
    assert all(name in result.stderr for name in COMMANDS)
