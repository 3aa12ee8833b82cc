"""Token bans on the embedded engine: no mark the person never writes, no run of tokens written
twice; asked for by stage 2 with the `token_bans` setting."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest
from dspy.lm15 import Config, Message, Request

import hyperalign_dspy as ha
from hyperalign_dspy.lms.llama_engine import LlamaCppEngine
from hyperalign_dspy.lms.token_bans import TokenBans, repeated_next_tokens
from hyperalign_dspy.tasks.authorship.checks.foreign_openers import foreign_openers
from hyperalign_dspy.tasks.authorship.counting.text_counts import count, sentences_of, unused_marks
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


def test_the_openers_banned_are_the_answers_and_not_the_persons():
    person = count(["However, the bus is worse. In 2019, I timed it. Honestly, it is 24 minutes."]).sentence_openings
    assert person == ["honestly", "honestly it", "however", "however the", "in", "in 2019"]
    answer = ("Some argue for it. However, others do not. Ultimately, it depends.\n\nIn conclusion, both sides "
              "matter. Honestly, I ride. In 2019, I rode. London, a city of buses, is big. I like London. Paris, too.")
    # "However", "Honestly" and "In 2019" open the person's sentences; London is a name in the answer, Paris in the prompt.
    assert foreign_openers([answer], person, prompt="Write about Paris.") == ["Ultimately", "In conclusion"]
    assert foreign_openers([answer, "Ultimately, yes."], person) == ["Ultimately", "In conclusion", "Paris"]
    assert foreign_openers(["Some argue for it, and others do not."], person) == []


# A vocabulary of eight pieces, as the processor sees them: 5 " However", 6 " In", 7 " conclusion".
PIECES = ["x", ".", " the", " ", "\n", " However", " In", " conclusion"]


def test_an_opener_is_banned_at_a_sentence_start_only():
    def banned_after(answer):
        bans = TokenBans(openers=[[5], [6, 7]], pieces=PIECES)
        bans(np.array([0, 0]), np.zeros(8))  # the prompt
        scores = bans(np.array([0, 0, *answer]), np.zeros(8))
        return {token for token in range(8) if scores[token] == -np.inf}

    assert banned_after([2, 1]) == {5}  # after a full stop: not " However"; " In" may open it
    assert banned_after([2, 1, 6]) == {7}  # "In conclusion" is not completed
    assert banned_after([2, 1, 3, 6]) == {7}  # a space alone between them is no word
    assert banned_after([4, 6, 2]) == set()  # "In the" is free
    assert banned_after([2, 2]) == set() and banned_after([2, 1, 2, 6]) == set()  # inside a sentence
    assert banned_after([]) == set()  # a continued document may begin inside a sentence


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


def test_stage_two_bans_the_openers_of_its_earlier_attempts_with_the_setting(profile):
    profile = profile.model_copy(update={"counts": count(["However, the bus is worse. I have timed it."])})
    bans = types.SimpleNamespace(supports_token_bans=True, supports_grammar=False)
    earlier = ["Cycling is good. Ultimately, however, it depends. However, rain."]
    on = ha.AuthorshipSettings(opener_bans=True, stop_on_repeat=0)
    assert writer_on(bans, on).decoding(profile, [], "Bike or bus?") == {}  # nothing to learn from yet
    assert writer_on(bans, on).decoding(profile, earlier, "Bike or bus?") == {"metadata": {"banned_openers": ["Ultimately"]}}
    assert writer_on(bans, ha.AuthorshipSettings(stop_on_repeat=0)).decoding(profile, earlier, "Bike or bus?") == {}
    # A profile saved before the openers were counted bans none.
    saved_before = profile.model_copy(update={"counts": dataclasses.replace(profile.counts, sentence_openings=None)})
    assert writer_on(bans, on).decoding(saved_before, earlier, "Bike or bus?") == {}


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


@pytest.mark.runtime
def test_the_embedded_engine_opens_no_sentence_with_a_banned_opener():
    engine = LlamaCppEngine("local-small")
    # A document to continue whose every sentence opens with "However,": SmolLM2 writes more of them.
    document = ("However, it rained. However, we went out. However, the streets were empty. However, the shops "
                "were open. However, the bus was late. However, the train was late. However, the car broke")

    def continued(metadata):
        config = Config(max_tokens=60, temperature=0.0, seed=0, extensions={"metadata": {"document": True, **metadata}})
        return engine.complete(Request(model="local-small", messages=(Message.user(document),), config=config)).message.parts[0].text

    opens = lambda text: [s for s in sentences_of(text) if s.startswith("However")]  # noqa: E731
    assert opens(continued({}))
    text = continued({"banned_openers": ["However"]})
    assert len(text.split()) > 10 and not opens(text)
