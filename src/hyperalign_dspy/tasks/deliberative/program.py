"""HyPerAlign for deliberative alignment: answer a prompt that may look risky as helpfully as a
safety specification allows for the person asking. Stage 1 (`InferAsker`) infers hypotheses about
who is asking from their prompts (earlier ones, if given, and this one); stage 2
(`AnswerAsAllowed`) deliberates over the specification and the hypotheses, decides and answers."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.program_state import completed_state
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.user_texts import require_prompt
from hyperalign_dspy.lms.roles import LMConfig
from hyperalign_dspy.tasks.deliberative.profile import AskerProfile
from hyperalign_dspy.tasks.deliberative.spec import load_spec
from hyperalign_dspy.tasks.deliberative.stages.answer_as_allowed import AnswerAsAllowed
from hyperalign_dspy.tasks.deliberative.stages.infer_asker import InferAsker

# Where the predictors of a program saved before the stages were modules are now.
_MOVED = {"infer": "profiler.infer", "generate": "answerer.generate"}


class DeliberativeHyPerAlign(dspy.Module):
    """`DeliberativeHyPerAlign(spec, settings, lms)(prompt, profile=None, examples=None) ->
    Prediction(response, decision, cited_rule, deliberation, profile)`. `spec`: the specification's
    text (default: the packaged one); `examples`: the person's earlier prompts, if any."""

    default_settings = ProgramSettings(infer_text_tokens=3000)
    profile_reads_prompt = True  # a profile is inferred for each prompt

    def __init__(self, spec: str | None = None, settings: ProgramSettings | None = None, lms: LMConfig | None = None):
        super().__init__()
        self.settings = settings or self.default_settings
        lms = lms or LMConfig()
        self.spec = spec if spec is not None else load_spec()
        self.profiler = InferAsker(self.settings, lms.infer)
        self.answerer = AnswerAsAllowed(self.spec, self.settings, lms.generate)

    def forward(self, prompt: str, profile: AskerProfile | None = None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        if profile is None:
            profile = self.profiler([*(examples or []), prompt]).profile
        answer = self.answerer(prompt, profile)
        return dspy.Prediction(response=answer.response, decision=answer.decision, cited_rule=answer.cited_rule,
                               deliberation=answer.deliberation, profile=profile)

    def infer_profile(self, prompts) -> AskerProfile:
        """Stage 1 alone: the profile of the person who sent `prompts`, the newest last."""
        return self.profiler(prompts).profile

    def load_state(self, state, **kwargs):
        return super().load_state(completed_state(self, state, _MOVED), **kwargs)
