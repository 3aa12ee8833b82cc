"""Deliberative alignment: answer risky prompts as helpfully as is safe for the person asking. The
method is `signatures.py` (every prompt) and `program.py` (the two stages); `specs/safety.md` is
the default specification."""

from hyperalign_dspy.tasks.deliberative.baselines import SpecOnly
from hyperalign_dspy.tasks.deliberative.profile import AskerProfile
from hyperalign_dspy.tasks.deliberative.program import DeliberativeHyPerAlign
from hyperalign_dspy.tasks.deliberative.spec import load_spec

__all__ = ["AskerProfile", "DeliberativeHyPerAlign", "SpecOnly", "load_spec"]
