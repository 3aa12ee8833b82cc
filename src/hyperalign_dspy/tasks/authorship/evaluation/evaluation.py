"""Evaluating authorship: judged by authorship (calibrated on real-vs-impostor texts), checked by
stylometric attribution of every output to the nearest author, and by adherence: the share of the
habits counted in the author's few-shot texts that each output keeps (`checks/output_fit.py`, the
author's real text for the prompt beside the systems)."""

from __future__ import annotations

from typing import ClassVar

import dspy
import numpy as np
from pydantic import BaseModel, Field

from hyperalign_dspy.core.output_checks import without_prompt_text
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation.judged import Judged
from hyperalign_dspy.evaluation.report import EvaluationReport, metric_name
from hyperalign_dspy.judges.pairwise import PairJudgment, bootstrap_ci, share_text
from hyperalign_dspy.tasks.authorship.evaluation.attribution import AuthorAttribution
from hyperalign_dspy.tasks.authorship.data.authors import load_authors
from hyperalign_dspy.tasks.authorship.evaluation.judging import AuthorshipJudging
from hyperalign_dspy.tasks.authorship.checks.output_fit import Fit, fit_of
from hyperalign_dspy.tasks.authorship.counting.text_counts import TextCounts, count
from hyperalign_dspy.tasks.base import TaskEvaluation


class Adherence(BaseModel):
    share: float | None = None  # mean over outputs of the share of counted habits kept
    ci_low: float | None = None
    ci_high: float | None = None
    out_of_character: int = 0  # outputs that broke character (they keep no habit)


class AuthorshipReport(EvaluationReport):
    attribution: dict[str, float | None] = Field(default_factory=dict)  # per system, and the real texts'
    attribution_ci: dict[str, tuple[float | None, float | None]] = Field(default_factory=dict)  # 95% bootstrap
    adherence: dict[str, Adherence] = Field(default_factory=dict)  # per system, and the real texts'
    authors: int = 0  # authors in the suite's data; attribution's chance is 1 / authors

    calibration_subject: ClassVar[str] = "these authors"

    def task_lines(self) -> list[str]:
        lines = []
        if self.attribution:
            lines.append("\nStylometric attribution accuracy (chance "
                         f"{share_text(1 / self.authors if self.authors else None)}; 95% CI): "
                         + ", ".join(f"{name} {share_text(value)}{self._attribution_ci_text(name)}"
                                     for name, value in self.attribution.items()))
        if self.adherence:
            lines.append("\nAdherence to the habits counted in the author's texts (95% CI; out of character): "
                         + ", ".join(f"{name} {share_text(a.share)} [{share_text(a.ci_low)}, {share_text(a.ci_high)}]"
                                     f"; {a.out_of_character}" for name, a in self.adherence.items()))
        return lines

    def _attribution_ci_text(self, name: str) -> str:
        low, high = self.attribution_ci.get(name, (None, None))
        return f" [{share_text(low)}, {share_text(high)}]" if low is not None else ""

    def task_metrics(self) -> dict[str, float | None]:
        metrics = {f"attribution.{metric_name(system)}": accuracy for system, accuracy in self.attribution.items()}
        for system, (low, high) in self.attribution_ci.items():
            metrics |= {f"attribution.{metric_name(system)}.ci_low": low, f"attribution.{metric_name(system)}.ci_high": high}
        for system, adherence in self.adherence.items():
            name = f"adherence.{metric_name(system)}"
            metrics |= {name: adherence.share, f"{name}.ci_low": adherence.ci_low, f"{name}.ci_high": adherence.ci_high,
                        f"{name}.out_of_character": adherence.out_of_character}
        return metrics

    def task_summary(self) -> dict:
        return {"attribution": self.attribution,
                "attribution_ci": {system: list(bounds) for system, bounds in self.attribution_ci.items()},
                "adherence": {system: adherence.model_dump() for system, adherence in self.adherence.items()}}


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
        from hyperalign_dspy.tasks.authorship.evaluation.metric import AuthorshipMetric

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

    def output_figures(self, examples, outputs, seed: int) -> dict:
        model = AuthorAttribution(self.judging.samples)
        hits = {}
        for name, answers in outputs.items():
            kept = [(example, answer.text) for example, answer in zip(examples, answers) if answer.text]
            hits[name] = model.hits([without_prompt_text(text, example.prompt) for example, text in kept],
                                    [example.author for example, _ in kept])
        hits["reference"] = model.hits([without_prompt_text(example.reference, example.prompt) for example in examples],
                                       [example.author for example in examples])
        attribution = {name: float(np.mean(found)) if found else None for name, found in hits.items()}
        attribution_ci = {name: bootstrap_ci(found, seed) for name, found in hits.items()}
        counts = person_counts(examples)
        adherence = {name: adherence_of(examples, [answer.text for answer in answers], seed, counts,
                                        [answer.fit for answer in answers])
                     for name, answers in outputs.items()}
        adherence["reference"] = adherence_of(examples, [example.reference for example in examples], seed, counts)
        return {"attribution": attribution, "attribution_ci": attribution_ci, "adherence": adherence,
                "authors": self.authors}


def person_counts(examples) -> dict[tuple[str, ...], TextCounts]:
    """The habits counted in each person's few-shot texts, once a person (by the texts themselves)."""
    counted = {}
    for example in examples:
        texts = texts_of(example)
        if texts not in counted:
            counted[texts] = count(list(texts))
    return counted


def texts_of(example) -> tuple[str, ...]:
    return tuple(sample.text for sample in example.examples)


def adherence_of(examples, texts: list[str | None], seed: int, counts: dict[tuple[str, ...], TextCounts] | None = None,
                 fits: list[Fit | None] | None = None) -> Adherence:
    """How well texts keep the habits counted in their authors' few-shot texts (a failed output is
    left out, as it is of the win-rates). `counts`: `person_counts(examples)`, if made already;
    `fits`: a fit that the system found already (stage 2's check of its answer), else None."""
    counts = counts if counts is not None else person_counts(examples)
    fits = fits if fits is not None else [None] * len(texts)
    found = [known if known is not None else fit_of(text, counts[texts_of(example)], example.prompt)
             for example, text, known in zip(examples, texts, fits, strict=True) if text]
    shares = [result.share for result in found]
    low, high = bootstrap_ci(shares, seed)
    return Adherence(share=float(np.mean(shares)) if shares else None, ci_low=low, ci_high=high,
                     out_of_character=sum(result.breaks_character is not None for result in found))
