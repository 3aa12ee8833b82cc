"""The embedded engine samples under a grammar grammar-first (`lms/grammar_first.py`): the grammar
is asked about the token the free chain picks, and masks the vocabulary only when it rejects it."""

from __future__ import annotations

import json
import re

import pytest

from hyperalign_dspy.lms.embedded_models import model_path
from hyperalign_dspy.lms.grammar_first import GrammarFirstLlama
from hyperalign_dspy.lms.llama_engine import grammar_schema
from hyperalign_dspy.tasks.authorship.signatures import ASPECTS, Hypotheses

pytestmark = pytest.mark.runtime

SCHEMA = {"type": "object", "required": ["hypotheses"],
          "properties": {"hypotheses": grammar_schema(Hypotheses.__get_pydantic_json_schema__(None, None))}}
PROMPT = ("Texts: 'I cycle to work. Door to desk, 24 minutes.' 'Rain or not, I ride.'\n"
          "State one hypothesis per aspect about how this person writes, as JSON.")


def small_llama(llama_type):
    from llama_cpp import Llama

    assert issubclass(llama_type, Llama)
    return llama_type(model_path=str(model_path("local-small")), n_ctx=2048, n_threads=2, verbose=False)


def answer_under_schema(llama, **sampling) -> dict:
    result = llama.create_chat_completion(messages=[{"role": "user", "content": PROMPT}], max_tokens=700,
                                          response_format={"type": "json_object", "schema": SCHEMA}, **sampling)
    return result["choices"][0]


def test_greedy_decoding_under_the_schema_is_the_stock_samplers_token_for_token():
    # Greedy under a grammar is the best token the grammar allows, whichever way it is found.
    from llama_cpp import Llama

    stock = answer_under_schema(small_llama(Llama), temperature=0.0, repeat_penalty=1.1)
    grammar_first = answer_under_schema(small_llama(GrammarFirstLlama), temperature=0.0, repeat_penalty=1.1)
    assert grammar_first["message"]["content"] == stock["message"]["content"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampled_answers_keep_to_the_schema(seed):
    # At temperature 1 SmolLM2's first pick is often not what the schema allows (a quote, a space):
    # the rejected token is sampled again under the grammar, and the answer parses, in aspect order.
    choice = answer_under_schema(small_llama(GrammarFirstLlama), temperature=1.0, seed=seed, top_k=0, top_p=1.0)
    if choice["finish_reason"] == "length":
        pytest.skip("ran on to max_tokens before the JSON closed")
    # strict=False: the claim pattern lets a raw line break into a string, as DSPy's parser does.
    hypotheses = json.loads(choice["message"]["content"], strict=False)["hypotheses"]
    assert [hypothesis.split(":")[0] for hypothesis in hypotheses] == list(ASPECTS)
    for hypothesis in hypotheses:
        assert re.fullmatch(r"\w+: The writer .+ \(evidence: '.+'\)", hypothesis, re.DOTALL)
