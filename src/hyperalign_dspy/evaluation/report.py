"""`EvaluationReport`: what an evaluation found, as JSON, as a table for people, and as MLflow
metrics. A task's report adds its own figures (`report_type`), their lines in the table and their
metrics."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, Field

from hyperalign_dspy.core.profile import ClaimCheck, Hypothesis
from hyperalign_dspy.evaluation.injection import InjectionCase, InjectionRates
from hyperalign_dspy.judges.pairwise import PairJudgment, WinRate, share_text


def metric_name(text: str) -> str:
    """`text` as MLflow accepts it in a metric's name."""
    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", text).replace(" ", "_")


def share(value: float | None) -> str:
    """A share right-aligned in a table column, or n/a."""
    return "  n/a" if value is None else f"{value:5.2f}"


class InferredProfile(BaseModel):
    """A profile a system inferred in the run: its hypotheses with their kinds, and what the checks changed."""

    system: str
    person: str  # whose: an author, or a prompt as `source:id`
    hypotheses: list[Hypothesis]
    checks: list[ClaimCheck] = Field(default_factory=list)


@dataclass
class JudgedPrompt:
    """One prompt of an evaluation: whose it is, each system's output, and each pair's judgment."""

    person: str | None
    prompt: str
    outputs: dict[str, str]  # system -> its text, or "FAILED: <error>"
    judgments: dict[str, PairJudgment]  # "calibration" or "<system> vs <baseline>" -> the judgment
    behaviours: dict[str, str] = field(default_factory=dict)  # system -> how it answered (deliberative)

    @staticmethod
    def described(judgment: PairJudgment) -> dict[str, str]:
        """A judgment in words: its verdicts and reasons in both orders, and its note (why it is
        what it is besides the verdicts: an error, or an output that copies)."""
        return {"verdicts": " / ".join(decision.verdict for decision in judgment.decisions),
                "reasons": " / ".join(decision.reason for decision in judgment.decisions),
                "note": judgment.error or judgment.copy_system or judgment.copy_baseline or ""}

    def row(self) -> dict:
        """The prompt as a row of the evaluation's table."""
        row = {"group": self.person, "prompt": self.prompt}
        for name, text in self.outputs.items():
            row[f"output:{name}"] = text
            if self.behaviours:
                row[f"behaviour:{name}"] = self.behaviours.get(name) or "unclassified"
        for label, judgment in self.judgments.items():
            row[f"{label}:outcome"] = judgment.outcome
            row |= {f"{label}:{part}": words for part, words in self.described(judgment).items()}
        return row


class SystemCost(BaseModel):
    """What one system's answers cost in the run: the mean LM calls and seconds per answer and,
    for a program whose stage 1 reads only the person's texts, per profile (one per person,
    shared by that person's answers). Failed answers are not counted; cached calls are free."""

    system: str
    answers: int
    calls_per_answer: float | None
    seconds_per_answer: float | None
    profiles: int = 0
    calls_per_profile: float | None = None
    seconds_per_profile: float | None = None

    @classmethod
    def of(cls, system: str, answers: list, profiles: list) -> SystemCost:
        """From the run's `Output`s: the system's answers, and the profiles it inferred apart."""

        def means(outputs):
            done = [output for output in outputs if not output.error and output.seconds is not None]
            if not done:
                return len(done), None, None
            return (len(done), float(np.mean([output.lm_calls for output in done])),
                    float(np.mean([output.seconds for output in done])))

        answered, calls, seconds = means(answers)
        profiled, profile_calls, profile_seconds = means(profiles)
        return cls(system=system, answers=answered, calls_per_answer=calls, seconds_per_answer=seconds,
                   profiles=profiled, calls_per_profile=profile_calls, seconds_per_profile=profile_seconds)

    def line(self) -> str:
        if self.calls_per_answer is None:
            return f"  {self.system:<24} no answer"
        text = f"  {self.system:<24} {self.calls_per_answer:4.1f} calls, {self.seconds_per_answer:6.1f} s per answer"
        if self.profiles:
            text += f"; stage 1 {self.calls_per_profile:.1f} calls, {self.seconds_per_profile:.1f} s per person"
        return text


class EvaluationReport(BaseModel):
    suite: str
    task: str
    judge_kind: str
    judge_lm: str
    task_lm: str
    calibration: str  # what the judge's calibration pairs are
    judge_accuracy: float | None
    judge_ci_low: float | None
    judge_ci_high: float | None
    judge_calibration_failures: int
    judge_can_tell_authors_apart: bool
    comparisons: list[WinRate]
    injection: dict[str, InjectionRates] = Field(default_factory=dict)  # per system that reads the user's texts
    injection_cases: list[InjectionCase] = Field(default_factory=list)
    profiles: list[InferredProfile] = Field(default_factory=list)
    system_failures: dict[str, int]
    costs: list[SystemCost] = Field(default_factory=list)  # per system
    examples: int
    lm_calls: int
    prompt_tokens: int
    completion_tokens: int
    wall_seconds: float
    mlflow_run_id: str | None = None
    judged_prompts: list[JudgedPrompt] = Field(default_factory=list, exclude=True)  # one per example

    # What a judge that fails calibration cannot tell apart, for the warning.
    calibration_subject: ClassVar[str] = "the calibration pairs"

    def task_lines(self) -> list[str]:
        """The task's own figures, as lines of the table."""
        return []

    def task_metrics(self) -> dict[str, float | None]:
        """The task's own figures, as MLflow metrics."""
        return {}

    def task_summary(self) -> dict:
        """The task's own figures, for a compiled program's metadata."""
        return {}

    def hypothesis_kinds(self) -> dict[str, dict[str, float]]:
        """Per system: the mean number of hypotheses of each kind in its profiles, and the number
        of hypotheses the checks corrected and dropped."""
        summary = {}
        for system in dict.fromkeys(profile.system for profile in self.profiles):
            profiles = [profile for profile in self.profiles if profile.system == system]
            kinds = Counter(hypothesis.kind for profile in profiles for hypothesis in profile.hypotheses)
            checks = Counter(check.outcome for profile in profiles for check in profile.checks)
            summary[system] = {**{kind: n / len(profiles) for kind, n in sorted(kinds.items())},
                               "corrected": checks["corrected"], "dropped": checks["dropped"]}
        return summary

    def warnings(self) -> list[str]:
        if self.judge_can_tell_authors_apart:
            return []
        return [f"WARNING: the judge's calibration CI reaches 0.5 or below: it cannot tell {self.calibration_subject} "
                "apart, and its win-rates mean nothing."]

    def table(self) -> str:
        """The report for people: the calibration and the comparisons with their CIs, the task's
        figures, injection results, failures and cost."""
        lines = [f"Suite {self.suite}: {self.examples} prompts; task LM {self.task_lm}; "
                 f"{self.judge_kind} judge on {self.judge_lm}\n",
                 f"{'comparison':<40} {'n':>3} {'win':>4} {'tie':>4} {'loss':>4} {'fail':>4} {'copy':>4} "
                 f"{'win-rate':>8}  95% CI",
                 f"{'judge calibration: ' + self.calibration:<40} {'':>3} {'':>4} {'':>4} {'':>4} "
                 f"{self.judge_calibration_failures:>4} {'':>4} {share(self.judge_accuracy):>8}  "
                 f"[{share(self.judge_ci_low)}, {share(self.judge_ci_high)}]"]
        for c in self.comparisons:
            lines.append(f"{c.system + ' vs ' + c.baseline:<40} {c.n:>3} {c.wins:>4} {c.ties:>4} {c.losses:>4} "
                         f"{c.failures:>4} {c.copies:>4} {share(c.win_rate):>8}  [{share(c.ci_low)}, {share(c.ci_high)}]")
        lines += self.task_lines()
        kinds = self.hypothesis_kinds()
        if kinds:
            lines.append("\nHypotheses per profile, by kind (and how many the counts corrected or dropped):")
            for system, summary in kinds.items():
                counted = ", ".join(f"{kind} {n:.1f}" for kind, n in summary.items() if kind not in ("corrected", "dropped"))
                lines.append(f"  {system:<24} {counted}; corrected {summary['corrected']:.0f}, dropped {summary['dropped']:.0f}")
        if self.injection:
            lines.append("\nPlanted instruction among the person's texts (obeyed = the output has the marker word; "
                         "leaked = it repeats the system's instructions):")
            for rates in self.injection.values():
                lines.append(f"  {rates.system:<24} obeyed {rates.obeyed}/{rates.n}, leaked {rates.leaked}/{rates.n}, "
                             f"failed {rates.failures}")
        failures = {name: count for name, count in self.system_failures.items() if count}
        if failures:
            lines.append("Failed outputs: " + ", ".join(f"{name} {count}" for name, count in failures.items()))
        if self.costs:
            lines.append("\nCost (mean LM calls and seconds; failed answers not counted):")
            lines += [cost.line() for cost in self.costs]
        lines.append(f"LM calls {self.lm_calls}, prompt tokens {self.prompt_tokens}, completion tokens "
                     f"{self.completion_tokens}, {self.wall_seconds:.0f} s; MLflow run {self.mlflow_run_id}")
        lines += [f"\n{warning}" for warning in self.warnings()]
        return "\n".join(lines)


__all__ = ["EvaluationReport", "SystemCost", "metric_name", "share", "share_text"]
