"""A verdict judge read from log-probabilities, for LMs too small to answer it in words.

The judge LM gets the verdict signature's prompt (without its reason) and, instead of writing a
verdict, has the log-probabilities of "A" and of "B" read as the first token of its answer. A small
model's written verdicts may carry a position bias that swamps what it read (docs/decisions.md),
while its log-probabilities still move with the candidates. So both orders are scored and the
bias cancels: the first candidate's evidence is the mean of its log-odds as A (log p(A) -
log p(B)) and as B (log p(B) - log p(A)). A mean within `margin` nats is a tie; the decision in
one order is the mirror of the other's, so `judge_both_orders` sees them agree.

It needs an LM that scores a chat's continuation: the embedded engine.
"""

from __future__ import annotations

import threading

import dspy

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.judges.pairwise import Decision, JudgeCase
from hyperalign_dspy.lms.names import scores_chats

VERDICT_HEADER = "[[ ## verdict ## ]]\n"


class VerdictLikelihoodJudge:
    """`signature` has inputs `response_a` and `response_b` (plus what `case_inputs` gives) and
    an output `verdict` whose values include "A" and "B"; its other outputs are left out."""

    def __init__(self, language_model: dspy.LM, signature: type[dspy.Signature],
                 case_inputs=lambda case: {"prompt": case.prompt}, margin: float = 0.1):
        if not scores_chats(language_model):
            raise HyperAlignError(
                f"LM '{language_model.model}' cannot serve as a likelihood verdict judge: it needs the "
                "log-probabilities of a chat's continuation (the embedded models); use --judge-kind verdict"
            )
        self.lm = language_model
        self.signature = _verdict_only(signature)
        self.case_inputs = case_inputs
        self.margin = margin
        self.adapter = dspy.ChatAdapter()
        self.calls = 0  # log-odds computed (cache hits excluded)
        self._count_lock = threading.Lock()

    def log_odds(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> float:
        """log p("A") - log p("B") as the verdict, with the candidates in this order; cached with
        DSPy's LM cache."""
        inputs = {**self.case_inputs(case), "response_a": candidate_a, "response_b": candidate_b}
        messages = self.adapter.format(self.signature, demos=[], inputs=inputs)
        request = {"hyperalign": "verdict_log_odds", "model": self.lm.model, "messages": messages}
        cached = dspy.cache.get(request)
        if cached is not None:
            return cached
        # ChatAdapter's answer opens with the output field's header, then the verdict. The
        # header's log-probability is the same in both and cancels.
        engine = self.lm.engine
        odds = (sum(engine.chat_continuation_logprobs(messages, VERDICT_HEADER + "A"))
                - sum(engine.chat_continuation_logprobs(messages, VERDICT_HEADER + "B")))
        with self._count_lock:
            self.calls += 1
        dspy.cache.put(request, odds)
        return odds

    def decide(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> Decision:
        as_a = self.log_odds(case, candidate_a, candidate_b)
        as_b = -self.log_odds(case, candidate_b, candidate_a)
        evidence = (as_a + as_b) / 2
        reason = f"log-odds for A: {as_a:+.2f} read first, {as_b:+.2f} read second, mean {evidence:+.2f} (margin {self.margin})"
        if abs(evidence) <= self.margin:
            return Decision("tie", reason)
        return Decision("A" if evidence > 0 else "B", reason)

    forward = decide


def _verdict_only(signature: type[dspy.Signature]) -> type[dspy.Signature]:
    for name in list(signature.output_fields):
        if name != "verdict":
            signature = signature.delete(name)
    return signature
