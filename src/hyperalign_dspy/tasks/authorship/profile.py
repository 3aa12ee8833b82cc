"""`UserProfile`: what stage 1 learned about a writer: hypotheses of the three kinds and the
writer's typed attributes."""

from __future__ import annotations

from hyperalign_dspy.core.profile import Profile
from hyperalign_dspy.tasks.authorship.signatures import KIND_OF, UserAttributes


class UserProfile(Profile):
    attributes: UserAttributes

    @classmethod
    def kind_of(cls, text: str) -> str:
        """The kind of the aspect the hypothesis starts with ("Voice: ..." is style)."""
        return KIND_OF.get(text.partition(":")[0].strip(), "unspecified")
