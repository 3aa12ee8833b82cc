"""The compile metric: the program's output against the baseline's output for the same prompt,
judged in both orders by the suite's judge (copy guard included).

Score 1 for a win, ½ for a tie, 0 for a loss, a copy or a judge failure. With `attribution`,
the score is averaged with stylometric attribution (1 when the output is attributed to its
author). For GEPA the metric also returns feedback: the outcome and the judge's reasons.
"""

from __future__ import annotations

import threading

import dspy

from hyperalign_dspy.attribution import AuthorAttribution
from hyperalign_dspy.copy_guard import without_prompt_text
from hyperalign_dspy.judging import AuthorshipJudging
from hyperalign_dspy.pairwise import SCORES


class BaselineOutputs:
    """The baseline's output per prompt, computed once (and cached by DSPy across runs)."""

    def __init__(self, baseline: dspy.Module, task_lm: dspy.LM, adapter: dspy.Adapter | None):
        self.baseline, self.task_lm, self.adapter = baseline, task_lm, adapter
        self._outputs: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __call__(self, example) -> str:
        key = (example.author, example.prompt)
        with self._lock:
            if key in self._outputs:
                return self._outputs[key]
        with dspy.context(lm=self.task_lm, adapter=self.adapter):
            text = self.baseline(prompt=example.prompt, examples=example.examples).response
        with self._lock:
            self._outputs[key] = text
        return text


class AuthorshipMetric:
    def __init__(self, judging: AuthorshipJudging, baseline_outputs: BaselineOutputs,
                 attribution: AuthorAttribution | None = None, feedback: bool = False):
        self.judging = judging
        self.feedback = feedback
        self.baseline_outputs = baseline_outputs
        self.attribution = attribution
        self.failures = 0  # judge failures and missing outputs, each scored 0
        self._lock = threading.Lock()

    def judge(self, example, prediction) -> tuple[float, str]:
        response = getattr(prediction, "response", None)
        if not isinstance(response, str) or not response.strip():
            return self._failed("the program produced no response")
        try:
            baseline_text = self.baseline_outputs(example)
        except Exception as exc:
            return self._failed(f"the baseline failed: {type(exc).__name__}: {exc}")
        judgment = self.judging.compare(example, response, baseline_text)
        if judgment.outcome == "failure":
            return self._failed(f"the judge failed: {judgment.error}")
        score = SCORES[judgment.outcome]
        feedback = f"Against the baseline this output was a {judgment.outcome}."
        if judgment.copy_system:
            feedback += f" It was flagged as a copy: it {judgment.copy_system}; write new text in the user's style."
        reasons = [decision.reason for decision in judgment.decisions if decision.reason]
        if reasons:
            feedback += " Judge: " + " / ".join(reasons)
        if self.attribution is not None:
            (found,) = self.attribution.attribute([without_prompt_text(response, example.prompt)])
            score = (score + float(found == example.author)) / 2
            feedback += f" Stylometric attribution: {'its author' if found == example.author else found}."
        return score, feedback

    def _failed(self, message: str) -> tuple[float, str]:
        with self._lock:
            self.failures += 1
        return 0.0, message

    def __call__(self, example, prediction, trace=None, pred_name=None, pred_trace=None):
        score, feedback = self.judge(example, prediction)
        if self.feedback:  # GEPA reflects on the feedback
            return dspy.Prediction(score=score, feedback=feedback)
        return score
