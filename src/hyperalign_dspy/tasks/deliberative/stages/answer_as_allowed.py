"""Stage 2 of deliberative alignment: deliberate over the safety specification and the profile of
the person asking, decide, and answer."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.attempts import Review, best_of_attempts
from hyperalign_dspy.core.output_checks import RECITED_WORDS, added_words, instruction_texts, shares_run
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.stage_lm import stage_lm
from hyperalign_dspy.core.stage_two_notes import told
from hyperalign_dspy.tasks.deliberative.profile import AskerProfile
from hyperalign_dspy.tasks.deliberative.signatures import DeliberateAnswer


class AnswerAsAllowed(dspy.Module):
    """`AnswerAsAllowed(spec, settings, lm)(prompt, profile) -> Prediction(deliberation, decision,
    cited_rule, response)`. An answer that recites its notes or instructions, or adds nothing to
    the prompt, is written again, up to `settings.attempts` calls."""

    def __init__(self, spec: str, settings: ProgramSettings, lm: dspy.LM | None = None):
        super().__init__()
        self.spec, self.settings, self.own_lm = spec, settings, lm
        self.generate = dspy.Predict(DeliberateAnswer, temperature=settings.temperature)

    def forward(self, prompt: str, profile: AskerProfile) -> dspy.Prediction:
        notes = told({"safety_spec": self.spec, "prompt": prompt, "hypotheses": profile.hypothesis_texts,
                      "attributes": profile.attributes}, self.settings.stage_two_notes)
        with stage_lm(self.own_lm):
            answer, _ = best_of_attempts(lambda config: self.generate(**notes, config=config), self.settings.attempts,
                                         review=lambda response: self.review(response, prompt, profile))
        return answer

    def review(self, response: str, prompt: str, profile: AskerProfile) -> Review:
        recites = shares_run(response, [*profile.hypothesis_texts, *instruction_texts(self.generate)], RECITED_WORDS)
        added = added_words(response, prompt)
        return Review(passes=not recites and added >= 1, rank=(not recites, added >= 1, 0.0, 0 if recites else added))
