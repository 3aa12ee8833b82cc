"""Counted style facts, on texts whose counts are known."""

from hyperalign_dspy.tasks.authorship.checks.claims import is_quoted_from
from hyperalign_dspy.tasks.authorship.signatures import ASPECTS
from hyperalign_dspy.tasks.authorship.counting.instances import excerpt, instances
from hyperalign_dspy.tasks.authorship.counting.measurements import measure_style
from hyperalign_dspy.tasks.authorship.counting.text_counts import count, quotes_someone

REPORTER = (
    'Acme Corp said on Monday profit rose 12 percent.\n'
    '"We had a strong year," chief executive Ann Lee said.\n'
    'Analysts said the result beat forecasts.'
)
DIARIST = "I went out today. We walked by the river and I laughed.\nMy sister told me you would come! Did you?"


def line(lines, start):
    return next(item for item in lines if item.startswith(start))


EMAIL = "Hi Sam,\n\nThanks for the notes. I'll send the draft on Friday; it still needs work.\n\nCheers,\nJo"


def test_a_measurement_per_countable_aspect_in_the_signatures_order():
    for texts in ([REPORTER, REPORTER], [DIARIST], [EMAIL]):
        assert [item.split(":")[0] for item in measure_style(texts)] == [a for a in ASPECTS if a != "Positions"]


def test_reporter_counts():
    lines = measure_style([REPORTER, REPORTER])
    assert line(lines, "Openings:") == ("Openings: a text's first sentence has 9 words on average; "
                                        "as in 'Acme Corp said on Monday profit rose 12 percent.'.")
    assert line(lines, "Paragraphs:") == (
        "Paragraphs: a text has 25 words (median of 2 texts; from 25 to 25); a text has 3 paragraphs (median); "
        "a paragraph has 1.0 sentences and 8 words on average; 100% of paragraphs are one sentence.")
    assert "; 33% of paragraphs hold a direct quotation; reporting verbs: said 6;" in line(lines, "Support:")
    assert "told in the third person" in line(lines, "Voice:")
    # every pair recurs in both texts, so ties are broken alphabetically
    assert line(lines, "Vocabulary:").startswith(
        "Vocabulary: 12% of words have 8 or more letters; word pairs found in two or more texts: 'acme corp', 'analysts said',")


def test_diarist_counts():
    lines = measure_style([DIARIST])
    assert "told in the first person" in line(lines, "Voice:")
    assert line(lines, "Argument:").startswith("Argument: questions are 25% of sentences;")
    assert line(lines, "Temperament:") == "Temperament: exclamations are 25% of sentences; as in 'My sister told me you would come!'."
    assert line(lines, "Closings:").endswith("1 of 1 texts end with a question; as in 'Did you?'.")
    assert line(lines, "Vocabulary:").endswith("word pairs found in two or more texts: none.")
    assert line(lines, "Openings:") == "Openings: a text's first sentence has 4 words on average; as in 'I went out today.'."


def test_a_genres_measures_are_said_only_where_the_texts_show_them():
    news, email = "\n".join(measure_style([REPORTER, REPORTER])), "\n".join(measure_style([EMAIL, EMAIL]))
    assert "direct quotation" not in email and "reporting verbs" not in email  # "told" in a diary is no reporting either
    assert "reporting verbs" not in "\n".join(measure_style([DIARIST]))
    assert "2 of 2 texts open with a greeting" in email and "2 of 2 texts end with a sign-off line" in email
    assert "greeting" not in news and "sign-off" not in news
    assert "told in the first person" in email  # "I'll" is the writer speaking


def test_measurements_do_not_depend_on_the_process_hash_seed():
    import subprocess
    import sys

    script = "from hyperalign_dspy.tasks.authorship.counting.measurements import measure_style; import sys; " \
             "print(measure_style([sys.argv[1], sys.argv[1]]))"
    runs = {
        subprocess.run([sys.executable, "-c", script, REPORTER], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1


def test_instances_are_quoted_from_the_texts_in_the_writers_own_words():
    reporter, diarist = instances([REPORTER, REPORTER]), instances([DIARIST])
    for found, texts in ((reporter, [REPORTER]), (diarist, [DIARIST])):
        assert all(is_quoted_from(quote, texts) for quote in found.values()), found
    # "We had a strong year" is the reporter quoting someone: no instance of a first-person voice.
    assert "Voice" not in reporter and diarist["Voice"] == "I went out today."
    assert reporter["Support"] == "Acme Corp said on Monday profit rose 12 percent."
    assert diarist["Argument"] == "Did you?"
    assert "Reader" not in reporter and "you" in diarist["Reader"]


def test_an_excerpt_is_ten_words_around_the_instance_without_marks_a_quote_cannot_hold():
    sentence = 'One two three four five six seven eight nine ten eleven twelve "maybe" thirteen (fourteen); fifteen.'
    assert excerpt(sentence, sentence.index("maybe")) == "seven eight nine ten eleven twelve maybe thirteen fourteen fifteen."
    assert excerpt(sentence) == "One two three four five six seven eight nine ten"
    assert excerpt("Don't stop, it's 'fine'.") == "Don't stop, it's fine."


def test_a_direct_quotation_is_someones_words_not_a_quoted_title_or_term():
    # Attributed, however short; or three or more words that are not a title.
    assert quotes_someone('"At last," a cyclist said.')
    assert quotes_someone('The mayor said on Monday: "No."')
    assert quotes_someone('"We had no choice, and we knew it." The mill is shut.')
    # Runs on into the next paragraph, unclosed.
    assert quotes_someone('"The water rose faster than anyone here had seen')
    # Titles, names and terms.
    assert not quotes_someone('Films such as "The Notebook," and "Titanic" filled the seats.')
    assert not quotes_someone('The novel "Gone with the Wind" sold again.')
    assert not quotes_someone('China\'s so-called "princelings" hold sway.')
    # A film essay quotes no one: its paragraphs hold no direct quotation.
    essay = count(['Films like "The Notebook," "Titanic" and "Casablanca" endure.\n\nThey still draw crowds.'])
    assert essay.quoted_paragraphs == 0
