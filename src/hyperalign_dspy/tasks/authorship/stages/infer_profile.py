"""Stage 1 of authorship: a profile of the person from their texts. The texts are counted, the LM
states a hypothesis per aspect from the texts and the counts, and each hypothesis is checked
against the counts and must quote its evidence from the texts."""

from __future__ import annotations

import dspy
from dspy.utils.exceptions import AdapterParseError

from hyperalign_dspy.core.hypotheses import distinct
from hyperalign_dspy.core.profile import ClaimCheck
from hyperalign_dspy.core.profile_cache import ProfileCache
from hyperalign_dspy.core.stage_lm import active_lm, structured_output_adapter, texts_that_fit
from hyperalign_dspy.core.user_texts import as_user_texts
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.tasks.authorship.checks.claims import (
    check_hypotheses,
    check_listed_attributes,
    check_style_attributes,
    is_quoted_from,
    split_hypothesis,
)
from hyperalign_dspy.tasks.authorship.counting.instances import excerpt
from hyperalign_dspy.tasks.authorship.counting.measurements import measure_style
from hyperalign_dspy.tasks.authorship.counting.text_counts import count, measured_attributes
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.settings import AuthorshipSettings
from hyperalign_dspy.tasks.authorship.signatures import InferHypotheses, QuoteEvidence


def claim_of(hypothesis: str) -> str:
    """What a hypothesis claims, without the evidence it quotes ("Reader: The writer asks ..."):
    two hypotheses that quote the same words for different claims are not restatements."""
    aspect, claim, _ = split_hypothesis(hypothesis)
    return f"{aspect}: {claim}" if aspect else claim


class InferProfile(dspy.Module):
    """`InferProfile(settings, lm)(texts) -> Prediction(profile)`. `texts`: strings, `UserText`s or dicts;
    `lm`: stage 1's own LM (else DSPy's configured one). A profile is inferred once per texts, LM
    and predictor state: N prompts for one person cost one stage-1 call."""

    def __init__(self, settings: AuthorshipSettings, lm: dspy.LM | None = None):
        super().__init__()
        self.settings, self.own_lm = settings, lm
        self.infer = dspy.Predict(InferHypotheses)
        self.quote = dspy.Predict(QuoteEvidence)
        self.profiles = ProfileCache()

    def forward(self, texts) -> dspy.Prediction:
        user_texts = as_user_texts(texts)
        lm = self.own_lm or active_lm(self.infer)
        fitted, max_tokens = texts_that_fit(self.infer, lm, user_texts, self.settings)
        return dspy.Prediction(profile=self.profiles.get(ProfileCache.key(fitted, lm, self),
                                                         lambda: self.infer_from(user_texts, fitted, lm, max_tokens)))

    def infer_from(self, user_texts, fitted: list[str], lm: dspy.LM, max_tokens: int) -> UserProfile:
        """The profile of `user_texts`, which the LM reads as `fitted` (trimmed to its context)."""
        texts = [user_text.text for user_text in user_texts]
        counts = count(texts)  # of the texts whole, also what the trimmed copies leave out
        with dspy.context(lm=lm, adapter=structured_output_adapter(lm)):
            stated = self.infer(texts=fitted, style_measurements=measure_style(texts, counts),
                                config={"max_tokens": max_tokens})
            hypotheses = distinct(stated.hypotheses, self.settings.same_hypothesis, claim_of)
            if not hypotheses:
                raise HyperAlignError("the LM inferred no hypotheses from the texts")
            borne_out, claim_checks = check_hypotheses(hypotheses, texts, counts)
            quoted, quote_checks = self.with_evidence(borne_out, texts, fitted)
        styles, style_checks = check_style_attributes(stated.attributes, counts)
        listed, listed_checks = check_listed_attributes(stated.attributes, texts)
        checks = claim_checks + quote_checks + style_checks + listed_checks
        if not quoted:
            dropped = next(check for check in checks if check.outcome == "dropped")
            raise HyperAlignError(f"none of the LM's hypotheses is borne out by the texts ({len(hypotheses)} stated; "
                                  f"the first dropped because {dropped.reason})")
        return UserProfile(
            hypotheses=quoted,
            attributes=stated.attributes.model_copy(update={**measured_attributes(counts), **styles, **listed}),
            source_ids=[user_text.id for user_text in user_texts],
            checks=checks,
            counts=counts,
        )

    def with_evidence(self, hypotheses: list[str], texts: list[str],
                      fitted: list[str]) -> tuple[list[str], list[ClaimCheck]]:
        """Every hypothesis with evidence from the texts: one without is dropped, or, with the
        `quote_again` setting, asked for it once more (`QuoteEvidence`) and dropped when the answer
        is not in the texts either."""
        kept, checks = [], []
        for hypothesis in hypotheses:
            _, claim, quote = split_hypothesis(hypothesis)
            if quote is not None:
                kept.append(hypothesis)
                continue
            if not self.settings.quote_again:
                checks.append(ClaimCheck(hypothesis=hypothesis, outcome="dropped", reason="no evidence quoted from the texts"))
                continue
            try:
                answer = self.quote(texts=fitted, claim=claim, config={"max_tokens": 128}).evidence
            except AdapterParseError:
                answer = ""
            quote = excerpt(answer, words=12) if answer.strip() else ""
            if quote and is_quoted_from(quote, texts):
                kept.append(f"{hypothesis} (evidence: '{quote}')")
                checks.append(ClaimCheck(hypothesis=hypothesis, outcome="corrected",
                                         reason="evidence quoted from the texts when asked again"))
            else:
                checks.append(ClaimCheck(hypothesis=hypothesis, outcome="dropped",
                                         reason=f"asked again for evidence, the LM quoted no words of the texts ('{quote}')"))
        return kept, checks
