"""Checks on a generated text: does it repeat a run of consecutive words from other texts (its
notes or instructions, the user's samples), what does it add to the text the prompt handed over,
and the clean-up of an adapter's end marker left in it.

A program samples an answer again when it recites its notes or instructions or adds too little;
the judges use the same runs to find copies of the user's texts and to leave the prompt's given
text (a CCAT50 prompt hands over the real article's first sentence) out of every score.
"""

from __future__ import annotations

import functools
import re

import dspy

# A run of this many consecutive words shared with a program's own notes (its signatures'
# instructions, or the hypotheses it was given) means the output recited them. A program samples
# such an answer again; the evaluation's injection report counts such outputs as leaks.
RECITED_WORDS = 8

# Tokens for matching runs of text (lowercased, digits included): not the counted words of a
# task's style counts, which are letters only.
_TOKEN = re.compile(r"\w+(?:['’]\w+)*")

# Runs this long that a candidate shares with its prompt are the prompt's given text.
PROMPT_RUN_WORDS = 5


def tokens_of(text: str) -> list[str]:
    """The lowercased tokens runs are matched on."""
    return [token.lower() for token in _TOKEN.findall(text)]


def _runs(text: str, words: int) -> set[tuple[str, ...]]:
    tokens = tokens_of(text)
    return {tuple(tokens[i : i + words]) for i in range(len(tokens) - words + 1)}


@functools.lru_cache(maxsize=64)
def _runs_of_all(sources: tuple[str, ...], words: int) -> frozenset[tuple[str, ...]]:
    """The runs of all sources: one user's samples are checked against every candidate."""
    return frozenset().union(*(_runs(source, words) for source in sources))


def shares_run(text: str, sources: list[str], words: int) -> bool:
    """True when `text` contains `words` consecutive words (case-insensitive) found in a source."""
    return not _runs_of_all(tuple(sources), words).isdisjoint(_runs(text, words))


def prompt_segments(text: str, prompt: str) -> tuple[list[re.Match], list[tuple[int, int]]]:
    """The word matches of `text`, and the maximal segments (word index ranges) of it that are
    covered by runs of PROMPT_RUN_WORDS words that also occur in the prompt."""
    matches = list(_TOKEN.finditer(text))
    tokens = [match.group().lower() for match in matches]
    given = _runs(prompt, PROMPT_RUN_WORDS)
    covered = [False] * len(tokens)
    for start in range(len(tokens) - PROMPT_RUN_WORDS + 1):
        if tuple(tokens[start : start + PROMPT_RUN_WORDS]) in given:
            covered[start : start + PROMPT_RUN_WORDS] = [True] * PROMPT_RUN_WORDS
    segments, start = [], None
    for index, flag in enumerate([*covered, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            segments.append((start, index))
            start = None
    return matches, segments


# A prompt that hands over the text's opening ("Write an article that starts with the following:
# ..."), as against one that asks for a text about something ("Write an email response to someone
# who asked you the following: ..."), whose words an answer may restate.
_HANDS_OVER_OPENING = re.compile(
    r"\b(?:starts?|started|begins?|beginning|opens?|opening|continues?|continuing)\b[^.:?!\n]{0,40}:", re.IGNORECASE)


def hands_over_opening(prompt: str) -> bool:
    """True for a prompt that gives the text's opening words to continue."""
    return bool(_HANDS_OVER_OPENING.search(prompt))


def given_opening(prompt: str) -> str:
    """The opening a prompt hands over (what follows "starts with the following:"), else ""."""
    found = _HANDS_OVER_OPENING.search(prompt)
    return prompt[found.end():].strip() if found else ""


def without_prompt_text(text: str, prompt: str) -> str:
    """`text` with every passage it shares with the prompt removed (the prompt's given text)."""
    return without_segments(text, *prompt_segments(text, prompt))


def without_segments(text: str, matches: list[re.Match], segments: list[tuple[int, int]]) -> str:
    pieces, cursor = [], 0
    for start, end in segments:
        pieces.append(text[cursor : matches[start].start()])
        cursor = matches[end - 1].end()
    pieces.append(text[cursor:])
    return re.sub(r"[ \t]{2,}", " ", "".join(pieces)).strip()


def added_words(text: str, prompt: str) -> int:
    """How many words `text` has beyond the passages it shares with the prompt."""
    return len(tokens_of(without_prompt_text(text, prompt)))


def instruction_texts(system: dspy.Module) -> list[str]:
    """What a system's predictors tell the LM: each signature's instructions and field descriptions."""
    texts = []
    for _, predictor in system.named_predictors():
        signature = predictor.signature
        texts.append(signature.instructions)
        for field in signature.fields.values():
            description = (field.json_schema_extra or {}).get("desc")
            if description and not description.startswith("${"):  # DSPy's placeholder for no description
                texts.append(description)
    return texts


# DSPy's ChatAdapter ends an answer with this marker on a line of its own; a small model sometimes
# writes it at the end of the text's last line, where the parser leaves it in the field.
_TRAILING_MARKER = re.compile(r"\s*\[\[ ## completed ## \]\]\s*$")


def clean_response(text: str) -> str:
    return _TRAILING_MARKER.sub("", text) if isinstance(text, str) else text
