"""Token bans on the embedded engine: no mark the person never writes, no run of tokens written
twice; asked for by stage 2 with the `token_bans` setting."""

from __future__ import annotations

import types

import numpy as np
import pytest
from dspy.lm15 import Config, Message, Request

import hyperalign_dspy as ha
from hyperalign_dspy.lms.llama_engine import LlamaCppEngine
from hyperalign_dspy.lms.token_bans import TokenBans, repeated_next_tokens
from hyperalign_dspy.tasks.authorship.counting.text_counts import count, unused_marks
from hyperalign_dspy.tasks.authorship.stages.write_as_person import WriteAsPerson


def test_the_marks_a_person_never_writes():
    assert unused_marks(["Costs rose [sic] 5%.", "Email me: a@b.c"]) == "{}<>#*_|~`^\\=+"
    assert count(["No marks at all here."]).unused_marks == "[]{}<>#*_|~`^@\\=+"


def test_a_token_that_would_write_a_run_again_is_found():
    assert repeated_next_tokens([1, 2, 3, 4, 9, 1, 2, 3], ngram=4) == {4}
    assert repeated_next_tokens([1, 2, 3, 4, 9, 1, 2], ngram=4) == set()
    assert repeated_next_tokens([1, 2], ngram=4) == set()


def test_bans_count_the_answer_only_so_the_prompts_opening_can_be_copied():
    bans = TokenBans(banned=np.array([7]), ngram=3)
    prompt = [1, 2, 3, 4]
    scores = bans(np.array(prompt), np.zeros(10))
    assert scores[7] == -np.inf and np.isfinite(scores[:7]).all()  # the prompt's runs are not the answer's
    # The answer so far, 1 2 5 1 2: writing 5 again would repeat the run 1 2 5; the prompt's 1 2 3 is free.
    scores = bans(np.array([*prompt, 1, 2, 5, 1, 2]), np.zeros(10))
    assert scores[5] == -np.inf and np.isfinite(scores[[0, 1, 2, 3, 4, 6]]).all()


def writer_on(engine, settings):
    return WriteAsPerson(settings, lm=types.SimpleNamespace(engine=engine))


def test_stage_two_asks_for_bans_only_with_the_setting_on_an_engine_that_takes_them(profile):
    profile = profile.model_copy(update={"counts": count(["Door to desk, 24 minutes. Rain or not."])})
    bans = types.SimpleNamespace(supports_token_bans=True, supports_grammar=False)
    assert writer_on(bans, ha.AuthorshipSettings()).decoding(profile, []) == {}
    on = ha.AuthorshipSettings(token_bans=True, no_repeat_ngram=4)
    assert writer_on(bans, on).decoding(profile, []) == {
        "metadata": {"no_repeat_ngram": 4, "banned_marks": "[]{}<>#*_|~`^@\\=+"}}
    assert writer_on(types.SimpleNamespace(supports_grammar=False), on).decoding(profile, []) == {}


@pytest.mark.runtime
def test_the_embedded_engine_writes_none_of_the_banned_marks_and_no_run_twice():
    engine = LlamaCppEngine("local-small")
    ask = "Write a letter template with placeholders like [Name] and [Date], in markdown with **bold** headings."
    config = dict(max_tokens=160, temperature=0.7, seed=0)
    free = engine.complete(Request(model="local-small", messages=(Message.user(ask),), config=Config(**config)))
    banned = engine.complete(Request(model="local-small", messages=(Message.user(ask),), config=Config(
        **config, extensions={"metadata": {"banned_marks": "[]*#", "no_repeat_ngram": 4}})))
    free_text, text = free.message.parts[0].text, banned.message.parts[0].text
    assert any(mark in free_text for mark in "[]*#")  # asked for them, SmolLM2 writes them
    assert len(text.split()) > 10 and not any(mark in text for mark in "[]*#")
    tokens = engine.llama.tokenize(text.encode("utf-8"), add_bos=False)
    runs = [tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)]
    assert len(runs) - len(set(runs)) <= 2  # retokenizing the text may split a word differently
