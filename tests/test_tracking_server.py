"""Evaluations and compiles sent to an MLflow tracking server on PostgreSQL (`hyperalign
tracking-server`), and read back from it as a colleague would: over HTTP, and in the database."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
import sqlalchemy
from mlflow import MlflowClient


@pytest.fixture
def on_the_server(tracking_server, monkeypatch):
    uri, store = tracking_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(uri), store
    mlflow.set_tracking_uri(None)


def stored_run_ids(store: str, experiment: str) -> set[str]:
    """The runs of `experiment` as PostgreSQL holds them."""
    engine = sqlalchemy.create_engine(store)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text(
                "SELECT runs.run_uuid FROM runs JOIN experiments USING (experiment_id) WHERE experiments.name = :name"),
                {"name": experiment})
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def test_an_eval_and_a_compile_are_stored_in_postgresql_and_read_back(on_the_server, tracked_runs, tmp_path):
    client, store = on_the_server
    # `eval --limit 2`, then `compile --limit 2` of bootstrap-fewshot, on the six-author suite, to
    # the tracking server, in an experiment of their own
    evaluation_run, compile_run = tracked_runs
    experiment, report, compiled = evaluation_run.experiment, evaluation_run.result, compile_run.result
    out = compile_run.paths["out"]

    assert stored_run_ids(store, experiment) >= {report["mlflow_run_id"], compiled["mlflow_run_id"],
                                                  compiled["validation_report"]["mlflow_run_id"]}
    evaluation = client.get_run(report["mlflow_run_id"])
    assert evaluation.data.tags["kind"] == "eval" and evaluation.info.status == "FINISHED"
    win_rate = report["comparisons"][0]["win_rate"]
    assert evaluation.data.metrics["hyperalign_vs_few-shot.win_rate"] == pytest.approx(win_rate)
    stored_report = mlflow.artifacts.load_dict(f"runs:/{report['mlflow_run_id']}/report.json")
    assert stored_report["comparisons"] == report["comparisons"]

    # MLflow's GenAI views: the prompts as the run's dataset; a trace per prompt, each verdict on it.
    assert [item.dataset.name for item in evaluation.inputs.dataset_inputs] == [report["suite"]]
    traces = mlflow.search_traces(locations=[evaluation.info.experiment_id], run_id=report["mlflow_run_id"],
                                  return_type="list")
    assert len(traces) == report["examples"] == 2
    verdicts = [a for trace in traces for a in trace.info.assessments if a.name == "hyperalign vs few-shot"]
    assert len(verdicts) == 2 and {a.source.source_type for a in verdicts} == {"LLM_JUDGE"}
    comparison = report["comparisons"][0]
    assert sorted(a.feedback.value for a in verdicts) == sorted(
        ["win"] * comparison["wins"] + ["tie"] * comparison["ties"] + ["loss"] * comparison["losses"]
        + ["failure"] * comparison["failures"])
    rows = {row["prompt"]: row for row in mlflow.load_table("examples.json", run_ids=[report["mlflow_run_id"]])
            .to_dict("records")}
    for trace in traces:
        verdict = next(a for a in trace.info.assessments if a.name == "hyperalign vs few-shot")
        prompt = json.loads(trace.data.request)["prompt"]
        assert rows[prompt]["hyperalign vs few-shot:reasons"] and rows[prompt]["hyperalign vs few-shot:reasons"] in verdict.rationale

    compile_run = client.get_run(compiled["mlflow_run_id"])
    assert compile_run.data.tags["kind"] == "compile" and compile_run.info.status == "FINISHED"
    assert compile_run.data.params["recipe"] == "bootstrap-fewshot"
    validation = client.get_run(compiled["validation_report"]["mlflow_run_id"])
    assert validation.data.tags["mlflow.parentRunId"] == compiled["mlflow_run_id"]
    program = mlflow.artifacts.download_artifacts(f"runs:/{compiled['mlflow_run_id']}/program/program.json",
                                                  dst_path=str(tmp_path / "downloaded"))
    assert json.loads(Path(program).read_text()) == json.loads(out.read_text())
