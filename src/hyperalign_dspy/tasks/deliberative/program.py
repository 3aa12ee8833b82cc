"""HyPerAlign for deliberative alignment: stage 1 infers hypotheses about the person asking from
their prompts (earlier ones, if given, and this one); stage 2 deliberates over the safety
specification and the hypotheses, decides, and answers as helpfully as the specification allows
for them."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.hypotheses_program import HypothesesProgram, require_prompt
from hyperalign_dspy.core.profile import Profile
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.lms.roles import LMConfig
from hyperalign_dspy.tasks.deliberative.signatures import AskerAttributes, DeliberateAnswer, InferAskerHypotheses
from hyperalign_dspy.tasks.deliberative.spec import load_spec


class AskerProfile(Profile):
    attributes: AskerAttributes

    @classmethod
    def kind_of(cls, text: str) -> str:
        return "asker"


class DeliberativeHyPerAlign(HypothesesProgram):
    infer_signature = InferAskerHypotheses
    generate_signature = DeliberateAnswer
    profile_type = AskerProfile
    default_settings = ProgramSettings(infer_text_tokens=3000)
    profile_reads_prompt = True

    def __init__(self, spec: str | None = None, settings: ProgramSettings | None = None, lms: LMConfig | None = None):
        super().__init__(settings=settings, lms=lms)
        self.spec = spec if spec is not None else load_spec()

    def infer_inputs(self, user_texts, fitted_texts) -> dict:
        return {"prompts": fitted_texts}

    def generate_inputs(self, prompt: str, profile: Profile) -> dict:
        return {"safety_spec": self.spec, **super().generate_inputs(prompt, profile)}

    def forward(self, prompt: str, profile: AskerProfile | None = None, examples=None) -> dspy.Prediction:
        """`examples`: the person's earlier prompts, if any; stage 1 reads them with this prompt."""
        require_prompt(prompt)
        profile = self.profile_for(prompt, profile, examples)
        answer = self.generate_from(prompt, profile)
        return dspy.Prediction(response=answer.response, decision=answer.decision, cited_rule=answer.cited_rule,
                               deliberation=answer.deliberation, profile=profile)
