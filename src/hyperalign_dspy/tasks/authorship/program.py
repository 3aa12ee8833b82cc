"""HyPerAlign for authorship: from a writer's texts, hypotheses about how they write (stage 1, with
counted style measurements beside the texts); then texts written as them (stage 2)."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.hypotheses_program import HypothesesProgram, require_prompt
from hyperalign_dspy.core.output_checks import clean_response
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.signatures import (
    GeneratePersonalized,
    InferHypotheses,
)
from hyperalign_dspy.tasks.authorship.style_measurements import (
    measure_style,
    measured_attributes,
)


class HyPerAlign(HypothesesProgram):
    infer_signature = InferHypotheses
    generate_signature = GeneratePersonalized
    profile_type = UserProfile

    def infer_inputs(self, user_texts, fitted_texts) -> dict:
        # The style measurements cover the texts whole, also what the trimmed copies leave out.
        return {"texts": fitted_texts, "style_measurements": measure_style([t.text for t in user_texts])}

    def counted_attributes(self, attributes, user_texts):
        # The 1.5B model guessed lengths far from the median and "first person" for texts that
        # never say I: counts replace guesses.
        return attributes.model_copy(update=measured_attributes([t.text for t in user_texts]))

    def forward(self, prompt: str, profile: UserProfile | None = None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        profile = self.profile_for(prompt, profile, examples)
        return dspy.Prediction(response=clean_response(self.generate_from(prompt, profile).response), profile=profile)
