"""Deliberative alignment: HyPerAlign infers hypotheses about the person asking, then deliberates
over a safety specification and answers as helpfully as it allows for them. `SpecOnly`
deliberates over the specification without hypotheses; `ZeroShot` answers plainly: the two
baselines that measure what the hypotheses and the specification each contribute."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import dspy

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.profile import UserProfile
from hyperalign_dspy.program import GENERATION_TEMPERATURE, HypothesesProgram, clean_response, require_prompt
from hyperalign_dspy.signatures import AskerAttributes, DeliberateAnswer, DeliberateWithSpec, InferAskerHypotheses


def load_spec(path: str | Path | None = None) -> str:
    """The safety specification: a Markdown file of rules with ids (default: the packaged one)."""
    if path is None:
        return resources.files("hyperalign_dspy").joinpath("specs/safety.md").read_text(encoding="utf-8")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HyperAlignError(f"spec {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HyperAlignError(f"spec {path}: cannot be read as UTF-8 text: {exc}") from None
    if not text.strip():
        raise HyperAlignError(f"spec {path}: the file is empty")
    return text


class AskerProfile(UserProfile):
    attributes: AskerAttributes


class DeliberativeHyPerAlign(HypothesesProgram):
    """Stage 1 reads the person's prompts (earlier ones, if given, and this one); stage 2
    deliberates over the specification and the hypotheses, decides and answers."""

    infer_signature = InferAskerHypotheses
    generate_signature = DeliberateAnswer
    profile_type = AskerProfile

    def __init__(self, spec: str | None = None, infer_text_tokens: int = 3000):
        super().__init__(infer_text_tokens=infer_text_tokens)
        self.spec = spec if spec is not None else load_spec()

    def infer_inputs(self, user_texts, fitted_texts) -> dict:
        return {"prompts": fitted_texts}

    def generate_inputs(self, prompt: str, profile: UserProfile) -> dict:
        return {"safety_spec": self.spec, **super().generate_inputs(prompt, profile)}

    def forward(self, prompt: str, profile: AskerProfile | None = None, examples=None) -> dspy.Prediction:
        """`examples`: the person's earlier prompts, if any; stage 1 reads them with this prompt."""
        require_prompt(prompt)
        if profile is None:
            profile = self.infer_profile([*(examples or []), prompt])
        answer = self.generate_from(prompt, profile)
        return dspy.Prediction(response=clean_response(answer.response), decision=answer.decision, cited_rule=answer.cited_rule,
                               deliberation=answer.deliberation, profile=profile)


class SpecOnly(dspy.Module):
    """Deliberation over the specification, without hypotheses about the asker."""

    def __init__(self, spec: str | None = None):
        super().__init__()
        self.spec = spec if spec is not None else load_spec()
        self.generate = dspy.Predict(DeliberateWithSpec, temperature=GENERATION_TEMPERATURE)

    def forward(self, prompt: str, examples=None, profile=None) -> dspy.Prediction:
        require_prompt(prompt)
        answer = self.generate(safety_spec=self.spec, prompt=prompt)
        return dspy.Prediction(response=clean_response(answer.response), decision=answer.decision, cited_rule=answer.cited_rule,
                               deliberation=answer.deliberation)
