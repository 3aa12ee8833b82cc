"""Stage 1 of deliberative alignment: a profile of the person asking, from their prompts."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.hypotheses import distinct
from hyperalign_dspy.core.profile_cache import ProfileCache
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.stage_lm import active_lm, structured_output_adapter, texts_that_fit
from hyperalign_dspy.core.user_texts import as_user_texts
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.tasks.deliberative.profile import AskerProfile
from hyperalign_dspy.tasks.deliberative.signatures import InferAskerHypotheses


class InferAsker(dspy.Module):
    """`InferAsker(settings, lm)(prompts) -> Prediction(profile)`. `prompts`: the person's earlier prompts
    and the one to answer, the newest last; `lm`: stage 1's own LM (else DSPy's configured one)."""

    def __init__(self, settings: ProgramSettings, lm: dspy.LM | None = None):
        super().__init__()
        self.settings, self.own_lm = settings, lm
        self.infer = dspy.Predict(InferAskerHypotheses)
        self.profiles = ProfileCache()

    def forward(self, prompts) -> dspy.Prediction:
        user_texts = as_user_texts(prompts)
        lm = self.own_lm or active_lm(self.infer)
        fitted, max_tokens = texts_that_fit(self.infer, lm, user_texts, self.settings)

        def infer() -> AskerProfile:
            with dspy.context(lm=lm, adapter=structured_output_adapter(lm)):
                stated = self.infer(prompts=fitted, config={"max_tokens": max_tokens})
            hypotheses = distinct(stated.hypotheses, self.settings.same_hypothesis)
            if not hypotheses:
                raise HyperAlignError("the LM inferred no hypotheses from the texts")
            return AskerProfile(hypotheses=hypotheses, attributes=stated.attributes,
                                source_ids=[user_text.id for user_text in user_texts])

        return dspy.Prediction(profile=self.profiles.get(ProfileCache.key(fitted, lm, self), infer))
