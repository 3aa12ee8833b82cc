"""A stop for a small model's loop, as a llama.cpp logits processor: once the answer's last `run`
tokens stand earlier in the answer, only the end-of-generation token may come next. A looping
answer otherwise runs on to `max_tokens`: in the demo of `bc3c564` the 1.5B model wrote one
paragraph eleven more times, a word changed each time, and the three attempts of that answer wrote
2,237 tokens. Stage 2's revision then cuts the repeated paragraph
(`checks.output_fit.without_repeats_and_remarks`). A logits processor, not a stopping criterion:
llama-cpp-python's chat completion takes no stopping criteria.

Asked for in a call's metadata: `{"stop_on_repeat": 16}`."""

from __future__ import annotations

import numpy as np

from hyperalign_dspy.lms.token_bans import repeated_next_tokens


class RepeatStop:
    """`(input_ids, scores) -> scores`, as llama-cpp-python calls a logits processor before each
    token. The answer starts where it is first called (the prompt's tokens are what it is called
    with first)."""

    def __init__(self, run: int, end_token: int):
        self.run, self.end_token = run, end_token
        self.answer_start: int | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.answer_start is None:
            self.answer_start = len(input_ids)
        if repeats_its_tail(list(input_ids[self.answer_start:]), self.run):
            end = scores[self.end_token]
            scores[:] = -np.inf
            scores[self.end_token] = end if np.isfinite(end) else 0.0
        return scores


def repeats_its_tail(answer: list[int], run: int) -> bool:
    """Do the last `run` tokens of `answer` stand earlier in it? Its last token is one the token
    bans would have banned there."""
    return len(answer) > run and answer[-1] in repeated_next_tokens(answer[:-1], run)
