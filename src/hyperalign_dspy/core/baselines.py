"""Baselines: one predictor that answers the prompt, sampled as stage 2 is, on the `generate` LM.
`ZeroShot` knows nothing about the person: every task's plainest baseline. A task's own baselines
(few-shot in context, deliberation without hypotheses) derive from `OneStage`."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.output_checks import clean_response
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.signatures import GenerateZeroShot
from hyperalign_dspy.core.stage_lm import stage_lm
from hyperalign_dspy.core.user_texts import require_prompt
from hyperalign_dspy.lms.roles import LMConfig


class OneStage(dspy.Module):
    signature: type[dspy.Signature]

    def __init__(self, settings: ProgramSettings | None = None, lms: LMConfig | None = None):
        super().__init__()
        self.generate_lm = (lms or LMConfig()).generate
        self.generate = dspy.Predict(self.signature, temperature=(settings or ProgramSettings()).temperature)


class ZeroShot(OneStage):
    signature = GenerateZeroShot

    def forward(self, prompt: str, profile=None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        with stage_lm(self.generate_lm):
            return dspy.Prediction(response=clean_response(self.generate(prompt=prompt).response))
