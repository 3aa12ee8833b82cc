"""`--set NAME=VALUE`: a program setting from the command line, over the defaults (or a program's,
a suite's, a recipe's own), as a user on a paid API sets `attempts` without writing a TOML table.
Bad names and values are cases of test_bad_input.py."""

from __future__ import annotations

import json

import mlflow
import pytest
from helpers import BOOTSTRAP, cli_json, compile_args, run_eval
from word_authors import SIX_AUTHORS, write_suite

from hyperalign_dspy import HyPerAlign
from hyperalign_dspy.cli import main
from hyperalign_dspy.core.settings import parse_assignments
from hyperalign_dspy.program_files import load_program, metadata_path
from hyperalign_dspy.tasks.authorship.settings import AuthorshipSettings


def test_values_are_read_as_toml_and_plain_text_otherwise():
    assert parse_assignments(["attempts=2", "temperature=0.3", "length_grammar=false", 'stage_two_notes=["hypotheses"]',
                              "note=plain words"]) == {
        "attempts": 2, "temperature": 0.3, "length_grammar": False, "stage_two_notes": ["hypotheses"],
        "note": "plain words"}


def test_a_change_is_checked_and_counts_as_set():
    changed = AuthorshipSettings(attempts=3).updated({"attempts": 1, "stage_two_notes": ["hypotheses"]})
    assert (changed.attempts, changed.stage_two_notes, changed.length_grammar) == (1, ["hypotheses"], True)
    # A suite's table changed this way still goes over the task's defaults with the changed knobs only.
    assert {"attempts", "stage_two_notes"} <= changed.model_fields_set


@pytest.fixture
def long_writer(profile, tmp_path):
    """A saved profile of a person whose texts are 5,000 words: no answer of the fake LM is long
    enough for them, so stage 2 makes every attempt it may."""
    profile.attributes.typical_length_words = 5000
    path = tmp_path / "long-writer.json"
    profile.save(path)
    return path


def test_set_attempts_and_temperature_reach_stage_two(server, long_writer, capsys):
    def personalize(prompt, *extra):
        server.requests.clear()
        cli_json(["personalize", "--profile", str(long_writer), "--prompt", prompt, "--lm", "openai/test-model",
                  "--api-base", server.base, "--json", *extra], capsys)
        return [request["body"] for request in server.requests]

    assert len(personalize("Write about rain.")) == HyPerAlign.default_settings.attempts == 3
    calls = personalize("Write about snow.", "--set", "attempts=1", "--set", "temperature=0.2")
    assert len(calls) == 1
    assert calls[0]["temperature"] == 0.2


def test_set_goes_over_the_suites_program_table_in_an_eval(server, tmp_path, capsys):
    suite = write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=0)
    report = run_eval(server.base, suite, capsys, "--limit", "2", "--set", "attempts=1", "--set", "fit_share=0.5")
    params = mlflow.get_run(report["mlflow_run_id"]).data.params
    assert (params["program.attempts"], params["program.fit_share"]) == ("1", "0.5")


def test_set_goes_over_the_recipes_program_table_in_a_compile(server, tmp_path):
    out = tmp_path / "p.json"
    suite = write_suite(tmp_path, **SIX_AUTHORS)
    assert main(compile_args(server.base, BOOTSTRAP, suite, out, "--limit", "1", "--set", "attempts=2")) == 0
    assert json.loads(metadata_path(out).read_text())["program_settings"]["attempts"] == 2
    assert load_program(out).settings.attempts == 2
