"""Asking a judge again: an answer that fails (an LM error, or one that does not parse or is not
accepted) is asked for again under a new rollout id, which bypasses DSPy's cache of the failed
answer. A judge that still fails raises; callers report that as a failure, never as a result."""

from __future__ import annotations

from collections.abc import Callable

import dspy

JUDGE_ATTEMPTS = 3


def predict_with_retries(predictor: dspy.Predict, what: str, accept: Callable[[dspy.Prediction], bool] = lambda _: True,
                         attempts: int = JUDGE_ATTEMPTS, **inputs) -> dspy.Prediction:
    error: Exception | None = None
    for attempt in range(attempts):
        try:
            answer = predictor(**inputs, config={"rollout_id": attempt} if attempt else {})
        except Exception as exc:  # parse errors and LM errors alike get another attempt
            error = exc
            continue
        if accept(answer):
            return answer
        error = ValueError(f"unusable answer {answer.toDict()}")
    raise RuntimeError(f"the {what} failed {attempts} times: {error}") from error
