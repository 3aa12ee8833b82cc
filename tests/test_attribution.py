"""Stylometric attribution on texts whose author is known."""

from __future__ import annotations

import pytest

from hyperalign_dspy.core.output_checks import without_prompt_text
from hyperalign_dspy.tasks.authorship.evaluation.attribution import AuthorAttribution
from hyperalign_dspy.tasks.authorship.data.authors import load_authors


def test_dev_authors_real_test_texts_are_attributed_far_above_chance():
    examples = load_authors()
    samples = {example.author: [text.text for text in example.examples] for example in examples}
    model = AuthorAttribution(samples)
    texts = [without_prompt_text(example.reference, example.prompt) for example in examples]
    accuracy = model.accuracy(texts, [example.author for example in examples])
    # 48 held-out texts of 12 authors: chance is 1/12; measured 0.77.
    assert accuracy >= 0.6


def test_attribution_follows_character_habits_not_order():
    samples = {
        "shouter": ["WOW!!! THIS IS HUGE!!! NOBODY SAW IT COMING!!!", "AMAZING!!! WHAT A DAY!!!"],
        "whisperer": ["perhaps, in a way, it was quiet; perhaps not.", "softly, slowly; the evening went on."],
        "counter": ["Sales rose 4.5% to $12.3 million in 1996 from $11.8 million.", "Output was 3,400 tonnes, up 2.1%."],
    }
    model = AuthorAttribution(samples)
    texts = ["WHAT A GAME!!! UNBELIEVABLE!!!", "quietly, perhaps; the rain went on.", "Profit fell 7.2% to $4.1 million."]
    assert model.attribute(texts) == ["shouter", "whisperer", "counter"]
    assert model.accuracy(texts, ["shouter", "whisperer", "counter"]) == 1.0
    assert model.accuracy(texts[::-1], ["shouter", "whisperer", "counter"]) == pytest.approx(1 / 3)
    assert model.accuracy([], []) is None
    assert model.hits(texts[::-1], ["shouter", "whisperer", "counter"]) == [False, True, False]


def test_attribution_needs_two_authors():
    with pytest.raises(ValueError, match="at least two authors"):
        AuthorAttribution({"only": ["one text"]})
