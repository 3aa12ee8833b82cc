"""Evaluating authorship: judged by authorship (calibrated on real-vs-impostor texts), and checked
by stylometric attribution of every output to the nearest author."""

from __future__ import annotations

from typing import ClassVar

import dspy
from pydantic import Field

from hyperalign_dspy.core.output_checks import without_prompt_text
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation.judged import Judged
from hyperalign_dspy.evaluation.report import EvaluationReport, metric_name
from hyperalign_dspy.judges.pairwise import PairJudgment, share_text
from hyperalign_dspy.tasks.authorship.attribution import AuthorAttribution
from hyperalign_dspy.tasks.authorship.authors import load_authors
from hyperalign_dspy.tasks.authorship.judging import AuthorshipJudging
from hyperalign_dspy.tasks.base import TaskEvaluation


class AuthorshipReport(EvaluationReport):
    attribution: dict[str, float | None] = Field(default_factory=dict)  # per system, and the real texts'
    authors: int = 0  # authors in the suite's data; attribution's chance is 1 / authors

    calibration_subject: ClassVar[str] = "these authors"

    def task_lines(self) -> list[str]:
        if not self.attribution:
            return []
        return ["\nStylometric attribution accuracy (chance "
                f"{share_text(1 / self.authors if self.authors else None)}): "
                + ", ".join(f"{name} {share_text(value)}" for name, value in self.attribution.items())]

    def task_metrics(self) -> dict[str, float | None]:
        return {f"attribution.{metric_name(system)}": accuracy for system, accuracy in self.attribution.items()}

    def task_summary(self) -> dict:
        return {"attribution": self.attribution}


class AuthorshipEvaluation(TaskEvaluation):
    group = "author"
    split_unit = "authors"
    calibration_label = "real vs impostor"
    report_type = AuthorshipReport
    reads_user_texts = ("hyperalign", "few-shot")

    def __init__(self, suite, judge_lm: dspy.LM, judge_adapter, judge_kind: str | None, subset: list[str] | None,
                 lms=None, settings=None):
        super().__init__(suite, lms, settings)
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

    @property
    def scoring_calls(self) -> int:
        return self.judging.scoring_calls

    def key(self, example) -> str:
        return example.author

    def compile_metric(self, baseline_outputs, attribution: bool, feedback: bool):
        from hyperalign_dspy.tasks.authorship.metric import AuthorshipMetric

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
