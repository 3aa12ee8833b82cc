"""Pairwise judging as a DSPy metric, for compiling: the program's output against the baseline's
output for the same prompt, judged in both orders by the suite's judge. Score 1 for a win, ½ for a
tie, 0 for a loss or a judge failure. For GEPA a metric also returns feedback: the outcome and the
judge's reasons. Each task's metric says how it scores one pair (`score`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import dspy

from hyperalign_dspy.judges.pairwise import PairJudgment


class BaselineOutputs:
    """The baseline's output per prompt, computed once (and cached by DSPy across runs)."""

    def __init__(self, baseline: dspy.Module, task_lm: dspy.LM, adapter: dspy.Adapter | None):
        self.baseline, self.task_lm, self.adapter = baseline, task_lm, adapter
        self._outputs: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __call__(self, example) -> str:
        key = (example.get("author"), example.prompt)
        with self._lock:
            if key in self._outputs:
                return self._outputs[key]
        with dspy.context(lm=self.task_lm, adapter=self.adapter):
            text = self.baseline(prompt=example.prompt, examples=example.get("examples")).response
        with self._lock:
            self._outputs[key] = text
        return text


def judgment_feedback(judgment: PairJudgment) -> str:
    feedback = f"Against the baseline this output was a {judgment.outcome}."
    reasons = [decision.reason for decision in judgment.decisions if decision.reason]
    return feedback + (" Judge: " + " / ".join(reasons) if reasons else "")


class PairwiseMetric:
    """The shared frame: a missing response, a failed baseline or a failed judge scores 0 and is
    counted; `score` judges the response against the baseline's."""

    def __init__(self, baseline_outputs: BaselineOutputs, feedback: bool = False):
        self.baseline_outputs = baseline_outputs
        self.feedback = feedback
        self.failures = 0  # judge failures and missing outputs, each scored 0
        self.scored: Callable[[], None] = lambda: None  # told of each output scored (progress)
        self._lock = threading.Lock()

    def score(self, example, response: str, baseline_text: str) -> tuple[float, str]:
        raise NotImplementedError

    def judge(self, example, prediction) -> tuple[float, str]:
        response = getattr(prediction, "response", None)
        if not isinstance(response, str) or not response.strip():
            return self._failed("the program produced no response")
        try:
            baseline_text = self.baseline_outputs(example)
        except Exception as exc:
            return self._failed(f"the baseline failed: {type(exc).__name__}: {exc}")
        try:
            return self.score(example, response, baseline_text)
        except JudgeFailed as exc:
            return self._failed(str(exc))

    def _failed(self, message: str) -> tuple[float, str]:
        with self._lock:
            self.failures += 1
        return 0.0, message

    def __call__(self, example, prediction, trace=None, pred_name=None, pred_trace=None):
        score, feedback = self.judge(example, prediction)
        self.scored()
        if self.feedback:  # GEPA reflects on the feedback
            return dspy.Prediction(score=score, feedback=feedback)
        return score


class JudgeFailed(Exception):
    pass
