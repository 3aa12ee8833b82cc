"""LM faults from a loopback OpenAI-compatible server: latency, HTTP 429 and 500, dropped
connections and unparseable answers. Transient faults are retried; persistent ones end as
failures, per example, in the JSON and in MLflow, and never as a win, tie or metric success."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from fake_openai import API_KEY, FakeOpenAI
from helpers import run_eval
from word_authors import write_suite



@pytest.fixture
def suite(tmp_path) -> Path:
    return write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=3)


def is_judge(body) -> bool:
    return "candidate_a" in json.dumps(body)


def run(fake, suite, capsys, *extra):
    return run_eval(fake.base, suite, capsys, "--limit", "3", *extra)


@pytest.mark.parametrize("fault", ["500", "429", "drop", "slow:0.2"])
def test_transient_faults_are_retried_and_leave_no_failure(fault, monkeypatch, fresh_dspy_cache, suite, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    seen: set[str] = set()

    def first_attempt_fails(number, body):
        key = json.dumps(body, sort_keys=True)
        if key in seen:
            return None
        seen.add(key)
        return fault

    with FakeOpenAI(faults=first_attempt_fails) as fake:
        report = run(fake, suite, capsys, "--threads", "4")
    assert report["judge_calibration_failures"] == 0 and report["judge_accuracy"] == 1.0
    assert all(c["failures"] == 0 and c["n"] == 3 for c in report["comparisons"])
    assert report["system_failures"] == {"hyperalign": 0, "zero-shot": 0}
    if fault != "slow:0.2":
        assert len(fake.requests) > len(seen)  # each distinct request was sent again


@pytest.mark.parametrize("fault", ["500", "429", "garbage"])
def test_a_judge_that_keeps_failing_gives_failures_not_results(fault, monkeypatch, fresh_dspy_cache, suite, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    with FakeOpenAI(faults=lambda number, body: fault if is_judge(body) else None) as fake:
        report = run(fake, suite, capsys)
    assert report["judge_accuracy"] is None and report["judge_calibration_failures"] == 3
    (comparison,) = report["comparisons"]
    assert (comparison["n"], comparison["failures"], comparison["wins"], comparison["ties"], comparison["losses"]) == (0, 3, 0, 0, 0)
    assert comparison["win_rate"] is None
    metrics = mlflow.get_run(report["mlflow_run_id"]).data.metrics
    assert metrics["judge_calibration_failures"] == 3 and metrics["hyperalign_vs_zero-shot.failures"] == 3
    assert "hyperalign_vs_zero-shot.win_rate" not in metrics


def test_a_system_whose_lm_fails_is_reported_per_example(monkeypatch, fresh_dspy_cache, suite, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)

    def zero_shot_down(number, body):
        text = json.dumps(body)
        return "500" if "[[ ## prompt ## ]]" in text and "hypotheses" not in text and "examples" not in text \
            and "candidate_a" not in text else None

    with FakeOpenAI(faults=zero_shot_down) as fake:
        report = run(fake, suite, capsys)
    assert report["system_failures"] == {"hyperalign": 0, "zero-shot": 3}
    (comparison,) = report["comparisons"]
    assert (comparison["failures"], comparison["n"], comparison["win_rate"]) == (3, 0, None)
    run_info = mlflow.get_run(report["mlflow_run_id"])
    assert run_info.data.metrics["failures.zero-shot"] == 3
    table = json.loads(mlflow.artifacts.load_text(f"{run_info.info.artifact_uri}/examples.json"))
    outputs = [row[table["columns"].index("output:zero-shot")] for row in table["data"]]
    assert all(output.startswith("FAILED: ") for output in outputs)
