"""`hyperalign eval` end to end against the loopback OpenAI-compatible server: the table, the
JSON, the MLflow run, calibration, both judge kinds, and a second run that makes no LM calls."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import mlflow
import pytest
from fake_openai import API_KEY, FakeOpenAI, field_value, judge_is_wrong
from helpers import run_eval
from word_authors import VOCABULARIES, author_row, write_suite

import hyperalign_dspy as ha
from hyperalign_dspy.cli import main


@pytest.fixture
def suite(tmp_path) -> Path:
    return write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot", "few-shot"],
                       baselines=["zero-shot", "few-shot"], seed=3)


def test_verdict_eval_reports_calibration_win_rates_and_attribution(server, suite, async_trace_logging, capsys):
    # With MLflow's background trace queue (the default outside the tests), the eval waits for the
    # traces to be stored before it logs the verdicts on them.
    report = run_eval(server.base, suite, capsys, "--experiment", "eval-test", "--threads", "4")
    assert report["judge_kind"] == "verdict"  # a remote LM defaults to the verdict judge
    # The fake judge prefers the candidate sharing more words with the samples: the real text
    # always, over an impostor whose vocabulary is another author's.
    assert report["judge_accuracy"] == 1.0 and report["judge_calibration_failures"] == 0
    assert report["judge_ci_low"] == report["judge_ci_high"] == 1.0
    comparisons = {(c["system"], c["baseline"]): c for c in report["comparisons"]}
    # The personalized answers use the words the profile names as the author's; zero-shot ones only
    # the prompt's: hyperalign wins every pair.
    zero = comparisons[("hyperalign", "zero-shot")]
    assert (zero["n"], zero["wins"], zero["ties"], zero["losses"], zero["failures"]) == (6, 6, 0, 0, 0)
    assert zero["win_rate"] == 1.0
    # The few-shot baseline repeats as many of the samples' words: a tie every pair.
    few = comparisons[("hyperalign", "few-shot")]
    assert (few["n"], few["ties"], few["win_rate"], few["ci_high"]) == (6, 6, 0.5, 0.5)
    assert zero["copies"] == few["copies"] == few["baseline_copies"] == 0
    assert report["attribution"]["reference"] == 1.0
    assert report["attribution"]["few-shot"] == 1.0
    assert report["attribution_ci"]["reference"] == [1.0, 1.0]  # 6 of 6 attributed: no resample misses
    low, high = report["attribution_ci"]["hyperalign"]
    assert low <= report["attribution"]["hyperalign"] <= high
    # Adherence: the fake writes as the profile's counted habits say, zero-shot from the prompt
    # alone; the authors' real texts keep their own habits.
    adherence = {system: figures["share"] for system, figures in report["adherence"].items()}
    assert adherence["reference"] == 1.0 and adherence["hyperalign"] > adherence["zero-shot"]
    assert report["adherence"]["hyperalign"]["ci_low"] <= adherence["hyperalign"] <= report["adherence"]["hyperalign"]["ci_high"]
    assert report["examples"] == 6 and report["system_failures"] == {"hyperalign": 0, "zero-shot": 0, "few-shot": 0}
    # 3 profiles + 3 systems x 6 answers + 6 calibrations x 2 orders + 2 comparisons x 6 x 2 orders
    assert report["lm_calls"] == len(server.requests) == 3 + 18 + 12 + 24
    assert report["prompt_tokens"] == 10 * report["lm_calls"]
    # Each answer's own calls; the program's profile (one call per author) counted apart.
    costs = {cost["system"]: cost for cost in report["costs"]}
    assert [(c["answers"], c["calls_per_answer"], c["profiles"]) for c in costs.values()] == [(6, 1.0, 3), (6, 1.0, 0), (6, 1.0, 0)]
    assert costs["hyperalign"]["calls_per_profile"] == 1.0 and costs["zero-shot"]["calls_per_profile"] is None
    assert all(cost["seconds_per_answer"] > 0 for cost in costs.values())

    run = mlflow.get_run(report["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["suite"] == "words" and run.data.params["judge_kind"] == "verdict"
    assert run.data.params["task_lm"] == "openai-compatible/test-model"
    assert run.data.metrics["judge_accuracy"] == 1.0
    assert run.data.metrics["hyperalign_vs_few-shot.win_rate"] == 0.5
    assert run.data.metrics["cost.hyperalign.calls_per_profile"] == 1.0
    # A trace per judged prompt, with its verdicts; DSPy's traces of every LM call only when asked
    # for (--traces): they cost CPU on every call.
    traces = mlflow.search_traces(locations=[run.info.experiment_id], return_type="list")
    assert len(traces) == 6 and {span.name for trace in traces for span in trace.data.spans} == {"judged prompt"}
    assert all({a.name for a in trace.info.assessments} == {"calibration", "hyperalign vs zero-shot",
                                                             "hyperalign vs few-shot"} for trace in traces)
    assert run.data.metrics["attribution.reference"] == 1.0
    assert run.data.metrics["attribution.reference.ci_low"] == 1.0
    assert run.data.metrics["adherence.hyperalign"] == adherence["hyperalign"]
    assert run.data.tags["judge_can_tell_authors_apart"] == "true"
    artifacts = {item.path for item in mlflow.artifacts.list_artifacts(run_id=run.info.run_id)}
    assert {"examples.json", "report.json", "win_rates.png"} <= artifacts
    table = json.loads(mlflow.artifacts.load_text(f"{run.info.artifact_uri}/examples.json"))
    assert len(table["data"]) == 6
    assert "calibration:outcome" in table["columns"] and "output:few-shot" in table["columns"]
    assert mlflow.get_experiment(run.info.experiment_id).name == "eval-test"


def test_copies_lose_their_pairs(server, suite, capsys):
    # With a 4-word copy threshold the few-shot answers (4 words in a row of the samples) are copies.
    suite.write_text(suite.read_text().replace("neutral_authors = 1", "neutral_authors = 1\ncopy_words = 4"))
    report = run_eval(server.base, suite, capsys, "--limit", "4")
    few = next(c for c in report["comparisons"] if c["baseline"] == "few-shot")
    assert (few["wins"], few["baseline_copies"], few["copies"], few["win_rate"]) == (4, 4, 0, 1.0)
    # Copies are decided without the judge: only the zero-shot pairs were judged.
    verdicts = [r for r in server.requests if "candidate_a" in json.dumps(r["body"])]
    assert len(verdicts) == 4 * 2 + 4 * 2  # calibration and hyperalign vs zero-shot, both orders


def test_a_second_eval_makes_no_lm_calls(server, suite, capsys):
    first = run_eval(server.base, suite, capsys, "--limit", "3")
    calls = len(server.requests)
    assert first["lm_calls"] == calls > 0
    second = run_eval(server.base, suite, capsys, "--limit", "3")
    assert len(server.requests) == calls and second["lm_calls"] == 0
    assert {cost["calls_per_answer"] for cost in second["costs"]} == {0.0}  # cached answers cost no call
    assert second["comparisons"] == first["comparisons"] and second["judge_accuracy"] == first["judge_accuracy"]


def test_likelihood_judge_on_a_server_with_prompt_logprobs(server, suite, capsys):
    report = run_eval(server.base, suite, capsys, "--judge-kind", "likelihood", "--limit", "3")
    assert report["judge_kind"] == "likelihood"
    # Words seen before are likely: the real text repeats the user's samples, the impostor does not.
    assert report["judge_accuracy"] == 1.0
    assert "/v1/completions" in server.paths()
    echoes = [r["body"] for r in server.requests if r["path"] == "/v1/completions"]
    assert all(body["echo"] and body["logprobs"] == 1 for body in echoes)
    assert {r["auth"] for r in server.requests} == {f"Bearer {API_KEY}"}


def test_likelihood_judge_refuses_a_server_without_logprobs(monkeypatch, fresh_dspy_cache, suite, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    with FakeOpenAI(logprobs=False) as fake:
        report = run_eval(fake.base, suite, capsys, "--judge-kind", "likelihood", "--limit", "2")
    # Every judgment failed and says why; none counts as a win, tie or loss.
    assert report["judge_accuracy"] is None and report["judge_calibration_failures"] == 2
    assert all(c["n"] == 0 and c["failures"] == 2 and c["win_rate"] is None for c in report["comparisons"])
    run = mlflow.get_run(report["mlflow_run_id"])
    table = json.loads(mlflow.artifacts.load_text(f"{run.info.artifact_uri}/examples.json"))
    notes = table["data"][0][table["columns"].index("calibration:note")]
    assert "returned no prompt log-probabilities" in notes and "--judge-kind verdict" in notes


def test_eval_prints_a_table_and_no_library_warning(server, suite, capsys):
    argv = ["eval", str(suite), "--lm", "openai/test-model", "--api-base", server.base, "--limit", "2"]
    with warnings.catch_warnings(record=True) as shown:
        # Python's own filters, as a user's terminal has them: deprecations are hidden there.
        warnings.resetwarnings()
        for hidden in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", hidden)
        assert main(argv) == 0
    # A warning here reaches a user's terminal (MLflow's about the prompts' dataset source did).
    assert [f"{warning.category.__name__}: {warning.message}" for warning in shown] == []
    out = capsys.readouterr().out
    assert "judge calibration: real vs impostor" in out
    assert "hyperalign vs few-shot" in out and "hyperalign vs zero-shot" in out
    assert "Stylometric attribution accuracy" in out and "MLflow run" in out


def test_a_judge_with_position_bias_is_reported_as_unable(monkeypatch, fresh_dspy_cache, suite, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    with FakeOpenAI(always="A") as fake:
        lm = ha.lm("openai/test-model", api_base=fake.base)
        report = ha.evaluate(suite, lm=lm, limit=4, experiment="bias-test")
        assert main(["eval", str(suite), "--lm", "openai/test-model", "--api-base", fake.base, "--limit", "4"]) == 0
    # "A" in both orders is a tie every time: accuracy 0.5, and the run says the judge is blind.
    assert isinstance(report, ha.EvaluationReport)
    assert (report.judge_accuracy, report.judge_ci_low, report.judge_ci_high) == (0.5, 0.5, 0.5)
    assert report.judge_can_tell_authors_apart is False
    assert all(c.ties == 4 and c.win_rate == 0.5 for c in report.comparisons)
    assert "cannot tell these authors apart" in capsys.readouterr().out
    assert mlflow.get_run(report.mlflow_run_id).data.tags["judge_can_tell_authors_apart"] == "false"


def wrong_calibration_share(fake: FakeOpenAI, real_texts: set[str], wrong_share: float) -> float:
    """The share of the calibration pairs the fake judge saw (a real text against an impostor)
    on which it preferred the impostor, from its own requests."""
    pairs = set()
    for request in fake.requests:
        user = request["body"]["messages"][-1]["content"]
        a, b = field_value(user, "candidate_a"), field_value(user, "candidate_b")
        if {a, b} & real_texts:
            pairs.add(frozenset((a, b)))
    return sum(judge_is_wrong(*sorted(pair), wrong_share) for pair in pairs) / len(pairs)


@pytest.mark.parametrize(("wrong_share", "tells_apart"), [(0.15, True), (0.6, False)])
def test_a_judge_wrong_some_of_the_time_is_scored_and_gated_by_its_calibration(
        wrong_share, tells_apart, monkeypatch, fresh_dspy_cache, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    suite = write_suite(tmp_path, authors=6, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=3)
    with FakeOpenAI(wrong_share=wrong_share) as fake:
        report = ha.evaluate(suite, lm=ha.lm("openai/test-model", api_base=fake.base), experiment="wrong-judge")
        assert main(["eval", str(suite), "--lm", "openai/test-model", "--api-base", fake.base]) == 0
    real_texts = {item["text"] for name in VOCABULARIES for item in author_row(name, VOCABULARIES[name])["test"]}
    wrong = wrong_calibration_share(fake, real_texts, wrong_share)
    # Wrong on some pairs, and its accuracy is exactly the share it got right.
    assert 0 < wrong < 1 and report.judge_accuracy == pytest.approx(1 - wrong)
    assert report.judge_can_tell_authors_apart is tells_apart is (report.judge_ci_low > 0.5)
    assert ("cannot tell these authors apart" in capsys.readouterr().out) is not tells_apart
    assert mlflow.get_run(report.mlflow_run_id).data.tags["judge_can_tell_authors_apart"] == str(tells_apart).lower()


def test_ctrl_c_during_eval_ends_the_run_killed(server, suite, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("hyperalign_dspy.evaluation.harness._judge_example", interrupted)
    assert main(["eval", str(suite), "--lm", "openai/test-model", "--api-base", server.base,
                 "--limit", "1", "--experiment", "eval-ctrl-c"]) == 130
    (run,) = mlflow.search_runs(experiment_names=["eval-ctrl-c"], output_format="list")
    assert run.info.status == "KILLED" and mlflow.active_run() is None


def test_the_api_key_never_reaches_the_mlflow_store(server, suite, tmp_path, capsys):
    report = run_eval(server.base, suite, capsys, "--limit", "2", "--experiment", "secrets", "--traces")
    assert {r["auth"] for r in server.requests} == {f"Bearer {API_KEY}"}  # the key was in use
    run = mlflow.get_run(report["mlflow_run_id"])
    assert mlflow.search_traces(locations=[run.info.experiment_id], return_type="list")  # traces were logged
    store = Path(os.environ["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"))
    artifacts = Path(run.info.artifact_uri.removeprefix("file://"))
    assert (artifacts / "report.json").is_file()
    written = [store, *(path for folder in (tmp_path, artifacts) for path in folder.rglob("*") if path.is_file())]
    for path in written:
        assert API_KEY.encode() not in path.read_bytes(), path
