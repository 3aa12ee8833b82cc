"""The composed HyPerAlign program: infer a profile of the user once, then generate for each prompt."""

from __future__ import annotations

import hashlib
import json
import re

import dspy

from hyperalign_dspy.copy_guard import added_words, shares_run
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.injection import RECITED_WORDS, instruction_texts
from hyperalign_dspy.language_models import context_tokens_of
from hyperalign_dspy.profile import UserProfile
from hyperalign_dspy.signatures import GeneratePersonalized, InferHypotheses
from hyperalign_dspy.style_measurements import measure_style, measured_attributes
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
GENERATION_ATTEMPTS = 5
# An answer that adds less than this share of the person's typical length to the prompt's given
# text is no complete text of theirs (the 1.5B model sometimes hands back the opening, reworded).
SHORTEST_SHARE = 0.1
# Hypotheses whose word sets overlap this much (Jaccard) say the same thing; the later one is dropped.
SAME_HYPOTHESIS = 0.6


# DSPy's ChatAdapter ends an answer with this marker on a line of its own; a small model sometimes
# writes it at the end of the text's last line, where the parser leaves it in the field.
_TRAILING_MARKER = re.compile(r"\s*\[\[ ## completed ## \]\]\s*$")


def clean_response(text: str) -> str:
    return _TRAILING_MARKER.sub("", text) if isinstance(text, str) else text


def distinct(hypotheses: list[str]) -> list[str]:
    """The hypotheses without empty ones and without restatements of an earlier one: a small model
    under a grammar sometimes fills its list with rewordings."""
    kept: list[tuple[str, set[str]]] = []
    for hypothesis in (h.strip() for h in hypotheses):
        words = set(re.findall(r"\w+", hypothesis.lower()))
        if words and all(len(words & seen) / len(words | seen) < SAME_HYPOTHESIS for _, seen in kept):
            kept.append((hypothesis, words))
    return [hypothesis for hypothesis, _ in kept]


def require_prompt(prompt) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise HyperAlignError("the prompt is empty")


def output_budget(lm: dspy.LM) -> int:
    """Tokens kept free in the context for the LM's answer."""
    return int(lm.kwargs.get("max_tokens") or 1024)


def stage_one_adapter(lm: dspy.LM) -> dspy.Adapter | None:
    """Stage 1 answers with a list and a typed model. On an engine that enforces a response
    schema (the embedded models) it answers through DSPy's JSONAdapter, whose schema becomes a
    grammar: the 1.5B model's ChatAdapter answers mostly failed to parse, and DSPy then asked
    again in JSON, so every profile cost two long calls. Elsewhere the configured adapter stays."""
    engine = getattr(lm, "engine", None)
    if dspy.settings.adapter is None and getattr(engine, "supports_response_schema", False):
        return dspy.JSONAdapter()
    return dspy.settings.adapter


def demo_tokens(predictor: dspy.Predict) -> int:
    """Tokens a predictor's demos (from a compile) add to each of its prompts, estimated."""
    text = json.dumps([demo.toDict() if hasattr(demo, "toDict") else demo for demo in predictor.demos], default=str)
    return int(len(text) / CHARS_PER_TOKEN) if predictor.demos else 0


class HypothesesProgram(dspy.Module):
    """The two-stage machinery shared by the tasks. Stage 1 (`infer`) turns what a person wrote
    into a profile (hypotheses and typed attributes); stage 2 (`generate`) answers a prompt from
    that profile. Profiles are memoized per texts, LM and stage-1 state, so N prompts for one
    person cost N+1 LM calls. A task names its signatures and profile type, and says which
    inputs each stage gets and which output is the answer."""

    infer_signature: type[dspy.Signature]
    generate_signature: type[dspy.Signature]
    profile_type: type[UserProfile] = UserProfile
    answer_field = "response"

    def __init__(self, infer_text_tokens: int = 2000):
        super().__init__()
        # Stage 1 reads at most this many tokens of the texts: prompt processing dominates its
        # cost on a CPU.
        self.infer_text_tokens = infer_text_tokens
        self.infer = dspy.Predict(self.infer_signature)
        self.generate = dspy.Predict(self.generate_signature, temperature=GENERATION_TEMPERATURE)
        self._profiles: dict[str, UserProfile] = {}

    def infer_inputs(self, user_texts: list, fitted_texts: list[str]) -> dict:
        """Stage 1's inputs from the person's texts (whole) and their trimmed copies."""
        raise NotImplementedError

    def counted_attributes(self, attributes, user_texts: list):
        """Stage 1's attributes with what can be counted in the person's texts put in their place."""
        return attributes

    def generate_inputs(self, prompt: str, profile: UserProfile) -> dict:
        return {"prompt": prompt, "hypotheses": profile.hypotheses, "attributes": profile.attributes}

    def _profile_key(self, texts: list[str], lm: dspy.LM) -> str:
        state = json.dumps([texts, lm.model, self.infer.dump_state()], sort_keys=True, default=str)
        return hashlib.sha256(state.encode()).hexdigest()

    def infer_profile(self, texts) -> UserProfile:
        """Infer hypotheses and attributes from the person's texts (strings, `UserText`s or dicts)."""
        user_texts = as_user_texts(texts)
        lm = active_lm(self.infer)
        max_tokens = max(INFER_MAX_TOKENS, output_budget(lm))
        # A compiled stage 1 carries demos, each with another person's texts: they share the context.
        fitted = fit_to_context(user_texts, context_tokens_of(lm), max_tokens + demo_tokens(self.infer),
                                limit_tokens=self.infer_text_tokens)
        key = self._profile_key(fitted.texts, lm)
        if key not in self._profiles:
            with dspy.context(adapter=stage_one_adapter(lm)):
                prediction = self.infer(**self.infer_inputs(user_texts, fitted.texts), config={"max_tokens": max_tokens})
            hypotheses = distinct(prediction.hypotheses)
            if not hypotheses:
                raise HyperAlignError("the LM inferred no hypotheses from the texts")
            self._profiles[key] = self.profile_type(
                hypotheses=hypotheses,
                attributes=self.counted_attributes(prediction.attributes, user_texts),
                source_ids=[user_text.id for user_text in user_texts],
            )
        return self._profiles[key]

    def generate_from(self, prompt: str, profile: UserProfile) -> dspy.Prediction:
        # Small models sometimes write out the hypotheses or their own instructions instead of
        # applying them, or hand back little more than the opening the prompt gave (less than a
        # tenth of the person's typical length, when the profile has one); such an answer is sampled
        # again under a new rollout id (dspy.BestOfN would do this on a copy of the LM, whose calls
        # then miss the configured LM's history). When no attempt passes, the one that added the
        # most words without reciting stands, or the last if every one recited.
        notes = [*profile.hypotheses, *instruction_texts(self.generate)]
        typical_length = getattr(profile.attributes, "typical_length_words", 0)
        fewest_words = max(1, int(typical_length * SHORTEST_SHARE))
        best, best_rank = None, None
        for attempt in range(GENERATION_ATTEMPTS):
            config = {"rollout_id": attempt} if attempt else {}
            generated = self.generate(**self.generate_inputs(prompt, profile), config=config)
            answer = clean_response(getattr(generated, self.answer_field))
            recites, added = shares_run(answer, notes, RECITED_WORDS), added_words(answer, prompt)
            if not recites and added >= fewest_words:
                return generated
            rank = (not recites, 0 if recites else added)  # on equal ranks the later attempt stands
            if best_rank is None or rank >= best_rank:
                best, best_rank = generated, rank
        return best


class HyPerAlign(HypothesesProgram):
    """Authorship: from a user's texts, hypotheses about how they write; then texts written as them."""

    infer_signature = InferHypotheses
    generate_signature = GeneratePersonalized

    def infer_inputs(self, user_texts, fitted_texts) -> dict:
        # The style measurements cover the texts whole, also what the trimmed copies leave out.
        return {"texts": fitted_texts, "style_measurements": measure_style([t.text for t in user_texts])}

    def counted_attributes(self, attributes, user_texts):
        # The 1.5B model guessed lengths far from the median and "first person" for texts that
        # never say I: counts replace guesses.
        return attributes.model_copy(update=measured_attributes([t.text for t in user_texts]))

    def forward(self, prompt: str, profile: UserProfile | None = None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        if profile is None:
            if examples is None:
                raise HyperAlignError("give either a profile or the user's example texts")
            profile = self.infer_profile(examples)
        return dspy.Prediction(response=clean_response(self.generate_from(prompt, profile).response), profile=profile)


def load_program_state(program: dspy.Module, path) -> dspy.Module:
    """Load tuned instructions and demos saved with `program.save(path)` (DSPy's JSON state)."""
    try:
        program.load(str(path))
    except FileNotFoundError:
        raise HyperAlignError(f"program file {path} does not exist") from None
    except Exception as exc:  # DSPy raises several types for a file that is not its state
        raise HyperAlignError(f"program file {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    return program
