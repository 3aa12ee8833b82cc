"""Ctrl-C leaves no partial file and a rerun reuses the cached LM answers; a canary API key in the
environment reaches no file, trace, log or message that hyperalign writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from fake_openai import API_KEY, FakeOpenAI
from project import PROJECT_ROOT
from word_authors import write_suite

from hyperalign_dspy.cli import main

CANARY = "sk-canary-7f3a9c1e5b2d4068"


@pytest.fixture
def suite(tmp_path) -> Path:
    return write_suite(tmp_path / "suite", authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=3)


def test_a_rerun_after_ctrl_c_reuses_the_cached_answers(server, suite, monkeypatch, capsys):
    argv = ["eval", str(suite), "--lm", "openai/test-model", "--api-base", server.base, "--limit", "3", "--json"]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("hyperalign_dspy.evaluation.harness._judge_example", interrupted)
        assert main(argv) == 130
    generated = len(server.requests)  # 3 profiles and 2 systems x 3 answers, before the interruption
    assert generated == 3 + 6
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    judge_requests = [r for r in server.requests[generated:] if "candidate_a" in json.dumps(r["body"])]
    assert len(server.requests) - generated == len(judge_requests) == report["lm_calls"] == 3 * 2 + 3 * 2


def test_a_canary_key_is_written_nowhere(monkeypatch, fresh_dspy_cache, suite, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    texts = tmp_path / "me.txt"
    texts.write_text("harbor ships cargo tide dock crane freight pier harbor ships.")
    lm = ["--lm", "openai/test-model"]
    with FakeOpenAI() as fake:
        lm += ["--api-base", fake.base]
        assert main(["hypotheses", "--examples", str(texts), "--out", str(tmp_path / "profile.json"), *lm]) == 0
        assert main(["personalize", "--profile", str(tmp_path / "profile.json"), "--prompt", "Tides?", *lm]) == 0
        assert main(["eval", str(suite), "--limit", "2", "--experiment", "canary", "--traces", *lm]) == 0
        assert main(["compile", "--optimizer", str(PROJECT_ROOT / "optimizers" / "bootstrap-fewshot.toml"),
                     "--suite", str(suite), "--out", str(tmp_path / "program.json"), "--limit", "1",
                     "--experiment", "canary", *lm]) == 0
        assert main(["eval", str(tmp_path / "missing.toml"), *lm]) == 2  # an error message too
        assert {request["auth"] for request in fake.requests} == {f"Bearer {CANARY}"}  # the key was in use
    printed = capsys.readouterr()
    assert CANARY not in printed.out + printed.err
    runs = mlflow.search_runs(experiment_names=["canary"], output_format="list")
    assert runs and mlflow.search_traces(locations=[runs[0].info.experiment_id], return_type="list")
    folders = {tmp_path, *(Path(run.info.artifact_uri.removeprefix("file://")) for run in runs)}
    written = [Path(os.environ["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///")),
               *(path for folder in folders for path in folder.rglob("*") if path.is_file())]
    assert (tmp_path / "program.json").exists() and (tmp_path / "profile.json").exists()
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("command", ["eval", "compile"])
def test_a_real_sigint_stops_the_run_killed_with_nothing_written(command, suite, tmp_path):
    """The signal itself, sent to a `hyperalign` process while its LM calls are under way."""
    tracking = f"sqlite:///{tmp_path}/signal.db"
    environment = dict(os.environ, OPENAI_API_KEY=API_KEY, DSPY_CACHEDIR=str(tmp_path / "dspy-cache"),
                       MLFLOW_TRACKING_URI=tracking)
    out = tmp_path / "out" / "program.json"
    out.parent.mkdir()
    with FakeOpenAI(faults=lambda number, body: "slow:0.3") as slow:
        lm = ["--lm", "openai/test-model", "--api-base", slow.base, "--threads", "4", "--experiment", "signal"]
        argv = {"eval": ["eval", str(suite), *lm],
                "compile": ["compile", "--optimizer", str(PROJECT_ROOT / "optimizers" / "bootstrap-fewshot.toml"),
                            "--suite", str(suite), "--out", str(out), "--force", *lm]}[command]
        child = subprocess.Popen([str(Path(sys.executable).parent / "hyperalign"), *argv], env=environment,
                                 cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(slow.requests) < 6 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert child.poll() is None, child.communicate()
        child.send_signal(signal.SIGINT)
        signalled = len(slow.requests)
        stdout, stderr = child.communicate(timeout=60)
        after = len(slow.requests) - signalled
        first_run = [json.dumps(request["body"], sort_keys=True) for request in slow.requests]
    assert child.returncode == 130, stderr
    # MLflow may log that it flushes its trace queue at exit; hyperalign says one line.
    assert "Traceback" not in stderr and "hyperalign: interrupted" in stderr.splitlines()
    assert stdout == ""
    assert after <= 4  # the calls under way (one per thread) finish; no new ones start
    assert list(out.parent.iterdir()) == []  # no program, no metadata, no temporary file
    runs = mlflow.MlflowClient(tracking).search_runs(
        [mlflow.MlflowClient(tracking).get_experiment_by_name("signal").experiment_id])
    assert runs and {run.info.status for run in runs} == {"KILLED"}
    if command == "eval":  # the same command again: the answers cached before the signal are reused
        with FakeOpenAI() as fast:
            argv[argv.index(slow.base)] = fast.base
            rerun = subprocess.run([str(Path(sys.executable).parent / "hyperalign"), *argv], env=environment,
                                   cwd=tmp_path, capture_output=True, text=True)
            repeated = [r for r in fast.requests if json.dumps(r["body"], sort_keys=True) in first_run]
        assert rerun.returncode == 0, rerun.stderr
        assert len(repeated) <= 4 < len(first_run)  # at most the calls under way at the signal
