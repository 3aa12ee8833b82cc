"""The typed attributes accept what an LM under a grammar can produce, within reason."""

import pytest

from hyperalign_dspy.signatures import UserAttributes


@pytest.mark.parametrize(("emitted", "kept"), [(1028769345, 100_000), (0, 1), (-5, 1), (540, 540)])
def test_typical_length_is_clamped_to_a_plausible_range(attributes, emitted, kept):
    assert UserAttributes(**{**attributes, "typical_length_words": emitted}).typical_length_words == kept


def hypothesis_patterns():
    import re

    from dspy.adapters.json_adapter import _get_structured_outputs_response_format

    from hyperalign_dspy.signatures import InferHypotheses

    schema = _get_structured_outputs_response_format(InferHypotheses).model_json_schema()
    return [re.compile(item["pattern"]) for item in schema["properties"]["hypotheses"]["prefixItems"]]


def test_the_response_schema_asks_for_one_hypothesis_per_aspect_in_order():
    from hyperalign_dspy.signatures import ASPECTS

    patterns = hypothesis_patterns()
    assert [pattern.pattern.split(":")[0].lstrip("^") for pattern in patterns] == list(ASPECTS)


@pytest.mark.parametrize(("aspect", "hypothesis", "fits"), [
    ("Paragraphs", "Paragraphs: The author writes 18 paragraphs of 1.4 sentences (evidence: 'a paragraph has 1.4 sentences')", True),
    ("Paragraphs", "Paragraphs: The author writes 18 paragraphs, which is common (evidence: '18 paragraphs')", False),
    ("Paragraphs", "Paragraphs: The author writes short paragraphs. They are easy to read (evidence: '18')", False),
    ("Paragraphs", "Paragraphs: The author writes 18 paragraphs", False),
    ("Paragraphs", "Sentences: The author writes 18 paragraphs (evidence: '18')", False),
    ("Voice", "Voice: The author reports without taking sides (evidence: 'analysts said')", True),
])
def test_the_grammar_admits_one_claim_with_evidence_and_refuses_an_explained_one(aspect, hypothesis, fits):
    from hyperalign_dspy.signatures import ASPECTS

    assert bool(hypothesis_patterns()[ASPECTS.index(aspect)].match(hypothesis)) is fits


def test_parsing_accepts_hypotheses_in_any_form():
    # The schema binds the embedded models' grammar; another LM's hypotheses still parse.
    import pydantic

    from hyperalign_dspy.signatures import Hypotheses

    assert pydantic.TypeAdapter(Hypotheses).validate_python(["Writes short paragraphs."]) == ["Writes short paragraphs."]
