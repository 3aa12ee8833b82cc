"""Pairwise judging: a pair is judged in both orders, and win-rates come with a bootstrap CI.

A pair's outcome, for the system against the baseline:
- `win` / `loss`: both orders agree; `tie`: they disagree or the judge says tie (this removes the
  judge's position bias);
- a candidate flagged by the copy guard loses without a judge call (both flagged: tie);
- `failure`: a judge call failed after its retries. A failure is never a win, tie or loss: it is
  counted apart and left out of the win-rate.
Win-rate = (wins + ½·ties) / (wins + ties + losses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel

Verdict = Literal["A", "B", "tie"]
Outcome = Literal["win", "tie", "loss", "failure"]
SCORES = {"win": 1.0, "tie": 0.5, "loss": 0.0}


@dataclass
class Decision:
    verdict: Verdict
    reason: str = ""


@dataclass
class JudgeCase:
    """What a judge knows about the user besides the two candidates."""

    samples: list[str]  # the user's few-shot texts
    prompt: str = ""  # the prompt the candidates answer (its given text is not the candidates' own)
    neutral_samples: list[str] = field(default_factory=list)  # other authors' texts
    reference: str = ""  # the user's own text for this prompt, when the suite has one


class PairwiseJudge(Protocol):
    def decide(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> Decision: ...


@dataclass
class PairJudgment:
    outcome: Outcome
    decisions: list[Decision] = field(default_factory=list)  # system as A, then system as B
    copy_system: str | None = None
    copy_baseline: str | None = None
    error: str | None = None


def judge_both_orders(judge: PairwiseJudge, case: JudgeCase, system_text: str, baseline_text: str,
                      copy_system: str | None = None, copy_baseline: str | None = None) -> PairJudgment:
    """The system's candidate against the baseline's, judged as A and as B."""
    if copy_system or copy_baseline:
        outcome = "tie" if copy_system and copy_baseline else ("loss" if copy_system else "win")
        return PairJudgment(outcome, copy_system=copy_system, copy_baseline=copy_baseline)
    try:
        first = judge.decide(case, system_text, baseline_text)
        second = judge.decide(case, baseline_text, system_text)
    except Exception as exc:  # a judge that fails after its retries: reported, never scored
        return PairJudgment("failure", error=f"{type(exc).__name__}: {exc}")
    if first.verdict == "A" and second.verdict == "B":
        outcome = "win"
    elif first.verdict == "B" and second.verdict == "A":
        outcome = "loss"
    else:
        outcome = "tie"
    return PairJudgment(outcome, decisions=[first, second])


def share_text(value: float | None) -> str:
    """A win-rate, accuracy or CI bound for people: two decimals, or n/a."""
    return "n/a" if value is None else f"{value:.2f}"


BOOTSTRAP_RESAMPLES = 2000


def bootstrap_ci(scores, seed: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """Percentile bootstrap CI of the mean of per-example scores, resampling examples."""
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        return None, None
    rng = np.random.default_rng(seed)
    means = rng.choice(scores, size=(BOOTSTRAP_RESAMPLES, scores.size), replace=True).mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


class WinRate(BaseModel):
    system: str
    baseline: str
    n: int
    wins: int
    ties: int
    losses: int
    failures: int
    win_rate: float | None
    ci_low: float | None
    ci_high: float | None
    copies: int  # the system's candidates flagged by the copy guard
    baseline_copies: int  # the baseline's

    @property
    def above_chance(self) -> bool:
        """The whole CI is above ½: as a calibration, the judge can tell the pairs apart."""
        return self.ci_low is not None and self.ci_low > 0.5

    @classmethod
    def of(cls, system: str, baseline: str, judgments: list[PairJudgment], seed: int) -> "WinRate":
        outcomes = [judgment.outcome for judgment in judgments]
        scores = [SCORES[outcome] for outcome in outcomes if outcome != "failure"]
        ci_low, ci_high = bootstrap_ci(scores, seed)
        return cls(
            system=system,
            baseline=baseline,
            n=len(scores),
            wins=outcomes.count("win"),
            ties=outcomes.count("tie"),
            losses=outcomes.count("loss"),
            failures=outcomes.count("failure"),
            win_rate=float(np.mean(scores)) if scores else None,
            ci_low=ci_low,
            ci_high=ci_high,
            copies=sum(1 for judgment in judgments if judgment.copy_system),
            baseline_copies=sum(1 for judgment in judgments if judgment.copy_baseline),
        )
