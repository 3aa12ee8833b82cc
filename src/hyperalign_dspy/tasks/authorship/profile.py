"""`UserProfile`: what stage 1 learned about a writer, with the writer's typed attributes."""

from __future__ import annotations

from hyperalign_dspy.core.profile import Profile
from hyperalign_dspy.tasks.authorship.signatures import UserAttributes


class UserProfile(Profile):
    attributes: UserAttributes
