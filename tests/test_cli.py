"""The CLI's error handling: a user mistake is exit status 2 and one `hyperalign: error:` line."""

from __future__ import annotations

import json

import pytest

from hyperalign_dspy.cli import build_parser, main


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("A short text the user wrote. It has two sentences.", encoding="utf-8")
    return str(path)


def run_error(argv, capsys) -> str:
    """Run the CLI, expect status 2, return the single error line."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("hyperalign: error: ")
    assert "Traceback" not in captured.err
    assert captured.out == ""
    return lines[0]


# The default --lm is the embedded 'local' model; conftest makes loading it fail loudly, so these
# tests also prove each error is found before any model would be loaded.


def test_missing_examples_path(tmp_path, capsys):
    line = run_error(["personalize", "--examples", str(tmp_path / "absent.txt"), "--prompt", "Hi"], capsys)
    assert "absent.txt: no such file or folder" in line


def test_missing_examples_path_for_hypotheses(tmp_path, capsys):
    line = run_error(["hypotheses", "--examples", str(tmp_path / "absent")], capsys)
    assert "no such file or folder" in line


@pytest.mark.parametrize("prompts", [["--prompt", ""], ["--prompt", "   "], ["--prompt", "ok", "--prompt", ""], []])
def test_empty_or_missing_prompt(text_file, capsys, prompts):
    line = run_error(["personalize", "--examples", text_file, *prompts], capsys)
    assert "give at least one non-empty --prompt" in line


def test_unknown_lm_name(text_file, capsys):
    line = run_error(["personalize", "--lm", "nonsense", "--examples", text_file, "--prompt", "Hi"], capsys)
    assert "unknown LM 'nonsense'" in line
    assert "local" in line and "openai/gpt-4o-mini" in line


def test_api_base_with_an_embedded_model(text_file, capsys):
    line = run_error(["personalize", "--lm", "local-small", "--api-base", "http://127.0.0.1:9/v1",
                      "--examples", text_file, "--prompt", "Hi"], capsys)
    assert "a server address (--api-base) does not apply to the embedded model 'local-small'" in line


def test_folder_with_no_texts(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "readme.md").write_text("not a user text", encoding="utf-8")
    line = run_error(["personalize", "--examples", str(folder), "--prompt", "Hi"], capsys)
    assert "the folder has no .txt or .jsonl files" in line


def test_empty_text_file(tmp_path, capsys):
    path = tmp_path / "blank.txt"
    path.write_text("\n\n", encoding="utf-8")
    line = run_error(["hypotheses", "--examples", str(path)], capsys)
    assert "blank.txt: the file is empty" in line


def test_profile_that_does_not_match_the_schema(tmp_path, capsys):
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"hypotheses": ["The author is terse."], "attributes": {"domain": "x"},
                                "source_ids": []}), encoding="utf-8")
    line = run_error(["personalize", "--profile", str(path), "--prompt", "Hi"], capsys)
    assert "does not match the profile schema" in line
    assert "attributes." in line


def test_profile_that_is_not_json(tmp_path, capsys):
    path = tmp_path / "profile.json"
    path.write_text("hypotheses: [oops", encoding="utf-8")
    line = run_error(["personalize", "--profile", str(path), "--prompt", "Hi"], capsys)
    assert "is not JSON" in line


def test_neither_examples_nor_profile(capsys):
    line = run_error(["personalize", "--prompt", "Hi"], capsys)
    assert "give --examples (the user's texts) or --profile" in line


def test_missing_program_file(text_file, tmp_path, capsys):
    absent = tmp_path / "absent-program.json"
    line = run_error(["personalize", "--examples", text_file, "--prompt", "Hi", "--program", str(absent)], capsys)
    assert f"program file {absent} does not exist" in line


def test_program_file_that_is_not_a_program(text_file, tmp_path, capsys):
    path = tmp_path / "program.json"
    path.write_text("not json at all", encoding="utf-8")
    line = run_error(["personalize", "--examples", text_file, "--prompt", "Hi", "--program", str(path)], capsys)
    assert f"program file {path} cannot be loaded" in line


def test_demo_unknown_author(capsys):
    line = run_error(["demo", "--author", "Nobody"], capsys)
    assert "no author 'Nobody'" in line


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


def test_usage_errors_exit_two(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["personalize", "--no-such-option"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["hypotheses"])  # --examples is required
    assert exited.value.code == 2
    assert "--examples" in capsys.readouterr().err
