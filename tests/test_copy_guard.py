"""Verbatim runs, and the program's resampling of responses that copy the hypotheses."""

import dspy
import pytest
from dspy.utils import DummyLM

from hyperalign_dspy import HyPerAlign, UserAttributes, UserProfile
from hyperalign_dspy.copy_guard import shares_run
from hyperalign_dspy.program import ECHO_WORDS, GENERATION_ATTEMPTS

NOTE = "The author quotes a named analyst in the second paragraph of nearly every article"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("As always, the author quotes a named analyst in the second paragraph here.", True),
        ("THE AUTHOR QUOTES A NAMED ANALYST IN THE SECOND PARAGRAPH", True),
        ("The author quotes a named analyst in his third paragraph.", False),  # 7 shared words only
        ("Shares rose 5 percent on Monday, an analyst said.", False),
        ("", False),
    ],
)
def test_shares_run_counts_consecutive_words(text, expected):
    assert shares_run(text, [NOTE], 8) is expected


def test_shares_run_without_sources_is_false():
    assert shares_run("any text at all with many words in it here", [], 3) is False


@pytest.fixture
def profile(attributes):
    return UserProfile(hypotheses=[NOTE], attributes=UserAttributes(**attributes), source_ids=["a"])


def test_a_response_that_copies_the_hypotheses_is_sampled_again(profile):
    echo = f"{NOTE}. And so on."
    lm = DummyLM([{"response": echo}, {"response": "Shares rose, an analyst said."}], adapter=dspy.JSONAdapter())
    with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        out = HyPerAlign()(profile=profile, prompt="Write about shares.")
    assert out.response == "Shares rose, an analyst said."
    assert len(lm.history) == 2
    assert lm.history[1]["kwargs"].get("rollout_id") == 1


def test_resampling_stops_after_the_last_attempt(profile):
    echoes = [{"response": f"Attempt {n}: {NOTE}."} for n in range(GENERATION_ATTEMPTS)]
    lm = DummyLM(echoes, adapter=dspy.JSONAdapter())
    with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        out = HyPerAlign()(profile=profile, prompt="Write about shares.")
    assert len(lm.history) == GENERATION_ATTEMPTS
    assert out.response.startswith(f"Attempt {GENERATION_ATTEMPTS - 1}:")
    assert ECHO_WORDS <= len(NOTE.split())
