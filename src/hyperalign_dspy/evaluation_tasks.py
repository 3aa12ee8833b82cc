"""What the evaluation harness does differently per task: its examples, its systems, how one
prompt's outputs are judged, and the task's own figures. The harness (`evaluation.py`) does the
rest: generating in parallel, win-rates, the report and the MLflow run."""

from __future__ import annotations

from dataclasses import dataclass, field

import dspy
import numpy as np

from hyperalign_dspy.attribution import AuthorAttribution
from hyperalign_dspy.baselines import FewShotInContext, ZeroShot
from hyperalign_dspy.copy_guard import without_prompt_text
from hyperalign_dspy.data import load_authors, load_safety_prompts
from hyperalign_dspy.deliberative import DeliberativeHyPerAlign, SpecOnly, load_spec
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.judging import AuthorshipJudging, resolve_judge_kind
from hyperalign_dspy.pairwise import JudgeCase, PairJudgment, WinRate, bootstrap_ci, judge_both_orders
from hyperalign_dspy.program import HyPerAlign
from hyperalign_dspy.safety import SafetyClassifier, SafetyRates
from hyperalign_dspy.signatures import JudgeHelpfulness
from hyperalign_dspy.suite import EvalSuite
from hyperalign_dspy.verdict_judge import HelpfulnessJudge
from hyperalign_dspy.verdict_likelihood_judge import VerdictLikelihoodJudge


@dataclass
class Judged:
    """One prompt's judgments: the judge's calibration pairs, each comparison, and task extras."""

    calibration: list[PairJudgment] = field(default_factory=list)
    comparisons: dict[tuple[str, str], PairJudgment] = field(default_factory=dict)
    behaviours: dict[str, str | None] = field(default_factory=dict)  # deliberative: safety class per system
    classifier_checks: list[bool | None] = field(default_factory=list)  # deliberative: canned answers classified right?


class AuthorshipTask:
    """Write as this author: judged by authorship (calibrated on real-vs-impostor texts), checked
    by stylometric attribution."""

    group = "author"
    calibration_label = "real vs impostor"
    reads_user_texts = ("hyperalign", "few-shot")  # the systems a planted text can reach

    def __init__(self, suite: EvalSuite, judge_lm: dspy.LM, judge_adapter, judge_kind: str | None,
                 subset: list[str] | None):
        self.suite = suite
        self.all_examples = load_authors(suite.data[0])
        names = sorted({example.author for example in self.all_examples})
        if len(names) < 3:
            raise HyperAlignError(f"suite {suite.name}: its data has {len(names)} authors; calibration needs at least 3")
        unknown = sorted(set(subset or []) - set(names))
        if unknown:
            raise HyperAlignError(f"suite {suite.name} has no author {', '.join(unknown)}")
        self.pool = [example for example in self.all_examples if subset is None or example.author in subset]
        self.judging = AuthorshipJudging(self.all_examples, suite.judge, judge_lm, judge_adapter, judge_kind)
        self.judge_lm, self.judge_kind = self.judging.lm, self.judging.kind
        self.authors = len(names)

    def new_system(self, name: str) -> dspy.Module:
        return {"hyperalign": HyPerAlign, "zero-shot": ZeroShot, "few-shot": FewShotInContext}[name]()

    @property
    def scoring_calls(self) -> int:
        return self.judging.scoring_calls

    def key(self, example) -> str:
        """What compile splits by: no author is on both sides."""
        return example.author

    def compile_metric(self, baseline_outputs, attribution: bool, feedback: bool):
        from hyperalign_dspy.compile_metric import AuthorshipMetric

        return AuthorshipMetric(self.judging, baseline_outputs, feedback=feedback,
                                attribution=AuthorAttribution(self.judging.samples) if attribution else None)

    def calibration_pair(self, example, index: int, baseline_outputs) -> PairJudgment | None:
        return self.judging.calibrate(example, index)

    def judge_example(self, index: int, example, texts: dict[str, str | None], comparisons) -> Judged:
        judging = self.judging
        judging.prepare(example, [example.reference, judging.impostor(example, index),
                                  *(text for text in texts.values() if text)])
        judged = Judged(calibration=[judging.calibrate(example, index)])
        for system, baseline in comparisons:
            if texts[system] is not None and texts[baseline] is not None:
                judged.comparisons[(system, baseline)] = judging.compare(example, texts[system], texts[baseline])
        return judged

    def figures(self, examples, outputs, judged, seed: int) -> dict:
        model = AuthorAttribution(self.judging.samples)
        attribution = {}
        for name, answers in outputs.items():
            kept = [(example, answer.text) for example, answer in zip(examples, answers) if answer.text]
            attribution[name] = model.accuracy([without_prompt_text(text, example.prompt) for example, text in kept],
                                               [example.author for example, _ in kept])
        attribution["reference"] = model.accuracy(
            [without_prompt_text(example.reference, example.prompt) for example in examples],
            [example.author for example in examples])
        return {"attribution": attribution, "authors": self.authors}


class DeliberativeTask:
    """Answer as helpfully as the safety specification allows: judged by helpfulness (calibrated
    on substantive answers against bare refusals), and every answer's safety behaviour classified
    (the classifier calibrated on canned answers of known class). The helpfulness judge's kind:
    `likelihood` reads its verdict from log-probabilities (the embedded models), `verdict` has
    the LM write it."""

    group = "label"
    calibration_label = "substantive vs refusal"
    reads_user_texts = ("hyperalign",)  # the asker's earlier prompts; the baselines read only this one

    def __init__(self, suite: EvalSuite, judge_lm: dspy.LM, judge_adapter, judge_kind: str | None,
                 subset: list[str] | None):
        self.suite = suite
        self.spec = load_spec(suite.spec)
        everything = load_safety_prompts(suite.data)
        self.pool = [example for example in everything if subset is None or self.key(example) in subset]
        self.judge_lm = judge_lm.copy(temperature=0.0)
        self.judge_adapter = judge_adapter
        self.judge_kind = resolve_judge_kind(judge_kind or suite.judge.kind, self.judge_lm)
        if self.judge_kind == "likelihood":
            self.helpfulness = VerdictLikelihoodJudge(self.judge_lm, JudgeHelpfulness, margin=suite.judge.margin)
        else:
            self.helpfulness = HelpfulnessJudge()
        self.classifier = SafetyClassifier()
        canned = suite.canned_answers
        self.canned = {"full_refusal": canned.refusal, "partial_refusal": canned.partial,
                       "full_compliance": canned.compliance}

    @property
    def scoring_calls(self) -> int:
        """Verdict log-odds computed (likelihood); verdict calls are counted as LM calls."""
        return getattr(self.helpfulness, "calls", 0)

    def new_system(self, name: str) -> dspy.Module:
        return {"hyperalign": lambda: DeliberativeHyPerAlign(spec=self.spec), "plain": ZeroShot,
                "spec-only": lambda: SpecOnly(spec=self.spec)}[name]()

    def key(self, example) -> str:
        """What compile splits by: no prompt is on both sides."""
        return f"{example.source}:{example.id}"

    def compile_metric(self, baseline_outputs, attribution: bool, feedback: bool):
        from hyperalign_dspy.compile_metric import DeliberativeMetric

        # A recipe's `attribution` is a style signal: it has no meaning here and is not used.
        return DeliberativeMetric(self, baseline_outputs, feedback=feedback)

    def calibration_pair(self, example, index: int, baseline_outputs) -> PairJudgment | None:
        if example.label != "safe":
            return None
        substantive = baseline_outputs(example)
        with dspy.context(lm=self.judge_lm, adapter=self.judge_adapter):
            return self._helpfulness_calibration(example, substantive, self._classify(example.prompt, substantive))

    def _helpfulness_calibration(self, example, substantive: str | None, behaviour: str | None) -> PairJudgment | None:
        """On a safe prompt, a baseline's answer that the classifier calls compliance against a bare
        refusal, both orders (an answer that is itself a refusal would make a pair of refusals)."""
        if example.label != "safe" or not substantive or behaviour != "full_compliance":
            return None
        return judge_both_orders(self.helpfulness, JudgeCase(samples=[], prompt=example.prompt),
                                 substantive, self.canned["full_refusal"])

    def _classify(self, prompt: str, text: str) -> str | None:
        try:
            return self.classifier(prompt=prompt, response=text).behaviour
        except Exception:
            return None  # counted as a failure by SafetyRates

    def judge_example(self, index: int, example, texts: dict[str, str | None], comparisons) -> Judged:
        judged = Judged()
        case = JudgeCase(samples=[], prompt=example.prompt)
        with dspy.context(lm=self.judge_lm, adapter=self.judge_adapter):
            judged.behaviours = {name: self._classify(example.prompt, text) if text else None
                                 for name, text in texts.items()}
            for expected, template in self.canned.items():
                found = self._classify(example.prompt, template.replace("{prompt}", example.prompt))
                judged.classifier_checks.append(None if found is None else found == expected)
            baseline = "plain" if texts.get("plain") else "spec-only"
            pair = self._helpfulness_calibration(example, texts.get(baseline), judged.behaviours.get(baseline))
            if pair is not None:
                judged.calibration.append(pair)
            for system, baseline in comparisons:
                if texts[system] is not None and texts[baseline] is not None:
                    judged.comparisons[(system, baseline)] = judge_both_orders(
                        self.helpfulness, case, texts[system], texts[baseline])
        return judged

    def figures(self, examples, outputs, judged, seed: int) -> dict:
        labels = [example.label for example in examples]
        safety = {name: SafetyRates.of(name, labels, [item.behaviours.get(name) for item in judged], seed)
                  for name in outputs}
        checks = [float(check) for item in judged for check in item.classifier_checks if check is not None]
        low, high = bootstrap_ci(checks, seed)
        return {
            "safety": safety,
            "safety_judge_accuracy": float(np.mean(checks)) if checks else None,
            "safety_judge_ci_low": low, "safety_judge_ci_high": high,
            "safety_judge_failures": sum(1 for item in judged for check in item.classifier_checks if check is None),
        }


TASKS = {"authorship": AuthorshipTask, "deliberative": DeliberativeTask}


def calibration_of(judged: list[Judged], seed: int) -> WinRate:
    return WinRate.of("calibration", "known answer", [pair for item in judged for pair in item.calibration], seed)
