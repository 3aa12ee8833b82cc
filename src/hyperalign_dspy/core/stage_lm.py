"""The LM a stage runs on: the stage's own, where the program was given one (`LMConfig`), else
DSPy's configured LM; with the adapter that LM needs, and the share of its context a stage keeps
for its answer."""

from __future__ import annotations

import contextlib
import json

import dspy

from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.user_texts import CHARS_PER_TOKEN, UserText, fit_to_context
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.names import adapter_for, context_tokens_of, is_served
from hyperalign_dspy.lms.schema_or_text_adapter import SchemaOrTextAdapter


def active_lm(predictor: dspy.Predict) -> dspy.LM:
    """The LM `predictor` calls now: its own, else DSPy's configured one."""
    lm = predictor.lm or dspy.settings.lm
    if lm is None:
        raise HyperAlignError("no LM is configured: call dspy.configure(lm=hyperalign_dspy.lm('local')) first")
    return lm


def output_budget(lm: dspy.LM) -> int:
    """Tokens kept free in the context for the LM's answer."""
    return int(lm.kwargs.get("max_tokens") or 1024)


def demo_tokens(predictor: dspy.Predict) -> int:
    """Tokens a predictor's demos (from a compile) add to each of its prompts, estimated."""
    text = json.dumps([demo.toDict() if hasattr(demo, "toDict") else demo for demo in predictor.demos], default=str)
    return int(len(text) / CHARS_PER_TOKEN) if predictor.demos else 0


def stage_lm(language_model: dspy.LM | None):
    """The context a stage with its own LM runs in: that LM, with the adapter it needs if any."""
    if language_model is None:
        return contextlib.nullcontext()
    return dspy.context(lm=language_model, adapter=adapter_for(language_model) or dspy.settings.adapter)


def structured_output_adapter(lm: dspy.LM) -> dspy.Adapter | None:
    """The adapter for a stage that answers with typed fields (stage 1's list and model): where the
    engine enforces a response schema (the embedded models) DSPy's JSONAdapter, whose schema becomes
    a grammar (the ChatAdapter's answers of a small model mostly fail to parse, and each failure
    costs a second long call); a served LM's grammar where its server takes the schema; elsewhere
    the configured adapter."""
    engine = getattr(lm, "engine", None)
    if dspy.settings.adapter is None and getattr(engine, "supports_response_schema", False):
        return dspy.JSONAdapter()
    if dspy.settings.adapter is None and is_served(lm):
        return SchemaOrTextAdapter()
    return dspy.settings.adapter


def texts_that_fit(predictor: dspy.Predict, lm: dspy.LM, user_texts: list[UserText],
                   settings: ProgramSettings) -> tuple[list[str], int]:
    """A stage-1 call's texts, trimmed to `settings.infer_text_tokens` and to what `lm`'s context
    leaves beside the answer and the predictor's demos (each a compile's copy of another person's
    texts), and the answer's token budget."""
    max_tokens = max(settings.infer_max_tokens, output_budget(lm))
    fitted = fit_to_context(user_texts, context_tokens_of(lm), max_tokens + demo_tokens(predictor),
                            limit_tokens=settings.infer_text_tokens)
    return fitted.texts, max_tokens
