"""`TwoStageProgram`: what the harness and the command line need of a task's program, whatever its
stages: a profile inferred on its own (`infer_profile`), and whether that profile reads the prompt."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hyperalign_dspy.core.profile import Profile
from hyperalign_dspy.core.settings import ProgramSettings


@runtime_checkable
class TwoStageProgram(Protocol):
    settings: ProgramSettings
    # True when stage 1 reads the prompt itself (a profile per prompt); False when it reads only the
    # person's texts (one profile serves all their prompts).
    profile_reads_prompt: bool

    def infer_profile(self, texts) -> Profile:
        """Stage 1 alone: the profile of the person who wrote `texts`."""

    def __call__(self, prompt: str, profile: Profile | None = None, examples=None): ...
