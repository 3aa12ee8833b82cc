"""The loop stop on the embedded engine: once an answer's last run of tokens stands earlier in it,
the answer ends; stage 2 asks for it by default (`stop_on_repeat`)."""

from __future__ import annotations

import types

import numpy as np
import pytest
from dspy.lm15 import Config, Message, Request

import hyperalign_dspy as ha
from hyperalign_dspy.lms.llama_engine import LlamaCppEngine
from hyperalign_dspy.lms.loop_stop import RepeatStop, repeats_its_tail
from hyperalign_dspy.tasks.authorship.counting.text_counts import count
from hyperalign_dspy.tasks.authorship.stages.write_as_person import WriteAsPerson



def test_a_tail_that_stands_earlier_is_a_repeat():
    assert repeats_its_tail([1, 2, 3, 4, 1, 2, 3], run=3)
    assert not repeats_its_tail([1, 2, 3, 4, 1, 2, 5], run=3)
    assert not repeats_its_tail([1, 2, 3], run=3)  # the tail itself is no earlier run
    assert repeats_its_tail([7, 7, 7], run=2)  # overlapping runs count


def test_the_stop_comes_once_the_answers_own_run_repeats():
    stop = RepeatStop(run=3)
    logits = np.zeros(10)
    prompt = [1, 2, 3, 4, 1, 2]
    assert not stop(np.array(prompt), logits)  # the prompt's runs are not the answer's
    assert not stop(np.array([*prompt, 1, 2, 3, 5]), logits)
    assert stop(np.array([*prompt, 1, 2, 3, 5, 1, 2, 3]), logits)


def test_stage_two_asks_for_the_stop_on_an_engine_that_takes_it(profile):
    profile = profile.model_copy(update={"counts": count(["Door to desk, 24 minutes. Rain or not."])})
    stops = types.SimpleNamespace(supports_loop_stop=True, supports_grammar=False)

    def decoding(engine, settings):
        return WriteAsPerson(settings, lm=types.SimpleNamespace(engine=engine)).decoding(profile, [])

    assert decoding(stops, ha.AuthorshipSettings()) == {"metadata": {"stop_on_repeat": 16}}
    assert decoding(stops, ha.AuthorshipSettings(stop_on_repeat=0)) == {}
    assert decoding(types.SimpleNamespace(supports_grammar=False), ha.AuthorshipSettings()) == {}


@pytest.mark.runtime
def test_the_embedded_engine_ends_an_answer_that_loops():
    engine = LlamaCppEngine("local-small")
    line = "I will not talk in class."
    document = f"Lines I wrote on the blackboard:\n\n{line}\n{line}\n{line}\n"
    config = {"max_tokens": 200, "temperature": 0.0, "seed": 0}

    def answer(**metadata):
        return engine.complete(Request(model="local-small", messages=(Message.user(document),),
                                       config=Config(**config, extensions={"metadata": {"document": True, **metadata}})))

    free, stopped = answer(), answer(stop_on_repeat=12)
    assert free.message.parts[0].text.count(line) >= 3  # SmolLM2 writes the line again and again
    text = stopped.message.parts[0].text
    assert stopped.finish_reason == "stop" and text.count(line) <= 2  # ended within its second repeat
    assert stopped.usage.output_tokens < free.usage.output_tokens


@pytest.mark.runtime
def test_the_embedded_engine_ends_a_loop_under_a_grammar_that_forbids_the_end_there():
    # The length grammar lets an answer end only past half the person's length: in the demo both
    # runaway answers were written under it, to max_tokens.
    engine = LlamaCppEngine("local-small")
    line = "I will not talk in class."
    at_least_200_words = 'root ::= word (" " word){199,}\nword ::= [^ \\n]{1,20}'
    config = {"max_tokens": 300, "temperature": 0.0, "seed": 0}

    def answer(**metadata):
        return engine.complete(Request(model="local-small", messages=(Message.user(f"Write '{line}' ten times."),),
                                       config=Config(**config, extensions={"metadata": {"gbnf": at_least_200_words,
                                                                                        **metadata}})))

    free, stopped = answer(), answer(stop_on_repeat=12)
    assert free.finish_reason == "length"  # the grammar held it to the limit
    assert stopped.finish_reason == "stop" and stopped.usage.output_tokens < free.usage.output_tokens / 2
    assert stopped.message.parts[0].text.count(line) <= 3
