"""The attempts loop stage 2 of every task writes with: an answer is revised where a program can
mend it, reviewed, and sampled again under a new rollout id while it fails the review, up to a
number of calls; when none passes, the best by the review's rank stands (on equal ranks the later).

It is `dspy.Refine`'s loop with a review that needs no LM call; Refine (and `dspy.BestOfN`) would
run the module on a copy of the LM, whose calls then miss the configured LM's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dspy

from hyperalign_dspy.core.output_checks import clean_response


@dataclass(frozen=True)
class Review:
    passes: bool
    rank: tuple  # compared between failed attempts: the greater is the better answer
    details: Any = None  # what the review found, kept with the answer (authorship: its fit)


def best_of_attempts(write: Callable[[dict], dspy.Prediction], attempts: int,
                     review: Callable[[str], Review],
                     revise: Callable[[str], str] = lambda answer: answer,
                     options: Callable[[list[str]], dict] = lambda earlier: {}) -> tuple[dspy.Prediction, Review]:
    """`write(config)` answers once; `options(earlier)` gives the call options after the answers
    before (as written, cleaned of DSPy's end marker); `revise` mends an answer before its review.
    Returns the chosen prediction, its `response` revised, and its review."""
    best, best_review, earlier = None, None, []
    for attempt in range(attempts):
        config = options(earlier)
        generated = write({**config, "rollout_id": attempt} if attempt else config)
        earlier.append(clean_response(generated.response))
        generated.response = revise(earlier[-1])
        found = review(generated.response)
        if found.passes:
            return generated, found
        if best_review is None or found.rank >= best_review.rank:
            best, best_review = generated, found
    return best, best_review
