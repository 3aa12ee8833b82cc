"""The language models: names (`lm`), one LM per role (`LMConfig`), and the embedded models that
run in-process through llama-cpp-python."""

from hyperalign_dspy.lms.names import DEFAULT_LM, adapter_for, context_tokens_of, lm, runs_in_process
from hyperalign_dspy.lms.roles import LMChoice, LMConfig, LMNames

__all__ = ["DEFAULT_LM", "LMChoice", "LMConfig", "LMNames", "adapter_for", "context_tokens_of", "lm", "runs_in_process"]
