"""Verbatim runs, and the program's resampling of responses that copy the hypotheses."""

import pytest
from helpers import personalized

from hyperalign_dspy import HyPerAlign, UserAttributes, UserProfile
from hyperalign_dspy.core.hypotheses import distinct
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.output_checks import RECITED_WORDS, added_words, hands_over_opening, shares_run, without_prompt_text
from hyperalign_dspy.judges.copy_guard import copy_flag

GENERATION_ATTEMPTS = HyPerAlign.default_settings.attempts

NOTE = "The author quotes a named analyst in the second paragraph of nearly every article"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("As always, the author quotes a named analyst in the second paragraph here.", True),
        ("THE AUTHOR QUOTES A NAMED ANALYST IN THE SECOND PARAGRAPH", True),
        ("The author quotes a named analyst in his third paragraph.", False),  # 7 shared words only
        ("Shares rose 5 percent on Monday, an analyst said.", False),
        ("", False),
    ],
)
def test_shares_run_counts_consecutive_words(text, expected):
    assert shares_run(text, [NOTE], 8) is expected


def test_shares_run_without_sources_is_false():
    assert shares_run("any text at all with many words in it here", [], 3) is False


@pytest.fixture
def profile(attributes):
    # A person of 20-word texts: an answer of 2 new words is long enough for them.
    return noted_profile(attributes, 20)


def noted_profile(attributes, typical_length_words: int) -> UserProfile:
    return UserProfile(hypotheses=[NOTE], source_ids=["a"],
                       attributes=UserAttributes(**{**attributes, "typical_length_words": typical_length_words}))


def test_a_response_that_copies_the_hypotheses_is_sampled_again(profile):
    out, lm = personalized(profile, "Write about shares.", [f"{NOTE}. And so on.", "Shares rose, an analyst said."])
    assert out.response == "Shares rose, an analyst said."
    assert len(lm.history) == 2
    assert lm.history[1]["kwargs"].get("rollout_id") == 1


def test_resampling_stops_after_the_last_attempt(profile):
    echoes = [f"Attempt {n}: {NOTE}." for n in range(GENERATION_ATTEMPTS)]
    out, lm = personalized(profile, "Write about shares.", echoes)
    assert len(lm.history) == GENERATION_ATTEMPTS
    assert out.response.startswith(f"Attempt {GENERATION_ATTEMPTS - 1}:")
    assert RECITED_WORDS <= len(NOTE.split())


OPENING = "Gold prices rose sharply in early trading on Monday."
PROMPT = f"Write an article that starts with the following: {OPENING}"
SAMPLES = ["Mining shares fell on Tuesday after the company said its new mine in northern Quebec would open a year late."]


def test_the_prompts_given_text_is_removed_wherever_it_appears():
    text = "Gold prices rose sharply in early trading on Monday. Dealers cited a weaker dollar."
    assert without_prompt_text(text, PROMPT) == ". Dealers cited a weaker dollar."
    assert without_prompt_text("Dealers cited a weaker dollar.", PROMPT) == "Dealers cited a weaker dollar."
    # Runs shorter than the threshold are ordinary words, not the prompt's text.
    assert without_prompt_text("Gold prices rose again.", PROMPT) == "Gold prices rose again."


def test_copy_flag_names_a_copy_of_the_samples():
    copied = "Analysts were surprised. The company said its new mine in northern Quebec would open a year late."
    assert copy_flag(copied, SAMPLES, PROMPT) == "copies 12+ consecutive words of the sample texts"
    # Eleven shared words are not a copy at the default length of 12.
    near = "Analysts said its new mine in northern Quebec would open a year later than hoped."
    assert copy_flag(near, SAMPLES, PROMPT) is None
    assert copy_flag(near, SAMPLES, PROMPT, words=8) is not None


def test_copy_flag_names_an_answer_that_only_repeats_the_prompt():
    assert copy_flag("Gold prices rose sharply in early trading on Monday.", SAMPLES, PROMPT) == (
        "adds nothing to the prompt's given text")
    assert copy_flag("", SAMPLES, PROMPT) == "adds nothing to the prompt's given text"


def test_copy_flag_names_a_repeated_opening():
    opening = "Gold prices rose sharply in early trading on Monday."
    assert copy_flag(f"{opening} Dealers cited the dollar.", SAMPLES, PROMPT) is None
    assert copy_flag(f"{opening} Dealers cited the dollar. {opening}", SAMPLES, PROMPT) == "repeats the prompt's given text"


def test_a_news_story_may_name_its_subject_again_in_words_of_its_opening():
    # As 11 of the dev suite's 120 real texts do ("... the subprime auto lending market ..."):
    # passages shorter than 12 words of a long opening, repeated, are no copy; the opening whole is.
    opening = ("The growing attractiveness of the subprime auto lending market was underlined again Monday when "
               "Olympic Financial Ltd said it had received expressions of interest from a buyer.")
    prompt = f"Write an article that starts with the following: {opening}"
    story = f"{opening}\n\nShares rose. Lenders in the subprime auto lending market have grown fast this year."
    assert copy_flag(story, SAMPLES, prompt) is None
    assert copy_flag(f"{story}\n\n{opening}", SAMPLES, prompt) == "repeats the prompt's given text"


QUESTION = "The library's opening hours will change next month. What do you think of the new times?"
ASKED = f"Write an email response to someone who asked you the following: {QUESTION}"


@pytest.mark.parametrize(("prompt", "hands_over"), [
    (PROMPT, True),
    ("Write a news article that begins: Gold prices rose sharply.", True),
    ("Continue this story: The door was open.", True),
    (ASKED, False),
    ("Write a blog post about opening a bakery in a small town.", False),
    ("Write an essay on this question: should cities ban cars?", False),
])
def test_prompt_forms(prompt, hands_over):
    assert hands_over_opening(prompt) is hands_over


def test_an_answer_may_restate_a_question_it_answers():
    # Restating what was asked, twice, is how replies go: no copy; handing back only the question is one.
    reply = (f"Hi Ana, you asked: {QUESTION} I like them. Since {QUESTION.split('.')[0].lower()}, "
             "I will go on Saturdays. What do you think of the new times? Fine by me. Best, Jo")
    assert copy_flag(reply, SAMPLES, ASKED) is None
    assert copy_flag(QUESTION, SAMPLES, ASKED) == "adds nothing to the prompt's given text"
    # The same repeat is a copy where the prompt hands over an opening.
    opening = "Gold prices rose sharply in early trading on Monday."
    assert copy_flag(f"{opening} Dealers cited the dollar. {opening}", SAMPLES, PROMPT) is not None


def test_the_given_opening_is_not_counted_as_a_copy_of_the_samples():
    # A sample that happens to start like the prompt: starting with the prompt's text is no copy.
    samples = ["Gold prices rose sharply in early trading on Monday as dealers bought ahead of the holiday."]
    assert copy_flag("Gold prices rose sharply in early trading on Monday. Then they fell.", samples, PROMPT) is None


def test_an_answer_that_only_hands_back_the_prompts_opening_is_sampled_again(profile):
    out, lm = personalized(profile, PROMPT, [OPENING, f"{OPENING} Dealers cited a weaker dollar."])
    assert out.response.endswith("Dealers cited a weaker dollar.")
    assert len(lm.history) == 2 and lm.history[1]["kwargs"].get("rollout_id") == 1
    assert added_words(OPENING, PROMPT) == 0 and added_words(out.response, PROMPT) > 0


def test_the_opening_followed_by_the_end_marker_is_sampled_again(profile):
    # Seen on the 1.5B model: the opening, then ChatAdapter's end marker on the same line, which
    # the parser leaves in the field; the marker's words are not something the answer added.
    answers = [f"{OPENING} [[ ## completed ## ]]", f"{OPENING} Dealers cited a weaker dollar."]
    out, lm = personalized(profile, PROMPT, answers)
    assert len(lm.history) == 2
    assert out.response.endswith("Dealers cited a weaker dollar.")


def test_rewordings_of_a_hypothesis_are_dropped_and_different_ones_kept():
    hypotheses = [
        "The author's style is characterized by a mix of formal and informal language, with occasional quotations.",
        "The author quotes a named analyst in the second paragraph.",
        "The author uses a mix of formal and informal language, with occasional quotations.",
        "  ",
        "The author's sentences average 21 words.",
    ]
    assert distinct(hypotheses, ProgramSettings().same_hypothesis) == [hypotheses[0], hypotheses[1], hypotheses[4]]


def test_an_answer_that_recites_the_generation_instructions_is_sampled_again(profile):
    recited = ("As the writer the private style notes describe, I write only the text, "
               "beginning with the opening the task gives.")
    out, lm = personalized(profile, "Write about shares.", [recited, "Shares rose, an analyst said."])
    assert out.response == "Shares rose, an analyst said."
    assert len(lm.history) == 2


def test_an_answer_far_shorter_than_the_persons_texts_is_sampled_again(attributes):
    # Seen on the 1.5B model: the opening handed back reworded, 9 words for an author of 546-word
    # articles. A tenth of the typical length is the least an answer must add.
    profile = noted_profile(attributes, 500)
    prompt = "Write an article that starts with the following: American movies, hamburgers, jeans -- and U.S."
    short = "The American movies, hamburgers, jeans -- and U. S."
    longer = short + " " + " ".join(["Word"] * 50)
    out, lm = personalized(profile, prompt, [short, longer])
    assert len(lm.history) == 2 and out.response == longer
    # 51 added words ("The" and 50 more) are enough at the first attempt.
    out, lm = personalized(profile, prompt, [longer])
    assert out.response == longer
    assert len(lm.history) == 1


def test_when_no_attempt_passes_the_longest_that_does_not_recite_stands(attributes):
    answers = [f"{OPENING} {NOTE}, and more words here.", f"{OPENING} Dealers cited the dollar."]
    answers += [OPENING] * (GENERATION_ATTEMPTS - len(answers))
    out, lm = personalized(noted_profile(attributes, 500), PROMPT, answers)
    assert len(lm.history) == GENERATION_ATTEMPTS
    assert out.response == answers[1]  # too short, but it adds words and recites nothing
