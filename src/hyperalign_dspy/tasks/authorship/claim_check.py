"""Stage 1's hypotheses checked against the person's texts before they are used.

A hypothesis states a claim and quotes its evidence: "<Aspect>: The writer <claim> (evidence:
'<quote>')". Two things are checked, and the profile records what either changed:
- the evidence is in the texts (most of its words in one text, in order of appearance not
  required): a "quote" that is not there is removed, and the claim is checked on its own (the
  1.5B model, reading long news texts, wrote descriptions where it was asked for quotes);
- a countable claim agrees with the counts (`style_measurements.TextCounts`): a number of words,
  sentences or paragraphs far from the counted one is corrected to it; a person, or how often a
  punctuation mark, a question or a quotation occurs, that the counts refute is dropped.
Claims nothing here can count (how the writer argues, what they value) pass as stated. The
attributes' sentence and paragraph styles are checked the same way: a "long" or "short" the counts
refute is replaced by the counted length.
"""

from __future__ import annotations

import re

from hyperalign_dspy.core.profile import ClaimCheck
from hyperalign_dspy.tasks.authorship.style_measurements import TextCounts, how_often, words_of

_EVIDENCE = re.compile(r"\s*\(evidence:\s*['\"‘“](?P<quote>.*)['\"’”]\)\s*$", re.DOTALL)
QUOTED_SHARE = 0.8  # of the evidence's words that must stand in one of the texts

# "12 words per sentence", "3-sentence paragraphs" (a number, a unit, and what it is counted in)
_NUMBER_UNIT = re.compile(
    r"(?P<number>\d+(?:\.\d+)?)\s*-?\s*(?P<unit>word|sentence|paragraph)s?\b"
    r"(?:\s+(?:on average\s+)?(?:per|in each|in every|in a|in an|in one|each|a|an)\s+(?P<container>[a-z]+))?",
    re.IGNORECASE)
# "sentences of about 12 words", "paragraphs with 1 or 2 sentences"
_CONTAINER_FIRST = re.compile(
    r"(?P<container>sentence|paragraph|text|post|article|email|essay|letter)s?\s+(?:of|with|averaging|that average)"
    r"\s+(?:about |around |roughly |only |just |\d+(?:\.\d+)? (?:or|to) )?(?P<number>\d+(?:\.\d+)?)\s+"
    r"(?P<unit>word|sentence|paragraph)s?\b", re.IGNORECASE)
_TEXTS = {"text", "post", "article", "email", "essay", "letter", "piece", "message", "entry", "story", "review"}

# (unit, what it is counted in) -> the count it states
_COUNTED = {
    ("word", "sentence"): "words_per_sentence",
    ("word", "paragraph"): "words_per_paragraph",
    ("word", "text"): "words_per_text",
    ("sentence", "paragraph"): "sentences_per_paragraph",
    ("paragraph", "text"): "paragraphs_per_text",
}
# What a number without a container counts, by the hypothesis's aspect.
_BY_ASPECT = {
    ("Sentences", "word"): "words_per_sentence",
    ("Paragraphs", "sentence"): "sentences_per_paragraph",
    ("Paragraphs", "paragraph"): "paragraphs_per_text",
    ("Openings", "word"): "first_sentence_words",
    ("Closings", "sentence"): "last_paragraph_sentences",
}
# A claim about who tells the texts ("in the first person", "a third-person voice"), not about
# using some person's words ("uses second-person words").
_PERSON = re.compile(r"\b(?:in|from)\s+(?:the\s+|a\s+)?(first|second|third)[- ]person\b|"
                     r"\b(first|second|third)[- ]person\s+(?:perspective|voice|narrat\w*|point of view)", re.IGNORECASE)
_LOW = re.compile(r"\b(?:never|no|not|avoids?|rarely|seldom|hardly|without|little|few)\b", re.IGNORECASE)
_HIGH = re.compile(r"\b(?:often|frequent\w*|many|heav\w*|lots|regularly|every|always|most|constantly|"
                   r"consistently|usually|typically|generally|plenty|numerous|liberal\w*)\b", re.IGNORECASE)
_MARKS = {
    "commas": re.compile(r"\bcommas?\b", re.IGNORECASE),
    "semicolons": re.compile(r"semicolon", re.IGNORECASE),
    "colons": re.compile(r"(?<!semi)colon", re.IGNORECASE),
    "dashes": re.compile(r"\bdash", re.IGNORECASE),
    "parentheses": re.compile(r"parenthe|bracket", re.IGNORECASE),
    "exclamation marks": re.compile(r"exclamation", re.IGNORECASE),
    "question marks": re.compile(r"\bquestions?\b|question mark", re.IGNORECASE),
    "ellipses": re.compile(r"ellips", re.IGNORECASE),
}
_QUOTATIONS = re.compile(r"\bquot(?:es?|ations?|ing)\b", re.IGNORECASE)
# Rates per 100 words: a claim of "never" is refuted at or above the first, one of "often" below the second.
_REFUTES_NEVER, _REFUTES_OFTEN = 1.0, 0.2


def split_hypothesis(text: str) -> tuple[str, str, str | None]:
    """The aspect (before the first colon, if it names one), the claim, and the quoted evidence."""
    aspect, _, rest = text.partition(":") if re.match(r"^[A-Z][a-z]+:", text) else ("", "", text)
    match = _EVIDENCE.search(rest)
    claim = rest[: match.start()] if match else rest
    return aspect, claim.strip(), match.group("quote").strip() if match else None


def is_quoted_from(quote: str, texts: list[str]) -> bool:
    """Most of the quote's words stand in one of the texts."""
    words = [word.lower() for word in words_of(quote)]
    if not words:
        return False
    return any(sum(word in vocabulary for word in words) >= QUOTED_SHARE * len(words)
               for vocabulary in ({word.lower() for word in words_of(text)} for text in texts))


def _agrees(stated: float, counted: float) -> bool:
    return abs(stated - counted) <= max(1.0, 0.3 * counted)


def _shown(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _numbers(aspect: str, claim: str) -> list[tuple[re.Match, str]]:
    """The numeric statements of a claim and the count each states."""
    found, taken = [], set()
    for match in [*_CONTAINER_FIRST.finditer(claim), *_NUMBER_UNIT.finditer(claim)]:
        if match.start("number") in taken:  # "sentences of 12 words" is found by both patterns
            continue
        unit = match.group("unit").lower()
        container = (match.group("container") or "").lower().rstrip("s")
        container = "text" if container in _TEXTS else container
        name = _COUNTED.get((unit, container)) if container else _BY_ASPECT.get((aspect, unit))
        if name:
            found.append((match, name))
            taken.add(match.start("number"))
    return found


def _how_often_said(claim: str, mention: re.Match) -> str | None:
    """'low' or 'high' when the words next to a mention (four before it, two after) say how often."""
    before = claim[: mention.start()].split()[-4:]
    after = claim[mention.end():].split()[:2]
    near = " ".join([*before, *after])
    low, high = bool(_LOW.search(near)), bool(_HIGH.search(near))
    return None if low == high else "low" if low else "high"


def _refuted_quality(claim: str, counts: TextCounts) -> str | None:
    """Why a claim about person, punctuation or quotation is refuted by the counts, or None."""
    person = _PERSON.search(claim)
    if person and f"{(person.group(1) or person.group(2)).lower()} person" != counts.perspective:
        return f"the texts are told in the {counts.perspective}"
    for name, pattern in _MARKS.items():
        for mention in pattern.finditer(claim):
            said, rate = _how_often_said(claim, mention), counts.punctuation[name]
            if (said == "low" and rate >= _REFUTES_NEVER) or (said == "high" and rate < _REFUTES_OFTEN):
                return f"{name}: {rate:.1f} per 100 words ({how_often(rate)})"
    for mention in _QUOTATIONS.finditer(claim):
        said, share = _how_often_said(claim, mention), counts.quoted_paragraphs
        if (said == "low" and share >= 0.1) or (said == "high" and share == 0):
            return f"{share * 100:.0f}% of paragraphs hold a direct quotation"
    return None


def check_hypotheses(hypotheses: list[str], texts: list[str], counts: TextCounts) -> tuple[list[str], list[ClaimCheck]]:
    """The hypotheses the texts bear out (numbers corrected to the counts), and what was changed."""
    kept, checks = [], []
    for hypothesis in hypotheses:
        aspect, claim, quote = split_hypothesis(hypothesis)
        refuted = _refuted_quality(claim, counts)
        if refuted:
            checks.append(ClaimCheck(hypothesis=hypothesis, outcome="dropped", reason=f"counted: {refuted}"))
            continue
        corrected, changes = hypothesis, []
        if quote is not None and not is_quoted_from(quote, texts):
            corrected = f"{aspect}: {claim}" if aspect else claim
            changes.append("its evidence is not in the texts: removed")
        for match, name in _numbers(aspect, claim):
            stated, counted = float(match.group("number")), getattr(counts, name)
            if not _agrees(stated, counted):
                number = match.group("number")
                corrected = corrected.replace(match.group(0), match.group(0).replace(number, _shown(counted), 1), 1)
                changes.append(f"{name.replace('_', ' ')}: {number} stated, {_shown(counted)} counted")
        if changes:
            checks.append(ClaimCheck(hypothesis=hypothesis, outcome="corrected", reason="; ".join(changes)))
        kept.append(corrected)
    return kept, checks


_LONG = re.compile(r"\b(?:long|lengthy|complex|elaborate|extended|dense)\b", re.IGNORECASE)
_SHORT = re.compile(r"\b(?:short|brief|concise|terse|punchy|simple)\b", re.IGNORECASE)
# (attribute, what it describes, its count, below this it is short, above this long)
_STYLE_LENGTHS = (("sentence_style", "sentences", "words_per_sentence", "words", 14.0, 22.0),
                  ("paragraph_style", "paragraphs", "sentences_per_paragraph", "sentences", 2.0, 4.0))


def check_style_attributes(attributes, counts: TextCounts) -> tuple[dict, list[ClaimCheck]]:
    """Updates for the attributes whose "long" or "short" the counts refute, and the checks."""
    updates, checks = {}, []
    for name, things, count_name, unit, short, long in _STYLE_LENGTHS:
        stated, counted = getattr(attributes, name), getattr(counts, count_name)
        said_long, said_short = bool(_LONG.search(stated)), bool(_SHORT.search(stated))
        if (said_long and not said_short and counted < short) or (said_short and not said_long and counted > long):
            length = "short" if counted < short else "long" if counted > long else "medium-length"
            updates[name] = f"{length} {things}: {_shown(counted)} {unit} on average"
            checks.append(ClaimCheck(hypothesis=f"{name}: {stated}", outcome="corrected",
                                     reason=f"{count_name.replace('_', ' ')}: {_shown(counted)} counted"))
    return updates, checks
