"""`SpecOnly`: deliberation over the specification without hypotheses about the asker. With the
plain `core.baselines.ZeroShot`, the two baselines measure what the hypotheses and the specification each
contribute."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.baselines import OneStage
from hyperalign_dspy.core.stage_lm import stage_lm
from hyperalign_dspy.core.user_texts import require_prompt
from hyperalign_dspy.core.output_checks import clean_response
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.lms.roles import LMConfig
from hyperalign_dspy.tasks.deliberative.signatures import DeliberateWithSpec
from hyperalign_dspy.tasks.deliberative.spec import load_spec


class SpecOnly(OneStage):
    signature = DeliberateWithSpec

    def __init__(self, spec: str | None = None, settings: ProgramSettings | None = None, lms: LMConfig | None = None):
        super().__init__(settings, lms)
        self.spec = spec if spec is not None else load_spec()

    def forward(self, prompt: str, examples=None, profile=None) -> dspy.Prediction:
        require_prompt(prompt)
        with stage_lm(self.generate_lm):
            answer = self.generate(safety_spec=self.spec, prompt=prompt)
        return dspy.Prediction(response=clean_response(answer.response), decision=answer.decision, cited_rule=answer.cited_rule,
                               deliberation=answer.deliberation)
