"""`AskerProfile`: what stage 1 inferred about the person asking."""

from __future__ import annotations

from hyperalign_dspy.core.profile import Profile
from hyperalign_dspy.tasks.deliberative.signatures import AskerAttributes


class AskerProfile(Profile):
    attributes: AskerAttributes

    @classmethod
    def kind_of(cls, text: str) -> str:
        return "asker"
