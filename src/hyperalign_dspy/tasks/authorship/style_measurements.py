"""Measured facts about a user's texts, handed to stage 1 as evidence.

A small LM asked to infer a style from raw texts tends to summarize their content. Counting what
can be counted (lengths, quotation, reporting verbs, numbers, pronouns, recurring phrases) gives it
grounded, author-specific facts to turn into hypotheses. Nothing here depends on a domain.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from hyperalign_dspy.tasks.authorship.signatures import ASPECTS

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d.,]*%?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“‘(A-Z0-9])")
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this
    that these those he she they we you i his her their our your my me him them us not no so than then there
    which who whom what when where why how will would can could should may might must do does did has have had
    also into over under after before about up down out more most such only other some any each all both""".split()
)
_QUOTE = re.compile(r"[\"“”]")
_QUOTED_SPAN = re.compile(r"\"[^\"]*\"|“[^”]*”")
_REPORTING = ("said", "says", "told", "added", "according to", "stated", "noted", "argued")
_REPORTING_VERB = re.compile(rf"\b(?:{'|'.join(_REPORTING)})\b")
_FIRST_PERSON = frozenset({"i", "me", "my", "mine", "we", "us", "our", "ours"})
_SECOND_PERSON = frozenset({"you", "your", "yours"})


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if _WORD.search(s)]


def _paragraphs(text: str) -> list[str]:
    blocks = [p.strip() for p in re.split(r"\n\s*\n|\n(?=\s)", text) if p.strip()]
    return blocks if len(blocks) > 1 else [p.strip() for p in text.splitlines() if p.strip()]


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _how_often(per_100_words: float) -> str:
    return "never" if per_100_words == 0 else "rare" if per_100_words < 0.5 else \
        "occasional" if per_100_words < 2 else "frequent"


def _pronoun_rates(texts: list[str]) -> tuple[float, float]:
    """First- and second-person words per 100 words of narration: pronouns inside quotations
    belong to the people quoted."""
    narration = [w.lower() for t in texts for w in _words(_QUOTED_SPAN.sub(" ", t))]
    total = max(len(narration), 1)
    return (sum(w in _FIRST_PERSON for w in narration) * 100 / total,
            sum(w in _SECOND_PERSON for w in narration) * 100 / total)


def _perspective(first_person: float, second_person: float) -> str:
    if max(first_person, second_person) < 1:
        return "third person"
    return "first person" if first_person >= second_person else "second person"


def measured_attributes(texts: list[str]) -> dict:
    """The attributes that can be counted rather than guessed: typical length and perspective."""
    return {"typical_length_words": int(np.median([len(_words(t)) for t in texts])),
            "perspective": _perspective(*_pronoun_rates(texts))}


def measure_style(texts: list[str]) -> list[str]:
    """One line per measurement, each a fact a hypothesis can cite."""
    words_per_text = [len(_words(t)) for t in texts]
    paragraphs_by_text = [_paragraphs(t) for t in texts]
    paragraphs = [p for text_paragraphs in paragraphs_by_text for p in text_paragraphs]
    sentences_by_text = [_sentences(t) for t in texts]
    sentences = [s for text_sentences in sentences_by_text for s in text_sentences]
    sentence_lengths = np.array([len(_words(s)) for s in sentences] or [0])
    words = [w.lower() for t in texts for w in _words(t)]
    total_words = max(len(words), 1)
    joined = "\n".join(texts).lower()

    first_person, second_person = _pronoun_rates(texts)
    quoted_paragraphs = sum(bool(_QUOTE.search(p)) for p in paragraphs)
    ending_quotes = sum(bool(_QUOTE.search(text_paragraphs[-1])) for text_paragraphs in paragraphs_by_text)
    reporting = Counter({verb: len(re.findall(rf"\b{verb}\b", joined)) for verb in _REPORTING})
    numbers_per_100 = sum(1 for w in words if w[0].isdigit()) * 100 / total_words
    openers = Counter(_words(s)[0] for s in sentences if _words(s))
    phrase_texts: Counter = Counter()
    for text in texts:
        tokens = [w.lower() for w in _words(text)]
        pairs = {f"{a} {b}" for a, b in zip(tokens, tokens[1:]) if a not in _STOPWORDS and b not in _STOPWORDS
                 and not a[0].isdigit() and not b[0].isdigit()}
        phrase_texts.update(pairs)
    # Ties are broken alphabetically: set order changes between processes, and so would the prompt.
    ranked = sorted(phrase_texts.items(), key=lambda item: (-item[1], item[0]))
    shared_phrases = [phrase for phrase, texts_with_it in ranked if texts_with_it >= 2][:8]

    per_100 = {name: joined.count(mark) * 100 / total_words
               for name, mark in (("semicolons", ";"), ("colons", ":"), ("dashes", " -"), ("parentheses", "("))}
    first_sentences = [text_sentences[0] for text_sentences in sentences_by_text if text_sentences]
    attributed_openings = sum(bool(_REPORTING_VERB.search(s.lower())) for s in first_sentences)
    last_paragraphs = [text_paragraphs[-1] for text_paragraphs in paragraphs_by_text if text_paragraphs]
    # One line per aspect of writing, in the order of the signature's hypotheses, each starting
    # with the aspect's name: the hypothesis about an aspect reads the line with its name.
    lines = {
        "Openings": f"a text's first sentence has {np.mean([len(_words(s)) for s in first_sentences] or [0]):.0f} "
                    f"words on average; {attributed_openings} of {len(first_sentences)} first sentences name a "
                    "source with a reporting verb.",
        "Paragraphs": f"a text has {np.median(words_per_text):.0f} words (median of {len(texts)} texts; from "
                      f"{min(words_per_text)} to {max(words_per_text)}) in "
                      f"{np.median([len(text_paragraphs) for text_paragraphs in paragraphs_by_text]):.0f} paragraphs "
                      f"(median); a paragraph has {len(sentences) / max(len(paragraphs), 1):.1f} sentences on average.",
        "Sentences": f"a sentence has {sentence_lengths.mean():.1f} words on average; "
                     f"{np.mean(sentence_lengths > 30) * 100:.0f}% of sentences have more than 30 words; the most "
                     "common first words are " + ", ".join(f"'{w}' {n} times" for w, n in openers.most_common(5))
                     + "; punctuation per 100 words: "
                     + ", ".join(f"{name} {rate:.1f} ({_how_often(rate)})" for name, rate in per_100.items()) + ".",
        "Sources": f"{quoted_paragraphs * 100 / max(len(paragraphs), 1):.0f}% of paragraphs contain a direct "
                   "quotation; reporting verbs: "
                   + (", ".join(f"'{v}' {n} times" for v, n in reporting.most_common() if n) or "none") + ".",
        "Vocabulary": "word pairs that recur across texts: "
                      + (", ".join(f"'{p}'" for p in shared_phrases) or "none") + ".",
        "Details": f"numbers {numbers_per_100:.1f} per 100 words ({_how_often(numbers_per_100)}).",
        "Voice": f"the texts are told in the {_perspective(first_person, second_person)}: outside "
                 f"quotations, first-person words (I, we, my, our) {first_person:.1f} per 100 words "
                 f"({_how_often(first_person)}), second-person words (you, your) {second_person:.1f} per 100 words "
                 f"({_how_often(second_person)}); questions: {joined.count('?')}, exclamations: "
                 f"{joined.count('!')} in all texts together.",
        "Endings": f"{ending_quotes} of {len(texts)} texts end with a paragraph that contains a quotation; a last "
                   f"paragraph has {np.mean([len(_sentences(p)) for p in last_paragraphs] or [0]):.1f} sentences "
                   "on average.",
    }
    return [f"{aspect}: {lines[aspect]}" for aspect in ASPECTS]
