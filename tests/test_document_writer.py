"""Stage 2 as a document the embedded model continues (`document_writer`, `ContinueAsPerson`
through `DocumentAdapter`): what the document holds, how the call is made, and that the loop of
a small model is stopped."""

from __future__ import annotations

import dspy
import pytest

import hyperalign_dspy as ha
from hyperalign_dspy.lms.llama_engine import LlamaCppEngine
from hyperalign_dspy.tasks.authorship.counting.text_counts import count, words_of
from hyperalign_dspy.tasks.authorship.signatures import ContinueAsPerson

OPENING = "The city council voted on Tuesday to close the old bridge."
PROMPT = f"Write an article that starts with the following: {OPENING}"
TEXT = ('The mayor spoke first.\n\n"We have no choice," she said.\n\n'
        'Work starts in May, officials said.\n\nThe bridge opened in 1931.')


class CompletingLlama:
    """Answers `create_completion` (a document continued) with a scripted continuation, and
    refuses chat, so a call that went the chat way fails the test."""

    def __init__(self, continuation: str, finish_reason: str = "stop"):
        self.continuation, self.finish_reason, self.calls = continuation, finish_reason, []

    def create_completion(self, prompt, **settings):
        self.calls.append({"prompt": prompt, "settings": settings})
        return {"choices": [{"text": self.continuation, "finish_reason": self.finish_reason}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20}}

    # A vocabulary of three tokens, for the token bans to scan.
    def n_vocab(self):
        return 3

    def detokenize(self, tokens):
        return "a*b"[tokens[0]].encode()

    def tokenize(self, text, add_bos=False, special=False):
        return []

    def token_eos(self):
        return 2

    def create_chat_completion(self, messages, **settings):
        raise AssertionError("the document writer called the chat template")


@pytest.fixture
def person(attributes):
    return ha.UserProfile(hypotheses=["Support: The writer quotes an official in every other paragraph (evidence: 'she said')",
                                      "Paragraphs: The writer keeps paragraphs to one sentence (evidence: 'The mayor spoke first.')"],
                          attributes=attributes, source_ids=["a", "b"], counts=count([TEXT, TEXT]))


def write(monkeypatch, person, continuation: str, finish_reason: str = "stop", **settings):
    fake = CompletingLlama(continuation, finish_reason)
    monkeypatch.setattr(LlamaCppEngine, "llama", property(lambda self: fake))
    program = ha.HyPerAlign(settings=ha.AuthorshipSettings(attempts=1, document_writer=True, **settings))
    with dspy.context(lm=ha.lm("local-small", cache=False)):
        answer = program(profile=person, prompt=PROMPT)
    return answer, fake.calls


def test_the_document_holds_the_notes_under_headings_and_ends_in_the_opening(monkeypatch, person):
    continuation = '\n\n"It is not safe," the engineer said.\n\nRepairs would cost $4 million, officials said.'
    answer, calls = write(monkeypatch, person, continuation)
    (call,) = calls
    document = call["prompt"]
    assert document.startswith(ContinueAsPerson.instructions.strip())
    # The claims without "The writer", one a line; the counted habits; the task; then the opening, left open.
    assert "Style notes:\n- Support: quotes an official in every other paragraph\n- Paragraphs:" in document
    assert "\n\nCounted in the texts:\n- " in document and "\n\nAbout the texts:\n" in document
    assert document.endswith(f"\n\nTopic:\n{PROMPT}\n\nText:\n{OPENING}")
    # No quoted evidence and no DSPy field markers: nothing for the model to copy into its text.
    assert "evidence" not in document and "[[ ##" not in document
    # The answer is the opening and what the model wrote on from it.
    assert answer.response == OPENING + continuation


def test_the_call_stops_at_the_documents_own_headings_and_bans_loops(monkeypatch, person):
    _, (call,) = write(monkeypatch, person, " More words follow here, as they should.")
    settings = call["settings"]
    assert {"\nStyle notes:", "\nCounted in the texts:", "\nTopic:", "\nText:", "\n---", "\nEnd of text"} <= set(settings["stop"])
    # Bans without `token_bans` (a mark never written, an end before half the length), and the loop stop.
    assert "logits_processor" in settings and "stopping_criteria" in settings
    assert "grammar" not in settings and "response_format" not in settings
    assert settings["max_tokens"] > 0


def test_a_document_cut_off_at_its_budget_ends_at_its_last_finished_sentence(monkeypatch, person):
    continuation = ' "It is not safe," the engineer said.\n\nRepairs would cost $4 million. Net income was $1'
    answer, _ = write(monkeypatch, person, continuation, finish_reason="length")
    assert answer.response == f'{OPENING} "It is not safe," the engineer said.\n\nRepairs would cost $4 million.'
    # Ended by the model, the same text stands whole: an unfinished last line may be a sign-off.
    answer, _ = write(monkeypatch, person, continuation)
    assert answer.response == OPENING + continuation


def test_left_out_notes_leave_out_their_section(monkeypatch, person):
    _, (call,) = write(monkeypatch, person, " Enough.", stage_two_notes=["hypotheses"])
    assert "Style notes:" in call["prompt"]
    assert "Counted in the texts:" not in call["prompt"] and "About the texts:" not in call["prompt"]


def test_a_provider_that_only_chats_gets_the_chat_writer(person):
    # DummyLM has no engine that continues documents: the setting falls back to `GeneratePersonalized`.
    lm = dspy.utils.DummyLM([{"response": "A chat answer of several words for the reader."}])
    program = ha.HyPerAlign(settings=ha.AuthorshipSettings(attempts=1, document_writer=True))
    with dspy.context(lm=lm):
        answer = program(profile=person, prompt="Write a short note.")
    assert answer.response == "A chat answer of several words for the reader."
    assert "response" in lm.history[-1]["messages"][-1]["content"]


@pytest.mark.runtime
def test_smollm_continues_the_document_without_a_loop_or_the_frame(person):
    # SmolLM2 writes no news, but its loop ends (the loop stop, then the revision's cut of a run of
    # ten words written again), and none of the frame's headings is in the answer (the call stops at them).
    program = ha.HyPerAlign(settings=ha.AuthorshipSettings(attempts=1, document_writer=True))
    with dspy.context(lm=ha.lm("local-small", cache=False)):
        answer = program(profile=person, prompt=PROMPT)
    text = answer.response
    assert text.startswith(OPENING) and len(text.split()) > len(OPENING.split()) + 5
    assert not any(heading in text for heading in ("Style notes:", "Counted in the texts:", "Topic:"))
    words = [word.lower() for word in words_of(text)]
    runs = [tuple(words[i:i + 10]) for i in range(len(words) - 9)]
    assert len(runs) == len(set(runs))


def test_the_answer_ends_where_the_model_ran_on_into_another_document(monkeypatch, person):
    # What the 1.5B model wrote after a news text: a remark on it, then a second draft.
    continuation = (' "It is not safe," the engineer said.\n\nThis is the final version of the article with all the '
                    f'required details.\n\n{OPENING} It was the third vote this year.')
    answer, (call,) = write(monkeypatch, person, continuation)
    assert answer.response == f'{OPENING} "It is not safe," the engineer said.'
    # At most 1.5 times the person's length (words per text times tokens per word), at least 256.
    assert call["settings"]["max_tokens"] == 256


def test_a_second_draft_from_the_opening_ends_the_document(monkeypatch, person):
    answer, _ = write(monkeypatch, person, f" Work starts in May.\n\n{OPENING} Work starts in June.")
    assert answer.response == f"{OPENING} Work starts in May."


def test_a_short_opening_begun_again_with_other_words_after_it_ends_the_document():
    from hyperalign_dspy.tasks.authorship.checks.output_fit import first_document

    # The demo's 1.5B answer: the 7-word opening, a title, then the opening again with words changed after it.
    opening = "American movies, hamburgers, jeans -- and U.S."
    text = (f"{opening} and U.K., all are part of American culture.\nWang Dan: Innocence in America\n"
            f"{opening} and U. K. and the rest of europe, all are part...")
    # (The paragraphs kept are joined by blank lines.)
    assert first_document(text, opening) == f"{opening} and U.K., all are part of American culture.\n\nWang Dan: Innocence in America"


def test_a_labelled_line_after_the_first_starts_another_document(monkeypatch, person):
    # The 1.5B model after an email: "Answer:" and the email again; after a news text: "Title: ...".
    answer, _ = write(monkeypatch, person, " Work starts in May.\nTitle: Bridge to close\nAuthor: Wang Dan")
    assert answer.response == f"{OPENING} Work starts in May."
