"""Verbatim copying: does a text repeat a run of consecutive words from another?"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _runs(text: str, words: int) -> set[tuple[str, ...]]:
    tokens = [token.lower() for token in _WORD.findall(text)]
    return {tuple(tokens[i : i + words]) for i in range(len(tokens) - words + 1)}


def shares_run(text: str, sources: list[str], words: int) -> bool:
    """True when `text` contains `words` consecutive words (case-insensitive) found in a source."""
    seen = set().union(*(_runs(source, words) for source in sources)) if sources else set()
    return not seen.isdisjoint(_runs(text, words))
