"""How authorship pairs are judged, shared by evaluation and the compile metric: the judge of the
suite's kind on the judge LM (the paper's verdict judge, or the likelihood judge), what it knows
about each user, the calibration pair (the user's real text against an impostor's), the copy
guard."""

from __future__ import annotations

import dspy

from hyperalign_dspy.core.user_texts import as_user_texts, fit_to_context
from hyperalign_dspy.judges.copy_guard import copy_flag
from hyperalign_dspy.judges.likelihood import LikelihoodJudge
from hyperalign_dspy.judges.pairwise import JudgeCase, PairJudgment, judge_both_orders
from hyperalign_dspy.judges.settings import JudgeSettings, resolve_judge_kind
from hyperalign_dspy.judges.verdict import VerdictJudge
from hyperalign_dspy.lms.names import context_tokens_of
from hyperalign_dspy.tasks.authorship.signatures import JudgeAuthorship


class AuthorshipVerdictJudge(VerdictJudge):
    """The paper's judge: which candidate the author of the sample texts more likely wrote. The
    candidates and the reference are read whole; the samples get what context is left."""

    signature = JudgeAuthorship

    def __init__(self, context_tokens: int = 8192, sample_tokens: int = 2000, answer_tokens: int = 512):
        super().__init__()
        self.context_tokens = context_tokens
        self.sample_tokens = sample_tokens  # how much of the user's texts the judge reads
        self.answer_tokens = answer_tokens

    def inputs(self, case: JudgeCase, candidate_a: str, candidate_b: str) -> dict:
        reserved = self.answer_tokens + (len(candidate_a) + len(candidate_b) + len(case.reference)) // 3
        samples = fit_to_context(as_user_texts(case.samples), self.context_tokens, reserved, self.sample_tokens).texts
        return {"sample_texts": samples, "reference": case.reference, "candidate_a": candidate_a, "candidate_b": candidate_b}


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
            self.judge = AuthorshipVerdictJudge(context_tokens=context_tokens_of(self.lm), sample_tokens=settings.sample_tokens)
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
