"""The authorship compile metric: the program's output against the baseline's, judged in both
orders by the suite's judge, a copy losing; with `attribution` the score is averaged with
stylometric attribution (1 when the output is attributed to its author)."""

from __future__ import annotations

from hyperalign_dspy.core.output_checks import without_prompt_text
from hyperalign_dspy.judges.metric import BaselineOutputs, JudgeFailed, PairwiseMetric, judgment_feedback
from hyperalign_dspy.judges.pairwise import SCORES
from hyperalign_dspy.tasks.authorship.evaluation.attribution import AuthorAttribution
from hyperalign_dspy.tasks.authorship.evaluation.judging import AuthorshipJudging


class AuthorshipMetric(PairwiseMetric):
    def __init__(self, judging: AuthorshipJudging, baseline_outputs: BaselineOutputs,
                 attribution: AuthorAttribution | None = None, feedback: bool = False):
        super().__init__(baseline_outputs, feedback)
        self.judging = judging
        self.attribution = attribution

    def score(self, example, response: str, baseline_text: str) -> tuple[float, str]:
        judgment = self.judging.compare(example, response, baseline_text)
        if judgment.outcome == "failure":
            raise JudgeFailed(f"the judge failed: {judgment.error}")
        score, feedback = SCORES[judgment.outcome], judgment_feedback(judgment)
        if judgment.copy_system:
            feedback += f" It was flagged as a copy: it {judgment.copy_system}; write new text in the user's style."
        if self.attribution is not None:
            (found,) = self.attribution.attribute([without_prompt_text(response, example.prompt)])
            score = (score + float(found == example.author)) / 2
            feedback += f" Stylometric attribution: {'its author' if found == example.author else found}."
        return score, feedback

