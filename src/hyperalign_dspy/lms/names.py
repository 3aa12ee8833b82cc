"""`lm(name)`: the embedded models by name, anything else as a DSPy/LiteLLM model string; and what
a caller needs to know about an LM made so (its adapter, its context window, whether it runs
in-process)."""

from __future__ import annotations

import functools
import os
from urllib.parse import urlparse

import dspy
from dspy.lm15 import AccessPolicy, ModelSupport, OpenAIChatCompat, ProviderDefinition, register_provider

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.embedded_models import EMBEDDED_MODELS
from hyperalign_dspy.lms.llama_engine import LlamaCppEngine
from hyperalign_dspy.lms.roles import LMChoice
from hyperalign_dspy.lms.schema_or_text_adapter import SchemaOrTextAdapter

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
            raise HyperAlignError(f"a server address (--api-base) does not apply to the embedded model '{name}'")
        kwargs.pop("api_base", None)
        context_tokens = kwargs.pop("context_tokens", None)
        kwargs.setdefault("temperature", 0.0)
        kwargs.setdefault("max_tokens", 1024)
        return dspy.LM(f"hyperalign/{name}", engine=LlamaCppEngine(name, context_tokens), **kwargs)
    api_base = kwargs.get("api_base")
    if api_base is not None:
        parsed = urlparse(api_base)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise HyperAlignError(f"the server address '{api_base}' is not an http(s) URL such as http://127.0.0.1:8000/v1")
    check_name(name)
    if api_base is not None and name.startswith("openai/"):
        # An OpenAI-compatible server (llama-server, vLLM): declared to DSPy as a provider whose
        # models take a JSON schema, so a JSON answer is asked for with the signature's schema
        # (`response_format`), which such servers enforce as a grammar. Named `openai/...`, DSPy
        # would send none for a model it does not know.
        name = f"{SERVED_PROVIDER}/{name.removeprefix('openai/')}"
    if name.startswith(f"{SERVED_PROVIDER}/"):  # so named here, or recorded so by an earlier run
        served_provider()
        if not (kwargs.get("api_key") or os.environ.get("OPENAI_API_KEY")):
            kwargs["api_key"] = "sk-no-key"  # a placeholder, for a local server that checks no key
        # Decoded as the embedded models are (a server's own default samples at 0.8, and stage 1
        # is meant greedy); the program still sets its stage 2 temperature per call.
        kwargs.setdefault("temperature", 0.0)
        kwargs.setdefault("max_tokens", 1024)
    try:
        return dspy.LM(name, **{key: value for key, value in kwargs.items() if value is not None})
    except (ValueError, TypeError) as exc:
        raise HyperAlignError(f"cannot use LM '{name}': {exc}") from exc


SERVED_PROVIDER = "openai-compatible"
# Providers that LiteLLM knows (and the served one), accepted without asking it.
COMMON_PROVIDERS = frozenset({SERVED_PROVIDER, "openai", "anthropic", "gemini", "ollama_chat", "ollama"})


def check_name(name: str) -> None:
    """Refuse, before any work, an LM name that no call could reach: neither an embedded model nor
    `provider/model` with a provider LiteLLM knows (which DSPy routes through) or a served one."""
    if name in EMBEDDED_MODELS:
        return
    if "/" not in name:
        raise HyperAlignError(
            f"unknown LM '{name}': use {', '.join(EMBEDDED_MODELS)} or a provider/model string such as openai/gpt-4o-mini"
        )
    provider = name.split("/", 1)[0]
    if provider in COMMON_PROVIDERS:  # known without importing LiteLLM, which takes seconds to import
        return
    import litellm

    known = {getattr(known, "value", known) for known in litellm.provider_list}
    if provider not in known:
        raise HyperAlignError(
            f"unknown LM provider '{provider}' in '{name}': use {', '.join(EMBEDDED_MODELS)}, openai/<model> with "
            "--api-base for an OpenAI-compatible server, or a provider LiteLLM knows (openai, anthropic, gemini, "
            "ollama_chat, ...)"
        )


@functools.cache
def served_provider() -> str:
    """Declares (once a process) the provider of OpenAI-compatible servers: the Chat Completions
    wire, `max_tokens`, the key in `OPENAI_API_KEY` (as LiteLLM reads it), and JSON-schema answers.
    Each LM gives its server's address as `api_base`."""
    register_provider(
        ProviderDefinition.chat(AccessPolicy(provider=SERVED_PROVIDER, env_keys=("OPENAI_API_KEY",),
                                             base_url="http://127.0.0.1:8080/v1"),
                                compat=OpenAIChatCompat(max_tokens_field="max_tokens")),
        supports=ModelSupport(response_schema=True))
    return SERVED_PROVIDER


def choice_of(language_model: dspy.LM) -> LMChoice:
    """The name (and server address) that `lm()` builds this LM from again; never its key."""
    embedded = getattr(getattr(language_model, "engine", None), "model_name", None)
    if embedded in EMBEDDED_MODELS:
        return LMChoice(name=embedded)
    return LMChoice(name=language_model.model, api_base=language_model.kwargs.get("api_base"))


def is_served(language_model: dspy.LM) -> bool:
    """An LM on an OpenAI-compatible server given with `api_base` (`openai-compatible/<name>`)."""
    return isinstance(getattr(language_model, "model", None), str) and language_model.model.startswith(f"{SERVED_PROVIDER}/")


def adapter_for(language_model: str | dspy.LM | None) -> dspy.Adapter | None:
    """The adapter an LM (by name, or made by `lm()`) answers best with: a JSON-schema grammar for
    models that need one (the smallest embedded model rarely writes a parsable answer without it;
    see docs/decisions.md), in-process or served under its own name (`hyperalign serve` names it
    so), else DSPy's default (None)."""
    adapter = dspy.JSONAdapter
    if isinstance(language_model, str):
        name = language_model
    elif is_served(language_model):
        name, adapter = language_model.model.removeprefix(f"{SERVED_PROVIDER}/"), SchemaOrTextAdapter
    else:
        name = getattr(getattr(language_model, "engine", None), "model_name", None)
    model = EMBEDDED_MODELS.get(name)
    return adapter() if model is not None and model.needs_grammar else None


def context_tokens_of(language_model: dspy.LM, default: int = 8192) -> int:
    """The context window of an LM made by `lm()`: the embedded engine's, else `default`."""
    return getattr(getattr(language_model, "engine", None), "context_tokens", None) or default


def runs_in_process(language_model: dspy.LM) -> bool:
    """An embedded model: it scores text itself, and runs one call at a time."""
    return hasattr(getattr(language_model, "engine", None), "continuation_logprobs")


def scores_chats(language_model: dspy.LM) -> bool:
    """It gives the log-probabilities of a chat's continuation (the embedded engine)."""
    return hasattr(getattr(language_model, "engine", None), "chat_continuation_logprobs")
