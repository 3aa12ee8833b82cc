"""Randomized input (hypothesis) for the loaders of the user's files: texts, JSON Lines (user texts,
authors, safety prompts), profiles and TOML (suites, recipes). Whatever the file holds, a loader
returns or raises `HyperAlignError` with one line that names the problem; nothing else escapes."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import RECIPE_IDS, RECIPES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project import PROJECT_ROOT

from hyperalign_dspy import HyperAlignError, UserProfile
from hyperalign_dspy.core.user_texts import read_user_texts
from hyperalign_dspy.evaluation.suite import load_suite
from hyperalign_dspy.optimize.recipe import load_recipe
from hyperalign_dspy.tasks.authorship.data.authors import load_authors
from hyperalign_dspy.tasks.deliberative.evaluation.safety_prompts import load_safety_prompts

# Each example writes a file and reads it: a few hundred of them per loader stay within seconds,
# except JSON Lines, which `datasets` reads (about a tenth of a second a file).
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)


def loads_or_says_why(load: Callable[[Path], object], name: str, content: bytes | str) -> None:
    """`content` in a new file `name`: `load(path)` returns, or raises HyperAlignError with one
    non-empty line."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    try:
        load(path)
    except HyperAlignError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, repr(message)
    finally:
        shutil.rmtree(folder)


@MANY
@given(st.binary(max_size=600) | st.text(max_size=600))
def test_any_text_file(content):
    loads_or_says_why(lambda path: read_user_texts([path]), "text.txt", content)


def json_lines(row: st.SearchStrategy) -> st.SearchStrategy[str]:
    """Lines of JSON rows (mostly objects shaped like the loader's), now and then a line of anything."""
    line = st.one_of(row.map(json.dumps), JSON_VALUES.map(json.dumps), st.text(max_size=40))
    return st.lists(line, min_size=0, max_size=4).map("\n".join)


TEXT_ROWS = st.fixed_dictionaries({}, optional={"text": JSON_VALUES | st.text(max_size=80), "id": JSON_VALUES,
                                               "doc_id": JSON_VALUES})
USER_TEXTS = st.lists(TEXT_ROWS | st.text(max_size=40), max_size=3)
AUTHOR_ROWS = st.fixed_dictionaries({}, optional={
    "author": JSON_VALUES, "fewshot": USER_TEXTS | JSON_VALUES,
    "test": st.lists(st.fixed_dictionaries({}, optional={"prompt": JSON_VALUES, "text": JSON_VALUES,
                                                          "doc_id": JSON_VALUES}), max_size=2) | JSON_VALUES})
PROMPT_ROWS = st.fixed_dictionaries({}, optional={
    "prompt": JSON_VALUES, "label": st.sampled_from(["safe", "unsafe", "maybe"]) | JSON_VALUES,
    "id": JSON_VALUES, "source": JSON_VALUES, "type": JSON_VALUES})


JSON_LINES_LOADERS = {
    "user-texts": (lambda path: read_user_texts([path]), TEXT_ROWS),
    "authors": (load_authors, AUTHOR_ROWS),
    "safety-prompts": (lambda path: load_safety_prompts([path]), PROMPT_ROWS),
}


@pytest.mark.parametrize("kind", JSON_LINES_LOADERS)
@FEW
@given(data=st.data())
def test_any_json_lines(kind, data):
    load, rows = JSON_LINES_LOADERS[kind]
    loads_or_says_why(load, f"{kind}.jsonl", data.draw(json_lines(rows)))


def a_saved_profile() -> dict:
    return {"hypotheses": [{"kind": "style", "text": "Voice: The writer says I (evidence: 'I went')"}],
            "attributes": {"domain": "commuting", "genre": "blog post", "typical_length_words": 120,
                           "formality": "casual", "perspective": "first person", "tone": "wry",
                           "sentence_style": "short", "paragraph_style": "short", "recurring_devices": [],
                           "characteristic_phrases": []},
            "source_ids": ["a.txt"]}


@st.composite
def profiles(draw) -> str:
    """A saved profile with some of its values replaced by anything, or anything at all."""
    if draw(st.booleans()):
        return draw(st.text(max_size=200) | JSON_VALUES.map(json.dumps))
    profile = a_saved_profile()
    for key in draw(st.lists(st.sampled_from([*profile, "counts", "checks"]), max_size=3)):
        profile[key] = draw(JSON_VALUES)
    if draw(st.booleans()) and isinstance(profile["attributes"], dict) and profile["attributes"]:
        name = draw(st.sampled_from(sorted(profile["attributes"])))
        profile["attributes"] = {**profile["attributes"], name: draw(JSON_VALUES)}
    return json.dumps(profile)


def test_the_unchanged_profile_loads(tmp_path):
    (tmp_path / "profile.json").write_text(json.dumps(a_saved_profile()))
    assert UserProfile.load(tmp_path / "profile.json").attributes.domain == "commuting"


@MANY
@given(profiles() | st.binary(max_size=200))
def test_any_profile_file(content):
    loads_or_says_why(UserProfile.load, "profile.json", content)


def toml_value(value) -> str:
    """`value` written as TOML (a string as a basic string; JSON's escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, (int, str)):
        return json.dumps(value) if isinstance(value, str) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + " }"
    return '""'  # None: TOML has no null


TOML_VALUES = st.recursive(
    st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6)


@st.composite
def mutated_toml(draw, original: str) -> str:
    """`original` with some lines dropped, some values replaced, a key added; or any text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=300))
    lines = []
    for line in original.splitlines():
        action = draw(st.sampled_from(["keep"] * 6 + ["drop", "replace"]))
        if action == "drop":
            continue
        if action == "replace" and " = " in line and not line.lstrip().startswith("#"):
            line = f"{line.split(' = ', 1)[0]} = {toml_value(draw(TOML_VALUES))}"
        lines.append(line)
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), f"{draw(st.from_regex(r'[a-z_]{1,12}', fullmatch=True))} = "
                                                       f"{toml_value(draw(TOML_VALUES))}")
    return "\n".join(lines)


SUITES = sorted(path for path in (PROJECT_ROOT / "evals").glob("*.toml") if path.name != "benchmark.toml")
_SUITES_FOLDER: list[Path] = []


def suites_folder() -> Path:
    """A folder holding a copy of `evals/data`, made once."""
    if not _SUITES_FOLDER:
        folder = Path(tempfile.mkdtemp(prefix="fuzz-suites-"))
        shutil.copytree(PROJECT_ROOT / "evals" / "data", folder / "data")
        _SUITES_FOLDER.append(folder)
    return _SUITES_FOLDER[0]


@pytest.mark.parametrize("original", SUITES, ids=[path.stem for path in SUITES])
@MANY
@given(data=st.data())
def test_any_change_to_a_suite(original, data):
    # Beside a copy of the suites' data, where their paths lead.
    loads_or_says_why(lambda path: load_suite(shutil.copy(path, suites_folder() / original.name)), original.name,
                      data.draw(mutated_toml(original.read_text())))


@pytest.mark.parametrize("original", RECIPES, ids=RECIPE_IDS)
@MANY
@given(data=st.data())
def test_any_change_to_a_recipe(original, data):
    loads_or_says_why(load_recipe, original.name, data.draw(mutated_toml(original.read_text())))
