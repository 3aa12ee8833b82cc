"""The verdict judge: an LM reads the user's texts and two candidates and says which one the user
more likely wrote (the paper's judge). Its LM is pinned to temperature 0; an answer that does not
parse is asked again under a new rollout id, and a judge that still fails raises."""

from __future__ import annotations

import dspy

from hyperalign_dspy.pairwise import Decision, JudgeCase
from hyperalign_dspy.signatures import JudgeAuthorship
from hyperalign_dspy.user_texts import as_user_texts, fit_to_context

JUDGE_ATTEMPTS = 3


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
        error = None
        for attempt in range(JUDGE_ATTEMPTS):
            try:
                answer = self.judge(
                    sample_texts=samples, reference=case.reference, candidate_a=candidate_a,
                    candidate_b=candidate_b, config={"rollout_id": attempt} if attempt else {},
                )
                return Decision(verdict=answer.verdict, reason=answer.reason)
            except Exception as exc:  # parse errors and LM errors alike get another attempt
                error = exc
        raise RuntimeError(f"the verdict judge failed {JUDGE_ATTEMPTS} times: {error}") from error

    forward = decide
