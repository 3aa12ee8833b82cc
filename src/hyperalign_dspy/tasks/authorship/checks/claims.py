"""Stage 1's hypotheses checked against the person's texts before they are used.

A hypothesis states a claim and quotes its evidence: "<Aspect>: The writer <claim> (evidence:
'<quote>')". Two things are checked, and the profile records what either changed:
- the evidence is in the texts (most of its words in one text, in order of appearance not
  required) and, for a habit a quote can show (a mark, a greeting, "you"), shows it: a "quote" that
  is not there, or a greeting claimed with the words 'Winter commute, week three', is removed, and
  the claim is checked on its own (a small
  model may write a description where it is asked for a quote), and `InferProfile.with_evidence`
  then drops the hypothesis or, with `quote_again`, asks once more for a quote;
- a countable claim agrees with the counts (`counting.text_counts.TextCounts`): a number of words,
  sentences or paragraphs far from the counted one is corrected to it; a person, or how often a
  punctuation mark, a question, a quotation, a word to the reader ("you"), a greeting, a sign-off
  or a sentence-opening connective occurs ("never", "often", "each", or at all), that the counts refute is dropped.
A claim that says nothing of this person is dropped: one true of any text ("uses punctuation",
"starts with a sentence's first word": only words naming a text's parts) or a count restated
("mentions numbers 0.0 per 100 words": stage 2 gets the counts as habits anyway), or the
signature's own words (most of its description of the aspect, "argues for or complains of
something", or its example claim).
A position (what the writer argues for or against) whose evidence reports others ("told
reporters", or words inside a quotation) is what the texts report, not the writer's: dropped.
Claims nothing here can count (how the writer argues, what they argue for) pass as stated. The
attributes' sentence and paragraph styles are checked the same way: a "long" or "short" the counts
refute is replaced by the counted length. The listed attributes are held to what their fields ask:
a characteristic phrase is kept only if the texts use it, word for word, more than once, so a
phrase the LM made up, or took from a sentence that stands once in the texts, never reaches stage 2
as the person's; a recurring device is a technique, so one naming a name of the texts (a word they
capitalize, "Reuters", "PWNED") is dropped, as is a device stated twice, and at most 8 are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hyperalign_dspy.core.profile import ClaimCheck
from hyperalign_dspy.tasks.authorship.counting.text_counts import (
    GREETING,
    PUNCTUATION,
    QUOTED_SPAN,
    REPORTED,
    TextCounts,
    how_often,
    words_of,
)
from hyperalign_dspy.tasks.authorship.signatures import ASPECTS, InferHypotheses

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
    ("Paragraphs", "word"): "words_per_paragraph",
    ("Paragraphs", "sentence"): "sentences_per_paragraph",
    ("Paragraphs", "paragraph"): "paragraphs_per_text",
    ("Openings", "word"): "first_sentence_words",
    ("Closings", "sentence"): "last_paragraph_sentences",
}
# A claim about who tells the texts ("in the first person", "a third-person voice"), not about
# using some person's words ("uses second-person words").
_PERSON = re.compile(r"\b(?:in|from)\s+(?:the\s+|a\s+)?(first|second|third)[- ]person\b|"
                     r"\b(first|second|third)[- ]person\s+(?:perspective|voice|narrat\w*|point of view)", re.IGNORECASE)
# How often a claim says a habit occurs, from the words next to its mention: never, often, or always.
_LOW = re.compile(r"\b(?:never|no|not|avoids?|rarely|seldom|hardly|without|little|few)\b", re.IGNORECASE)
_HIGH = re.compile(r"\b(?:often|frequent\w*|many|heav\w*|lots|regularly|constantly|usually|typically|"
                   r"generally|plenty|numerous|liberal\w*|directly)\b", re.IGNORECASE)
# "most" of a share is a majority: refuted, as "always" is, below one half.
_ALWAYS = re.compile(r"\b(?:each|every|always|all|consistently|invariably|most)\b", re.IGNORECASE)
# A window of words next to a mention stops at a word that starts another clause ("commas but no semicolons").
# A mention right after one of these is not said to happen ("prefers commas to semicolons", "I
# outside quotations").
_CONTRAST = frozenset({"to", "of", "over", "than", "outside"})
_CLAUSE_BREAK = frozenset({"but", "while", "though", "although", "than", "and", "yet", "instead", "whereas", "rather", "or"})


@dataclass(frozen=True)
class Habit:
    """Something a claim can say the writer does never, at all, often or always, and its count: a rate per
    100 words (`share_of` empty) or a share of sentences or paragraphs."""

    name: str
    mention: re.Pattern
    counted: Callable[[TextCounts], float | None]  # None: not counted (an English word list, other texts)
    share_of: str = ""
    shown_in: re.Pattern | None = None  # found in a quote that shows the habit (None: a quote cannot show it)

    def refutes(self, said: str, value: float) -> bool:
        if said == "some":
            return value == 0
        if not self.share_of:  # a rate: "always" says no more than "often"
            return value >= _REFUTES_NEVER if said == "never" else value < _REFUTES_OFTEN
        return {"never": value >= 0.1, "often": value < 0.05, "always": value < 0.5}[said]

    def shown(self, value: float) -> str:
        if self.share_of:
            return f"{value * 100:.0f}% of {self.share_of}"
        return f"{self.name}: {value:.1f} per 100 words ({how_often(value)})"


_HABITS = (
    # A quote shows a mark when it holds it; commas and questions aside, as a claim about them may
    # quote a sentence without one ("asks questions but does not answer them (evidence: 'No idea.')").
    *(Habit(name, re.compile(pattern, re.IGNORECASE), lambda c, name=name: c.punctuation[name],
            shown_in=None if name in ("commas", "question marks") else PUNCTUATION[name]) for name, pattern in (
        ("commas", r"\bcommas?\b"), ("semicolons", "semicolon"), ("colons", r"(?<!semi)colon"), ("dashes", r"\bdash"),
        ("parentheses", "parenthe|bracket"), ("exclamation marks", "exclamation"),
        ("question marks", r"\bquestions?\b|question mark"), ("ellipses", "ellips"))),
    Habit("quotations", re.compile(r"\bquot(?:es?|ations?|ing)\b", re.IGNORECASE), lambda c: c.quoted_paragraphs,
          "paragraphs hold a direct quotation"),
    Habit("second-person words (you, your)", re.compile(
        r"\baddress\w*\s+(?:the\s+|their\s+|its\s+)?readers?\b|\bsecond[- ]person\b|\b(?:you|your)\b", re.IGNORECASE),
        lambda c: c.second_person, shown_in=re.compile(r"\b(?:you|your|yours)\b", re.IGNORECASE)),
    Habit("greetings", re.compile(r"\bgreet\w*|\bsalutations?\b", re.IGNORECASE),
          lambda c: _per_text(c.greeting_openings, c), "texts open with a greeting", shown_in=GREETING),
    Habit("sign-offs", re.compile(r"\bsign[- ]?offs?\b|\bsigns? off\b|\bvaledictions?\b", re.IGNORECASE),
          lambda c: _per_text(c.sign_off_closings, c), "texts end with a sign-off line"),
    Habit("connectives", re.compile(r"\b(?:connectives?|conjunctions?|connecting words?)\b", re.IGNORECASE),
          lambda c: c.connective_openings, "sentences open with a connective"),
)
# Rates per 100 words: a claim of "never" is refuted at or above the first, one of "often" below the second.
_REFUTES_NEVER, _REFUTES_OFTEN = 1.0, 0.2


# The words of a claim about a text's parts alone: a claim of nothing else is true of any text.
_ANY_TEXT = frozenset("""the a an writer writes write uses use using has have text texts sentence sentences word words
paragraph paragraphs punctuation first last start starts begin begins end ends open opens close closes with of in
their his her its s and or each every some all marks letters own""".split()) | frozenset(
    # Qualities of any competent text: "uses punctuation correctly", "has multiple paragraphs",
    # "uses a variety of sentence lengths" (1.5B profiles of a news writer and of the example user).
    """correctly correct properly proper multiple variety various varied varying different several mix mixed
range length lengths clear clearly appropriate appropriately standard""".split())
# A rate as the style measurements state it: a count restated.
_RESTATED_COUNT = re.compile(r"\d+(?:\.\d+)?\s*per 100 words", re.IGNORECASE)


def _stems(text: str) -> set[str]:
    """The text's words, lowercased, a final "s" off ("argues" and "argue" alike)."""
    return {word.lower().removesuffix("s") for word in re.findall(r"[A-Za-z]+|\d+", text)}


# What the signature says of each aspect ("Positions (what they argue for or complain of)"), and
# its example claim: a small model copies them in place of a claim about the person.
_ANY_TEXT_STEMS = {word.removesuffix("s") for word in _ANY_TEXT} | {"something", "thing", "how", "what", "they", "i"}
_DESCRIBED = {aspect: _stems(description) - _ANY_TEXT_STEMS
              for aspect, description in re.findall(r"(\w+) \(([^()]+)\)", InferHypotheses.instructions)
              if aspect in ASPECTS}
_EXAMPLE = _stems(re.search(r'"\w+: The writer ([^"(]+?) \(evidence:', InferHypotheses.instructions).group(1))


def says_nothing(claim: str, aspect: str = "") -> str | None:
    """Why a claim says nothing of this person (true of any text, a count restated, the
    signature's description of its aspect or its example claim), or None."""
    if _RESTATED_COUNT.search(claim):
        return "a count restated, not a habit (stage 2 is told the counts)"
    words = {word.lower() for word in re.findall(r"[A-Za-z]+|\d+", claim)}
    if words and words <= _ANY_TEXT:
        return "true of any text"
    own = _stems(claim) - _ANY_TEXT_STEMS - {aspect.lower().removesuffix("s")}
    described = _DESCRIBED.get(aspect, set())
    # Most of the description, and nothing else: naming one of its options ("uses quotations") is a claim.
    if own and own <= described and len(own) >= len(described) / 2:
        return "the signature's description of the aspect, not a claim about the person"
    if own and own <= _EXAMPLE:
        return "the signature's example claim, not one about the person"
    return None


def reports_others(quote: str, texts: list[str]) -> bool:
    """The quote reports someone else's words: it holds a reporting verb ("told reporters"), or it
    stands inside a quotation of the texts. A writer's position is argued in their own words."""
    if REPORTED.search(quote):
        return True
    quotations = [span for text in texts for span in QUOTED_SPAN.findall(text)]
    return bool(quotations) and is_quoted_from(quote, quotations)


def _per_text(texts_with_it: int | None, counts: TextCounts) -> float | None:
    return None if texts_with_it is None else texts_with_it / counts.texts


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
    """'never', 'often' or 'always' when the words next to a mention (five before it, three after,
    within its clause) say how often, 'some' when they say nothing of it; None when they say both."""
    before = claim[: mention.start()].split()[-5:]
    breaks = [i for i, word in enumerate(before) if word.lower().strip(",;") in _CLAUSE_BREAK]
    before = before[breaks[-1] + 1:] if breaks else before
    after = []
    for word in claim[mention.end():].split()[:3]:
        if word.lower().strip(",;") in _CLAUSE_BREAK:
            break
        after.append(word)
    near = " ".join([*before, *after])
    low, high, always = (bool(pattern.search(near)) for pattern in (_LOW, _HIGH, _ALWAYS))
    if low and (high or always):
        return None
    if not (low or high or always):
        # "uses exclamations": it happens at all, unless the mention is the other side of a
        # contrast.
        return None if before and before[-1].lower() in _CONTRAST else "some"
    return "never" if low else "always" if always else "often"


def _refuted_quality(claim: str, counts: TextCounts) -> str | None:
    """Why a claim about person, punctuation, quotation, the reader or connectives is refuted by
    the counts, or None (also when the counts it needs were not made: texts not in English)."""
    person = _PERSON.search(claim)
    if person and counts.perspective and f"{(person.group(1) or person.group(2)).lower()} person" != counts.perspective:
        return f"the texts are told in the {counts.perspective}"
    for habit in _HABITS:
        for mention in habit.mention.finditer(claim):
            said, value = _how_often_said(claim, mention), habit.counted(counts)
            if said and value is not None and habit.refutes(said, value):
                return habit.shown(value)
    return None


def _unshown(claim: str, quote: str) -> str | None:
    """The habit a claim says the writer has whose evidence does not show it ("opens with a greeting
    (evidence: 'Winter commute, week three')"), or None."""
    for habit in _HABITS:
        if habit.shown_in is None:
            continue
        for mention in habit.mention.finditer(claim):
            if _how_often_said(claim, mention) in ("some", "often", "always") and not habit.shown_in.search(quote.strip()):
                return habit.name
    return None


def check_hypotheses(hypotheses: list[str], texts: list[str], counts: TextCounts) -> tuple[list[str], list[ClaimCheck]]:
    """The hypotheses the texts bear out (numbers corrected to the counts), and what was changed."""
    kept, checks = [], []
    for hypothesis in hypotheses:
        aspect, claim, quote = split_hypothesis(hypothesis)
        empty = says_nothing(claim, aspect)
        if empty:
            checks.append(ClaimCheck(hypothesis=hypothesis, outcome="dropped", reason=empty))
            continue
        if aspect == "Positions" and quote is not None and reports_others(quote, texts):
            checks.append(ClaimCheck(hypothesis=hypothesis, outcome="dropped",
                                     reason="its evidence is what others said, which the texts report: not the writer's position"))
            continue
        refuted = _refuted_quality(claim, counts)
        if refuted:
            checks.append(ClaimCheck(hypothesis=hypothesis, outcome="dropped", reason=f"counted: {refuted}"))
            continue
        corrected, changes = hypothesis, []
        if quote is not None and not is_quoted_from(quote, texts):
            corrected = f"{aspect}: {claim}" if aspect else claim
            changes.append("its evidence is not in the texts: removed")
        elif quote is not None and (unshown := _unshown(claim, quote)):
            corrected = f"{aspect}: {claim}" if aspect else claim
            changes.append(f"its evidence shows no {unshown}: removed")
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


def times_used(phrase: str, texts: list[str]) -> int:
    """How often the phrase's words stand in this order in the texts (case aside), each text on its own."""
    wanted = [word.lower() for word in words_of(phrase)]
    found = 0
    for text in texts:
        words = [word.lower() for word in words_of(text)]
        found += sum(words[start:start + len(wanted)] == wanted for start in range(len(words) - len(wanted) + 1))
    return found


def _listed(field: str, items: list[str], why_dropped: Callable[[str, list[str]], str | None]) -> tuple[list[str], list[ClaimCheck]]:
    """The items of a listed attribute `why_dropped(item, kept so far)` has no reason to drop, and a
    check for each one it drops."""
    kept, checks = [], []
    for item in items:
        reason = why_dropped(item, kept)
        if reason is None:
            kept.append(item)
        else:
            checks.append(ClaimCheck(hypothesis=f"{field}: {item}", outcome="dropped", reason=reason))
    return kept, checks


def check_phrases(phrases: list[str], texts: list[str]) -> tuple[list[str], list[ClaimCheck]]:
    """The characteristic phrases of two words or more that the texts use more than once, and a
    check for each one dropped."""

    def why_dropped(phrase: str, kept: list[str]) -> str | None:
        if len(words_of(phrase)) < 2:
            return "one word or none, not a phrase"
        used = times_used(phrase, texts)
        return f"a phrase of the texts used more than once; found {used} times" if used < 2 else None

    return _listed("characteristic_phrases", phrases, why_dropped)


DEVICES = 8  # the most recurring devices kept, as the field asks


def names_in(texts: list[str]) -> set[str]:
    """The words the texts capitalize other than at a sentence's start (names, acronyms), lowercased;
    "I" aside."""
    names = set()
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
            names.update(word.lower() for word in words_of(sentence)[1:] if word[:1].isupper() and word != "I")
    return names


def check_devices(devices: list[str], texts: list[str]) -> tuple[list[str], list[ClaimCheck]]:
    """The recurring devices that are techniques, stated once, at most `DEVICES`; a check for each dropped."""
    names = names_in(texts)

    def why_dropped(device: str, kept: list[str]) -> str | None:
        named = [word for word in words_of(device) if word.lower() in names]
        if named:
            return f"a technique, not a name of the texts ('{named[0]}')"
        if device.strip().lower() in {earlier.strip().lower() for earlier in kept}:
            return "stated before"
        return f"more than {DEVICES} devices" if len(kept) == DEVICES else None

    return _listed("recurring_devices", devices, why_dropped)


def check_listed_attributes(attributes, texts: list[str]) -> tuple[dict, list[ClaimCheck]]:
    """Updates for the characteristic phrases and recurring devices, and the checks of what was dropped."""
    phrases, phrase_checks = check_phrases(attributes.characteristic_phrases, texts)
    devices, device_checks = check_devices(attributes.recurring_devices, texts)
    return {"characteristic_phrases": phrases, "recurring_devices": devices}, phrase_checks + device_checks
