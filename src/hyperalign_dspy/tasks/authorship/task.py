"""The authorship task in the registry: write as this person."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field, model_validator

from hyperalign_dspy.core.baselines import ZeroShot
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation.suite import EvalSuite, SystemVariant
from hyperalign_dspy.tasks.authorship.baselines import FewShotInContext
from hyperalign_dspy.tasks.authorship.evaluation.evaluation import AuthorshipEvaluation
from hyperalign_dspy.tasks.authorship.checks.output_fit import fit_summary
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.program import HyPerAlign
from hyperalign_dspy.tasks.authorship.settings import AuthorshipSettings
from hyperalign_dspy.tasks.base import Task


class AuthorshipVariant(SystemVariant):
    program: AuthorshipSettings | None = None


class AuthorshipSuite(EvalSuite):
    program: AuthorshipSettings = Field(AuthorshipSettings(), description="the program's knobs, over the task's defaults")
    variants: dict[str, AuthorshipVariant] = Field(default_factory=dict,
                                                   description="systems with LMs of their own, by name")

    @model_validator(mode="after")
    def _one_data_file(self) -> "AuthorshipSuite":
        if len(self.data) != 1:
            raise ValueError("an authorship suite has one data file of authors")
        return self


class AuthorshipTask(Task):
    name = "authorship"
    description = "write as the user (default)"
    systems = {"hyperalign": HyPerAlign, "zero-shot": ZeroShot, "few-shot": FewShotInContext}
    default_compile_baseline = "few-shot"
    suite_type = AuthorshipSuite
    evaluation_type = AuthorshipEvaluation
    personalize_options = frozenset({"profile", "program"})

    def personalize(self, program, prompts, texts, profile_path, progress: Callable[[str], None]) -> dict:
        """One profile, from a saved one or inferred once from the texts, answers every prompt."""
        if profile_path:
            profile = UserProfile.load(profile_path)
        elif texts:
            progress(f"inferring hypotheses from {len(texts)} texts")
            profile = program.infer_profile(texts)
        else:
            raise HyperAlignError("give --examples (the user's texts) or --profile")
        responses = []
        for number, prompt in enumerate(prompts, start=1):
            progress(f"writing response {number}/{len(prompts)}")
            answer = program(profile=profile, prompt=prompt)
            fit = getattr(answer, "fit", None)  # a compiled program of another kind may not say
            responses.append({"prompt": prompt, "response": answer.response, **({"fit": fit.as_json()} if fit else {})})
        return {**profile.model_dump(include={"hypotheses", "attributes", "checks"}), "responses": responses}

    def personalized_text(self, result: dict) -> str:
        profile = UserProfile(**result, source_ids=[])
        answers = "".join(f"\n\nPrompt: {item['prompt']}\n\n{item['response']}"
                          + (f"\n\n({fit_summary(item['fit'])})" if "fit" in item else "") for item in result["responses"])
        return profile.as_text() + answers


AUTHORSHIP = AuthorshipTask()
