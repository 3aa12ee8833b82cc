"""Both-order judging, failures kept apart from outcomes, and the bootstrap CI."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign_dspy.judges.pairwise import Decision, JudgeCase, PairJudgment, WinRate, bootstrap_ci, judge_both_orders

CASE = JudgeCase(samples=["sample"], prompt="prompt")


class ScriptedJudge:
    """Answers a fixed verdict per call, in order; an Exception instance is raised."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[tuple[str, str]] = []

    def decide(self, case, candidate_a, candidate_b):
        self.calls.append((candidate_a, candidate_b))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Decision(answer, f"said {answer}")


class PrefersText:
    """A judge without position bias: prefers the candidate equal to `text`."""

    def __init__(self, text):
        self.text = text

    def decide(self, case, candidate_a, candidate_b):
        return Decision("A" if candidate_a == self.text else "B" if candidate_b == self.text else "tie")


@pytest.mark.parametrize(
    ("first", "second", "outcome"),
    [
        ("A", "B", "win"),   # system preferred as A and as B
        ("B", "A", "loss"),
        ("A", "A", "tie"),   # always the first position: position bias, not a preference
        ("B", "B", "tie"),
        ("tie", "B", "tie"),
        ("A", "tie", "tie"),
        ("tie", "tie", "tie"),
    ],
)
def test_both_orders_must_agree(first, second, outcome):
    judge = ScriptedJudge(first, second)
    judgment = judge_both_orders(judge, CASE, "system text", "baseline text")
    assert judgment.outcome == outcome
    assert judge.calls == [("system text", "baseline text"), ("baseline text", "system text")]
    assert [decision.verdict for decision in judgment.decisions] == [first, second]


def test_an_unbiased_judge_gives_wins_and_losses():
    assert judge_both_orders(PrefersText("mine"), CASE, "mine", "theirs").outcome == "win"
    assert judge_both_orders(PrefersText("theirs"), CASE, "mine", "theirs").outcome == "loss"


@pytest.mark.parametrize("failing_call", [0, 1])
def test_a_failed_judge_call_is_a_failure_never_a_score(failing_call):
    answers = ["A", "B"]
    answers[failing_call] = TimeoutError("judge timed out")
    judgment = judge_both_orders(ScriptedJudge(*answers), CASE, "s", "b")
    assert judgment.outcome == "failure"
    assert "TimeoutError: judge timed out" in judgment.error
    rate = WinRate.of("s", "b", [judgment, PairJudgment("win"), PairJudgment("loss")], seed=0)
    assert (rate.n, rate.wins, rate.losses, rate.ties, rate.failures, rate.win_rate) == (2, 1, 1, 0, 1, 0.5)


def test_only_failures_leave_no_win_rate():
    rate = WinRate.of("s", "b", [PairJudgment("failure", error="x")] * 3, seed=0)
    assert (rate.n, rate.failures, rate.win_rate, rate.ci_low, rate.ci_high) == (0, 3, None, None, None)


@pytest.mark.parametrize(
    ("copy_system", "copy_baseline", "outcome"),
    [("copied", None, "loss"), (None, "copied", "win"), ("copied", "copied", "tie")],
)
def test_copies_lose_without_a_judge_call(copy_system, copy_baseline, outcome):
    judge = ScriptedJudge()
    judgment = judge_both_orders(judge, CASE, "s", "b", copy_system=copy_system, copy_baseline=copy_baseline)
    assert judgment.outcome == outcome and judge.calls == []
    rate = WinRate.of("s", "b", [judgment], seed=0)
    assert (rate.copies, rate.baseline_copies) == (int(bool(copy_system)), int(bool(copy_baseline)))


def test_win_rate_counts_ties_as_half():
    judgments = [PairJudgment(o) for o in ["win", "win", "tie", "loss", "tie", "win"]]
    rate = WinRate.of("s", "b", judgments, seed=0)
    assert (rate.wins, rate.ties, rate.losses) == (3, 2, 1)
    assert rate.win_rate == pytest.approx((3 + 0.5 * 2) / 6)
    assert rate.ci_low <= rate.win_rate <= rate.ci_high


def test_bootstrap_ci_is_seeded_and_shrinks_with_more_examples():
    rng = np.random.default_rng(1)
    small = rng.choice([0.0, 0.5, 1.0], size=10)
    assert bootstrap_ci(small, seed=7) == bootstrap_ci(small, seed=7)
    large = np.tile(small, 20)  # same mean, 20 times the examples
    low_small, high_small = bootstrap_ci(small, seed=7)
    low_large, high_large = bootstrap_ci(large, seed=7)
    assert low_small < low_large <= small.mean() <= high_large < high_small
    # The percentile interval of a 0/1 sample with p = 0.5 and n = 400 is close to ±1.96·0.025.
    coin = np.array([0.0, 1.0] * 200)
    low, high = bootstrap_ci(coin, seed=0)
    assert low == pytest.approx(0.5 - 0.049, abs=0.01) and high == pytest.approx(0.5 + 0.049, abs=0.01)


def test_bootstrap_ci_of_constant_scores_is_a_point():
    assert bootstrap_ci([1.0] * 8, seed=0) == (1.0, 1.0)
    assert bootstrap_ci([], seed=0) == (None, None)
