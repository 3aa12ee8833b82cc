"""Helpers that several test modules share: scripted LMs, running the CLI for its JSON, the shipped
recipes, and the profiles the scripted-LM tests write from."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import dspy
from dspy.utils import DummyLM
from project import PROJECT_ROOT

RECIPES = sorted((PROJECT_ROOT / "optimizers").glob("*.toml"))
RECIPE_IDS = [path.stem for path in RECIPES]
BOOTSTRAP = PROJECT_ROOT / "optimizers" / "bootstrap-fewshot.toml"


@contextlib.contextmanager
def new_dspy_cache(folder: Path):
    """A new, empty DSPy cache (memory and disk) in `folder` while the block runs."""
    previous = dspy.cache
    dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True, disk_cache_dir=str(folder / "dspy_cache"))
    try:
        yield dspy.cache
    finally:
        with dspy._cache_lock:
            dspy.cache = previous


def json_lm(answers: list[dict], **kwargs) -> DummyLM:
    """A DummyLM that returns `answers` (dicts of output fields) in turn, through the JSON adapter."""
    return DummyLM(answers, adapter=dspy.JSONAdapter(), **kwargs)


def responses_lm(responses: list[str]) -> DummyLM:
    """A JSON-adapter DummyLM that answers each `response` in turn (stage 2's one output field)."""
    return json_lm([{"response": response} for response in responses])


def personalized(profile, prompt: str, responses: list[str], settings=None):
    """HyPerAlign's answer to `prompt` for `profile` when the LM answers `responses` in turn; and the LM."""
    from hyperalign_dspy import HyPerAlign

    lm = responses_lm(responses)
    with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        return HyPerAlign(settings=settings)(profile=profile, prompt=prompt), lm


def cli_json(argv: list[str], capsys) -> dict:
    """Run the CLI with `argv` (which asks for --json), expect status 0, return the printed JSON."""
    from hyperalign_dspy.cli import main

    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def run_eval(base: str, suite: Path, capsys, *extra: str) -> dict:
    """`hyperalign eval SUITE --json` on the test model at the server `base`; the report."""
    return cli_json(["eval", str(suite), "--lm", "openai/test-model", "--api-base", base, "--json", *extra], capsys)


def compile_args(base: str, recipe: Path, suite: Path, out: Path, *extra: str) -> list[str]:
    """`hyperalign compile` of `recipe` on `suite` to `out`, on the test model at the server `base`."""
    return ["compile", "--optimizer", str(recipe), "--suite", str(suite), "--out", str(out),
            "--lm", "openai/test-model", "--api-base", base, *extra]
