"""hyperalign-dspy: HyPerAlign (Garbacea & Tan, arXiv 2505.00038) as a DSPy program.

    import dspy, hyperalign_dspy as ha
    dspy.configure(lm=ha.lm("local"))
    program = ha.HyPerAlign()
    profile = program.infer_profile(texts)
    print(program(profile=profile, prompt="...").response)
"""

import os

# DSPy otherwise tries to download model metadata at first use; this project works offline.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")

from hyperalign_dspy.baselines import FewShotInContext, ZeroShot  # noqa: E402
from hyperalign_dspy.data import load_authors, read_user_texts  # noqa: E402
from hyperalign_dspy.errors import HyperAlignError  # noqa: E402
from hyperalign_dspy.language_models import lm  # noqa: E402
from hyperalign_dspy.model_metadata import remember_model_metadata  # noqa: E402
from hyperalign_dspy.profile import UserProfile  # noqa: E402
from hyperalign_dspy.program import HyPerAlign  # noqa: E402
from hyperalign_dspy.signatures import UserAttributes  # noqa: E402
from hyperalign_dspy.user_texts import UserText  # noqa: E402

remember_model_metadata()

# The evaluation harness imports scikit-learn and MLflow: loaded on first use.
_LAZY = {
    "evaluate": ("hyperalign_dspy.evaluation", "evaluate"),
    "EvaluationReport": ("hyperalign_dspy.evaluation", "EvaluationReport"),
    "load_suite": ("hyperalign_dspy.suite", "load_suite"),
    "compile": ("hyperalign_dspy.compiler", "compile_program"),
    "load_program": ("hyperalign_dspy.program_files", "load_program"),
    "load_recipe": ("hyperalign_dspy.recipe", "load_recipe"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'hyperalign_dspy' has no attribute '{name}'")


__all__ = [
    "EvaluationReport",
    "FewShotInContext",
    "HyPerAlign",
    "HyperAlignError",
    "UserAttributes",
    "UserProfile",
    "UserText",
    "compile",
    "ZeroShot",
    "evaluate",
    "load_authors",
    "load_program",
    "load_recipe",
    "lm",
    "load_suite",
    "read_user_texts",
]
