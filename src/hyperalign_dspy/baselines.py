"""The baselines HyPerAlign is measured against, with the program's call shape."""

from __future__ import annotations

import dspy

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.language_models import context_tokens_of
from hyperalign_dspy.program import GENERATION_TEMPERATURE, active_lm, clean_response, output_budget, require_prompt
from hyperalign_dspy.signatures import GenerateFromExamples, GenerateZeroShot
from hyperalign_dspy.user_texts import as_user_texts, fit_to_context


class ZeroShot(dspy.Module):
    """The LM answers the prompt with nothing about the user."""

    def __init__(self):
        super().__init__()
        self.generate = dspy.Predict(GenerateZeroShot, temperature=GENERATION_TEMPERATURE)

    def forward(self, prompt: str, profile=None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        return dspy.Prediction(response=clean_response(self.generate(prompt=prompt).response))


class FewShotInContext(dspy.Module):
    """The user's texts go into the prompt itself, trimmed to fit the context window."""

    def __init__(self):
        super().__init__()
        self.generate = dspy.Predict(GenerateFromExamples, temperature=GENERATION_TEMPERATURE)

    def forward(self, prompt: str, examples=None, profile=None) -> dspy.Prediction:
        require_prompt(prompt)
        if examples is None:
            raise HyperAlignError("the few-shot baseline needs the user's example texts")
        lm = active_lm(self.generate)
        fitted = fit_to_context(as_user_texts(examples), context_tokens_of(lm), reserved_tokens=output_budget(lm))
        generated = self.generate(examples=fitted.texts, prompt=prompt)
        return dspy.Prediction(response=clean_response(generated.response), trimmed_ids=fitted.trimmed_ids)
