"""MLflow's UI in headless Chromium (`evals/mlflow_ui_check.py`) on an eval and a compile logged to
the tracking server on PostgreSQL: the Evaluation runs view, a trace's assessments, the compile run."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import mlflow
import pytest
from project import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("mlflow_ui_check", PROJECT_ROOT / "evals" / "mlflow_ui_check.py")
ui = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = ui  # its dataclass looks its module up
spec.loader.exec_module(ui)

if not (shutil.which("chromium") and importlib.util.find_spec("playwright")):
    if os.environ.get("CI"):  # .ci/run installs Chromium and `make setup` Playwright: never skipped there
        raise RuntimeError("the MLflow UI test needs Debian's chromium and the playwright package")
    pytest.skip("needs Debian's chromium (apt-get install chromium) and playwright", allow_module_level=True)


def test_the_ui_shows_win_rates_verdict_reasons_and_the_servable_program(tracking_server, tracked_runs, tmp_path,
                                                                           monkeypatch):
    uri, _ = tracking_server
    # `eval --limit 2` and `compile --limit 2` of bootstrap-fewshot on the six-author suite, logged
    # to the tracking server in an experiment of their own (test_tracking_server.py reads them back)
    evaluation_run, compile_run = tracked_runs
    report = evaluation_run.result
    assert compile_run.code == 0, compile_run.err
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    try:
        runs = ui.latest_runs(evaluation_run.experiment)
        assert runs.eval_run_id == report["mlflow_run_id"] and runs.win_rate_metric == "hyperalign_vs_few-shot.win_rate"
        shots = ui.check_ui(uri, runs, tmp_path / "shots")
        assert sorted(shots) == ["mlflow-compile-run", "mlflow-evaluation-runs", "mlflow-trace-assessments"]
        assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000 for path in shots.values())

        # The check fails when the page lacks what it looks for.
        missing = ui.Runs(**{**runs.__dict__, "verdict_reason": "a reason no judge ever gave"})
        with pytest.raises(ui.UICheckFailed, match="not on the page"):
            ui.check_ui(uri, missing, tmp_path / "shots-missing", wait_ms=5_000)
    finally:
        mlflow.set_tracking_uri(None)
