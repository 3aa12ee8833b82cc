"""The typed attributes accept what an LM under a grammar can produce, within reason."""

import re

import pytest

from hyperalign_dspy.tasks.authorship.signatures import UserAttributes


@pytest.mark.parametrize(("emitted", "kept"), [(1028769345, 100_000), (0, 1), (-5, 1), (540, 540)])
def test_typical_length_is_clamped_to_a_plausible_range(attributes, emitted, kept):
    assert UserAttributes(**{**attributes, "typical_length_words": emitted}).typical_length_words == kept


def hypotheses_schema():
    from dspy.adapters.json_adapter import _get_structured_outputs_response_format

    from hyperalign_dspy.tasks.authorship.signatures import InferHypotheses

    return _get_structured_outputs_response_format(InferHypotheses).model_json_schema()["properties"]["hypotheses"]


def test_the_response_schema_asks_for_one_hypothesis_per_aspect_of_three_kinds():
    from hyperalign_dspy.tasks.authorship.signatures import ASPECTS, KIND_OF, KINDS

    schema = hypotheses_schema()
    assert schema["minItems"] == schema["maxItems"] == len(ASPECTS) == 13
    assert set(KINDS) == {"communication", "personality", "style"} and set(KIND_OF) == set(ASPECTS)
    assert all(re.match(schema["items"]["pattern"], f"{aspect}: The writer x (evidence: 'y')") for aspect in ASPECTS)
    assert not re.match(schema["items"]["pattern"], "Plot: The writer x (evidence: 'y')")


@pytest.mark.parametrize(("hypothesis", "fits"), [
    ("Paragraphs: The writer writes 18 paragraphs of 1.4 sentences (evidence: 'a paragraph has 1.4 sentences')", True),
    ("Paragraphs: The writer writes 18 paragraphs, which is common (evidence: '18 paragraphs')", False),
    ("Paragraphs: The writer " + "very " * 24 + "short paragraphs (evidence: '18')", False),  # 26 words
    ("Paragraphs: The writer " + "very " * 23 + "short paragraphs (evidence: '18')", True),
    ("Paragraphs: The writer writes 18 (evidence: '" + "quote " * 12 + "ends')", False),  # 13 words
    ("Paragraphs: The writer writes 18; and more (evidence: '18')", False),
    ("Paragraphs: The writer writes 18 paragraphs", False),
    ("Reader: The writer speaks to the reader as you (evidence: 'I'm not trying to convert anyone')", True),
    ("Voice: The writer reports without taking sides (evidence: 'analysts' said')", False),  # a closing quote inside
])
def test_the_grammar_admits_one_claim_with_evidence_and_refuses_an_explained_one(hypothesis, fits):
    assert bool(re.match(hypotheses_schema()["items"]["pattern"], hypothesis)) is fits


def test_parsing_accepts_hypotheses_in_any_form():
    # The schema binds the embedded models' grammar; another LM's hypotheses still parse.
    import pydantic

    from hyperalign_dspy.tasks.authorship.signatures import Hypotheses

    assert pydantic.TypeAdapter(Hypotheses).validate_python(["Writes short paragraphs."]) == ["Writes short paragraphs."]
