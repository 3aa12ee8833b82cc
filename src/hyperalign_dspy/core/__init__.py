"""The method's machinery, shared by every task: a person's texts, the two-stage program that turns
them into a profile and answers from it, the checks on its output, and its settings. Nothing here
knows of evaluation, judges or optimizers."""

from hyperalign_dspy.core.baselines import ZeroShot
from hyperalign_dspy.core.profile import Profile
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.two_stage_program import TwoStageProgram
from hyperalign_dspy.core.user_texts import UserText, as_user_texts, read_user_texts

__all__ = ["Profile", "ProgramSettings", "TwoStageProgram", "UserText", "ZeroShot", "as_user_texts", "read_user_texts"]
