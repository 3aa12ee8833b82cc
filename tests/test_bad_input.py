"""Bad input, table-driven: every case exits with status 2 and one line `hyperalign: error: ...`
naming the problem, without a traceback, without an LM call, and without writing anything.
The Python API raises `HyperAlignError` with the same message."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from project import PROJECT_ROOT

import hyperalign_dspy as ha
from hyperalign_dspy.cli import build_parser, main
from hyperalign_dspy.program_files import load_program
from hyperalign_dspy.tasks.deliberative import load_spec

NOWHERE = "http://127.0.0.1:9/v1"  # nothing listens: a case that reaches the LM fails loudly
LM = ["--lm", "openai/test-model", "--api-base", NOWHERE]
AUTHORS = PROJECT_ROOT / "evals" / "data" / "authors_ccat50_dev.jsonl"
RECIPE = PROJECT_ROOT / "optimizers" / "bootstrap-fewshot.toml"
SUITE = PROJECT_ROOT / "evals" / "authorship-dev.toml"
GOOD_TEXT = "I walked to city hall today. Nobody else would, so I did."


def make_files(root: Path) -> None:
    """Everything the cases refer to as {name}."""
    (root / "good.txt").write_text(GOOD_TEXT)
    (root / "empty.txt").write_text("")
    (root / "blank.txt").write_text("   \n\t\n")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    (root / "huge.txt").write_text("word " * 1_100_000)  # 5.5 MB
    # Unreadable: the tests run as root, who may read any file whatever its mode, so the file is a
    # link to one that no process can read (reading /proc/self/mem from offset 0 fails with EIO).
    (root / "unreadable.txt").symlink_to("/proc/self/mem")
    (root / "no_texts").mkdir()
    (root / "no_texts" / "notes.md").write_text("not a text file type")
    (root / "blank_line.jsonl").write_text('{"text": "one"}\n\n{"text": "two"}\n')
    (root / "malformed.jsonl").write_text('{"text": "one"}\n{"text": "two"\n')
    (root / "no_text_field.jsonl").write_text('{"text": "one"}\n{"body": "two"}\n')
    (root / "number_text.jsonl").write_text('{"text": 42}\n')
    (root / "duplicate_ids.jsonl").write_text('{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n')
    (root / "list_line.jsonl").write_text('["text", "one"]\n')
    (root / "profile_not_json.json").write_text("hypotheses: many")
    (root / "profile_latin1.json").write_bytes(b'{"hypotheses": ["caf\xe9"]}')
    (root / "profile_wrong.json").write_text(json.dumps({"hypotheses": "not a list", "attributes": {}, "source_ids": []}))
    (root / "program_corrupt.json").write_text('{"infer": {"demos": [')
    (root / "program_other_task.json").write_text("{}")
    (root / "program_other_task.meta.json").write_text(json.dumps({"task": "deliberative"}))
    (root / "a_folder.json").mkdir()
    suite = SUITE.read_text()
    data = f'data = "{AUTHORS}"'
    (root / "suite_unknown_key.toml").write_text(suite.replace('seed = 0', 'seed = 0\ncolour = "blue"'))
    (root / "suite_no_data.toml").write_text(suite.replace('data = "data/authors_ccat50_dev.jsonl"', 'data = "nothing.jsonl"'))
    (root / "suite_bad_toml.toml").write_text("name = [unclosed")
    (root / "suite_bad_seed.toml").write_text(suite.replace("seed = 0", 'seed = "zero"').replace(
        'data = "data/authors_ccat50_dev.jsonl"', data))
    (root / "suite_unknown_system.toml").write_text(suite.replace('"few-shot"]', '"few-shot", "oracle"]').replace(
        'data = "data/authors_ccat50_dev.jsonl"', data))
    (root / "suite_bad_comparison.toml").write_text(suite.replace('baseline = "zero-shot"', 'baseline = "plain"').replace(
        'data = "data/authors_ccat50_dev.jsonl"', data))
    (root / "authors_malformed.jsonl").write_text(AUTHORS.read_text().splitlines()[0] + "\n{not json}\n")
    (root / "suite_malformed_data.toml").write_text(suite.replace(
        'data = "data/authors_ccat50_dev.jsonl"', f'data = "{root / "authors_malformed.jsonl"}"'))
    recipe = RECIPE.read_text()
    (root / "recipe_unknown_key.toml").write_text(recipe + '\nflavour = "mint"\n')
    (root / "recipe_bad_teleprompter.toml").write_text(recipe.replace('"BootstrapFewShot"', '"MagicOptimizer"'))
    (root / "recipe_bad_argument.toml").write_text(recipe.replace("max_rounds = 1", "max_roundz = 1"))
    (root / "recipe_gepa_no_reflection.toml").write_text(
        (PROJECT_ROOT / "optimizers" / "gepa.toml").read_text().replace('reflection_lm = "task"', ""))
    (root / "recipe_bad_toml.toml").write_text("teleprompter = ")
    # A recipe's [program] holds the knobs of the suite's task: authorship's own ones are checked too.
    (root / "recipe_unknown_knob.toml").write_text(recipe + "\n[program]\nflavour = 1\n")
    # `tune` must name stages the suite's task's program has.
    (root / "recipe_unknown_stage.toml").write_text(recipe.replace('description =', 'tune = ["polisher"]\ndescription ='))
    (root / "recipe_bad_knob.toml").write_text(recipe + '\n[program]\nquote_again = "sometimes"\n')
    deliberative = (PROJECT_ROOT / "evals" / "deliberative-dev.toml").read_text()
    (root / "suite_knob_of_another_task.toml").write_text(
        deliberative.replace('"data/', f'"{PROJECT_ROOT / "evals" / "data"}/') + "\n[program]\nparagraph_grammar = true\n")
    (root / "recipe_unknown_reflection_lm.toml").write_text(
        (PROJECT_ROOT / "optimizers" / "gepa.toml").read_text().replace('reflection_lm = "task"',
                                                                        'reflection_lm = "no-such-provider/m"'))
    (root / "suite_unknown_judge_provider.toml").write_text(
        suite.replace('data = "data/authors_ccat50_dev.jsonl"', data) + '\n[lms]\njudge = "no-such-provider/judge"\n')


# (command line, expected fragment of the error, or fragments that must all be in it); {name} is a
# file made by make_files. A case without --lm runs on the default, the embedded 'local' model,
# which conftest makes fail loudly if loaded: the error is found before any model would be.
CASES = [
    # personalize
    (["personalize", "--prompt", "x"], "give --examples (the user's texts) or --profile"),
    (["personalize", "--examples", "{empty.txt}", "--prompt", "x", *LM], "{empty.txt}: the file is empty"),
    (["hypotheses", "--examples", "{blank.txt}"], "{blank.txt}: the file is empty"),
    (["personalize", "--examples", "{missing.txt}", "--prompt", "x"], "{missing.txt}: no such file or folder"),
    (["personalize", "--examples", "{no_texts}", "--prompt", "x"], "{no_texts}: the folder has no .txt or .jsonl files"),
    (["personalize", "--examples", "{binary.txt}", "--prompt", "x", *LM], "not UTF-8"),
    (["personalize", "--examples", "{unreadable.txt}", "--prompt", "x", *LM], "unreadable.txt: cannot be read"),
    (["hypotheses", "--examples", "{good.txt}", "{unreadable.txt}", *LM], "cannot be read"),
    (["personalize", "--examples", "{huge.txt}", "--prompt", "x", *LM], "larger than"),
    (["personalize", "--examples", "{blank_line.jsonl}", "--prompt", "x", *LM], "line 2 is empty"),
    (["personalize", "--examples", "{malformed.jsonl}", "--prompt", "x", *LM], "line 2 is not valid JSON"),
    (["personalize", "--examples", "{list_line.jsonl}", "--prompt", "x", *LM], "line 1 is not a JSON object"),
    (["personalize", "--examples", "{no_text_field.jsonl}", "--prompt", "x", *LM], "row 2 has no 'text' string"),
    (["personalize", "--examples", "{number_text.jsonl}", "--prompt", "x", *LM], "row 1 has no 'text' string"),
    (["personalize", "--examples", "{duplicate_ids.jsonl}", "--prompt", "x", *LM], "duplicate id 'a'"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "", *LM], "give at least one non-empty --prompt"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "   ", *LM], "give at least one non-empty --prompt"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "ok", "--prompt", ""], "give at least one non-empty --prompt"),
    (["personalize", "--examples", "{good.txt}"], "give at least one non-empty --prompt"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--lm", "gpt-nothing"],
     ("unknown LM 'gpt-nothing'", "local", "openai/gpt-4o-mini")),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--lm", "openai/m", "--api-base", "localhost:8000"],
     "the generate LM (openai/m): the server address 'localhost:8000' is not an http(s) URL"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--lm", "local", "--api-base", NOWHERE],
     "a server address (--api-base) does not apply to the embedded model 'local'"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--program", "{missing.json}"],
     "program file {missing.json} does not exist"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--program", "{program_corrupt.json}"],
     "program file {program_corrupt.json} cannot be loaded"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--program", "{program_other_task.json}", *LM],
     "compiled for the 'deliberative' task"),
    (["personalize", "--profile", "{missing.json}", "--prompt", "x", *LM], "cannot read profile"),
    (["personalize", "--profile", "{profile_not_json.json}", "--prompt", "x"], "is not JSON"),
    (["personalize", "--profile", "{profile_wrong.json}", "--prompt", "x"], "does not match the profile schema: hypotheses: "),
    (["personalize", "--task", "deliberative", "--prompt", "x", "--spec", "{missing.md}", *LM], "no such file"),
    (["personalize", "--task", "deliberative", "--prompt", "x", "--spec", "{binary.txt}", *LM], "UTF-8"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--spec", "{good.txt}", *LM], "deliberative task only"),
    # hypotheses
    (["hypotheses", "--examples", "{missing}"], "{missing}: no such file or folder"),
    (["hypotheses", "--examples", "{good.txt}", "--out", "{a_folder.json}", *LM], "is a folder"),
    # eval
    (["eval", "{missing.toml}", *LM], "no such file"),
    (["eval", "{suite_unknown_key.toml}", *LM], "colour"),
    (["eval", "{suite_no_data.toml}", *LM], "does not exist"),
    (["eval", "{suite_bad_toml.toml}", *LM], "not valid TOML"),
    (["eval", "{suite_bad_seed.toml}", *LM], "seed"),
    (["eval", "{suite_unknown_system.toml}", *LM], "unknown system 'oracle'"),
    (["eval", "{suite_bad_comparison.toml}", *LM], "'plain', which is not in systems"),
    (["eval", "{suite_malformed_data.toml}", *LM], "line 2 is not valid JSON"),
    (["eval", str(SUITE), "--limit", "0", *LM], "--limit must be at least 1"),
    (["eval", str(SUITE), "--limit", "-3", *LM], "--limit must be at least 1"),
    (["eval", str(SUITE), "--threads", "0", *LM], "--threads must be at least 1"),
    (["eval", str(SUITE), "--threads", "-2", *LM], "--threads must be at least 1"),
    (["eval", str(SUITE), "--program", "{missing.json}", *LM], "does not exist"),
    (["eval", str(SUITE), "--judge-lm", "judge-nothing", *LM], "unknown LM 'judge-nothing'"),
    (["eval", str(PROJECT_ROOT / "evals" / "deliberative-dev.toml"), "--judge-kind", "likelihood", *LM],
     "cannot serve as a likelihood verdict judge"),
    # compile
    (["compile", "--optimizer", "{missing.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM], "no such file"),
    (["compile", "--optimizer", "{recipe_unknown_key.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM], "flavour"),
    (["compile", "--optimizer", "{recipe_unknown_knob.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM],
     "program.flavour: Extra inputs are not permitted"),
    (["compile", "--optimizer", "{recipe_bad_knob.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM],
     "program.quote_again: Input should be a valid boolean"),
    (["eval", "{suite_knob_of_another_task.toml}", *LM], "program.paragraph_grammar: Extra inputs are not permitted"),
    (["compile", "--optimizer", "{recipe_bad_teleprompter.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM],
     "teleprompter"),
    (["compile", "--optimizer", "{recipe_bad_argument.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM],
     "takes no argument max_roundz"),
    (["compile", "--optimizer", "{recipe_gepa_no_reflection.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM],
     "reflection_lm"),
    (["compile", "--optimizer", "{recipe_unknown_stage.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM],
     "tune: the program has no stage polisher (its stages: profiler, writer)"),
    (["compile", "--optimizer", str(PROJECT_ROOT / "optimizers" / "writer-instructions.toml"), "--suite",
      str(PROJECT_ROOT / "evals" / "deliberative-dev.toml"), "--out", "{p.json}", *LM],
     "recipe writer-instructions compiles authorship programs; the suite deliberative-dev is of the deliberative task"),
    (["compile", "--optimizer", "{recipe_bad_toml.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM], "not valid TOML"),
    (["compile", "--optimizer", "{recipe_unknown_reflection_lm.toml}", "--suite", str(SUITE), "--out", "{p.json}", *LM],
     "reflection_lm: unknown LM provider 'no-such-provider'"),
    # LM names with a provider no call could reach, and servers that are not URLs, refused before any work
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", *LM, "--infer-lm", "openai/m", "--infer-api-base",
      "notaurl"], "the infer LM (openai/m): the server address 'notaurl' is not an http(s) URL"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", *LM, "--infer-api-base", "localhost:1"],
     "the infer LM (openai/test-model): the server address 'localhost:1' is not an http(s) URL"),
    # MLflow experiments, charts and output folders, refused before any work
    (["eval", str(SUITE), "--experiment", "", *LM], "--experiment '': name the MLflow experiment"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{p.json}", "--experiment", "  ", *LM],
     "name the MLflow experiment"),
    (["compare", "--experiment", ""], "name the MLflow experiment"),
    (["compare", "--chart", "{chart.txt}"], "end the name in one of"),
    (["compare", "--chart", "{good.txt}/chart.png"], "good.txt is a file, not a folder"),
    (["hypotheses", "--examples", "{good.txt}", "--out", "{good.txt}/profile.json", *LM], "good.txt is a file, not a folder"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{good.txt}/p.json", *LM],
     "good.txt is a file, not a folder"),
    (["demo", "--author", "Nobody"], "no author 'Nobody'"),
    (["tracking-server", "--host", "256.1.1.1", "--folder", "{store}"], "--host '256.1.1.1' is no address"),
    (["hypotheses", "--examples", "{good.txt}", *LM, "--infer-lm", "nope/m"], "unknown LM provider 'nope'"),
    (["demo", "--lm", "nope/m"], "unknown LM provider 'nope'"),
    (["eval", str(SUITE), *LM, "--judge-lm", "openai/j", "--judge-api-base", "ftp://x"], "is not an http(s) URL"),
    (["eval", str(SUITE), *LM, "--infer-lm", "nope/m"], "unknown LM provider 'nope'"),
    (["compile", "--optimizer", str(PROJECT_ROOT / "optimizers" / "gepa.toml"), "--suite", str(SUITE), "--out", "{p.json}",
      *LM, "--reflection-lm", "nope/m"], "unknown LM provider 'nope'"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{p.json}", *LM, "--judge-lm", "nope/m"],
     "unknown LM provider 'nope'"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--lm", "no-such-provider/model"],
     "unknown LM provider 'no-such-provider' in 'no-such-provider/model'"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", *LM, "--infer-lm", "nope/m"],
     "unknown LM provider 'nope'"),
    (["eval", str(SUITE), *LM, "--judge-lm", "nope/judge"], "unknown LM provider 'nope'"),
    (["eval", "{suite_unknown_judge_provider.toml}", *LM], "unknown LM provider 'no-such-provider'"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{p.json}", "--lm", "nope/m"],
     "unknown LM provider 'nope'"),
    (["compile", "--optimizer", str(RECIPE), "--suite", "{suite_no_data.toml}", "--out", "{p.json}", *LM], "does not exist"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{p.txt}", *LM], "ends in .json"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{p.json}", "--limit", "0", *LM],
     "--limit must be at least 1"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{p.json}", "--threads", "-1", *LM],
     "--threads must be at least 1"),
    # serve
    (["serve", "--model", "openai/gpt-4o-mini"], "serve one of the embedded models"),
    (["serve", "--slots", "0"], "--slots must be at least 1"),
    (["serve", "--threads", "-1"], "--threads must be at least 1"),
    (["serve", "--threads", "0"], "--threads must be at least 1"),
    (["serve", "--port", "70000"], "is not a TCP port"),
    (["serve", "--model", "local-small", "--log", "{nowhere/server.log}"], "the folder"),
    # tracking-server
    (["tracking-server", "--folder", "{good.txt}"], "is a file, not a folder"),
    (["tracking-server", "--port", "70000"], "--port 70000 is not a TCP port"),
    (["tracking-server", "--postgres-port", "0"], "--postgres-port 0 is not a TCP port"),
    (["tracking-server", "--port", "5433"], "--port and --postgres-port must differ"),
    (["tracking-server", "--workers", "0"], "--workers must be at least 1"),
    # --set NAME=VALUE: a program setting from the command line, checked as a [program] table is
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--set", "attempts", *LM], "--set attempts: give NAME=VALUE"),
    (["personalize", "--examples", "{good.txt}", "--prompt", "x", "--set", "attempts=0", *LM],
     "--set attempts: Input should be greater than 0"),
    (["hypotheses", "--examples", "{good.txt}", "--set", "flavour=1", *LM], "--set flavour: not a setting of this program"),
    (["personalize", "--task", "deliberative", "--prompt", "x", "--set", "paragraph_grammar=true", *LM],
     "--set paragraph_grammar: not a setting"),
    (["demo", "--set", "temperature=hot", *LM], "--set temperature: Input should be a valid number"),
    (["eval", str(SUITE), "--set", "fit_share=2", *LM], "--set fit_share: Input should be less than or equal to 1"),
    (["compile", "--optimizer", str(RECIPE), "--suite", str(SUITE), "--out", "{p.json}", "--set", "nope=1", *LM],
     "--set nope: not a setting"),
]


def resolve(argv: list[str], root: Path) -> list[str]:
    """`{name}` in an argument is the file or folder `name` in `root` (`{good.txt}/x.json` too)."""
    return [re.sub(r"\{([^}]+)\}", lambda match: str(root / match.group(1)), part) for part in argv]


def fragments(expected: str | tuple[str, ...], root: Path) -> list[str]:
    """What an error must say: one fragment or several, each with its {name}s resolved."""
    return resolve([expected] if isinstance(expected, str) else list(expected), root)


def listing(*roots: Path) -> dict[str, int]:
    return {str(path): path.stat().st_size for root in roots for path in root.rglob("*")}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """The cases' files, made once for the module (the huge one is 5.5 MB): no case writes any."""
    root = tmp_path_factory.mktemp("inputs")
    make_files(root)
    return root


@pytest.mark.parametrize(("argv", "fragment"), CASES, ids=[f"{n:02d}-{case[0][0]}" for n, case in enumerate(CASES)])
def test_bad_input_is_one_line_and_exit_2(argv, fragment, files, tmp_path, capsys):
    before = listing(files, tmp_path)
    code = main(resolve(argv, files))
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("hyperalign: error: "), captured.err
    assert all(part in lines[0] for part in fragments(fragment, files)), lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert listing(files, tmp_path) == before  # nothing written, not even a partial file


def test_a_bad_recipe_is_one_line_on_stderr_in_a_process_of_its_own(files, tmp_path):
    """As a user runs it: nothing that an import prints (a warning of MLflow's, say) comes before
    the one line; in-process, pytest would have caught such a warning."""
    argv = ["compile", "--optimizer", str(files / "recipe_bad_teleprompter.toml"), "--suite", str(SUITE),
            "--out", str(tmp_path / "p.json"), *LM]
    environment = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path}/mlflow.db")
    done = subprocess.run([str(Path(sys.executable).parent / "hyperalign"), *argv], env=environment, cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("hyperalign: error: recipe ") and "teleprompter" in done.stderr
    assert done.stdout == ""


def test_serve_without_a_built_server(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HYPERALIGN_LLAMA_SERVER", str(tmp_path / "llama-server"))
    assert main(["serve", "--model", "local-small"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hyperalign: error: llama-server is not built at") and "make llama-server" in err
    assert len(err.strip().splitlines()) == 1


def test_serve_on_a_taken_port(monkeypatch, tmp_path, capsys):
    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\nexit 1\n")  # never started: the port check comes first
    monkeypatch.setenv("HYPERALIGN_LLAMA_SERVER", str(binary))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["serve", "--model", "local-small", "--port", str(taken.getsockname()[1])])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 2  # the progress line, then the error
    assert err[1].startswith("hyperalign: error: port ") and "is taken; choose another with --port" in err[1]


def test_tracking_server_on_a_taken_port(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["tracking-server", "--folder", str(tmp_path / "store"), "--port", str(taken.getsockname()[1])])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 2  # the progress line, then the error
    assert err[1].startswith("hyperalign: error: port ") and "is taken; choose another with --port" in err[1]
    assert not (tmp_path / "store").exists()


def test_every_subcommand_has_bad_input_cases():
    commands = next(action for action in build_parser()._actions if action.dest == "command")
    assert set(commands.choices) == {argv[0] for argv, _ in CASES}


@pytest.mark.parametrize(("argv", "fragment"), [
    (["personalize", "--no-such-option"], "--no-such-option"),
    (["personalize", "--task", "nope", "--prompt", "x"], "nope"),
    (["eval", str(SUITE), "--limit", "ten"], "ten"),
    (["serve", "--port", "http"], "http"),
    (["hypotheses"], "--examples"),  # --examples is required
    ([], "hyperalign: error: "),
])
def test_usage_errors_are_one_line_and_exit_2(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("hyperalign: error: "), err
    assert fragment in err


API_CASES = [
    (lambda root: ha.read_user_texts([root / "empty.txt"]), "{empty.txt}: the file is empty"),
    (lambda root: ha.read_user_texts([root / "blank.txt"]), "{blank.txt}: the file is empty"),
    (lambda root: ha.read_user_texts([root / "missing.txt"]), "{missing.txt}: no such file or folder"),
    (lambda root: ha.read_user_texts([root / "no_texts"]), "{no_texts}: the folder has no .txt or .jsonl files"),
    (lambda root: ha.read_user_texts([root / "binary.txt"]), "{binary.txt}: not UTF-8 text"),
    (lambda root: ha.read_user_texts([root / "malformed.jsonl"]), "line 2 is not valid JSON"),
    (lambda root: ha.read_user_texts([root / "duplicate_ids.jsonl"]), "duplicate id 'a'"),
    (lambda root: ha.read_user_texts([root / "huge.txt"]), "larger than"),
    (lambda root: ha.read_user_texts([]), "no texts given"),
    (lambda root: ha.lm("gpt-nothing"), "unknown LM 'gpt-nothing'"),
    (lambda root: ha.lm("openai/m", api_base="localhost:8000"), "the server address 'localhost:8000' is not an http(s) URL"),
    (lambda root: ha.UserProfile.load(root / "profile_wrong.json"), "does not match the profile schema"),
    (lambda root: ha.UserProfile.load(root / "profile_not_json.json"), ("profile {profile_not_json.json}", "is not JSON")),
    (lambda root: ha.UserProfile.load(root / "missing.json"), "cannot read profile"),
    (lambda root: ha.UserProfile.load(root / "profile_latin1.json"), "cannot read profile"),
    (lambda root: ha.load_program(root / "program_other_task.json"), "compiled for the 'deliberative' task"),
    (lambda root: load_program(root / "missing.json"), "program file {missing.json} does not exist"),
    (lambda root: load_program(root / "program_corrupt.json"), "program file {program_corrupt.json} cannot be loaded"),
    (lambda root: load_spec(root / "missing.md"), "spec {missing.md}: no such file"),
    (lambda root: load_spec(root / "blank.txt"), "spec {blank.txt}: the file is empty"),
    (lambda root: load_spec(root / "binary.txt"), "spec {binary.txt}: cannot be read as UTF-8 text"),
    (lambda root: ha.load_suite(root / "suite_unknown_key.toml"), "colour"),
    (lambda root: ha.load_recipe(root / "recipe_bad_argument.toml"), "takes no argument max_roundz"),
    (lambda root: ha.HyPerAlign()(prompt="   ", examples=[GOOD_TEXT]), "the prompt is empty"),
    (lambda root: ha.HyPerAlign()(prompt="x"), "give either a profile or the user's example texts"),
    (lambda root: ha.evaluate(SUITE, lm=ha.lm("openai/m", api_base=NOWHERE), limit=0), "--limit must be at least 1"),
]


@pytest.mark.parametrize(("call", "fragment"), API_CASES, ids=[f"api-{n:02d}" for n in range(len(API_CASES))])
def test_the_api_raises_one_documented_exception(call, fragment, files):
    with pytest.raises(ha.HyperAlignError) as raised:
        call(files)
    assert all(part in str(raised.value) for part in fragments(fragment, files)) and "\n" not in str(raised.value)
