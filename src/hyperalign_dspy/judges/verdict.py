"""Verdict judges: an LM reads two candidates and writes which one is better, or a tie, with a
reason. A task's verdict judge names its signature (outputs `reason` and `verdict`) and builds
the signature's inputs from the case. Its LM is pinned to temperature 0 by the caller; failed
answers are asked again (`retries.py`)."""

from __future__ import annotations

import dspy

from hyperalign_dspy.judges.pairwise import Decision, JudgeCase
from hyperalign_dspy.judges.retries import predict_with_retries


class VerdictJudge(dspy.Module):
    signature: type[dspy.Signature]
    what = "verdict judge"  # names the judge when it fails

    def __init__(self):
        super().__init__()
        self.judge = dspy.Predict(self.signature)

    def inputs(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> dict:
        raise NotImplementedError

    def decide(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> Decision:
        answer = predict_with_retries(self.judge, self.what, **self.inputs(case, candidate_a, candidate_b))
        return Decision(verdict=answer.verdict, reason=answer.reason)

    forward = decide
