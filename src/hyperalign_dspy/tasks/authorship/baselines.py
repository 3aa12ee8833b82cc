"""The few-shot baseline HyPerAlign is measured against, with the program's call shape: the
user's texts go into the prompt itself. (The zero-shot baseline is `core.baselines.ZeroShot`.)"""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.baselines import OneStage
from hyperalign_dspy.core.output_checks import clean_response
from hyperalign_dspy.core.stage_lm import active_lm, output_budget, stage_lm
from hyperalign_dspy.core.user_texts import as_user_texts, fit_to_context, require_prompt
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.names import context_tokens_of
from hyperalign_dspy.tasks.authorship.signatures import GenerateFromExamples


class FewShotInContext(OneStage):
    """The texts are trimmed to fit the context window."""

    signature = GenerateFromExamples

    def forward(self, prompt: str, examples=None, profile=None) -> dspy.Prediction:
        require_prompt(prompt)
        if examples is None:
            raise HyperAlignError("the few-shot baseline needs the user's example texts")
        with stage_lm(self.generate_lm):
            lm = active_lm(self.generate)
            fitted = fit_to_context(as_user_texts(examples), context_tokens_of(lm), reserved_tokens=output_budget(lm))
            generated = self.generate(examples=fitted.texts, prompt=prompt)
        return dspy.Prediction(response=clean_response(generated.response), trimmed_ids=fitted.trimmed_ids)
