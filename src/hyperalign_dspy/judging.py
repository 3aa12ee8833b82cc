"""How a suite's pairs are judged, shared by evaluation and the compile metric: the judge of the
suite's kind on the judge LM, what it knows about each user, the calibration pair, the copy guard."""

from __future__ import annotations

import dspy

from hyperalign_dspy.copy_guard import copy_flag
from hyperalign_dspy.language_models import context_tokens_of
from hyperalign_dspy.likelihood_judge import LikelihoodJudge, runs_in_process
from hyperalign_dspy.pairwise import JudgeCase, PairJudgment, judge_both_orders
from hyperalign_dspy.suite import JudgeSettings
from hyperalign_dspy.verdict_judge import VerdictJudge


def resolve_judge_kind(kind: str, judge_lm: dspy.LM) -> str:
    """`auto`: likelihood when the LM can score text (the embedded engine), else verdict."""
    if kind != "auto":
        return kind
    return "likelihood" if runs_in_process(judge_lm) else "verdict"


def _neighbours(authors: list[str], author: str, offsets) -> list[str]:
    at = authors.index(author)
    return [authors[(at + offset) % len(authors)] for offset in offsets]


class AuthorshipJudging:
    """Judges pairs of texts for the authors of `examples` (all of a suite's examples: the
    neutral and impostor texts come from them)."""

    def __init__(self, examples: list[dspy.Example], settings: JudgeSettings, judge_lm: dspy.LM,
                 judge_adapter: dspy.Adapter | None = None, kind: str | None = None):
        self.settings = settings
        self.lm = judge_lm.copy(temperature=0.0)  # pinned: optimizer or caller settings never reach it
        self.adapter = judge_adapter
        self.kind = resolve_judge_kind(kind or settings.kind, self.lm)
        if self.kind == "likelihood":
            self.judge = LikelihoodJudge(self.lm, margin=settings.margin, sample_tokens=settings.sample_tokens,
                                         candidate_tokens=settings.candidate_tokens,
                                         context_tokens=context_tokens_of(self.lm))
        else:
            self.judge = VerdictJudge(context_tokens=context_tokens_of(self.lm), sample_tokens=settings.sample_tokens)
        self.authors = sorted({example.author for example in examples})
        self.samples = {example.author: [text.text for text in example.examples] for example in examples}
        self.references: dict[str, list[str]] = {}
        for example in examples:
            self.references.setdefault(example.author, []).append(example.reference)

    @property
    def scoring_calls(self) -> int:
        """Likelihood scores computed (not from the cache); verdict calls are counted as LM calls."""
        return getattr(self.judge, "calls", 0)

    def case(self, example) -> JudgeCase:
        neutral = _neighbours(self.authors, example.author, range(1, self.settings.neutral_authors + 1))
        return JudgeCase(
            samples=self.samples[example.author],
            neutral_samples=[self.samples[author][0] for author in neutral],
            reference=example.reference if self.settings.use_reference and self.kind == "verdict" else "",
            prompt=example.prompt,
        )

    def impostor(self, example, index: int) -> str:
        """Another author's real text: the previous author's, never one of the neutral authors,
        whose texts would lower the impostor's style gain by themselves."""
        (other,) = _neighbours(self.authors, example.author, [-1])
        texts = self.references[other]
        return texts[index % len(texts)]

    def prepare(self, example, texts: list[str]) -> None:
        """Score all texts of one prompt context by context (likelihood), so each context is
        evaluated once; a failure here shows again, per pair, in the judgments."""
        if hasattr(self.judge, "style_gains"):
            with dspy.context(lm=self.lm, adapter=self.adapter):
                try:
                    self.judge.style_gains(self.case(example), texts)
                except Exception:
                    pass

    def calibrate(self, example, index: int) -> PairJudgment:
        """The user's real text against an impostor's, both orders: a win is a correct judgment.
        The real text is the candidate here, so the judge gets no reference."""
        case = self.case(example)
        case.reference = ""
        with dspy.context(lm=self.lm, adapter=self.adapter):
            return judge_both_orders(self.judge, case, example.reference, self.impostor(example, index))

    def compare(self, example, system_text: str, baseline_text: str) -> PairJudgment:
        """The system's text against the baseline's, both orders, copies losing first."""
        case = self.case(example)
        words = self.settings.copy_words
        with dspy.context(lm=self.lm, adapter=self.adapter):
            return judge_both_orders(
                self.judge, case, system_text, baseline_text,
                copy_system=copy_flag(system_text, case.samples, example.prompt, words),
                copy_baseline=copy_flag(baseline_text, case.samples, example.prompt, words),
            )
