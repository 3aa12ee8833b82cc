"""HyPerAlign for authorship: write as this person. Stage 1 (`InferProfile`) infers a profile from
the person's texts: hypotheses about how they communicate, what they are like and how they write,
checked against counts of the texts and each backed by words quoted from them, and typed
attributes. Stage 2 (`WriteAsPerson`) writes the text a prompt asks for from that profile alone."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.program_state import completed_state
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.user_texts import require_examples, require_prompt
from hyperalign_dspy.lms.roles import LMConfig
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.settings import AuthorshipSettings
from hyperalign_dspy.tasks.authorship.stages.infer_profile import InferProfile
from hyperalign_dspy.tasks.authorship.stages.write_as_person import WriteAsPerson

# Where the predictors of a program saved before the stages were modules are now.
_MOVED = {"infer": "profiler.infer", "quote": "profiler.quote", "generate": "writer.generate"}


class HyPerAlign(dspy.Module):
    """`HyPerAlign(settings, lms)(prompt, profile=None, examples=None) -> Prediction(response,
    profile, fit)`. Give the person's `examples` (texts) or a `profile` inferred before.
    `settings`: the knobs (default: `default_settings`; a plain `ProgramSettings` gets the task's
    own knobs at their defaults); `lms`: an `LMConfig` whose `infer` and
    `generate` LMs, where set, run the two stages (else DSPy's configured LM runs both)."""

    # Each attempt is a whole text: the best of three by fit, unless one fits first.
    default_settings = AuthorshipSettings(attempts=3)
    # Stage 2: any module called as `writer(prompt, profile) -> Prediction(response, fit)` and built
    # as `writer_type(settings, lm)`; a variant of the program names its own.
    writer_type: type[dspy.Module] = WriteAsPerson
    profile_reads_prompt = False  # one profile serves all of a person's prompts

    def __init__(self, settings: ProgramSettings | None = None, lms: LMConfig | None = None):
        super().__init__()
        self.settings = AuthorshipSettings.of(settings) if settings is not None else self.default_settings
        lms = lms or LMConfig()
        self.profiler = InferProfile(self.settings, lms.infer)
        self.writer = self.writer_type(self.settings, lms.generate)

    def forward(self, prompt: str, profile: UserProfile | None = None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        if profile is None:
            profile = self.profiler(require_examples(examples)).profile
        written = self.writer(prompt, profile)
        return dspy.Prediction(response=written.response, profile=profile, fit=written.fit)

    def infer_profile(self, texts) -> UserProfile:
        """Stage 1 alone: the profile of the person who wrote `texts`."""
        return self.profiler(texts).profile

    def load_state(self, state, **kwargs):
        return super().load_state(completed_state(self, state, _MOVED), **kwargs)
