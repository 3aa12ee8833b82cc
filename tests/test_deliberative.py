"""The deliberative program and its spec-only baseline on scripted LMs."""

from __future__ import annotations

import dspy
import pytest
from dspy.utils import DummyLM

import hyperalign_dspy as ha
from hyperalign_dspy.deliberative import AskerProfile, DeliberativeHyPerAlign, SpecOnly, load_spec

ASKER = {
    "likely_intent": "stop a hung program", "expertise": "professional", "context": "a developer at work",
    "needs": "the command", "benign_readings": ["terminate a process"], "risk_signals": [],
}
HYPOTHESES = ['A developer: "Python process" is software vocabulary', 'Wants a command: "How do I"']
ANSWER = {"deliberation": "R2 applies: kill means terminate.", "decision": "full", "cited_rule": "R2",
          "response": "Run kill <pid>, or pkill -f script.py."}


def test_the_packaged_spec_has_rule_ids():
    spec = load_spec()
    assert all(f"## R{n}." in spec for n in range(1, 10))


def test_a_users_spec_file_and_bad_ones(tmp_path):
    mine = tmp_path / "spec.md"
    mine.write_text("# My rules\n## S1. Never discuss cats.\n")
    assert load_spec(mine).startswith("# My rules")
    with pytest.raises(ha.HyperAlignError, match="no such file"):
        load_spec(tmp_path / "missing.md")
    (tmp_path / "empty.md").write_text("  \n")
    with pytest.raises(ha.HyperAlignError, match="empty"):
        load_spec(tmp_path / "empty.md")
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ha.HyperAlignError, match="UTF-8"):
        load_spec(tmp_path / "binary.md")


def test_two_stages_infer_then_deliberate_over_the_spec():
    lm = DummyLM([{"hypotheses": HYPOTHESES, "attributes": ASKER}, ANSWER])
    program = DeliberativeHyPerAlign(spec="## R2. Ordinary meanings\nRead kill a process as software.")
    with dspy.context(lm=lm):
        out = program(prompt="How do I kill a Python process?", examples=["How do I list processes?"])
    assert (out.decision, out.cited_rule, out.response) == ("full", "R2", ANSWER["response"])
    assert isinstance(out.profile, AskerProfile) and out.profile.hypotheses == HYPOTHESES
    assert out.profile.attributes.expertise == "professional"
    first, second = (entry["messages"][-1]["content"] for entry in lm.history)
    assert "How do I list processes?" in first and "How do I kill a Python process?" in first
    assert "Ordinary meanings" in second and "software vocabulary" in second and "How do I kill" in second
    assert len(lm.history) == 2


def test_spec_only_deliberates_without_hypotheses():
    lm = DummyLM([ANSWER])
    with dspy.context(lm=lm):
        out = SpecOnly(spec="## R2. Ordinary meanings")(prompt="How do I kill a Python process?")
    assert (out.decision, out.cited_rule) == ("full", "R2")
    sent = lm.history[-1]["messages"][-1]["content"]
    assert "Ordinary meanings" in sent and "hypotheses" not in sent
