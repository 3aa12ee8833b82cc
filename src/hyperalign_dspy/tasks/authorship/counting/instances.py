"""Instances quoted from a person's texts: for each aspect a short excerpt of one thing counted
(a question, a hedge, a text's first sentence), evidence a hypothesis can quote."""

from __future__ import annotations

import re

import regex

from hyperalign_dspy.tasks.authorship.counting.text_counts import (
    BOOSTERS,
    CONNECTIVES,
    EXCLAMATION_MARKS,
    HEDGES,
    PUNCTUATION,
    QUESTION_MARKS,
    QUOTED_SPAN,
    SENTENCE_END,
    UNSPACED,
    TextCounts,
    count,
    paragraphs_of,
    sentences_of,
    words_of,
)

# Marks the hypotheses' grammar keeps out of a quote; an instance is quoted without them.
_UNQUOTABLE = re.compile(r"[\"“”;()\\]|['‘’](?![A-Za-z])|(?<![A-Za-z])['‘’]")
_FIRST_PERSON_WORD = re.compile(r"\b(?:I|me|my|mine|we|us|our|ours)\b")
_SECOND_PERSON_WORD = re.compile(r"\b(?:you|your|yours)\b", re.IGNORECASE)
_MARKS_SHOWN = ("dashes", "colons", "semicolons", "parentheses", "exclamation marks", "ellipses")


def excerpt(sentence: str, at: int = 0, words: int = 10) -> str:
    """At most `words` words of `sentence` around character `at`, without the marks a quote cannot hold."""
    spans = [m.span() for m in regex.finditer(rf"[{UNSPACED}]|[^\s{UNSPACED}]+", sentence)]
    index = next((i for i, (start, end) in enumerate(spans) if at < end), len(spans) - 1)
    first = max(0, min(index - words // 2, len(spans) - words))
    chosen = sentence[spans[first][0]: spans[min(first + words, len(spans)) - 1][1]]
    return " ".join(_UNQUOTABLE.sub("", chosen).split()).strip(",:- ")


def instances(texts: list[str], counts: TextCounts | None = None) -> dict[str, str]:
    """For each aspect, where the texts show it, a short excerpt of one instance of what is counted
    (a question, a hedge, a text's first sentence, ...): evidence that a hypothesis can quote.
    `counts`: the texts' counts, if already made."""
    by_text = [sentences_of(t) for t in texts]
    # Each sentence beside its narration: the sentence with what its paragraph quotes blanked out
    # (a quotation may run over several sentences).
    narrated = []
    for paragraph in (p for t in texts for p in paragraphs_of(t)):
        blanked = QUOTED_SPAN.sub(lambda m: " " * len(m.group()), paragraph)
        ends = [m.start() for m in SENTENCE_END.finditer(paragraph)] + [len(paragraph)]
        starts = [0] + [m.end() for m in SENTENCE_END.finditer(paragraph)]
        narrated += [(paragraph[a:b], blanked[a:b]) for a, b in zip(starts, ends) if len(words_of(paragraph[a:b])) >= 2]

    def first(pattern: re.Pattern, quoted_too: bool = False) -> str | None:
        """An instance in the writer's own words, else (`quoted_too`) in what they quote."""
        for searched in (1, 0) if quoted_too else (1,):
            for pair in narrated:
                if match := pattern.search(pair[searched]):
                    return excerpt(pair[0], match.start())
        return None

    counts = counts or count(texts)
    typical = min(narrated, key=lambda pair: abs(len(words_of(pair[0])) - counts.words_per_sentence), default=None)
    shown_marks = [name for name in _MARKS_SHOWN if counts.punctuation[name] > 0]
    found = {
        "Argument": first(re.compile(f"[{QUESTION_MARKS}]\\s*$")) or (
            first(re.compile(rf"^(?:{'|'.join(CONNECTIVES)})\b", re.IGNORECASE)) if counts.english else None),
        "Reader": first(_SECOND_PERSON_WORD) if counts.second_person else None,
        "Support": first(re.compile(r"\d"), quoted_too=True),
        "Certainty": first(HEDGES, quoted_too=True) or first(BOOSTERS, quoted_too=True) if counts.english else None,
        "Openings": next((excerpt(s) for s in (text_sentences[:1] for text_sentences in by_text) for s in s), None),
        "Closings": next((excerpt(t[-1], len(t[-1]) - 1) for t in by_text if t), None),
        "Temperament": first(re.compile(f"[{EXCLAMATION_MARKS}]\\s*$")),
        "Voice": first(_FIRST_PERSON_WORD) if counts.perspective == "first person" else None,
        "Sentences": excerpt(typical[0]) if typical else None,
        "Punctuation": first(PUNCTUATION[max(shown_marks, key=lambda name: counts.punctuation[name])], quoted_too=True)
        if shown_marks else None,
    }
    return {aspect: quote for aspect, quote in found.items() if quote}
