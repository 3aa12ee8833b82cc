"""The output check: a generated text against the habits counted in the person's texts, on planted
failures, and the program's sampling budget when answers fail it (scripted LM, no model)."""

from __future__ import annotations

import pytest
from helpers import personalized

from hyperalign_dspy import AuthorshipSettings, ProgramSettings, UserProfile
from hyperalign_dspy.tasks.authorship.checks.output_fit import expectations, fit_of, without_repeats_and_remarks
from hyperalign_dspy.tasks.authorship.counting.text_counts import count

# A diarist: first person, short paragraphs of two short sentences, no questions or quotations.
DIARY = [
    ("I fixed the gate this morning. The hinge had rusted through.\n\n"
     "I walked to the shop for a new one. It cost more than I thought.\n\n"
     "By noon the gate swung again. I was pleased with my work."),
    ("We picked beans until dark. My back ached by the end.\n\n"
     "I froze two bags of them. The rest went to my neighbour.\n\n"
     "Tomorrow I will start on the peas. They are late this year."),
    ("I cleaned the gutters today. Leaves had packed them tight.\n\n"
     "My ladder wobbled on the soft ground. I moved it twice.\n\n"
     "The rain came at four. Nothing overflowed, and I slept well."),
]
FITS = ("I painted the shed this week. The old paint came off in strips.\n\n"
        "I bought two tins in town. The green was cheaper than the grey.\n\n"
        "By Sunday the shed looked new. I sat beside it with my tea.")
TOO_LONG = FITS + "\n\n" + "\n\n".join(f"On day {n} I kept on painting. The brush was worn down." for n in range(30))
WRONG_PERSON = FITS.replace("I ", "She ").replace("my ", "her ").replace("I\n", "She\n")
ONE_PARAGRAPH = " ".join(["The shed needed paint and the paint was bought in town on a Saturday morning"] * 4) + "."
# An answer that talks about its task, wherever it stands (held-out answers did, after the opening).
TALKS_ABOUT_ITS_TASK = FITS.replace("The old paint came off in strips.",
                                    "The old paint came off in strips. This post adheres to the guidelines: it is short.")
WILL_FEATURE = FITS + "\n\nThe article will also feature a detailed breakdown of the company's finances."
MEETS_REQUIREMENTS = "This is a clear and concise entry that meets all the specified requirements.\n\n" + FITS
AS_AN_AI = "As an AI language model, I do not paint sheds. " + FITS
# As the 1.5B model opened the example user's blog post: a clause, then the hand-over.
HANDS_OVER = ("However, based on the hypotheses provided and typical writing habits described, here is a blog post "
              "about painting a shed:\n\n" + FITS)
AI_INSIDE = FITS.replace("I bought two tins in town.", "As an AI language model, I bought no tins.")
TEMPLATE_SLOT = "Dear [Recipient's Name],\n\n" + FITS
QUESTIONS = FITS.replace("The old paint came off in strips.", "Why did the old paint come off in strips?")


@pytest.fixture
def diarist():
    return count(DIARY)


def test_the_persons_own_kind_of_text_fits(diarist):
    result = fit_of(FITS, diarist)
    assert result.missed == [] and result.breaks_character is None and result.share == 1.0
    assert "in the first person" in result.met and "no questions" in result.met


@pytest.mark.parametrize(("text", "missed"), [
    (TOO_LONG, "about 35 words long"),
    (WRONG_PERSON, "in the first person"),
    (ONE_PARAGRAPH, "paragraphs of about 12 words (2.0 sentences)"),
    (QUESTIONS, "no questions"),
])
def test_a_planted_failure_misses_the_habit_it_breaks(diarist, text, missed):
    assert [expectation.says for expectation in expectations(diarist)][:4] == [
        "about 35 words long", "sentences of about 6 words",
        "paragraphs of about 12 words (2.0 sentences)", "in the first person"]
    result = fit_of(text, diarist)
    assert missed in result.missed
    assert result.share < 1.0


DESCRIBES_ITSELF = FITS + "\n\nThe text continues with details about the paint and the weather."
# As the 1.5B model wrote in an evaluation, after the prompt's opening.
DESCRIBES_ITS_STYLE = FITS + "\n\nThis article is written in an informal tone. The sentence style is lengthy."
# As the 1.5B model wrote under a paragraph grammar, after the prompt's opening.
DESCRIBES_ITS_OPENING = FITS + "\n\nThis article begins with a clear and concise opening sentence."
# As the 1.5B model wrote after an article, held to the person's length by the length grammar.
DESCRIBES_WHAT_FOLLOWS = FITS + "\n\nThe article then goes on to describe how the shed was built."
# As the 1.5B model looped under a paragraph grammar: the same paragraph again, until max_tokens.
LOOPS = FITS + "\n\nThe government has been investing heavily in new roads and bridges.\n\n" \
               "The government has been investing heavily in new roads and bridges."


# As the 1.5B model wrote its notes out as the article's content.
WRITES_ABOUT_WRITING = FITS + "\n\nThe company uses connectives such as but to build points. Its closing paragraphs " \
                              "are short, and the third-person perspective includes the reader."


def test_a_text_about_writing_breaks_character_unless_its_prompt_is_about_writing(diarist):
    assert fit_of(WRITES_ABOUT_WRITING, diarist).breaks_character == "writes about writing"
    # Asked for a piece about paragraphs and perspective, a text may name them: only the other
    # craft words count (connective, reader: two, below the three that break character).
    asked = "Write about how paragraphs and the third-person perspective work."
    assert fit_of(WRITES_ABOUT_WRITING, diarist, asked).breaks_character is None
    # Two craft words in a real news text (a court's sentence, a law's paragraph) are no sign.
    court = FITS + "\n\nThe court cut his sentence to ten years under the first paragraph of the law."
    assert fit_of(court, diarist).breaks_character is None


@pytest.mark.parametrize(("text", "reason"), [(AS_AN_AI, "speaks as an AI"), (TEMPLATE_SLOT, "leaves a template slot"),
                                              ("I'm sorry, but I cannot assist with that.", "speaks as an AI"),
                                              (FITS + "\n\nI can't comply with this request.", "speaks as an AI"),
                                              (DESCRIBES_ITSELF, "describes itself"),
                                              (DESCRIBES_ITS_STYLE, "describes itself"),
                                              (DESCRIBES_ITS_OPENING, "describes itself"),
                                              (DESCRIBES_WHAT_FOLLOWS, "describes itself"),
                                              (WRITES_ABOUT_WRITING, "writes about writing"),
                                              (LOOPS, "repeats a paragraph"),
                                              (TALKS_ABOUT_ITS_TASK, "mentions its notes or task"),
                                              (HANDS_OVER, "mentions its notes or task"),
                                              (MEETS_REQUIREMENTS, "mentions its notes or task"),
                                              (WILL_FEATURE, "describes itself"),
                                              (FITS + "\n\nThe article will then go on to discuss the risks.",
                                               "describes itself"),
                                              (FITS + "\n\nThis article introduces the shed and its paint.",
                                               "describes itself"),
                                              (FITS + "\n\nThanks for using our service! Goodbye!", "describes itself"),
                                              (FITS + "\n\nThe response ends with the marker for `completed`.",
                                               "mentions its notes or task")])
def test_a_text_that_breaks_character_fits_nothing(diarist, text, reason):
    result = fit_of(text, diarist)
    assert result.breaks_character == reason
    assert result.share == 0.0


def test_short_paragraphs_written_twice_are_no_loop(diarist):
    # A one-line refrain ("Thank you.") may recur in a person's text; a loop is a whole paragraph.
    assert fit_of(FITS + "\n\nThank you.\n\nThank you.", diarist).breaks_character is None


def test_a_loop_and_closing_remarks_are_cut_and_the_rest_stays():
    loop = "The government has been investing heavily in new roads and bridges."
    assert without_repeats_and_remarks(LOOPS) == f"{FITS}\n\n{loop}"
    for remark in (DESCRIBES_ITS_OPENING, DESCRIBES_ITS_STYLE, DESCRIBES_WHAT_FOLLOWS, WRITES_ABOUT_WRITING):
        assert without_repeats_and_remarks(remark) == FITS
    # The hand-over sentence goes whether or not it names its notes.
    assert without_repeats_and_remarks(HANDS_OVER) == FITS
    assert without_repeats_and_remarks("Based on what you told me, here is a post about my shed:\n\n" + FITS) == FITS
    # A text that is all remark is not cut; a text with nothing to cut comes back as it was.
    assert without_repeats_and_remarks("As an AI language model, I cannot paint.") == "As an AI language model, I cannot paint."
    assert without_repeats_and_remarks("This article is written in an informal tone.") == (
        "This article is written in an informal tone.")
    assert without_repeats_and_remarks("One.\nTwo.") == "One.\nTwo."


def test_a_writer_who_quotes_in_every_text_is_expected_to_quote():
    # A reporter: each text has three paragraphs, two of them quoting someone.
    reports = ['The mill closed on Monday.\n\n"We had no choice," the owner said.\n\n"It is sad," a worker said.',
               'Rain flooded the road.\n\n"It rose fast," a driver said.\n\n"We shut it," police said.']
    reporter = count(reports)
    assert "direct quotations" in [expectation.says for expectation in expectations(reporter)]
    assert "direct quotations" in fit_of('The bridge reopened.\n\n"At last," a cyclist said.', reporter).met
    assert "direct quotations" in fit_of("The bridge reopened.\n\nCyclists were glad.", reporter).missed
    assert "no direct quotations" in [expectation.says for expectation in expectations(count(DIARY))]


def diary_profile(texts: list[str]) -> UserProfile:
    attributes = {"domain": "home", "genre": "diary", "typical_length_words": 34, "formality": "casual",
                  "perspective": "first person", "tone": "plain", "sentence_style": "short",
                  "paragraph_style": "two sentences", "recurring_devices": [], "characteristic_phrases": []}
    return UserProfile(hypotheses=["Voice: The writer tells in the first person (evidence: 'I fixed the gate')"],
                       attributes=attributes, source_ids=["diary"], counts=count(texts))


def test_the_assistants_sentences_before_the_text_are_cut():
    # The 1.5B model's chat answer to the example user's blog prompt, opening as an assistant.
    preamble = ("As an AI language model, I do not have personal experiences or emotions. However, based on the "
                "guidelines provided, I can write a blog post about whether students should take a foreign language.")
    assert without_repeats_and_remarks(f"{preamble}\n\n{FITS}") == FITS
    assert without_repeats_and_remarks(AS_AN_AI) == FITS  # in the text's first paragraph
    for handing_over in ("Sure! Here's a post about the shed:", "Certainly, here is the diary entry.",
                         "Here is my diary entry about the shed:"):
        assert without_repeats_and_remarks(f"{handing_over}\n\n{FITS}") == FITS
    # A sentence of the person's that names a guideline or says "sure" stays.
    own = "Sure enough, the paint held. " + FITS
    assert without_repeats_and_remarks(own) == own


def run(answers: list[str], settings: ProgramSettings | None = None):
    return personalized(diary_profile(DIARY), "Write about the shed.", answers, settings)


def test_an_answer_that_breaks_character_is_sampled_again_whatever_its_counts():
    result, lm = run([AI_INSIDE, FITS.replace("in town", "in [Town Name]"), FITS])
    assert result.response == FITS
    assert len(lm.history) == 3


def test_an_answer_is_repaired_before_it_is_checked():
    # The closing remark about the text is cut, and what stays fits: one call.
    result, lm = run([DESCRIBES_ITS_OPENING, FITS])
    assert result.response == FITS and result.fit.breaks_character is None
    assert len(lm.history) == 1


def test_an_answer_below_fit_share_is_sampled_again_until_one_fits():
    result, lm = run([TOO_LONG, WRONG_PERSON, FITS], ProgramSettings(fit_share=1.0))
    assert result.response == FITS
    assert len(lm.history) == 3
    assert [call["kwargs"].get("rollout_id") for call in lm.history] == [None, 1, 2]


def test_the_budget_bounds_the_calls_and_the_best_fit_stands():
    # Two calls allowed: the wrong person (most habits kept) beats the one giant paragraph.
    result, lm = run([ONE_PARAGRAPH, WRONG_PERSON, FITS], ProgramSettings(attempts=2, fit_share=1.0))
    assert len(lm.history) == 2
    assert result.response == WRONG_PERSON


def test_an_answer_that_adds_enough_stands_before_a_better_fit_that_adds_nothing():
    # The 1.5B model handed back a prompt's opening sentence alone: it keeps most habits of a short
    # text, but it is no answer.
    opening = "I painted the shed this week."
    profile = diary_profile(DIARY)
    assert fit_of(opening, profile.counts).share > fit_of(ONE_PARAGRAPH, profile.counts).share
    result, lm = personalized(profile, f"Write a diary entry that starts with the following: {opening}",
                              [opening, ONE_PARAGRAPH], ProgramSettings(attempts=2))
    assert len(lm.history) == 2
    assert result.response == ONE_PARAGRAPH


def test_an_answer_that_fits_costs_one_call_and_the_habits_are_told():
    result, lm = run([FITS])
    assert result.response == FITS and len(lm.history) == 1
    sent = "\n".join(message["content"] for message in lm.history[0]["messages"])
    assert "in the first person" in sent and "no questions" in sent


def test_a_profile_without_counts_is_not_checked():
    profile = diary_profile(DIARY).model_copy(update={"counts": None})
    result, lm = personalized(profile, "Write about the shed.", [AI_INSIDE])
    assert result.response == AI_INSIDE and len(lm.history) == 1


def test_guidelines_and_requirements_of_others_are_in_character(diarist):
    # A person may write of rules that are not their task's: a bank's guidelines, a court's requirements.
    told = FITS + "\n\nThe bank follows the guidelines of the central bank. The court set new requirements in May."
    assert fit_of(told, diarist).breaks_character is None


def test_a_paragraph_written_again_with_a_word_changed_or_the_opening_restated_is_cut():
    first = ("The United States is known for its strong sense of patriotism, with every generation passing "
             "down its own traditions and values to future generations.")
    again = first.replace("patriotism", "family")
    other = "Jeans are worn by men and women in every state."
    assert without_repeats_and_remarks(f"{first}\n\n{other}\n\n{again}") == f"{first}\n\n{other}"
    restated = f"In conclusion, {first[0].lower()}{first[1:]}"
    assert without_repeats_and_remarks(f"{first}\n\n{other}\n\n{restated}") == f"{first}\n\n{other}"
    # Nine words in common are no loop: a writer repeats a phrase ("diplomats and analysts said").
    nine = "Jeans are worn by men and women in every city of China."
    assert without_repeats_and_remarks(f"{other}\n\n{nine}") == f"{other}\n\n{nine}"


def test_an_opening_begun_again_inside_its_paragraph_is_cut_there():
    # The demo's answer at `bc3c564`: the loop stop ended the second start of the opening.
    opening = ("China's Communist Party leader Jiang Zemin appears to be making all the right moves to shore up "
               "his position, diplomats and analysts said on Friday.")
    begun_again = "China's Communist Party leader Jiang Zemin appears to be making all the right moves to"
    later = "Jiang has declared war on corruption, crime and poverty."
    assert without_repeats_and_remarks(f"{opening} {begun_again}\n\n{later}") == f"{opening}\n\n{later}"
    assert without_repeats_and_remarks(f"{opening} {later}") == f"{opening} {later}"


def test_voice_samples_are_the_hypotheses_quotes_told_only_when_asked():
    profile = diary_profile(DIARY)
    profile = UserProfile(hypotheses=["Voice: The writer tells in the first person (evidence: 'I fixed the gate')",
                                      "Sentences: The writer keeps sentences short (evidence: 'I fixed the gate')",
                                      "Reader: The writer never addresses the reader"],
                          attributes=profile.attributes, source_ids=["diary"], counts=profile.counts)
    asked = AuthorshipSettings(stage_two_notes=["hypotheses", "attributes", "measured_habits", "voice_samples"])
    for settings, told in ((asked, '["I fixed the gate"]'), (None, "[]")):
        _, lm = personalized(profile, "Write about the shed.", [FITS], settings)
        sent = lm.history[0]["messages"][-1]["content"]
        # Each quote once; a hypothesis without one adds none; the notes keep no quote.
        assert f"[[ ## voice_samples ## ]]\n{told}" in sent
        assert "evidence" not in sent
