"""The style measurements stage 1 reads beside the texts: one line per aspect, each a counted fact
a hypothesis can cite, most with an instance quoted from the texts. The sentences are the
signatures' `MEASUREMENT` templates; here the counts pick and fill them."""

from __future__ import annotations

from hyperalign_dspy.tasks.authorship.counting.instances import instances
from hyperalign_dspy.tasks.authorship.counting.text_counts import TextCounts, count, how_often
from hyperalign_dspy.tasks.authorship.signatures import ASPECTS, MEASUREMENT


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _rate(name: str, per_100_words: float) -> str:
    return MEASUREMENT["rate"].format(name=MEASUREMENT[name], rate=per_100_words, how_often=how_often(per_100_words))


def _of_texts(number: int, counts: TextCounts, what: str) -> list[str]:
    """A genre's measure, said only when the texts show it."""
    return [MEASUREMENT["of_texts"].format(number=number, texts=counts.texts, what=MEASUREMENT[what])] if number else []


def _listed(counted: dict[str, int]) -> str:
    return ", ".join(f"{name} {number}" for name, number in counted.items())


def measure_style(texts: list[str], counts: TextCounts | None = None) -> list[str]:
    """One line per aspect that something can be counted about, each starting with the aspect's
    name, in the order of the signature's aspects: each a fact a hypothesis can cite, most with an
    instance quoted from the texts. Texts that are not English get no line for what only English
    word lists count (Reader, Certainty, Voice, Vocabulary). `counts`: the texts' counts, if made."""
    c = counts or count(texts)
    m = MEASUREMENT
    examples = instances(texts, c)
    quoted = [m["quotations"].format(share=_percent(c.quoted_paragraphs))] if c.quoted_paragraphs else []
    if quoted and c.reporting_verbs:
        quoted.append(m["reporting_verbs"].format(counted=_listed(c.reporting_verbs)))
    lines = {
        "Argument": [m["questions"].format(share=_percent(c.questions))],
        "Support": [_rate("numbers", c.numbers), *quoted],
        "Openings": [m["first_sentence"].format(words=c.first_sentence_words),
                     *_of_texts(c.greeting_openings, c, "greetings"),
                     *_of_texts(c.question_openings, c, "question_openings")],
        "Closings": [m["last_paragraph"].format(sentences=c.last_paragraph_sentences),
                     *_of_texts(c.sign_off_closings, c, "sign_offs"),
                     *_of_texts(c.question_closings, c, "question_closings")],
        "Temperament": [m["exclamations"].format(share=_percent(c.exclamations))],
        "Sentences": [m["sentence_length"].format(words=c.words_per_sentence),
                      m["long_and_short_sentences"].format(long=_percent(c.long_sentences),
                                                           short=_percent(c.short_sentences))],
        "Paragraphs": [m["text_length"].format(words=c.words_per_text, texts=c.texts, shortest=c.shortest_text,
                                               longest=c.longest_text),
                       m["paragraphs_per_text"].format(paragraphs=c.paragraphs_per_text),
                       m["paragraph_length"].format(sentences=c.sentences_per_paragraph, words=c.words_per_paragraph),
                       m["one_sentence_paragraphs"].format(share=_percent(c.one_sentence_paragraphs))],
        "Punctuation": [m["punctuation"].format(rates=", ".join(
            m["punctuation_rate"].format(name=name, rate=rate, how_often=how_often(rate))
            for name, rate in c.punctuation.items()))],
    }
    if c.english:
        lines["Argument"].append(m["connectives"].format(counted=_listed(c.connectives) or m["none"]))
        lines |= {
            "Reader": [_rate("second_person", c.second_person)],
            "Certainty": [_rate("hedges", c.hedges), _rate("boosters", c.boosters)],
            "Voice": [m["perspective"].format(perspective=c.perspective), _rate("first_person", c.first_person),
                      _rate("contractions", c.contractions)],
            "Vocabulary": [m["long_words"].format(share=_percent(c.long_words)),
                           m["recurring_pairs"].format(pairs=", ".join(f"'{pair}'" for pair in c.recurring_pairs)
                                                       or m["none"])],
        }
    return [m["line"].format(aspect=aspect, facts="; ".join(
                [*lines[aspect], *([m["instance"].format(instance=examples[aspect])] if aspect in examples else [])]))
            for aspect in ASPECTS if aspect in lines]
