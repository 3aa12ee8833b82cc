"""A suite's judge settings (`[judge]`), and which kind of judge an LM can be."""

from __future__ import annotations

from typing import Literal

import dspy
from pydantic import BaseModel, ConfigDict, Field

from hyperalign_dspy.lms.names import runs_in_process


class JudgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["auto", "likelihood", "verdict"] = "auto"
    margin: float = Field(0.05, ge=0, description="likelihood: a difference within it is a tie (authorship: style "
                                                  "gain in nats/token; deliberative: the verdict's mean log-odds)")
    sample_tokens: int = Field(2400, gt=0, description="how much of the user's texts the judge reads")
    candidate_tokens: int = Field(256, gt=0, description="likelihood: tokens of each candidate scored")
    use_reference: bool = Field(True, description="verdict: show the user's real text for the prompt")
    copy_words: int = Field(12, gt=0, description="a run this long shared with the samples is a copy")
    neutral_authors: int = Field(3, gt=0, description="likelihood: other authors whose texts form the neutral context")


def resolve_judge_kind(kind: str, judge_lm: dspy.LM) -> str:
    """`auto`: likelihood when the LM can score text (the embedded engine), else verdict."""
    if kind != "auto":
        return kind
    return "likelihood" if runs_in_process(judge_lm) else "verdict"
