"""Counted facts about a person's texts: evidence for stage 1, and the ground truth its countable
claims are checked against (`checks/claims.py`).

A small LM asked to infer a style from raw texts tends to summarize their content. Counting what
can be counted (lengths, person, punctuation, hedges, questions, recurring phrases) gives it
grounded facts about this person. Every measure applies to any genre; a measure that only means
something in some genres (quotations, greetings, sign-offs) is reported only when the texts show
it, so that an email writer is never told about reporting verbs.

Lengths, sentences, paragraphs, questions, exclamations, numbers and punctuation are counted in
any script: a word is a run of letters, except in Chinese and Japanese, which write no spaces, where
each Han, Hiragana or Katakana character counts as one (Thai, Lao, Khmer and Burmese runs count as
one word each). What rests on English word lists (person, second-person words, contractions,
hedges, boosters, connectives, greetings, sign-offs, reporting verbs, long words, recurring word
pairs) is counted only in English texts, and is `None`, never 0, in others: for them it is left
to the LM.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import regex


# Scripts written without spaces between words: each character is a word.
UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}"
# (VERSION1 sets: `[[a]--[b]]` is a without b.)
_WORD = regex.compile(rf"(?V1)[{UNSPACED}]|[[\p{{L}}\p{{M}}]--[{UNSPACED}]][[\p{{L}}\p{{M}}'’-]--[{UNSPACED}]]*"
                      r"|\p{Nd}[\p{Nd}.,]*%?")
# A sentence ends at a full stop, question or exclamation mark before a space, or at a Chinese or
# Japanese one (no space follows those), when what comes next is not lower case ("e.g. the").
SENTENCE_END = regex.compile(r"(?:(?<=[.!?؟])[\"”’»)]*\s+|(?<=[。！？])[」』”’)）]*\s*)"
                              r"(?=[\"“‘«„(「『\p{Lu}\p{Lt}\p{Lo}\p{Nd}])")
QUESTION_MARKS, EXCLAMATION_MARKS = "?？؟", "!！"
_APOSTROPHE = re.compile(r"['’]")  # compiled once: these two run per word, and a pattern's cache lookup costs
_UNSPACED_CHARACTER = regex.compile(f"[{UNSPACED}]")
_CLOSING_MARKS = "\"”’»)）」』 "
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this
    that these those he she they we you i his her their our your my me him them us not no so than then there
    which who whom what when where why how will would can could should may might must do does did has have had
    also into over under after before about up down out more most such only other some any each all both""".split()
)
# A quoted span, or the part of a paragraph after a quotation mark that is not closed in it (a
# quotation running on into the next paragraph).
_QUOTED_IN_PARAGRAPH = re.compile(r"[\"“]([^\"“”]*)(?:[\"”]|$)")
QUOTED_SPAN = re.compile(r"\"[^\"]*\"|“[^”]*”")
_REPORTING = ("said", "says", "told", "added", "according to", "stated", "noted", "argued")
REPORTED = re.compile(rf"\b(?:{'|'.join(_REPORTING)}|asked|asks|say|tell|tells|adds|wrote|writes)\b", re.IGNORECASE)
_FIRST_PERSON = frozenset({"i", "me", "my", "mine", "we", "us", "our", "ours"})
_SECOND_PERSON = frozenset({"you", "your", "yours"})
_CONTRACTION = re.compile(r"[A-Za-z]['’](?:t|re|ve|ll|d|m)\b", re.IGNORECASE)  # not 's: a possessive too
HEDGES = re.compile(r"\b(?:maybe|perhaps|probably|possibly|might|seems?|seemed|apparently|somewhat|"
                     r"i think|i guess|i suspect|i suppose|likely|arguably)\b", re.IGNORECASE)
BOOSTERS = re.compile(r"\b(?:clearly|obviously|certainly|definitely|always|never|must|undoubtedly|"
                       r"of course|honestly|really)\b", re.IGNORECASE)
CONNECTIVES = ("but", "so", "and", "because", "however", "therefore", "still", "yet", "then")
GREETING = re.compile(r"^(?:dear|hi|hello|hey|good (?:morning|afternoon|evening))\b", re.IGNORECASE)
_SIGN_OFF = re.compile(r"^(?:[—–-]+\s*\S|(?:best|kind|warm)?\s*regards\b|thanks\b|thank you\b|cheers\b|"
                       r"sincerely\b|yours\b|best\b|love\b)", re.IGNORECASE)
# Each mark with its Chinese, Japanese and Arabic forms.
PUNCTUATION = {name: re.compile(pattern) for name, pattern in (
    ("commas", "[,，、،]"), ("semicolons", "[;；؛]"), ("colons", "[:：]"), ("dashes", r"\s-{1,2}\s|[—–]"),
    ("parentheses", "[(（]"), ("exclamation marks", f"[{EXCLAMATION_MARKS}]"),
    ("question marks", f"[{QUESTION_MARKS}]"), ("ellipses", r"\.\.\.|…"))}
# English texts: at least this share of their words is on the list of English function words
# (in English prose they are about two fifths; in other languages few of them are words at all).
ENGLISH_FUNCTION_WORDS = 0.15


def sentences_of(text: str) -> list[str]:
    """The sentences of `text`; none runs across a paragraph break (a title line is one of its own)."""
    return [s for paragraph in paragraphs_of(text) for s in SENTENCE_END.split(paragraph) if _WORD.search(s)]


def paragraphs_of(text: str) -> list[str]:
    blocks = [p.strip() for p in re.split(r"\n\s*\n|\n(?=\s)", text) if p.strip()]
    return blocks if len(blocks) > 1 else [p.strip() for p in text.splitlines() if p.strip()]


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def quotes_someone(paragraph: str) -> bool:
    """Does the paragraph hold a direct quotation? A quoted span counts when a reporting verb stands
    within four words of it ("At last," a cyclist said), or when it runs to three or more words and
    is not a title or a name (every word but the small ones capitalized: "Gone with the Wind").
    Other quoted words are a term or a title: so-called "princelings", films like "The Notebook"."""
    for quoted in _QUOTED_IN_PARAGRAPH.finditer(paragraph):
        words = words_of(quoted.group(1))
        around = " ".join(words_of(paragraph[:quoted.start()])[-4:] + words_of(paragraph[quoted.end():])[:4])
        if REPORTED.search(around) or (
                len(words) >= 3 and not all(w[0].isupper() for w in words if w.lower() not in _STOPWORDS)):
            return True
    return False


def how_often(per_100_words: float) -> str:
    return "never" if per_100_words == 0 else "rare" if per_100_words < 0.5 else \
        "occasional" if per_100_words < 2 else "frequent"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _ends_with(sentence: str, marks: str) -> bool:
    return sentence.rstrip(_CLOSING_MARKS).endswith(tuple(marks))


def is_english(words: list[str]) -> bool:
    """Are these mostly English words? (`ENGLISH_FUNCTION_WORDS`; "I'll" counts as "I".)"""
    function_words = sum(_APOSTROPHE.split(word.lower(), maxsplit=1)[0] in _STOPWORDS for word in words)
    return function_words >= ENGLISH_FUNCTION_WORDS * len(words) > 0


@dataclass
class TextCounts:
    """What is counted in a person's texts. Rates are per 100 words unless named a share (0 to 1).
    A count that rests on English word lists is None for texts that are not English."""

    texts: int
    words_per_text: float  # median
    shortest_text: int
    longest_text: int
    paragraphs_per_text: float  # median
    sentences_per_paragraph: float
    words_per_paragraph: float
    one_sentence_paragraphs: float  # share of paragraphs
    words_per_sentence: float
    long_sentences: float  # share with more than 25 words
    short_sentences: float  # share with fewer than 8 words
    questions: float  # share of sentences
    exclamations: float  # share of sentences
    first_person: float | None  # outside quotations
    second_person: float | None
    contractions: float | None
    numbers: float
    hedges: float | None
    boosters: float | None
    long_words: float | None  # share of words with 8 or more letters
    punctuation: dict[str, float]  # name -> rate
    quoted_paragraphs: float | None  # share of paragraphs with a direct quotation
    reporting_verbs: dict[str, int] | None
    connectives: dict[str, int] | None  # sentence-opening connective -> count
    connective_openings: float | None  # share of sentences that open with a connective
    first_sentence_words: float
    last_paragraph_sentences: float
    greeting_openings: int | None  # texts whose first line greets someone
    question_openings: int
    sign_off_closings: int | None  # texts whose last line is a sign-off
    question_closings: int
    recurring_pairs: list[str] | None = field(default_factory=list)  # word pairs found in two or more texts
    english: bool = True  # the English word-list counts were made
    unspaced_words: float = 0.0  # share of words that are a Chinese or Japanese character
    unused_marks: str | None = None  # the marks of `FORMATTING_MARKS` no text has (None: not counted)
    sentence_openings: list[str] | None = None  # each sentence's first word and first two, lower case (None: not counted)

    @property
    def perspective(self) -> str | None:
        if not self.english:
            return None
        if max(self.first_person, self.second_person) < 1:
            return "third person"
        return "first person" if self.first_person >= self.second_person else "second person"


# The marks a person may never write, which a model's assistant register uses: brackets, braces,
# markdown and code marks (stage 2 may be barred from them: `lms/token_bans.py`).
FORMATTING_MARKS = "[]{}<>#*_|~`^@\\=+"


def unused_marks(texts: list[str]) -> str:
    """The marks of `FORMATTING_MARKS` that none of `texts` contains."""
    return "".join(mark for mark in FORMATTING_MARKS if not any(mark in text for text in texts))


def count(texts: list[str], english: bool | None = None) -> TextCounts:
    """The counts of `texts`; `english` says whether to make the English word-list counts
    (by default, when the texts are English: `is_english`)."""
    words_per_text = [len(words_of(t)) for t in texts]
    paragraphs_by_text = [paragraphs_of(t) for t in texts]
    paragraphs = [p for text_paragraphs in paragraphs_by_text for p in text_paragraphs]
    sentences_by_text = [sentences_of(t) for t in texts]
    sentences = [s for text_sentences in sentences_by_text for s in text_sentences]
    sentence_lengths = np.array([len(words_of(s)) for s in sentences] or [0])
    words = [w.lower() for t in texts for w in words_of(t)]
    total_words = max(len(words), 1)
    english = is_english(words) if english is None else english
    joined = "\n".join(texts)
    english_counts = _count_english(texts, joined, words, total_words, paragraphs, sentences) if english \
        else dict.fromkeys(_ENGLISH_COUNTS)
    last_paragraphs = [text_paragraphs[-1] for text_paragraphs in paragraphs_by_text if text_paragraphs]
    first_sentences = [text_sentences[0] for text_sentences in sentences_by_text if text_sentences]
    return TextCounts(
        texts=len(texts),
        words_per_text=float(np.median(words_per_text)), shortest_text=min(words_per_text),
        longest_text=max(words_per_text),
        paragraphs_per_text=float(np.median([len(p) for p in paragraphs_by_text])),
        sentences_per_paragraph=_share(len(sentences), len(paragraphs)),
        words_per_paragraph=_share(len(words), len(paragraphs)),
        one_sentence_paragraphs=_share(sum(len(sentences_of(p)) == 1 for p in paragraphs), len(paragraphs)),
        words_per_sentence=float(sentence_lengths.mean()),
        long_sentences=float(np.mean(sentence_lengths > 25)), short_sentences=float(np.mean(sentence_lengths < 8)),
        questions=_share(sum(_ends_with(s, QUESTION_MARKS) for s in sentences), len(sentences)),
        exclamations=_share(sum(_ends_with(s, EXCLAMATION_MARKS) for s in sentences), len(sentences)),
        numbers=sum(w[0].isdigit() for w in words) * 100 / total_words,
        punctuation={name: len(mark.findall(joined)) * 100 / total_words for name, mark in PUNCTUATION.items()},
        first_sentence_words=float(np.mean([len(words_of(s)) for s in first_sentences] or [0])),
        last_paragraph_sentences=float(np.mean([len(sentences_of(p)) for p in last_paragraphs] or [0])),
        question_openings=sum(_ends_with(s, QUESTION_MARKS) for s in first_sentences),
        question_closings=sum(bool(s) and _ends_with(s[-1], QUESTION_MARKS)
                              for p in last_paragraphs for s in [sentences_of(p)]),
        english=english, unspaced_words=_share(sum(bool(_UNSPACED_CHARACTER.fullmatch(w)) for w in words), len(words)),
        unused_marks=unused_marks(texts),
        sentence_openings=sorted({" ".join(w.rstrip(".,") for w in words_of(s)[:n]).lower()
                                  for s in sentences for n in (1, 2) if words_of(s)}),
        **english_counts,
    )


# The counts that rest on English word lists (None for other texts).
_ENGLISH_COUNTS = ("first_person", "second_person", "contractions", "hedges", "boosters", "long_words",
                   "quoted_paragraphs", "reporting_verbs", "connectives", "connective_openings", "greeting_openings",
                   "sign_off_closings", "recurring_pairs")


def _count_english(texts: list[str], joined: str, words: list[str], total_words: int, paragraphs: list[str],
                   sentences: list[str]) -> dict:
    """The counts that rest on English word lists, by name."""
    # Outside quotations, and "I'll" counted as "I".
    narration = [_APOSTROPHE.split(w.lower(), maxsplit=1)[0] for t in texts for w in words_of(QUOTED_SPAN.sub(" ", t))]
    narration_words = max(len(narration), 1)
    openers = Counter(words_of(s)[0].lower() for s in sentences if words_of(s))
    # A greeting opens the text, or follows its subject line (an email's).
    opening_lines = [[line.strip() for line in t.strip().splitlines() if line.strip()][:2] for t in texts]
    # A sign-off stands on the last line or, above a name, on the one before it.
    closing_lines = [[line.strip() for line in t.strip().splitlines() if line.strip()][-2:] for t in texts]

    lowered = joined.lower()
    pairs_by_texts: Counter = Counter()
    for text in texts:
        tokens = [w.lower() for w in words_of(text)]
        pairs_by_texts.update({f"{a} {b}" for a, b in zip(tokens, tokens[1:]) if a not in _STOPWORDS
                               and b not in _STOPWORDS and not a[0].isdigit() and not b[0].isdigit()})
    # Ties are broken alphabetically: set order changes between processes, and so would the prompt.
    ranked = sorted(pairs_by_texts.items(), key=lambda item: (-item[1], item[0]))

    return {
        "first_person": sum(w in _FIRST_PERSON for w in narration) * 100 / narration_words,
        "second_person": sum(w in _SECOND_PERSON for w in narration) * 100 / narration_words,
        "contractions": len(_CONTRACTION.findall(joined)) * 100 / total_words,
        "hedges": len(HEDGES.findall(joined)) * 100 / total_words,
        "boosters": len(BOOSTERS.findall(joined)) * 100 / total_words,
        "long_words": _share(sum(len(w) >= 8 for w in words), len(words)),
        "quoted_paragraphs": _share(sum(quotes_someone(p) for p in paragraphs), len(paragraphs)),
        "reporting_verbs": {verb: n for verb in _REPORTING if (n := len(re.findall(rf"\b{verb}\b", lowered)))},
        "connectives": {word: openers[word] for word in CONNECTIVES if openers[word]},
        "connective_openings": _share(sum(openers[word] for word in CONNECTIVES), len(sentences)),
        "greeting_openings": sum(any(GREETING.match(line) for line in lines) for lines in opening_lines),
        "sign_off_closings": sum(any(len(words_of(line)) <= 5 and _SIGN_OFF.match(line) for line in lines)
                                 for lines in closing_lines),
        "recurring_pairs": [pair for pair, texts_with_it in ranked if texts_with_it >= 2][:8],
    }


def measured_attributes(counts: TextCounts) -> dict:
    """The attributes that can be counted rather than guessed: typical length and (in English
    texts) perspective."""
    measured = {"typical_length_words": int(counts.words_per_text), "perspective": counts.perspective}
    return {name: value for name, value in measured.items() if value is not None}
