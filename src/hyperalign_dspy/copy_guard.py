"""Verbatim copying: does a text repeat a run of consecutive words from another?

Two things inflate any style score without being style: a candidate that copies a passage of the
user's sample texts, and the text a prompt hands over (a CCAT50 prompt gives the real article's
first sentence). `copy_flag` names the first; `without_prompt_text` removes the second before a
text is scored.
"""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"\w+(?:['’]\w+)*")

# Runs this long that a candidate shares with its prompt are the prompt's given text.
PROMPT_RUN_WORDS = 5


def _words(text: str) -> list[str]:
    return [token.lower() for token in _WORD.findall(text)]


def _runs(text: str, words: int) -> set[tuple[str, ...]]:
    tokens = _words(text)
    return {tuple(tokens[i : i + words]) for i in range(len(tokens) - words + 1)}


@functools.lru_cache(maxsize=64)
def _runs_of_all(sources: tuple[str, ...], words: int) -> frozenset[tuple[str, ...]]:
    """The runs of all sources: one user's samples are checked against every candidate."""
    return frozenset().union(*(_runs(source, words) for source in sources))


def shares_run(text: str, sources: list[str], words: int) -> bool:
    """True when `text` contains `words` consecutive words (case-insensitive) found in a source."""
    return not _runs_of_all(tuple(sources), words).isdisjoint(_runs(text, words))


def _prompt_segments(text: str, prompt: str) -> tuple[list[re.Match], list[tuple[int, int]]]:
    """The word matches of `text`, and the maximal segments (word index ranges) of it that are
    covered by runs of PROMPT_RUN_WORDS words that also occur in the prompt."""
    matches = list(_WORD.finditer(text))
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


def without_prompt_text(text: str, prompt: str) -> str:
    """`text` with every passage it shares with the prompt removed (the prompt's given text)."""
    return _without_segments(text, *_prompt_segments(text, prompt))


def _without_segments(text: str, matches: list[re.Match], segments: list[tuple[int, int]]) -> str:
    pieces, cursor = [], 0
    for start, end in segments:
        pieces.append(text[cursor : matches[start].start()])
        cursor = matches[end - 1].end()
    pieces.append(text[cursor:])
    return re.sub(r"[ \t]{2,}", " ", "".join(pieces)).strip()


def added_words(text: str, prompt: str) -> int:
    """How many words `text` has beyond the passages it shares with the prompt."""
    return len(_words(without_prompt_text(text, prompt)))


def copy_flag(text: str, samples: list[str], prompt: str, words: int = 12) -> str | None:
    """Why `text` counts as a copy, or None: it adds nothing to the prompt's given text, it shares
    `words` consecutive words with the user's sample texts, or it repeats the prompt's given
    text more than once."""
    matches, segments = _prompt_segments(text, prompt)
    own = _without_segments(text, matches, segments)
    if not _words(own):
        return "adds nothing to the prompt's given text"
    if shares_run(own, samples, words):
        return f"copies {words}+ consecutive words of the sample texts"
    if len(segments) > 1:
        return "repeats the prompt's given text"
    return None
