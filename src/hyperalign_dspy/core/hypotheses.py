"""Stage 1's hypotheses as a list: empty ones and restatements of an earlier one left out."""

from __future__ import annotations

import re
from collections.abc import Callable


def distinct(hypotheses: list[str], same_hypothesis: float, claim_of: Callable[[str], str] = lambda h: h) -> list[str]:
    """The hypotheses without empty ones and without restatements of an earlier one: claims
    (`claim_of`) whose word sets overlap `same_hypothesis` or more (Jaccard). A small model under
    a grammar may fill its list with rewordings."""
    kept: list[tuple[str, set[str]]] = []
    for hypothesis in (h.strip() for h in hypotheses):
        words = set(re.findall(r"\w+", claim_of(hypothesis).lower()))
        if words and all(len(words & seen) / len(words | seen) < same_hypothesis for _, seen in kept):
            kept.append((hypothesis, words))
    return [hypothesis for hypothesis, _ in kept]
