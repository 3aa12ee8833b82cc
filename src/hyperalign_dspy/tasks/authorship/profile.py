"""`UserProfile`: what stage 1 learned about a writer: hypotheses of the three kinds, the
writer's typed attributes, and the counts of their texts that new texts are checked against."""

from __future__ import annotations

from pydantic import Field

from hyperalign_dspy.core.profile import Profile
from hyperalign_dspy.tasks.authorship.signatures import KIND_OF, UserAttributes
from hyperalign_dspy.tasks.authorship.counting.text_counts import TextCounts


class UserProfile(Profile):
    attributes: UserAttributes
    counts: TextCounts | None = Field(None, description="counted in the texts the profile was inferred from; "
                                                        "what a new text is checked against (checks/output_fit.py)")

    @classmethod
    def kind_of(cls, text: str) -> str:
        """The kind of the aspect the hypothesis starts with ("Voice: ..." is style)."""
        return KIND_OF.get(text.partition(":")[0].strip(), "unspecified")
