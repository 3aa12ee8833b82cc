"""`Judged`: one prompt's judgments, as a task's evaluation returns them to the harness."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperalign_dspy.judges.pairwise import PairJudgment


@dataclass
class Judged:
    calibration: list[PairJudgment] = field(default_factory=list)  # the judge's calibration pairs
    comparisons: dict[tuple[str, str], PairJudgment] = field(default_factory=dict)  # (system, baseline) -> pair
    behaviours: dict[str, str | None] = field(default_factory=dict)  # deliberative: safety class per system
    classifier_checks: list[bool | None] = field(default_factory=list)  # deliberative: canned answers classified right?
