"""A new local MLflow store survives its first use by several processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlflow import MlflowClient
from word_authors import write_suite

HYPERALIGN = Path(sys.executable).with_name("hyperalign")


def test_three_evals_started_at_once_on_a_new_store_are_all_recorded(server, tmp_path):
    suite = write_suite(tmp_path, authors=6, systems=["hyperalign", "few-shot"], baselines=["few-shot"], seed=1)
    store = tmp_path / "new" / "mlflow.db"
    environment = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store}"}
    evals = [subprocess.Popen([str(HYPERALIGN), "eval", str(suite), "--lm", "openai/test-model", "--api-base",
                               server.base, "--limit", "1", "--experiment", "together"],
                              cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    finished = [process.communicate(timeout=300) for process in evals]
    assert [process.returncode for process in evals] == [0, 0, 0], [err[-1500:] for _, err in finished]
    said = {out.rsplit("MLflow run ", 1)[1].split()[0] for out, _ in finished}
    client = MlflowClient(f"sqlite:///{store}")
    experiment = client.get_experiment_by_name("together")
    runs = client.search_runs([experiment.experiment_id])
    assert len(said) == 3 and {run.info.run_id for run in runs} == said
    assert {run.info.status for run in runs} == {"FINISHED"}
