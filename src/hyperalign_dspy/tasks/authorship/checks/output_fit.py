"""Does a generated text fit the person? Checked against the counts of the person's own texts (the
counts stage 1's claims are checked against, kept in the profile), never by an LM, so that the
evaluation's judge and the attribution model stay independent of it.

Each `Expectation` is a countable habit that any text of the person's should show: its length,
sentence and paragraph lengths, who tells it, question and exclamation marks the person never
uses, quotations, greetings and sign-offs. Tolerances are set a priori (a factor of two around the
person's length, one and a half around their sentence length), not fitted to any author. A text
that breaks character (speaks as an AI assistant, mentions its notes or task, leaves a template
slot such as "[Recipient's Name]", writes about writing, or writes a paragraph twice) fits nothing,
whatever its counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hyperalign_dspy.tasks.authorship.counting.text_counts import SENTENCE_END, TextCounts, count, paragraphs_of, words_of
from hyperalign_dspy.tasks.authorship.signatures import HABIT

# (what gives it away, as a reader would name it)
_OUT_OF_CHARACTER = tuple((re.compile(pattern, re.IGNORECASE), name) for pattern, name in (
    # "Sure! Here's a blog post about ...:": the assistant handing the text over, checked of a text
    # whole or, opening it, of its first sentences alone (`_without_opening_remarks`).
    (r"\bas an ai\b|\blanguage model\b|\bai assistant\b|\bI do not have personal\b"
     r"|^\W*(?:sure|certainly|of course|absolutely)\b[^.\n]{0,20}(?:\bhere(?:'s| is)\b|\W*$)"
     r"|^\W*here(?:'s| is) (?:a|an|the|my|your)\b[^.\n]{0,100}[:.]?\s*$"
     # "However, based on the hypotheses provided ..., here is a blog post about ...:", a sentence alone.
     r"|^[^.\n]{0,160}\bhere(?:'s| is) (?:a|an|the|my|your)\b[^.\n]{0,100}:\s*$"
     # The assistant's refusal, "I'm sorry, but I cannot assist with that." (a compiled writer's
     # whole answer, docs/results.md); a person who cannot help says so otherwise.
     r"|\bI(?:'m| am) sorry,? but I (?:can(?:no|')t|am unable to) (?:assist|comply|fulfil)"
     r"|\bcan(?:no|')t (?:assist|comply) with (?:that|this|your)\b|\b(?:fulfil+|comply with) (?:that|this|your) request\b",
     "speaks as an AI"),
    ((r"\bstyle notes?\b|\b(?:the|my|these|your) (?:notes|instructions)\b|\bthe (?:given )?(?:prompt|writing task)\b"
      r"|\bas instructed\b"
      # "This article adheres to the guidelines provided", "meets all the specified requirements"
      r"|\b(?:this|the) (?:article|text|response|answer|essay|post|email|letter|piece)\b[^.\n]{0,80}"
      r"\b(?:guidelines|requirements|criteria|instructions)\b"
      r"|\b(?:the |all the )?(?:specified|given|provided|stated) (?:guidelines|requirements|criteria)\b"
      r"|\b(?:guidelines|requirements|criteria) (?:provided|specified|given)\b"
      r"|\b(?:the )?(?:hypothes[ie]s|(?:writing )?habits) (?:provided|described|given|listed)\b"
      r"|\[\[ ##|`completed`"), "mentions its notes or task"),
    (r"\[[A-Z][^\]\n]{0,40}\]", "leaves a template slot"),
    # "The article continues with details about ...": a description of the text instead of the text.
    # "The article then goes on to describe ...", "The article concludes by reiterating ...".
    ((r"\b(?:the|this) (?:article|text|essay|post|email|letter|story|piece|response)(?: then| also)? (?:continues|starts|begins|"
      r"ends|concludes|goes on|moves on|touches upon|sets the tone|is written|provides an overview|has been completed)\b"
      # "The article will also feature a detailed breakdown ...": the text it would be, described.
      r"|\b(?:the|this) (?:article|text|essay|post|email|letter|piece|response) will(?: also| then)? (?:go on to )?(?:feature|include|"
      r"provide|highlight|discuss|explore|cover|focus|conclude|begin|start|end|describe|outline|examine)\b"
      r"|\b(?:sentence|paragraph|writing) style\b"
      # After a continued document: "This is the final version of the article", "This article
      # discusses the rise of ...", "Here's what I have so far:", "I need help with the following:".
      r"|\bthis is the (?:final|first|second|revised) (?:version|draft)\b"
      r"|\b(?:the|this) (?:article|text|essay|post|email|letter|story|piece) (?:discusses|highlights|mentions|"
      r"summarizes|explains)\b"
      r"|\bhere(?:'s| is) (?:what I have so far|my (?:current )?(?:text|draft|article))\b|\bI need help with\b"
      # After a wire opening (the compile of issue 33): "This article introduces Northern Rock ...",
      # "This article provides the requested information ... Thanks for using our service!".
      r"|\b(?:the|this) (?:article|essay|post|piece|response) (?:describes|introduces|covers|aligns with|"
      r"provides (?:the requested|information|details|insights))\b|\bthanks? (?:you )?for using\b"), "describes itself"),
))


@dataclass(frozen=True)
class Expectation:
    says: str  # the habit, as the writer is told it and a reader is shown it (`HABIT`)
    met: Callable[[TextCounts], bool]


def _within(value: float, target: float, factor: float) -> bool:
    return target / factor <= value <= target * factor


def expectations(person: TextCounts) -> list[Expectation]:
    """The habits a text by this person should show, from the counts of their texts."""
    found = [
        Expectation(HABIT["length"].format(words=person.words_per_text),
                    lambda c: _within(c.words_per_text, person.words_per_text, 2.0)),
        Expectation(HABIT["sentence_length"].format(words=person.words_per_sentence),
                    lambda c: _within(c.words_per_sentence, person.words_per_sentence, 1.5)),
        Expectation(HABIT["paragraph_length"].format(words=person.words_per_paragraph,
                                                     sentences=person.sentences_per_paragraph),
                    lambda c: _within(c.words_per_paragraph, person.words_per_paragraph, 2.0)),
    ]
    if person.perspective:  # counted in English texts only
        found.append(Expectation(HABIT["perspective"].format(perspective=person.perspective),
                                 lambda c: c.perspective == person.perspective))
    if person.questions == 0:
        found.append(Expectation(HABIT["no_questions"], lambda c: c.questions == 0))
    if person.exclamations == 0:
        found.append(Expectation(HABIT["no_exclamations"], lambda c: c.exclamations == 0))
    # Quotations are expected when a text of the person's typically holds at least one.
    quoted = person.quoted_paragraphs  # None: not counted (texts not in English)
    if quoted is not None and quoted * person.paragraphs_per_text >= 1:
        found.append(Expectation(HABIT["quotations"], lambda c: bool(c.quoted_paragraphs)))
    elif quoted == 0:
        found.append(Expectation(HABIT["no_quotations"], lambda c: c.quoted_paragraphs == 0))
    # A writer of emails and posts greets in one and not the other: only a habit of every text, or
    # of none, is expected of a new one.
    for name, counted in ((HABIT["greeting"], "greeting_openings"), (HABIT["sign_off"], "sign_off_closings")):
        if getattr(person, counted) is None:
            continue
        share = getattr(person, counted) / person.texts
        if share == 1:
            found.append(Expectation(HABIT["opening_or_closing"].format(name=name),
                                     lambda c, counted=counted: bool(getattr(c, counted))))
        elif share == 0:
            found.append(Expectation(HABIT["no_opening_or_closing"].format(name=name),
                                     lambda c, counted=counted: getattr(c, counted) == 0))
    return found


@dataclass(frozen=True)
class Fit:
    met: list[str]
    missed: list[str]
    breaks_character: str | None = None  # what gives it away, if the text breaks character

    @property
    def share(self) -> float:
        """The share of expectations met; none when the text breaks character."""
        if self.breaks_character:
            return 0.0
        return len(self.met) / len(self.met + self.missed) if self.met or self.missed else 1.0

    def as_json(self) -> dict:
        return {"share": round(self.share, 3), "kept": len(self.met), "of": len(self.met) + len(self.missed),
                "missed": self.missed, "breaks_character": self.breaks_character}


def fit_summary(fit: dict) -> str:
    """One line for people from `Fit.as_json()`: how many habits a text keeps, and which it misses."""
    if fit["breaks_character"]:
        return f"keeps none of the person's counted habits: it {fit['breaks_character']}"
    missed = f"; misses: {'; '.join(fit['missed'])}" if fit["missed"] else ""
    return f"keeps {fit['kept']} of {fit['of']} habits counted in the person's texts{missed}"


# Words for the craft of writing, which a text about anything else has little use for: a small
# model told its notes may write about them in place of the text it was asked for.
_CRAFT_WORD = re.compile(
    r"\b(sentence|paragraph|connective|quotation|perspective|vocabulary|punctuation|hedging|writer|tone|style"
    r"|stylistic|rhetorical|phrasing|wording|anecdote|first-person|third-person|narrator|reader)s?\b", re.IGNORECASE)
# A text naming this many of them (that its prompt does not) writes about writing. Of the 120 real
# texts of the dev suite's authors, one names two (a court's "sentence", a law's "paragraph").
CRAFT_WORDS = 3


def breaks_character(text: str, prompt: str = "") -> str | None:
    found = next((name for pattern, name in _OUT_OF_CHARACTER if pattern.search(text)), None)
    if found is None and len(_craft_words(text) - _craft_words(prompt)) >= CRAFT_WORDS:
        found = "writes about writing"
    return found or ("repeats a paragraph" if _repeats_a_paragraph(text) else None)


def _craft_words(text: str) -> set[str]:
    return {word.lower() for word in _CRAFT_WORD.findall(text)}


# A run of this many words that a paragraph shares with the text before it is a loop: none of the
# 126 real texts of evals/data has one (8 words: 5 of them do).
LOOP_RUN = 10


def _repeats_a_paragraph(text: str) -> bool:
    """A paragraph of eight or more words written again, whole, or a sentence sharing a run of
    `LOOP_RUN` words with the text before it: a small model's loop, which no writer's text has."""
    paragraphs = paragraphs_of(text)
    return _without_repeats(paragraphs) != paragraphs


def _runs_of(text: str) -> set[tuple[str, ...]]:
    words = [word.lower() for word in words_of(text)]
    return {tuple(words[start:start + LOOP_RUN]) for start in range(len(words) - LOOP_RUN + 1)}


def _without_repeats(paragraphs: list[str]) -> list[str]:
    """The paragraphs without those of eight or more words that were written before, each cut
    before its first sentence that shares a run of `LOOP_RUN` words with the text before it (a
    paragraph written again with a word changed, the given opening restated at the end or begun
    again in the same paragraph, where the loop stop ended it); a paragraph cut to nothing goes."""
    kept, seen, runs = [], set(), set()
    for paragraph in paragraphs:
        words = tuple(w.lower() for w in words_of(paragraph))
        if len(words) >= 8 and words in seen:
            continue
        seen.add(words)
        starts = [0, *(match.end() for match in SENTENCE_END.finditer(paragraph))]
        cut = paragraph
        for start, end in zip(starts, [*starts[1:], len(paragraph)]):
            own = _runs_of(paragraph[start:end])
            if own & runs:
                cut = paragraph[:start].rstrip()
                break
            runs |= own
        runs |= _runs_of(paragraph)
        if cut:
            kept.append(cut)
    return kept


def without_repeats_and_remarks(text: str, prompt: str = "") -> str:
    """`text` without a paragraph written again (`_repeats_a_paragraph`), without opening sentences
    and closing paragraphs that break character on their own, as long as some text stays; `text`
    itself when nothing is cut. A small model held to a person's length may loop, open as an
    assistant, or end a text with a paragraph about the text.

    Example: a text of two paragraphs, "Shares fell 3% on Monday." and "The article concludes by
    reiterating the outlook.", comes back as its first paragraph alone."""
    paragraphs = paragraphs_of(text)
    kept = _without_opening_remarks(_without_repeats(paragraphs), prompt)
    while len(kept) > 1 and breaks_character(kept[-1], prompt):
        kept.pop()
    return "\n\n".join(kept) if kept != paragraphs else text


def _without_opening_remarks(paragraphs: list[str], prompt: str) -> list[str]:
    """The paragraphs without the sentences before the text that break character on their own, as
    long as some text stays: the 1.5B model in chat opens with "As an AI language model, I do not
    have personal experiences. However, based on the guidelines provided, I can write a blog post
    ..." and then writes the post."""
    kept = list(paragraphs)
    while kept:
        first = kept[0]
        end = next(SENTENCE_END.finditer(first), None)
        sentence, rest = (first[:end.end()], first[end.end():].strip()) if end else (first, "")
        if not (rest or len(kept) > 1) or not breaks_character(sentence, prompt):
            break
        kept = [rest, *kept[1:]] if rest else kept[1:]
    return kept


# A line that labels what follows ("Answer:", "Title: American president ...") after a text's first
# line: the head of another document. None of the 126 real texts of the dev data has one.
_LABEL_LINE = re.compile(r"^[A-Z][a-z]+:(?: .{0,80})?$")


def first_document(text: str, opening: str = "", prompt: str = "") -> str:
    """A continued document up to its end: up to a line that labels what follows ("Answer:"), and
    the paragraphs before the first, after the first one, that breaks character or starts the
    opening again. A small model that finishes the text runs on
    into another document: a remark on it ("This article discusses ..."), a request ("I need help
    with the following:"), a second draft from the opening.

    Example: "Shares fell 3%.", then "This is the final version of the article.", then "Shares fell
    3% again." comes back as "Shares fell 3%."."""
    lines = text.splitlines()
    labelled = next((index for index, line in enumerate(lines[1:], start=1) if _LABEL_LINE.match(line.strip())), None)
    if labelled is not None:
        text = "\n".join(lines[:labelled]).strip()
    paragraphs = paragraphs_of(text)
    # An opening shorter than 8 words restarts when a paragraph begins with all of its words.
    start = [word.lower() for word in words_of(opening)[:8]]
    for index, paragraph in enumerate(paragraphs[1:], start=1):
        restarts = bool(start) and [word.lower() for word in words_of(paragraph)[:len(start)]] == start
        if restarts or breaks_character(paragraph, prompt):
            return "\n\n".join(paragraphs[:index])
    return text


def fit_of(text: str, person: TextCounts, prompt: str = "") -> Fit:
    """How `text`, written for `prompt`, fits the habits counted in the person's texts."""
    counted = count([text], english=person.english)
    checked = [(expectation.says, expectation.met(counted)) for expectation in expectations(person)]
    return Fit(met=[says for says, met in checked if met], missed=[says for says, met in checked if not met],
               breaks_character=breaks_character(text, prompt))
