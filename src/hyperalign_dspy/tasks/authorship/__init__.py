"""Authorship: write as this person. The method is `signatures.py` (every prompt, and the sentences
filled in from the counts) and `program.py` (the two stages, each a module in `stages/`).
`counting/` counts the person's texts, `checks/` checks hypotheses and answers against the counts;
`evaluation/`, `data/` and `demo.py` are not the method."""

from hyperalign_dspy.tasks.authorship.data.authors import DEV_AUTHORS, load_authors
from hyperalign_dspy.tasks.authorship.baselines import FewShotInContext
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.program import HyPerAlign
from hyperalign_dspy.tasks.authorship.settings import AuthorshipSettings
from hyperalign_dspy.tasks.authorship.signatures import UserAttributes

__all__ = ["AuthorshipSettings", "DEV_AUTHORS", "FewShotInContext", "HyPerAlign", "UserAttributes", "UserProfile", "load_authors"]
