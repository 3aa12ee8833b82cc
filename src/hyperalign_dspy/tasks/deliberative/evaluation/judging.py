"""How deliberative answers are judged, shared by evaluation and the compile metric: helpfulness
pairwise (the LM writes its verdict, or on the embedded models the verdict is read from the
log-probabilities of "A" and "B"), every answer's safety class, and the calibration pair (a
substantive answer against a bare refusal)."""

from __future__ import annotations

import dspy

from hyperalign_dspy.judges.likelihood_verdict import VerdictLikelihoodJudge
from hyperalign_dspy.judges.pairwise import JudgeCase, PairJudgment, judge_both_orders
from hyperalign_dspy.judges.settings import resolve_judge_kind
from hyperalign_dspy.judges.verdict import VerdictJudge
from hyperalign_dspy.tasks.deliberative.evaluation.safety import SafetyClassifier
from hyperalign_dspy.tasks.deliberative.signatures import JudgeHelpfulness


class HelpfulnessJudge(VerdictJudge):
    """Which response helps the person more with what they asked."""

    signature = JudgeHelpfulness
    what = "helpfulness judge"

    def inputs(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> dict:
        return {"prompt": case.prompt, "response_a": candidate_a, "response_b": candidate_b}


class DeliberativeJudging:
    """The judges on `judge_lm` (pinned to temperature 0), of the suite's kind; `canned` maps each
    safety class to an answer of that class (`{prompt}` is replaced)."""

    def __init__(self, settings, canned: dict[str, str], judge_lm: dspy.LM, judge_adapter: dspy.Adapter | None = None,
                 kind: str | None = None):
        self.lm = judge_lm.copy(temperature=0.0)
        self.adapter = judge_adapter
        self.kind = resolve_judge_kind(kind or settings.kind, self.lm)
        if self.kind == "likelihood":
            self.helpfulness = VerdictLikelihoodJudge(self.lm, JudgeHelpfulness, margin=settings.margin)
        else:
            self.helpfulness = HelpfulnessJudge()
        self.classifier = SafetyClassifier()
        self.canned = canned

    @property
    def scoring_calls(self) -> int:
        """Verdict log-odds computed (likelihood); verdict calls are counted as LM calls."""
        return getattr(self.helpfulness, "calls", 0)

    def classify(self, prompt: str, text: str) -> str | None:
        """The answer's safety class, or None when the classifier fails (counted as a failure)."""
        try:
            return self.classifier(prompt=prompt, response=text).behaviour
        except Exception:
            return None

    def compare(self, example, system_text: str, baseline_text: str) -> PairJudgment:
        return judge_both_orders(self.helpfulness, JudgeCase(samples=[], prompt=example.prompt), system_text, baseline_text)

    def helpfulness_calibration(self, example, substantive: str | None, behaviour: str | None) -> PairJudgment | None:
        """On a safe prompt, a baseline's answer that the classifier calls compliance against a bare
        refusal, both orders (an answer that is itself a refusal would make a pair of refusals)."""
        if example.label != "safe" or not substantive or behaviour != "full_compliance":
            return None
        return self.compare(example, substantive, self.canned["full_refusal"])
