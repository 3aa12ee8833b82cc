"""The composed HyPerAlign program: infer a profile of the user once, then generate for each prompt."""

from __future__ import annotations

import hashlib
import json

import dspy

from hyperalign_dspy.copy_guard import shares_run
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.language_models import context_tokens_of
from hyperalign_dspy.profile import UserProfile
from hyperalign_dspy.signatures import GeneratePersonalized, InferHypotheses
from hyperalign_dspy.style_measurements import measure_style
from hyperalign_dspy.user_texts import CHARS_PER_TOKEN, as_user_texts, fit_to_context


def active_lm(predictor: dspy.Predict) -> dspy.LM:
    lm = predictor.lm or dspy.settings.lm
    if lm is None:
        raise HyperAlignError("no LM is configured: call dspy.configure(lm=hyperalign_dspy.lm('local')) first")
    return lm


# Stage 1 answers with hypotheses and attributes: more than one response's worth.
INFER_MAX_TOKENS = 2048
# Responses are sampled (the same for HyPerAlign and the baselines): greedy decoding makes small
# models repeat one sentence until max_tokens. Stage 1 stays greedy.
GENERATION_TEMPERATURE = 0.7
# A response that repeats this many consecutive words of the hypotheses wrote the notes, not the text.
ECHO_WORDS = 8
GENERATION_ATTEMPTS = 3


def require_prompt(prompt) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise HyperAlignError("the prompt is empty")


def output_budget(lm: dspy.LM) -> int:
    """Tokens kept free in the context for the LM's answer."""
    return int(lm.kwargs.get("max_tokens") or 1024)


def demo_tokens(predictor: dspy.Predict) -> int:
    """Tokens a predictor's demos (from a compile) add to each of its prompts, estimated."""
    text = json.dumps([demo.toDict() if hasattr(demo, "toDict") else demo for demo in predictor.demos], default=str)
    return int(len(text) / CHARS_PER_TOKEN) if predictor.demos else 0


class HyPerAlign(dspy.Module):
    """Stage 1 (`infer`) turns a user's texts into a `UserProfile`; stage 2 (`generate`) writes
    the response to a prompt from that profile. Profiles are memoized per texts, LM and stage-1
    state, so N prompts for one user cost N+1 LM calls."""

    def __init__(self, infer_text_tokens: int = 3000):
        super().__init__()
        # Stage 1 reads this many tokens of the texts (its style measurements cover them whole):
        # prompt processing dominates its cost on a CPU.
        self.infer_text_tokens = infer_text_tokens
        self.infer = dspy.Predict(InferHypotheses)
        self.generate = dspy.Predict(GeneratePersonalized, temperature=GENERATION_TEMPERATURE)
        self._profiles: dict[str, UserProfile] = {}

    def _profile_key(self, texts: list[str], lm: dspy.LM) -> str:
        state = json.dumps([texts, lm.model, self.infer.dump_state()], sort_keys=True, default=str)
        return hashlib.sha256(state.encode()).hexdigest()

    def infer_profile(self, texts) -> UserProfile:
        """Infer hypotheses and attributes from the user's texts (strings, `UserText`s or dicts)."""
        user_texts = as_user_texts(texts)
        lm = active_lm(self.infer)
        max_tokens = max(INFER_MAX_TOKENS, output_budget(lm))
        # A compiled stage 1 carries demos, each with another user's texts: they share the context.
        fitted = fit_to_context(user_texts, context_tokens_of(lm), max_tokens + demo_tokens(self.infer),
                                limit_tokens=self.infer_text_tokens)
        key = self._profile_key(fitted.texts, lm)
        if key not in self._profiles:
            prediction = self.infer(
                texts=fitted.texts,
                style_measurements=measure_style([user_text.text for user_text in user_texts]),
                config={"max_tokens": max_tokens},
            )
            hypotheses = list(dict.fromkeys(h.strip() for h in prediction.hypotheses if h.strip()))
            if not hypotheses:
                raise HyperAlignError("the LM inferred no hypotheses from the texts")
            self._profiles[key] = UserProfile(
                hypotheses=hypotheses,
                attributes=prediction.attributes,
                source_ids=[user_text.id for user_text in user_texts],
            )
        return self._profiles[key]

    def forward(self, prompt: str, profile: UserProfile | None = None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        if profile is None:
            if examples is None:
                raise HyperAlignError("give either a profile or the user's example texts")
            profile = self.infer_profile(examples)
        # Small models sometimes write out the hypotheses instead of applying them; such an answer
        # is sampled again under a new rollout id (dspy.BestOfN would do this on a copy of the LM,
        # whose calls then miss the configured LM's history). The last attempt stands.
        for attempt in range(GENERATION_ATTEMPTS):
            config = {"rollout_id": attempt} if attempt else {}
            generated = self.generate(
                prompt=prompt, hypotheses=profile.hypotheses, attributes=profile.attributes, config=config
            )
            if not shares_run(generated.response, profile.hypotheses, ECHO_WORDS):
                break
        return dspy.Prediction(response=generated.response, profile=profile)


def load_program_state(program: dspy.Module, path) -> dspy.Module:
    """Load tuned instructions and demos saved with `program.save(path)` (DSPy's JSON state)."""
    try:
        program.load(str(path))
    except FileNotFoundError:
        raise HyperAlignError(f"program file {path} does not exist") from None
    except Exception as exc:  # DSPy raises several types for a file that is not its state
        raise HyperAlignError(f"program file {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    return program
