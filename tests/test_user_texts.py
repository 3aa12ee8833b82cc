"""as_user_texts (ids, errors) and fit_to_context (trimming to a context window)."""

from __future__ import annotations

import hashlib
import logging

import pytest

from hyperalign_dspy import HyperAlignError
from hyperalign_dspy.core.user_texts import CHARS_PER_TOKEN, INSTRUCTION_TOKENS, UserText, as_user_texts, fit_to_context


def budget_chars(context_tokens: int, reserved_tokens: int) -> int:
    return int((context_tokens - reserved_tokens - INSTRUCTION_TOKENS) * CHARS_PER_TOKEN)


def prose(sentences: int, word: str = "gold") -> str:
    return " ".join(f"Sentence {n} says the {word} price rose again." for n in range(sentences))


# --- as_user_texts ---------------------------------------------------------------------------------


def test_plain_strings_get_sha256_ids():
    texts = ["First text.", "Second text."]
    result = as_user_texts(texts)
    assert [t.text for t in result] == texts
    assert [t.id for t in result] == ["sha256:" + hashlib.sha256(t.encode()).hexdigest()[:12] for t in texts]


def test_same_text_same_id_different_text_different_id():
    (first,), (again,) = as_user_texts(["Same text."]), as_user_texts(["Same text."])
    assert first.id == again.id
    assert first.id != as_user_texts(["Other text."])[0].id
    with pytest.raises(HyperAlignError, match="text 2 has the duplicate id"):
        as_user_texts(["Same text.", "Same text."])


def test_user_texts_and_mappings_keep_their_ids():
    given = UserText(id="kept", text="A kept text.")
    result = as_user_texts([given, {"id": 7, "text": "Numbered."}, {"doc_id": "d-1", "text": "Doc."},
                            {"text": "No id."}, "plain"])
    assert result[0] is given
    assert [t.id for t in result[1:4]] == ["7", "d-1", "sha256:" + hashlib.sha256(b"No id.").hexdigest()[:12]]
    assert result[4] == UserText(id="sha256:" + hashlib.sha256(b"plain").hexdigest()[:12], text="plain")


def test_any_iterable_is_accepted():
    result = as_user_texts(text for text in ["one text", "two text"])
    assert [t.text for t in result] == ["one text", "two text"]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["fine", ""], r"text 2 \(sha256:[0-9a-f]{12}\) is empty"),
        (["  \n\t "], r"text 1 .* is empty"),
        ([{"id": "blank", "text": "   "}], r"text 1 \(blank\) is empty"),
        ([UserText(id="u", text="")], r"text 1 \(u\) is empty"),
        (["fine", 12], r"text 2 is a int, expected a string or a mapping with 'text'"),
        ([{"id": "x", "body": "no text key"}], r"text 1 is a dict"),
        ([{"text": b"bytes"}], r"text 1 is a dict"),
        ([None], r"text 1 is a NoneType"),
        ([], r"no texts given"),
    ],
)
def test_as_user_texts_errors(texts, message):
    with pytest.raises(HyperAlignError, match=message):
        as_user_texts(texts)


# --- fit_to_context ---------------------------------------------------------------------------------


def test_texts_within_budget_are_untouched_and_nothing_is_logged(caplog):
    texts = as_user_texts([prose(5), prose(8, "copper")])
    with caplog.at_level(logging.WARNING, logger="hyperalign_dspy"):
        fitted = fit_to_context(texts, context_tokens=8192, reserved_tokens=1024)
    assert fitted.texts == [t.text for t in texts]
    assert fitted.trimmed_ids == []
    assert fitted.chars_removed == 0
    assert caplog.records == []


def test_over_budget_trims_long_texts_keeps_all_and_logs_their_ids(caplog):
    context, reserved = 2000, 100
    budget = budget_chars(context, reserved)  # 3500 characters
    short = UserText(id="short", text=prose(6))  # ~290 characters, well under an even share
    long_a = UserText(id="long-a", text=prose(120))  # ~6000 characters
    long_b = UserText(id="long-b", text=prose(100, "nickel"))
    texts = [long_a, short, long_b]
    assert sum(len(t.text) for t in texts) > budget

    with caplog.at_level(logging.WARNING, logger="hyperalign_dspy"):
        fitted = fit_to_context(texts, context_tokens=context, reserved_tokens=reserved)

    assert len(fitted.texts) == len(texts)  # none dropped
    assert all(kept.strip() for kept in fitted.texts)
    assert fitted.texts[1] == short.text  # the short text keeps all of its characters
    assert fitted.trimmed_ids == ["long-a", "long-b"]
    for kept, original in zip(fitted.texts, texts):
        assert original.text.startswith(kept)
    assert sum(len(kept) for kept in fitted.texts) <= budget
    assert fitted.chars_removed == sum(len(t.text) for t in texts) - sum(len(kept) for kept in fitted.texts)
    # The short text's unused share goes to the long ones: each gets more than an even third.
    assert all(len(fitted.texts[i]) > budget // 3 for i in (0, 2))

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "trimmed 2 of 3 texts" in message
    assert "long-a" in message and "long-b" in message and "short" not in message


def test_trimmed_texts_end_at_a_sentence_or_word_boundary():
    text = prose(200)
    fitted = fit_to_context([UserText(id="t", text=text)], context_tokens=2000, reserved_tokens=100)
    kept = fitted.texts[0]
    assert len(kept) < len(text)
    assert kept.endswith(".")  # the last full sentence, not a cut word
    assert text[len(kept)] == " "


def test_exactly_at_budget_is_not_trimmed():
    budget = budget_chars(2000, 100)
    text = ("word " * budget)[:budget]
    fitted = fit_to_context([UserText(id="t", text=text)], context_tokens=2000, reserved_tokens=100)
    assert fitted.trimmed_ids == []
    assert fitted.texts == [text]


def test_the_budget_shrinks_with_reserved_tokens():
    texts = [UserText(id="t", text=prose(200))]
    roomy = fit_to_context(texts, context_tokens=4000, reserved_tokens=100)
    tight = fit_to_context(texts, context_tokens=4000, reserved_tokens=2000)
    assert len(tight.texts[0]) < len(roomy.texts[0])
    assert len(tight.texts[0]) <= budget_chars(4000, 2000)


def test_too_many_texts_for_the_context_is_an_error():
    # (1200 - 100 - 900) * 3.5 = 700 characters: room for 3 texts of 200, not for 4.
    context, reserved = 1200, 100
    assert budget_chars(context, reserved) == 700
    three = [UserText(id=f"t{n}", text=prose(30)) for n in range(3)]
    fitted = fit_to_context(three, context_tokens=context, reserved_tokens=reserved)
    assert len(fitted.texts) == 3
    with pytest.raises(HyperAlignError, match=r"4 texts do not fit a 1200-token context"):
        fit_to_context(three + [UserText(id="t3", text="short")], context_tokens=context, reserved_tokens=reserved)


def test_context_smaller_than_the_reserve_is_an_error():
    with pytest.raises(HyperAlignError, match="do not fit"):
        fit_to_context([UserText(id="t", text="tiny")], context_tokens=1000, reserved_tokens=1024)


def test_a_trim_for_the_callers_budget_is_information_not_a_warning(caplog):
    texts = [UserText(id=f"t{i}", text="word " * 2000) for i in range(3)]
    with caplog.at_level(logging.INFO, logger="hyperalign_dspy"):
        fitted = fit_to_context(texts, context_tokens=100_000, reserved_tokens=1000, limit_tokens=600)
    assert sum(len(t) for t in fitted.texts) <= 600 * CHARS_PER_TOKEN
    assert fitted.trimmed_ids == ["t0", "t1", "t2"]
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "a budget of 600 tokens" in caplog.records[0].getMessage()


def test_many_texts_stretch_the_callers_budget_but_never_the_context():
    texts = [UserText(id=f"t{i}", text="word " * 100) for i in range(60)]
    fitted = fit_to_context(texts, context_tokens=8192, reserved_tokens=2048, limit_tokens=600)
    assert len(fitted.texts) == 60
    assert all(len(t) >= 150 for t in fitted.texts)  # each keeps about its 200-character minimum
    assert sum(len(t) for t in fitted.texts) <= 200 * 60
    with pytest.raises(HyperAlignError, match="do not fit a 2000-token context"):
        fit_to_context(texts, context_tokens=2000, reserved_tokens=1000, limit_tokens=600)
