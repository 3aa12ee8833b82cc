"""The CLI's help for every subcommand. Its error handling (a user mistake is exit status 2 and one
`hyperalign: error:` line) is table-driven in test_bad_input.py."""

from __future__ import annotations

import pytest

from hyperalign_dspy.cli import build_parser, main


@pytest.mark.parametrize("command", [[], ["personalize"], ["hypotheses"], ["demo"]])
def test_help_exits_zero(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hyperalign")
    assert "--lm" in out or command == []


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert set(commands.choices) == {"personalize", "hypotheses", "demo", "eval", "compile", "compare", "serve",
                                    "tracking-server"}
    for command in commands.choices:
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: hyperalign {command}")
