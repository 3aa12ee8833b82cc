"""The likelihood judge: which candidate does the user's own writing make more probable?

A candidate's style gain is its mean token log-probability after the user's sample texts minus
after a neutral context (other authors' texts): how much knowing this user helps predict it. The
higher gain wins; a difference within `margin` (nats per token) is a tie. Scores are computed on
the candidate without the prompt's given text, from the first `candidate_tokens` tokens.

It needs token log-probabilities of a given text: the embedded engine computes them, and an
OpenAI-compatible server can return them for an echoed prompt (vLLM does); any other LM cannot
serve as this judge, and says so.
"""

from __future__ import annotations

import os
import threading

import dspy
import httpx
import numpy as np

from hyperalign_dspy.core.output_checks import without_prompt_text
from hyperalign_dspy.core.user_texts import CHARS_PER_TOKEN, as_user_texts, fit_to_context
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.judges.pairwise import Decision, JudgeCase
from hyperalign_dspy.lms.names import SERVED_PROVIDER, runs_in_process

SEPARATOR = "\n\n"


def _server_logprobs(language_model: dspy.LM, context: str, continuation: str) -> list[float]:
    """Log-probabilities of the continuation's tokens from an OpenAI-compatible `/completions`
    endpoint that echoes the prompt with its log-probabilities."""
    api_base = language_model.kwargs.get("api_base")
    provider, _, model = language_model.model.partition("/")
    if provider not in ("openai", "hosted_vllm", SERVED_PROVIDER) or not api_base:
        raise HyperAlignError(
            f"LM '{language_model.model}' cannot serve as the likelihood judge: it needs token "
            "log-probabilities of a given text (the embedded models, or an OpenAI-compatible server "
            "given with --judge-api-base that echoes prompt log-probabilities, as vLLM does); use --judge-kind verdict"
        )
    api_key = language_model.kwargs.get("api_key") or os.environ.get("OPENAI_API_KEY")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    body = {"model": model, "prompt": context + continuation, "max_tokens": 1, "temperature": 0,
            "echo": True, "logprobs": 1}
    response = httpx.post(f"{api_base.rstrip('/')}/completions", json=body, headers=headers, timeout=120)
    response.raise_for_status()
    logprobs = (response.json().get("choices") or [{}])[0].get("logprobs") or {}
    tokens, offsets = logprobs.get("token_logprobs"), logprobs.get("text_offset")
    if not tokens or not offsets or len(tokens) != len(offsets):
        # llama-server answers an echo request with the generated token's log-probability alone.
        raise HyperAlignError(
            f"LM '{language_model.model}' at {api_base} returned no prompt log-probabilities, so it cannot serve as "
            "the likelihood judge; keep that judge in-process (--judge-lm local) or use --judge-kind verdict"
        )
    # The echoed prompt comes first; the one generated token is last.
    return [value for value, offset in zip(tokens[:-1], offsets[:-1])
            if offset >= len(context) and value is not None]


def continuation_logprobs(language_model: dspy.LM, context: str, continuation: str) -> list[float]:
    if runs_in_process(language_model):
        return language_model.engine.continuation_logprobs(context, continuation)
    return _server_logprobs(language_model, context, continuation)


class LikelihoodJudge:
    def __init__(self, language_model: dspy.LM, margin: float = 0.05, sample_tokens: int = 2400,
                 candidate_tokens: int = 256, context_tokens: int = 8192):
        self.lm = language_model
        self.margin = margin
        self.sample_tokens = sample_tokens
        self.candidate_tokens = candidate_tokens
        self.context_tokens = context_tokens
        self.calls = 0  # scoring requests the LM answered (cache hits excluded)
        self._count_lock = threading.Lock()

    def _context(self, samples: list[str]) -> str:
        fitted = fit_to_context(as_user_texts(samples), self.context_tokens, self.candidate_tokens,
                                self.sample_tokens)
        return SEPARATOR.join(fitted.texts) + SEPARATOR

    def _scored_text(self, text: str, prompt: str) -> str:
        text = without_prompt_text(text, prompt)
        limit = int(self.candidate_tokens * CHARS_PER_TOKEN)
        return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]

    def mean_logprob(self, context: str, text: str) -> float:
        """Mean token log-probability of `text` after `context`; cached with DSPy's LM cache."""
        request = {"hyperalign": "mean_logprob", "model": self.lm.model,
                   "api_base": self.lm.kwargs.get("api_base"), "context": context, "text": text}
        cached = dspy.cache.get(request)
        if cached is not None:
            return cached
        values = continuation_logprobs(self.lm, context, text)
        if not values:
            raise HyperAlignError("the LM returned no log-probabilities for the candidate")
        score = float(np.mean(values))
        with self._count_lock:
            self.calls += 1
        dspy.cache.put(request, score)
        return score

    def style_gains(self, case: JudgeCase, candidates: list[str]) -> list[float]:
        """Each candidate's gain; all candidates are scored after one context before the next, so
        the engine evaluates each context once."""
        if not case.neutral_samples:
            raise HyperAlignError("the likelihood judge needs neutral samples (other authors' texts)")
        texts = [self._scored_text(candidate, case.prompt) for candidate in candidates]
        if not all(any(character.isalnum() for character in text) for text in texts):
            raise HyperAlignError("a candidate is empty once the prompt's given text is removed")
        user_context, neutral_context = self._context(case.samples), self._context(case.neutral_samples)
        after_user = [self.mean_logprob(user_context, text) for text in texts]
        after_neutral = [self.mean_logprob(neutral_context, text) for text in texts]
        return [user - neutral for user, neutral in zip(after_user, after_neutral)]

    def decide(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> Decision:
        gain_a, gain_b = self.style_gains(case, [candidate_a, candidate_b])
        reason = f"style gain A {gain_a:+.3f}, B {gain_b:+.3f} nats/token (margin {self.margin})"
        if abs(gain_a - gain_b) <= self.margin:
            return Decision("tie", reason)
        return Decision("A" if gain_a > gain_b else "B", reason)
