"""hyperalign-dspy: HyPerAlign (Garbacea & Tan, arXiv 2505.00038) as a DSPy program.

    import dspy, hyperalign_dspy as ha
    dspy.configure(lm=ha.lm("local"))
    program = ha.HyPerAlign()
    profile = program.infer_profile(texts)
    print(program(profile=profile, prompt="...").response)

The layout, from the method outwards: `tasks/<task>/signatures.py` and `program.py` are a task's
whole method; `core/` the two-stage machinery they share; `lms/` the language models; `judges/`
pairwise judging; `evaluation/` and `optimize/` the harness and the compiler, which ask the task
registry (`registry.py`) what differs per task; `cli.py` a thin layer over all of it.
"""

import os

# DSPy otherwise tries to download model metadata at first use; this project works offline.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")
# MLflow otherwise sends usage telemetry (from this process, and from the servers it starts).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# An evaluation's traces are written by the worker thread that judged the prompt, while the other
# workers wait on their LM. MLflow's asynchronous export would make the run's end wait on a queue
# polled once a second (docs/benchmark.md, figure 3).
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")

from hyperalign_dspy.core.baselines import ZeroShot  # noqa: E402
from hyperalign_dspy.core.settings import ProgramSettings  # noqa: E402
from hyperalign_dspy.core.user_texts import UserText, read_user_texts  # noqa: E402
from hyperalign_dspy.errors import HyperAlignError  # noqa: E402
from hyperalign_dspy.lms.model_metadata import remember_model_metadata  # noqa: E402
from hyperalign_dspy.lms.names import lm  # noqa: E402
from hyperalign_dspy.lms.roles import LMConfig, LMNames  # noqa: E402
from hyperalign_dspy.registry import get_task, register, task_names  # noqa: E402
from hyperalign_dspy.tasks.authorship import (  # noqa: E402
    AuthorshipSettings,
    FewShotInContext,
    HyPerAlign,
    UserAttributes,
    UserProfile,
    load_authors,
)

remember_model_metadata()

# The deliberative task, the evaluation harness and the compiler (scikit-learn, MLflow): loaded on first use.
_LAZY = {
    "DeliberativeHyPerAlign": ("hyperalign_dspy.tasks.deliberative", "DeliberativeHyPerAlign"),
    "SpecOnly": ("hyperalign_dspy.tasks.deliberative", "SpecOnly"),
    "load_spec": ("hyperalign_dspy.tasks.deliberative", "load_spec"),
    "evaluate": ("hyperalign_dspy.evaluation.harness", "evaluate"),
    "EvaluationReport": ("hyperalign_dspy.evaluation.report", "EvaluationReport"),
    "load_suite": ("hyperalign_dspy.evaluation.suite", "load_suite"),
    "compile": ("hyperalign_dspy.optimize.compiler", "compile_program"),
    "load_program": ("hyperalign_dspy.program_files", "load_program"),
    "load_recipe": ("hyperalign_dspy.optimize.recipe", "load_recipe"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'hyperalign_dspy' has no attribute '{name}'")


__all__ = [
    "AuthorshipSettings",
    "DeliberativeHyPerAlign",
    "EvaluationReport",
    "FewShotInContext",
    "HyPerAlign",
    "HyperAlignError",
    "LMConfig",
    "LMNames",
    "ProgramSettings",
    "SpecOnly",
    "UserAttributes",
    "UserProfile",
    "UserText",
    "ZeroShot",
    "compile",
    "evaluate",
    "get_task",
    "lm",
    "load_authors",
    "load_program",
    "load_recipe",
    "load_spec",
    "load_suite",
    "read_user_texts",
    "register",
    "task_names",
]
