"""`lm(name)`: the embedded models by name, anything else as a DSPy/LiteLLM model string; and what
a caller needs to know about an LM made so (its adapter, its context window, whether it runs
in-process)."""

from __future__ import annotations

from urllib.parse import urlparse

import dspy

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.embedded_models import EMBEDDED_MODELS
from hyperalign_dspy.lms.llama_engine import LlamaCppEngine

DEFAULT_LM = "local"


def lm(name: str = DEFAULT_LM, **kwargs) -> dspy.LM:
    """A `dspy.LM` for `name`.

    - `local`: Qwen2.5-Coder-1.5B-Instruct, in-process (needs the `local` extra).
    - `local-small`: SmolLM2-135M-Instruct, in-process; fast, for end-to-end tests.
    - anything else, e.g. `openai/gpt-4o-mini` or `openai/<name>` with `api_base=...`: passed to
      `dspy.LM` as it is; API keys come from the environment as LiteLLM expects.
    """
    if not isinstance(name, str) or not name.strip():
        raise HyperAlignError("the LM name is empty")
    if name in EMBEDDED_MODELS:
        if kwargs.get("api_base"):
            raise HyperAlignError(f"--api-base does not apply to the embedded model '{name}'")
        kwargs.pop("api_base", None)
        context_tokens = kwargs.pop("context_tokens", None)
        kwargs.setdefault("temperature", 0.0)
        kwargs.setdefault("max_tokens", 1024)
        return dspy.LM(f"hyperalign/{name}", engine=LlamaCppEngine(name, context_tokens), **kwargs)
    api_base = kwargs.get("api_base")
    if api_base is not None:
        parsed = urlparse(api_base)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise HyperAlignError(f"--api-base '{api_base}' is not an http(s) URL such as http://127.0.0.1:8000/v1")
    if "/" not in name:
        raise HyperAlignError(
            f"unknown LM '{name}': use {', '.join(EMBEDDED_MODELS)} or a provider/model string such as openai/gpt-4o-mini"
        )
    try:
        return dspy.LM(name, **{key: value for key, value in kwargs.items() if value is not None})
    except (ValueError, TypeError) as exc:
        raise HyperAlignError(f"cannot use LM '{name}': {exc}") from exc


def adapter_for(language_model: str | dspy.LM | None) -> dspy.Adapter | None:
    """The adapter an LM (by name, or made by `lm()`) answers best with: a JSON-schema grammar for
    models that need one (SmolLM2-135M parses 0 of 10 answers without it), else DSPy's default
    (None)."""
    if isinstance(language_model, str):
        name = language_model
    else:
        name = getattr(getattr(language_model, "engine", None), "model_name", None)
    model = EMBEDDED_MODELS.get(name)
    return dspy.JSONAdapter() if model is not None and model.needs_grammar else None


def context_tokens_of(language_model: dspy.LM, default: int = 8192) -> int:
    """The context window of an LM made by `lm()`: the embedded engine's, else `default`."""
    return getattr(getattr(language_model, "engine", None), "context_tokens", None) or default


def runs_in_process(language_model: dspy.LM) -> bool:
    """An embedded model: it scores text itself, and runs one call at a time."""
    return hasattr(getattr(language_model, "engine", None), "continuation_logprobs")


def scores_chats(language_model: dspy.LM) -> bool:
    """It gives the log-probabilities of a chat's continuation (the embedded engine)."""
    return hasattr(getattr(language_model, "engine", None), "chat_continuation_logprobs")
