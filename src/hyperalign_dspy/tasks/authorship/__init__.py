"""Authorship: write as this person. The method is `signatures.py` (every prompt) and `program.py`
(the two stages); `style_measurements.py` counts the facts stage 1 reads beside the texts."""

from hyperalign_dspy.tasks.authorship.data.authors import DEV_AUTHORS, load_authors
from hyperalign_dspy.tasks.authorship.baselines import FewShotInContext
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.program import HyPerAlign
from hyperalign_dspy.tasks.authorship.signatures import UserAttributes

__all__ = ["DEV_AUTHORS", "FewShotInContext", "HyPerAlign", "UserAttributes", "UserProfile", "load_authors"]
