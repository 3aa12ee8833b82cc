"""Verdict judges: an LM reads two candidates and says which one is better, or a tie, with a
reason. Authorship (the paper's judge): which one the author of the sample texts more likely
wrote. Deliberative alignment: which one helps the person more. Their LM is pinned to temperature
0 by the caller; failed answers are asked again (`retries.py`)."""

from __future__ import annotations

import dspy

from hyperalign_dspy.pairwise import Decision, JudgeCase
from hyperalign_dspy.retries import predict_with_retries
from hyperalign_dspy.signatures import JudgeAuthorship, JudgeHelpfulness
from hyperalign_dspy.user_texts import as_user_texts, fit_to_context


class VerdictJudge(dspy.Module):
    def __init__(self, context_tokens: int = 8192, sample_tokens: int = 2000, answer_tokens: int = 512):
        super().__init__()
        self.context_tokens = context_tokens
        self.sample_tokens = sample_tokens  # how much of the user's texts the judge reads
        self.answer_tokens = answer_tokens
        self.judge = dspy.Predict(JudgeAuthorship)

    def decide(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> Decision:
        # The candidates and the reference are read whole; the samples get what context is left.
        reserved = self.answer_tokens + (len(candidate_a) + len(candidate_b) + len(case.reference)) // 3
        samples = fit_to_context(as_user_texts(case.samples), self.context_tokens, reserved, self.sample_tokens).texts
        answer = predict_with_retries(self.judge, "verdict judge", sample_texts=samples, reference=case.reference,
                                      candidate_a=candidate_a, candidate_b=candidate_b)
        return Decision(verdict=answer.verdict, reason=answer.reason)

    forward = decide


class HelpfulnessJudge(dspy.Module):
    """Deliberative alignment: which response helps the person more with what they asked."""

    def __init__(self):
        super().__init__()
        self.judge = dspy.Predict(JudgeHelpfulness)

    def decide(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> Decision:
        answer = predict_with_retries(self.judge, "helpfulness judge", prompt=case.prompt,
                                      response_a=candidate_a, response_b=candidate_b)
        return Decision(verdict=answer.verdict, reason=answer.reason)

    forward = decide
