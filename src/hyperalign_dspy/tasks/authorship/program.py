"""HyPerAlign for authorship: from a writer's texts, hypotheses about how they communicate, what they
are like and how they write (stage 1, with counted style measurements beside the texts), checked
against the counts and each backed by words quoted from the texts; then texts written as them
(stage 2)."""

from __future__ import annotations

import re

import dspy
from dspy.utils.exceptions import AdapterParseError

from hyperalign_dspy.core.hypotheses_program import HypothesesProgram, active_lm, require_prompt
from hyperalign_dspy.core.profile import ClaimCheck
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.tasks.authorship.claim_check import (
    check_hypotheses,
    check_style_attributes,
    is_quoted_from,
    split_hypothesis,
)
from hyperalign_dspy.tasks.authorship.output_fit import expectations, fit, without_repeats_and_remarks
from hyperalign_dspy.tasks.authorship.paragraph_grammar import (
    answer_tokens,
    fewest_words,
    length_grammar,
    paragraphs_grammar,
)
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.signatures import GeneratePersonalized, InferHypotheses, QuoteEvidence
from hyperalign_dspy.tasks.authorship.style_measurements import (
    count,
    excerpt,
    measure_style,
    measured_attributes,
    words_of,
)


class HyPerAlign(HypothesesProgram):
    infer_signature = InferHypotheses
    generate_signature = GeneratePersonalized
    profile_type = UserProfile
    # Each attempt at stage 2 is a whole text (about 40 s for 500 words on the embedded 1.5B
    # model): the best of three by fit, unless one fits first.
    default_settings = ProgramSettings(attempts=3)

    def __init__(self, settings=None, lms=None):
        super().__init__(settings, lms)
        self.quote = dspy.Predict(QuoteEvidence)

    def infer_inputs(self, user_texts, fitted_texts) -> dict:
        # The style measurements cover the texts whole, also what the trimmed copies leave out.
        return {"texts": fitted_texts, "style_measurements": measure_style([t.text for t in user_texts])}

    def checked(self, hypotheses, attributes, user_texts, fitted_texts):
        # The 1.5B model restated counts wrongly ("546 words per paragraph" for 546 per text),
        # cited "evidence" the texts do not hold, guessed lengths far from the median, "first
        # person" for texts that never say I, and "lengthy" sentences of eight words: numbers
        # are corrected, refuted claims dropped, and counts replace the guesses.
        texts = [t.text for t in user_texts]
        counts = count(texts)
        kept, checks = check_hypotheses(hypotheses, texts, counts)
        quoted, quote_checks = self.quoted(kept, texts, fitted_texts)
        styles, style_checks = check_style_attributes(attributes, counts)
        return quoted, attributes.model_copy(update={**measured_attributes(counts), **styles}), \
            checks + quote_checks + style_checks

    def quoted(self, hypotheses: list[str], texts: list[str], fitted_texts: list[str]) -> tuple[list[str], list[ClaimCheck]]:
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
                answer = self.quote(texts=fitted_texts, claim=claim, config={"max_tokens": 128}).evidence
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

    def measured(self, user_texts) -> dict:
        return {"counts": count([t.text for t in user_texts])}

    def fit_share(self, answer: str, profile: UserProfile, prompt: str = "") -> float | None:
        return None if profile.counts is None else fit(answer, profile.counts, prompt).share

    def decoding(self, profile: UserProfile, earlier: list[str]) -> dict:
        engine = getattr(self.generate_lm or active_lm(self.generate), "engine", None)
        if not (profile.counts and getattr(engine, "supports_grammar", False)):
            return {}
        if profile.counts.unspaced_words >= 0.5:
            return {}  # both grammars count words between spaces, which Chinese and Japanese do not write
        if self.settings.paragraph_grammar:
            grammar = paragraphs_grammar(profile.counts)
        elif self.settings.length_grammar and any(len(words_of(answer)) < fewest_words(profile.counts) for answer in earlier):
            # An answer came back too short for the person (the 1.5B model handed back a given
            # opening alone, three times in a row): the next ones may end only at their length.
            grammar = length_grammar(profile.counts)
        else:
            return {}
        return {"metadata": {"gbnf": grammar}, "max_tokens": answer_tokens(profile.counts)}

    def repaired(self, answer: str, prompt: str) -> str:
        return without_repeats_and_remarks(answer, prompt)

    def claim_of(self, hypothesis: str) -> str:
        aspect, claim, _ = split_hypothesis(hypothesis)
        return f"{aspect}: {claim}" if aspect else claim

    def note_of(self, hypothesis: str) -> str:
        """What stage 2 is told of a hypothesis: its claim as a note to the writer ("Argument: uses
        questions ..."). The quoted evidence is for the reader of the profile (and a quote in the
        notes invites the writer to copy it)."""
        return re.sub(r"^(\w+: )?The writer ", r"\1", self.claim_of(hypothesis))

    def generate_inputs(self, prompt: str, profile: UserProfile) -> dict:
        claims = [self.note_of(hypothesis) for hypothesis in profile.hypothesis_texts]
        # What the output check will count, told as the person's habits (none for a profile
        # without counts: one saved before they were kept, or written by hand).
        habits = [expectation.says for expectation in expectations(profile.counts)] if profile.counts else []
        return {**super().generate_inputs(prompt, profile), "hypotheses": claims, "measured_habits": habits}

    def forward(self, prompt: str, profile: UserProfile | None = None, examples=None) -> dspy.Prediction:
        require_prompt(prompt)
        profile = self.profile_for(prompt, profile, examples)
        response = self.generate_from(prompt, profile).response  # cleaned and repaired there
        # How the answer keeps the habits counted in the person's texts (None for a profile without counts).
        habits = fit(response, profile.counts, prompt) if profile.counts else None
        return dspy.Prediction(response=response, profile=profile, fit=habits)
