"""`HypothesesProgram`: the two-stage machinery every task shares. Stage 1 (`infer`) turns what a
person wrote into a profile (hypotheses and typed attributes); stage 2 (`generate`) answers a
prompt from that profile. A task names its two signatures and its profile type, and says which
inputs each stage gets; its knobs are `ProgramSettings`, and each stage may have an LM of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re

import dspy

from hyperalign_dspy.core.output_checks import RECITED_WORDS, added_words, clean_response, instruction_texts, shares_run
from hyperalign_dspy.core.profile import ClaimCheck, Profile
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.user_texts import CHARS_PER_TOKEN, as_user_texts, fit_to_context
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.names import adapter_for, context_tokens_of, is_served
from hyperalign_dspy.lms.roles import LMConfig
from hyperalign_dspy.lms.schema_or_text_adapter import SchemaOrTextAdapter

# What stage 2 may be told of a profile (`ProgramSettings.stage_two_notes`).
NOTES = ("hypotheses", "attributes", "measured_habits")


def active_lm(predictor: dspy.Predict) -> dspy.LM:
    lm = predictor.lm or dspy.settings.lm
    if lm is None:
        raise HyperAlignError("no LM is configured: call dspy.configure(lm=hyperalign_dspy.lm('local')) first")
    return lm


def require_prompt(prompt) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise HyperAlignError("the prompt is empty")


def output_budget(lm: dspy.LM) -> int:
    """Tokens kept free in the context for the LM's answer."""
    return int(lm.kwargs.get("max_tokens") or 1024)


def distinct(hypotheses: list[str], same_hypothesis: float = ProgramSettings().same_hypothesis,
             claim_of=lambda hypothesis: hypothesis) -> list[str]:
    """The hypotheses without empty ones and without restatements of an earlier one (claims whose
    word sets overlap `same_hypothesis` or more): a small model under a grammar sometimes fills its
    list with rewordings."""
    kept: list[tuple[str, set[str]]] = []
    for hypothesis in (h.strip() for h in hypotheses):
        words = set(re.findall(r"\w+", claim_of(hypothesis).lower()))
        if words and all(len(words & seen) / len(words | seen) < same_hypothesis for _, seen in kept):
            kept.append((hypothesis, words))
    return [hypothesis for hypothesis, _ in kept]


def stage_one_adapter(lm: dspy.LM) -> dspy.Adapter | None:
    """Stage 1 answers with a list and a typed model. On an engine that enforces a response
    schema (the embedded models) it answers through DSPy's JSONAdapter, whose schema becomes a
    grammar: the 1.5B model's ChatAdapter answers mostly failed to parse, and DSPy then asked
    again in JSON, so every profile cost two long calls. Elsewhere the configured adapter stays."""
    engine = getattr(lm, "engine", None)
    if dspy.settings.adapter is None and getattr(engine, "supports_response_schema", False):
        return dspy.JSONAdapter()
    if dspy.settings.adapter is None and is_served(lm):
        return SchemaOrTextAdapter()  # a server's grammar where it takes the schema
    return dspy.settings.adapter


def demo_tokens(predictor: dspy.Predict) -> int:
    """Tokens a predictor's demos (from a compile) add to each of its prompts, estimated."""
    text = json.dumps([demo.toDict() if hasattr(demo, "toDict") else demo for demo in predictor.demos], default=str)
    return int(len(text) / CHARS_PER_TOKEN) if predictor.demos else 0


def stage_lm(language_model: dspy.LM | None):
    """The context a stage with its own LM runs in: that LM, with the adapter it needs if any."""
    if language_model is None:
        return contextlib.nullcontext()
    return dspy.context(lm=language_model, adapter=adapter_for(language_model) or dspy.settings.adapter)


class HypothesesProgram(dspy.Module):
    """Profiles are memoized per texts, LM and stage-1 state, so N prompts for one person cost
    N+1 LM calls. `settings`: the knobs (default: the task's `default_settings`); `lms`: an
    `LMConfig` whose `infer` and `generate` LMs, where set, run the two stages (else DSPy's
    configured LM runs both)."""

    infer_signature: type[dspy.Signature]
    generate_signature: type[dspy.Signature]
    profile_type: type[Profile]
    default_settings = ProgramSettings()
    # True when stage 1 reads the prompt itself (then a profile is inferred per prompt); False when
    # it reads only the person's texts (one profile serves all their prompts).
    profile_reads_prompt = False

    def __init__(self, settings: ProgramSettings | None = None, lms: LMConfig | None = None):
        super().__init__()
        self.settings = settings or self.default_settings
        lms = lms or LMConfig()
        self.infer_lm, self.generate_lm = lms.infer, lms.generate
        self.infer = dspy.Predict(self.infer_signature)
        self.generate = dspy.Predict(self.generate_signature, temperature=self.settings.temperature)
        self._profiles: dict[str, Profile] = {}

    def infer_inputs(self, user_texts: list, fitted_texts: list[str]) -> dict:
        """Stage 1's inputs from the person's texts (whole) and their trimmed copies."""
        raise NotImplementedError

    def checked(self, hypotheses: list[str], attributes, user_texts: list,
                fitted_texts: list[str]) -> tuple[list[str], object, list[ClaimCheck]]:
        """Stage 1's answer checked against the person's texts: the hypotheses the texts bear out
        (some corrected), the attributes with what can be counted put in place of guesses, and
        what was corrected or dropped. It runs under stage 1's LM, which it may ask again about
        the texts as stage 1 saw them (`fitted_texts`)."""
        return hypotheses, attributes, []

    def load_state(self, state, **kwargs):
        """A program saved before a predictor was added loads with that predictor as it is (untuned);
        a state that holds none of the predictors is not this program's."""
        predictors = self.named_predictors()
        if any(name in state for name, _ in predictors):
            state = {**{name: predictor.dump_state() for name, predictor in predictors}, **state}
        return super().load_state(state, **kwargs)

    def measured(self, user_texts: list) -> dict:
        """Profile fields counted in the person's texts (authorship: the counts new texts are checked against)."""
        return {}

    def fit_share(self, answer: str, profile: Profile, prompt: str = "") -> float | None:
        """The share of the person's countable habits that `answer` (to `prompt`) shows (0 when it breaks
        character), or None when the profile gives nothing to check it against."""
        return None

    def decoding(self, profile: Profile, earlier: list[str]) -> dict:
        """Stage 2's call options from the profile and the answers of the attempts before
        (authorship: a grammar of the person's length once an answer came back too short)."""
        return {}

    def repaired(self, answer: str, prompt: str) -> str:
        """The answer with what a program can cut without an LM call cut out (authorship: a
        paragraph written again, closing paragraphs about the text itself)."""
        return answer

    def claim_of(self, hypothesis: str) -> str:
        """What a hypothesis claims, without what it cites: two hypotheses that cite the same
        evidence for different claims are not restatements."""
        return hypothesis

    def generate_inputs(self, prompt: str, profile: Profile) -> dict:
        return {"prompt": prompt, "hypotheses": profile.hypothesis_texts, "attributes": profile.attributes}

    def told(self, inputs: dict) -> dict:
        """Stage 2's inputs with the notes `stage_two_notes` leaves out emptied (an ablation)."""
        return {name: (None if name == "attributes" else []) if name in NOTES and name not in self.settings.stage_two_notes
                else value for name, value in inputs.items()}

    def _profile_key(self, texts: list[str], lm: dspy.LM) -> str:
        # Every predictor but stage 2's may take part in inferring a profile.
        stage_one = {name: predictor.dump_state() for name, predictor in self.named_predictors()
                     if predictor is not self.generate}
        state = json.dumps([texts, lm.model, stage_one], sort_keys=True, default=str)
        return hashlib.sha256(state.encode()).hexdigest()

    def infer_profile(self, texts) -> Profile:
        """Infer hypotheses and attributes from the person's texts (strings, `UserText`s or dicts)."""
        user_texts = as_user_texts(texts)
        lm = self.infer_lm or active_lm(self.infer)
        max_tokens = max(self.settings.infer_max_tokens, output_budget(lm))
        # A compiled stage 1 carries demos, each with another person's texts: they share the context.
        fitted = fit_to_context(user_texts, context_tokens_of(lm), max_tokens + demo_tokens(self.infer),
                                limit_tokens=self.settings.infer_text_tokens)
        key = self._profile_key(fitted.texts, lm)
        if key not in self._profiles:
            with dspy.context(lm=lm, adapter=stage_one_adapter(lm)):
                prediction = self.infer(**self.infer_inputs(user_texts, fitted.texts), config={"max_tokens": max_tokens})
                stated = distinct(prediction.hypotheses, self.settings.same_hypothesis, self.claim_of)
                if not stated:
                    raise HyperAlignError("the LM inferred no hypotheses from the texts")
                hypotheses, attributes, checks = self.checked(stated, prediction.attributes, user_texts, fitted.texts)
            if not hypotheses:
                dropped = next(check for check in checks if check.outcome == "dropped")
                raise HyperAlignError(f"none of the LM's hypotheses is borne out by the texts ({len(stated)} stated; "
                                      f"the first dropped because {dropped.reason})")
            self._profiles[key] = self.profile_type(
                hypotheses=hypotheses,
                attributes=attributes,
                source_ids=[user_text.id for user_text in user_texts],
                checks=checks,
                **self.measured(user_texts),
            )
        return self._profiles[key]

    def generate_from(self, prompt: str, profile: Profile) -> dspy.Prediction:
        # Small models sometimes write out the hypotheses or their own instructions instead of
        # applying them, hand back little more than the opening the prompt gave (less than
        # `shortest_share` of the person's typical length, when the profile has one), or write a
        # text that fits the person's counted habits poorly or breaks character (below
        # `fit_share`, `fit_share()`), after `repaired()` cut what it can; such an answer is
        # sampled again under a new rollout id
        # (dspy.BestOfN would do this on a copy of the LM, whose calls then miss the configured
        # LM's history), up to `attempts` calls in all. When no attempt passes, the best stands:
        # one that does not recite, then one that adds enough (the 1.5B model handed back a
        # prompt's opening sentence alone, which keeps most habits of a short text), then the best
        # fit, then the most words added (on equal ranks the later attempt).
        told = self.told(self.generate_inputs(prompt, profile))
        notes = [*profile.hypothesis_texts, *told.get("measured_habits", []), *instruction_texts(self.generate)]
        typical_length = getattr(profile.attributes, "typical_length_words", 0)
        fewest_words = max(1, int(typical_length * self.settings.shortest_share))
        best, best_rank, earlier = None, None, []
        with stage_lm(self.generate_lm):
            for attempt in range(self.settings.attempts):
                decoding = self.decoding(profile, earlier)
                config = {**decoding, "rollout_id": attempt} if attempt else decoding
                generated = self.generate(**told, config=config)
                earlier.append(clean_response(generated.response))
                answer = generated.response = self.repaired(earlier[-1], prompt)
                recites, added = shares_run(answer, notes, RECITED_WORDS), added_words(answer, prompt)
                fit = self.fit_share(answer, profile, prompt)
                if not recites and added >= fewest_words and (fit is None or fit >= self.settings.fit_share):
                    return generated
                rank = (not recites, added >= fewest_words, fit or 0.0, 0 if recites else added)
                if best_rank is None or rank >= best_rank:
                    best, best_rank = generated, rank
        return best

    def profile_for(self, prompt: str, profile: Profile | None, examples) -> Profile:
        """The profile given, or the one stage 1 infers from `examples` (and, where stage 1 reads
        it, from the prompt)."""
        if profile is not None:
            return profile
        if self.profile_reads_prompt:
            return self.infer_profile([*(examples or []), prompt])
        if examples is None:
            raise HyperAlignError("give either a profile or the user's example texts")
        return self.infer_profile(examples)
