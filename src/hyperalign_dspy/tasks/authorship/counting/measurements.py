"""The style measurements stage 1 reads beside the texts: one line per aspect, each a counted fact
a hypothesis can cite, most with an instance quoted from the texts."""

from __future__ import annotations

from hyperalign_dspy.tasks.authorship.counting.instances import instances
from hyperalign_dspy.tasks.authorship.counting.text_counts import TextCounts, count, how_often
from hyperalign_dspy.tasks.authorship.signatures import ASPECTS


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _rate(name: str, per_100_words: float) -> str:
    return f"{name} {per_100_words:.1f} per 100 words ({how_often(per_100_words)})"


def _of_texts(number: int, counts: TextCounts, what: str) -> list[str]:
    """A genre's measure, said only when the texts show it."""
    return [f"{number} of {counts.texts} texts {what}"] if number else []


def measure_style(texts: list[str], counts: TextCounts | None = None) -> list[str]:
    """One line per aspect that something can be counted about, each starting with the aspect's
    name, in the order of the signature's aspects: each a fact a hypothesis can cite, most with an
    instance quoted from the texts. Texts that are not English get no line for what only English
    word lists count (Reader, Certainty, Voice, Vocabulary). `counts`: the texts' counts, if made."""
    c = counts or count(texts)
    examples = instances(texts, c)
    quoted = [f"{_percent(c.quoted_paragraphs)} of paragraphs hold a direct quotation"] if c.quoted_paragraphs else []
    if quoted and c.reporting_verbs:
        quoted.append("reporting verbs: " + ", ".join(f"{verb} {n}" for verb, n in c.reporting_verbs.items()))
    lines = {
        "Argument": [f"questions are {_percent(c.questions)} of sentences"],
        "Support": [_rate("numbers", c.numbers), *quoted],
        "Openings": [f"a text's first sentence has {c.first_sentence_words:.0f} words on average",
                     *_of_texts(c.greeting_openings, c, "open with a greeting"),
                     *_of_texts(c.question_openings, c, "open with a question")],
        "Closings": [f"a text's last paragraph has {c.last_paragraph_sentences:.1f} sentences on average",
                     *_of_texts(c.sign_off_closings, c, "end with a sign-off line"),
                     *_of_texts(c.question_closings, c, "end with a question")],
        "Temperament": [f"exclamations are {_percent(c.exclamations)} of sentences"],
        "Sentences": [f"a sentence has {c.words_per_sentence:.1f} words on average",
                      f"{_percent(c.long_sentences)} have more than 25 words, {_percent(c.short_sentences)} fewer than 8"],
        "Paragraphs": [f"a text has {c.words_per_text:.0f} words (median of {c.texts} texts; from {c.shortest_text} to "
                       f"{c.longest_text})", f"a text has {c.paragraphs_per_text:.0f} paragraphs (median)",
                       f"a paragraph has {c.sentences_per_paragraph:.1f} sentences and {c.words_per_paragraph:.0f} "
                       f"words on average", f"{_percent(c.one_sentence_paragraphs)} of paragraphs are one sentence"],
        "Punctuation": ["per 100 words: " + ", ".join(f"{name} {rate:.1f} ({how_often(rate)})"
                                                     for name, rate in c.punctuation.items())],
    }
    if c.english:
        lines["Argument"].append("sentences opening with a connective: "
                                 + (", ".join(f"{word} {n}" for word, n in c.connectives.items()) or "none"))
        lines |= {
            "Reader": [_rate("second-person words (you, your)", c.second_person)],
            "Certainty": [_rate("hedges (maybe, might, I think)", c.hedges),
                          _rate("boosters (clearly, always, must)", c.boosters)],
            "Voice": [f"the texts are told in the {c.perspective}",
                      _rate("first-person words outside quotations", c.first_person),
                      _rate("contractions (don't, I'm)", c.contractions)],
            "Vocabulary": [f"{_percent(c.long_words)} of words have 8 or more letters",
                           "word pairs found in two or more texts: "
                           + (", ".join(f"'{pair}'" for pair in c.recurring_pairs) or "none")],
        }
    return [f"{aspect}: " + "; ".join([*lines[aspect], *([f"as in '{examples[aspect]}'"] if aspect in examples else [])]) + "."
            for aspect in ASPECTS if aspect in lines]
