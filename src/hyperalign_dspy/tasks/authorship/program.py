"""HyPerAlign for authorship: from a writer's texts, hypotheses about how they communicate, what they
are like and how they write (stage 1, with counted style measurements beside the texts), checked
against the counts; then texts written as them (stage 2)."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.hypotheses_program import HypothesesProgram, require_prompt
from hyperalign_dspy.core.output_checks import clean_response
from hyperalign_dspy.tasks.authorship.claim_check import check_hypotheses, check_style_attributes, split_hypothesis
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.signatures import GeneratePersonalized, InferHypotheses
from hyperalign_dspy.tasks.authorship.style_measurements import count, measure_style, measured_attributes


class HyPerAlign(HypothesesProgram):
    infer_signature = InferHypotheses
    generate_signature = GeneratePersonalized
    profile_type = UserProfile

    def infer_inputs(self, user_texts, fitted_texts) -> dict:
        # The style measurements cover the texts whole, also what the trimmed copies leave out.
        return {"texts": fitted_texts, "style_measurements": measure_style([t.text for t in user_texts])}

    def checked(self, hypotheses, attributes, user_texts):
        # The 1.5B model restated counts wrongly ("546 words per paragraph" for 546 per text),
        # cited "evidence" the texts do not hold, guessed lengths far from the median, "first
        # person" for texts that never say I, and "lengthy" sentences of eight words: numbers
        # are corrected, refuted claims dropped, and counts replace the guesses.
        texts = [t.text for t in user_texts]
        counts = count(texts)
        kept, checks = check_hypotheses(hypotheses, texts, counts)
        styles, style_checks = check_style_attributes(attributes, counts)
        return kept, attributes.model_copy(update={**measured_attributes(counts), **styles}), checks + style_checks

    def claim_of(self, hypothesis: str) -> str:
        aspect, claim, _ = split_hypothesis(hypothesis)
        return f"{aspect}: {claim}" if aspect else claim

    def generate_inputs(self, prompt: str, profile: UserProfile) -> dict:
        # Stage 2 acts on the claims; the quoted evidence is for the reader of the profile (and a
        # quote in the notes invites the writer to copy it).
        claims = [self.claim_of(hypothesis) for hypothesis in profile.hypothesis_texts]
        return {**super().generate_inputs(prompt, profile), "hypotheses": claims}

    def forward(self, prompt: str, profile: UserProfile | None = None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        profile = self.profile_for(prompt, profile, examples)
        return dspy.Prediction(response=clean_response(self.generate_from(prompt, profile).response), profile=profile)
