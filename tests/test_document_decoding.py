"""The document writer's decoding on the embedded engine: no end before half the person's length,
no n-gram ban unless asked for (barred from a repeat, the 1.5B model wrote it again misspelt), and
the loop stop."""

from __future__ import annotations

import types

import numpy as np
import pytest
from dspy.lm15 import Config, Message, Request

import hyperalign_dspy as ha
from hyperalign_dspy.lms.llama_engine import LlamaCppEngine
from hyperalign_dspy.lms.token_bans import TokenBans
from hyperalign_dspy.tasks.authorship.counting.text_counts import count
from hyperalign_dspy.tasks.authorship.stages.write_as_person import WriteAsPerson


def test_no_end_before_the_fewest_tokens():
    bans = TokenBans(ends=np.array([9]), fewest=3)
    bans(np.array([0]), np.zeros(10))
    assert bans(np.array([0, 1, 2]), np.zeros(10))[9] == -np.inf
    assert bans(np.array([0, 1, 2, 3]), np.zeros(10))[9] == 0  # three tokens written: it may end


def writer_on(engine, settings):
    return WriteAsPerson(settings, lm=types.SimpleNamespace(engine=engine))


def test_the_document_writer_asks_for_the_shortest_length_and_the_loop_stop_not_the_ngram_ban(profile):
    profile = profile.model_copy(update={"counts": count(["Door to desk, 24 minutes. Rain or not. " * 20])})
    engine = types.SimpleNamespace(supports_token_bans=True, supports_documents=True, supports_grammar=False,
                                   supports_loop_stop=True)
    metadata = writer_on(engine, ha.AuthorshipSettings(document_writer=True)).decoding(profile, [])["metadata"]
    assert metadata == {"banned_marks": profile.counts.unused_marks, "stop_on_repeat": 16,
                        "fewest_tokens": round(profile.counts.words_per_text / 2 * 1.5)}
    # The n-gram ban comes back with `token_bans`.
    settings = ha.AuthorshipSettings(document_writer=True, token_bans=True)
    assert writer_on(engine, settings).decoding(profile, [])["metadata"]["no_repeat_ngram"] == 5
    # The chat writer asks for no shortest length: its length grammar does that job.
    chat = writer_on(engine, ha.AuthorshipSettings(document_writer=False))
    assert "fewest_tokens" not in chat.decoding(profile, []).get("metadata", {})


@pytest.mark.runtime
def test_the_embedded_engine_writes_on_past_where_it_would_end():
    engine = LlamaCppEngine("local-small")

    def answer(**metadata):
        config = Config(max_tokens=120, temperature=0.0, seed=0, extensions={"metadata": {"document": True, **metadata}})
        document = Message.user("Q: What is two plus two?\nA: Four.")
        return engine.complete(Request(model="local-small", messages=(document,), config=config))

    # SmolLM2 ends this document at once; held to 30 tokens, it writes at least 30.
    short, longer = answer(), answer(fewest_tokens=30)
    assert short.usage.output_tokens < 30 <= longer.usage.output_tokens
