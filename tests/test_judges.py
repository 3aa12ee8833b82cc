"""The pairwise judges on scripted LMs: the likelihood judge's gains, margin and cache; the verdict
judge's parsing, retries and failure; the verdict read from log-probabilities, position bias and all."""

from __future__ import annotations

import dspy
import pytest
from dspy.utils import DummyLM

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.judges.likelihood import LikelihoodJudge
from hyperalign_dspy.judges.likelihood_verdict import VerdictLikelihoodJudge
from hyperalign_dspy.judges.pairwise import JudgeCase, judge_both_orders
from hyperalign_dspy.judges.retries import JUDGE_ATTEMPTS
from hyperalign_dspy.tasks.authorship.evaluation.judging import AuthorshipVerdictJudge as VerdictJudge
from hyperalign_dspy.tasks.deliberative.signatures import JudgeHelpfulness

USER = ["The minister said on Monday that talks would resume.", "Officials said the deal was close."]
NEUTRAL = ["I love baking bread on rainy weekends!", "My garden is full of tomatoes this year."]
CASE = JudgeCase(samples=USER, neutral_samples=NEUTRAL, prompt="Write about: Talks resumed on Monday in the capital.")


class WordOverlapEngine:
    """Scores each word of the continuation -1 if the context contains it, else -3."""

    def __init__(self):
        self.calls = []

    def complete(self, request):
        raise AssertionError("the likelihood judge never asks for a completion")

    def continuation_logprobs(self, context, continuation):
        self.calls.append((context, continuation))
        seen = set(context.lower().split())
        return [-1.0 if word in seen else -3.0 for word in continuation.lower().split()]


@pytest.fixture
def engine_lm(fresh_dspy_cache):
    lm = dspy.LM("hyperalign/fake-scorer", engine=WordOverlapEngine())
    return lm


def test_the_candidate_closer_to_the_user_has_the_higher_gain(engine_lm):
    judge = LikelihoodJudge(engine_lm, margin=0.1)
    user_like = "officials said the minister would resume talks"
    neutral_like = "my garden bread is full this weekend"
    gains = judge.style_gains(CASE, [user_like, neutral_like])
    assert gains[0] > 0 > gains[1]
    assert judge.decide(CASE, user_like, neutral_like).verdict == "A"
    assert judge.decide(CASE, neutral_like, user_like).verdict == "B"
    assert judge_both_orders(judge, CASE, user_like, neutral_like).outcome == "win"


def test_a_difference_within_the_margin_is_a_tie(engine_lm):
    a = "officials said talks would resume"
    b = "officials said talks would resume soon"  # one unseen word lowers both means alike
    gain_a, gain_b = LikelihoodJudge(engine_lm).style_gains(CASE, [a, b])
    difference = abs(gain_a - gain_b)
    assert 0 < difference
    assert LikelihoodJudge(engine_lm, margin=difference + 0.01).decide(CASE, a, b).verdict == "tie"
    assert LikelihoodJudge(engine_lm, margin=difference - 0.01).decide(CASE, a, b).verdict != "tie"


def test_scores_are_cached_and_contexts_are_scored_in_turn(engine_lm):
    judge = LikelihoodJudge(engine_lm)
    candidates = ["officials said", "my garden", "talks resume"]
    judge.style_gains(CASE, candidates)
    calls = engine_lm.engine.calls
    assert len(calls) == 6 and judge.calls == 6
    # All candidates after the user's texts first, then all after the neutral texts.
    assert [("minister" in context) for context, _ in calls] == [True] * 3 + [False] * 3
    judge.decide(CASE, "officials said", "my garden")
    judge_both_orders(judge, CASE, "talks resume", "officials said")
    assert len(engine_lm.engine.calls) == 6 and judge.calls == 6


def test_the_prompts_given_text_is_not_scored(engine_lm):
    judge = LikelihoodJudge(engine_lm)
    judge.style_gains(CASE, ["Talks resumed on Monday in the capital. The minister said so."])
    assert {continuation for _, continuation in engine_lm.engine.calls} == {". The minister said so."}
    with pytest.raises(HyperAlignError, match="empty once the prompt's given text is removed"):
        judge.style_gains(CASE, ["Talks resumed on Monday in the capital."])


def test_candidates_are_cut_to_the_token_budget(engine_lm):
    judge = LikelihoodJudge(engine_lm, candidate_tokens=4)  # 14 characters
    judge.style_gains(CASE, ["officials said the talks would resume next week"])
    assert {continuation for _, continuation in engine_lm.engine.calls} == {"officials"}


def test_an_lm_without_log_probabilities_cannot_be_this_judge(fresh_dspy_cache):
    judge = LikelihoodJudge(dspy.LM("anthropic/claude-3-haiku"))
    with pytest.raises(HyperAlignError, match="cannot serve as the likelihood judge.*--judge-kind verdict"):
        judge.decide(CASE, "a b", "c d")
    with pytest.raises(HyperAlignError, match="needs neutral samples"):
        judge.decide(JudgeCase(samples=USER), "a b", "c d")


def verdict_answer(verdict: str) -> dict:
    return {"reason": f"it is {verdict}", "verdict": verdict}


def test_verdict_judge_reads_the_verdict_and_reason():
    lm = DummyLM([verdict_answer("B")])
    with dspy.context(lm=lm):
        decision = VerdictJudge().decide(JudgeCase(samples=USER, reference="The real text."), "first", "second")
    assert (decision.verdict, decision.reason) == ("B", "it is B")
    prompt = lm.history[-1]["messages"][-1]["content"]
    assert "first" in prompt and "second" in prompt and "The real text." in prompt and "talks would resume" in prompt


def test_verdict_judge_retries_then_fails():
    lm = DummyLM([{"reason": "unsure", "verdict": "maybe"}] * JUDGE_ATTEMPTS)
    with dspy.context(lm=lm):
        judgment = judge_both_orders(VerdictJudge(), JudgeCase(samples=USER), "s", "b")
    assert judgment.outcome == "failure" and f"failed {JUDGE_ATTEMPTS} times" in judgment.error
    # DSPy's ChatAdapter falls back to JSON once per attempt: each attempt asks the LM twice.
    assert len(lm.history) == 2 * JUDGE_ATTEMPTS


def test_verdict_judge_recovers_on_a_later_attempt():
    lm = DummyLM([{"reason": "unsure", "verdict": "maybe"}] * 2 + [verdict_answer("A")])
    with dspy.context(lm=lm):
        decision = VerdictJudge().decide(JudgeCase(samples=USER), "s", "b")
    assert decision.verdict == "A"


class PositionBiasedEngine:
    """A judge LM that would always write "B": log p("B") is -0.5 whatever it reads, and log p("A")
    is -2.0, plus 0.4 when response A answers and response B refuses (minus 0.4 the other way)."""

    def __init__(self):
        self.calls = 0

    def complete(self, request):
        raise AssertionError("a likelihood verdict is read, never written")

    def chat_continuation_logprobs(self, messages, continuation):
        self.calls += 1
        user = messages[-1]["content"]
        field = lambda name: user.split(f"[[ ## {name} ## ]]\n", 1)[1].split("\n\n", 1)[0]
        answers = lambda text: 0 if "can't" in text else 1
        signal = 0.4 * (answers(field("response_a")) - answers(field("response_b")))
        header = -0.1  # the answer's field header, the same for both letters
        return [header, -2.0 + signal] if continuation.endswith("A") else [header, -0.5]


ANSWER, REFUSAL = "Use `kill -9 <pid>` to end the process.", "Sorry, I can't help with that."


@pytest.fixture
def biased_lm(fresh_dspy_cache):
    return dspy.LM("hyperalign/fake-biased", engine=PositionBiasedEngine())


def test_position_bias_cancels_when_both_orders_are_scored(biased_lm):
    judge = VerdictLikelihoodJudge(biased_lm, JudgeHelpfulness, margin=0.1)
    case = JudgeCase(samples=[], prompt="How do I kill a Python process?")
    assert judge.log_odds(case, ANSWER, REFUSAL) < 0  # read alone, each order prefers "B"
    assert judge.log_odds(case, REFUSAL, ANSWER) < 0
    first, second = judge.decide(case, ANSWER, REFUSAL), judge.decide(case, REFUSAL, ANSWER)
    assert (first.verdict, second.verdict) == ("A", "B")
    assert "+0.40" in first.reason  # the mean of -1.10 as A and +1.90 as B
    assert judge_both_orders(judge, case, ANSWER, REFUSAL).outcome == "win"
    assert judge_both_orders(judge, case, REFUSAL, ANSWER).outcome == "loss"


def test_equal_candidates_tie_and_log_odds_are_cached(biased_lm):
    judge = VerdictLikelihoodJudge(biased_lm, JudgeHelpfulness, margin=0.1)
    case = JudgeCase(samples=[], prompt="How do I kill a Python process?")
    assert judge_both_orders(judge, case, ANSWER, "Run `pkill python`.").outcome == "tie"
    assert judge.calls == 2 and biased_lm.engine.calls == 4  # two orders, two letters each
    judge_both_orders(judge, case, ANSWER, "Run `pkill python`.")
    assert judge.calls == 2 and biased_lm.engine.calls == 4


def test_an_lm_that_cannot_score_a_chat_cannot_read_verdicts(fresh_dspy_cache):
    with pytest.raises(HyperAlignError, match="--judge-kind verdict"):
        VerdictLikelihoodJudge(DummyLM([]), JudgeHelpfulness)
