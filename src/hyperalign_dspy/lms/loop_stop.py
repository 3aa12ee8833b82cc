"""A stop for a small model's loop, as a llama.cpp stopping criterion: once the answer's last `run`
tokens stand earlier in the answer, the answer ends. A looping answer otherwise runs on to
`max_tokens`: in the demo of `bc3c564` the 1.5B model wrote one paragraph eleven more times, a word
changed each time, and the three attempts of that answer wrote 2,237 tokens. Stage 2's revision
then cuts the repeated paragraph (`checks.output_fit.without_repeats_and_remarks`).

A stopping criterion, not a logits processor that leaves only the end token: under a grammar (the
length grammar ends only past half the person's length) the end may not be allowed where the loop
begins, and in the demo of `6eb4dff` both runaway answers were written under it, 1,638 tokens each.
llama-cpp-python's chat completion takes no stopping criteria, so the engine renders a chat call's
template itself and completes its tokens (`llama_engine`).

Asked for in a call's metadata: `{"stop_on_repeat": 16}`."""

from __future__ import annotations

import numpy as np

from hyperalign_dspy.lms.token_bans import repeated_next_tokens


class RepeatStop:
    """`(input_ids, logits) -> bool`, as llama-cpp-python asks a stopping criterion after each
    token: True once the answer's last `run` tokens stand earlier in it. The answer starts where it
    is first called (llama-cpp-python first calls it with the prompt's tokens)."""

    def __init__(self, run: int):
        self.run = run
        self.answer_start: int | None = None

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> bool:
        if self.answer_start is None:
            self.answer_start = len(input_ids)
        return repeats_its_tail(list(input_ids[self.answer_start:]), self.run)


def repeats_its_tail(answer: list[int], run: int) -> bool:
    """Do the last `run` tokens of `answer` stand earlier in it? Its last token is one the token
    bans would have banned there."""
    return len(answer) > run and answer[-1] in repeated_next_tokens(answer[:-1], run)
