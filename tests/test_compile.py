"""`hyperalign compile` with every shipped recipe against the loopback OpenAI-compatible server;
the author split, the metric, atomic saving, loading, and `hyperalign compare`."""

from __future__ import annotations

import json
from pathlib import Path

import dspy
import mlflow
import pytest
from fake_openai import API_KEY, FakeOpenAI
from helpers import BOOTSTRAP, RECIPE_IDS, RECIPES, compile_args
from project import PROJECT_ROOT
from mlflow import MlflowClient
from word_authors import SIX_AUTHORS, write_suite

import hyperalign_dspy as ha
from hyperalign_dspy.cli import main
from hyperalign_dspy.judges.metric import BaselineOutputs
from hyperalign_dspy.judges.settings import JudgeSettings
from hyperalign_dspy.optimize.compiler import split_groups
from hyperalign_dspy.program_files import load_program, metadata_path, save_program
from hyperalign_dspy.optimize.comparison import compare_runs
from hyperalign_dspy.tasks.authorship.data.authors import load_authors
from hyperalign_dspy.tasks.authorship.evaluation.judging import AuthorshipJudging
from hyperalign_dspy.tasks.authorship.evaluation.metric import AuthorshipMetric


@pytest.fixture
def suite(tmp_path) -> Path:
    return write_suite(tmp_path, **SIX_AUTHORS)


def test_split_groups_is_disjoint_seeded_and_keeps_both_sides():
    authors = [f"a{n}" for n in range(12)]
    train, validation = split_groups(authors, seed=0)
    assert not set(train) & set(validation) and set(train) | set(validation) == set(authors)
    assert len(validation) == 4 and split_groups(authors, seed=0) == (train, validation)
    assert split_groups(authors, seed=1) != (train, validation)
    assert [len(side) for side in split_groups(["x", "y"], seed=0)] == [1, 1]
    with pytest.raises(ha.HyperAlignError, match="at least 2 authors or prompts"):
        split_groups(["only"], seed=0)


def changed_predictors(program: dspy.Module, saved: Path) -> dict[str, list[str]]:
    """What a saved program holds that `program` (uncompiled) does not: for each predictor, whether
    its demos or its instructions differ."""
    before, after = program.dump_state(), json.loads(saved.read_text())
    changes = {}
    for name, state in before.items():
        found = [part for part, value in (("demos", state["demos"]),
                                          ("instructions", state["signature"]["instructions"]))
                 if (after[name]["demos"] if part == "demos" else after[name]["signature"]["instructions"]) != value]
        if found:
            changes[name] = found
    return changes


@pytest.mark.parametrize("recipe", RECIPES, ids=RECIPE_IDS)
def test_every_recipe_compiles_end_to_end(recipe, compiled):
    run = compiled(recipe)  # `compile --limit 2 --json` on the six-author suite, on a server of its own
    result, out = run.result, run.paths["out"]
    assert set(result["train"]).isdisjoint(result["validation"])
    assert len(result["train"]) == 4 and len(result["validation"]) == 2
    assert result["judge_accuracy"] == 1.0
    labels = {(c["system"], c["baseline"]) for c in result["validation_report"]["comparisons"]}
    assert labels == {("hyperalign", "few-shot"), ("hyperalign", "hyperalign-uncompiled"),
                      ("hyperalign-uncompiled", "few-shot")}
    # Beyond calibration (2 prompts x 2 orders), the teleprompter ran the program and the metric.
    assert result["train_lm_calls"] > 4 + 2 and result["lm_calls"] > result["train_lm_calls"]
    assert result["lm_calls"] == run.requests  # the teleprompter's calls through LM copies too
    metadata = json.loads(metadata_path(out).read_text())
    assert metadata["task"] == "authorship" and metadata["recipe"]["name"] == recipe.stem
    assert metadata["split"]["validation"] == result["validation"]
    assert metadata["task_lm"] == "openai-compatible/test-model" and metadata["dspy_version"] == dspy.__version__
    assert metadata["lm_calls"] == result["lm_calls"]
    assert API_KEY not in out.read_text() + metadata_path(out).read_text()
    program = load_program(out)
    assert isinstance(program, ha.HyPerAlign)
    # The recipe changed the program: demos or instructions of some predictor.
    assert changed_predictors(ha.HyPerAlign(), out), f"{recipe.stem} left the program as it was"

    run = mlflow.get_run(result["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["recipe"] == recipe.stem and run.data.tags["kind"] == "compile"
    assert "validation.vs_uncompiled.win_rate" in run.data.metrics
    artifacts = {item.path for item in mlflow.artifacts.list_artifacts(run_id=run.info.run_id, artifact_path="program")}
    assert artifacts == {f"program/{out.name}", f"program/{metadata_path(out).name}"}


@pytest.mark.parametrize(("stem", "tuned"), [("profiler-demos", "profiler."), ("writer-instructions", "writer."),
                                             ("writer-gepa", "writer.")])
def test_a_recipe_that_tunes_one_stage_leaves_the_other_as_it_was(compiled, stem, tuned):
    out = compiled(PROJECT_ROOT / "optimizers" / f"{stem}.toml").paths["out"]
    changes = changed_predictors(ha.HyPerAlign(), out)
    assert changes and all(name.startswith(tuned) for name in changes), changes
    # The saved program holds every predictor, the untouched stage's too.
    assert set(json.loads(out.read_text())) >= {name for name, _ in ha.HyPerAlign().named_predictors()}


def test_bootstrapped_demos_reach_the_saved_program_and_personalize_uses_it(demos_compile, monkeypatch, tmp_path,
                                                                           capsys):
    # Against the zero-shot baseline the fake judge ties every pair (½ ≥ the threshold): demos.
    server, out = demos_compile.server, demos_compile.paths["out"]
    assert demos_compile.result["recipe"] == "bootstrap-fewshot"
    state = json.loads(out.read_text())
    assert len(state["profiler.infer"]["demos"]) == 1 and len(state["writer.generate"]["demos"]) == 1
    program = load_program(out)
    assert len(program.profiler.infer.demos) == 1 and len(program.writer.generate.demos) == 1

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    texts = tmp_path / "me.txt"
    texts.write_text("harbor ships cargo tide dock crane freight pier harbor ships.")
    assert main(["personalize", "--program", str(out), "--examples", str(texts), "--prompt", "Write about tides.",
                 "--lm", "openai/test-model", "--api-base", server.base, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["responses"][0]["response"].startswith("Personalized answer to Write about tides")
    demo_prompt = json.dumps(server.requests[-1]["body"]["messages"])
    assert "Personalized answer to" in demo_prompt  # the generation demo went into the prompt


def test_a_judge_that_fails_calibration_stops_the_compile(monkeypatch, fresh_dspy_cache, suite, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    out = tmp_path / "p.json"
    recipe = BOOTSTRAP
    with FakeOpenAI(always="A") as fake:
        assert main(compile_args(fake.base, recipe, suite, out, "--limit", "2")) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert "fails calibration on the training prompts (real vs impostor" in err and "--force" in err
        assert not out.exists() and not metadata_path(out).exists()
        assert list(tmp_path.glob(".p.json*")) == []
        failed = mlflow.search_runs(experiment_names=["hyperalign"], output_format="list",
                                    filter_string="tags.kind = 'compile'")
        assert failed[0].info.status == "FAILED"
        assert main([*compile_args(fake.base, recipe, suite, out, "--limit", "2", "--force")]) == 0
    assert out.exists() and metadata_path(out).exists()
    assert "Compiled bootstrap-fewshot" in capsys.readouterr().out  # the compile's text summary


def test_metric_scores_wins_ties_losses_copies_and_failures(suite):
    examples = load_authors(json.loads(json.dumps(str(suite.parent / "data" / "authors.jsonl"))))
    example = examples[0]
    samples = [text.text for text in example.examples]

    class Judge:
        def __init__(self, verdicts):
            self.verdicts = list(verdicts)

        def decide(self, case, a, b):
            from hyperalign_dspy.judges.pairwise import Decision

            verdict = self.verdicts.pop(0)
            if verdict == "error":
                raise RuntimeError("judge down")
            return Decision(verdict, f"reason {verdict}")

    def metric_with(verdicts, baseline_text="the baseline text", feedback=False):
        judging = AuthorshipJudging(examples, JudgeSettings(kind="verdict"), dspy.LM("openai/unused"))
        judging.judge = Judge(verdicts)
        baselines = BaselineOutputs(None, None, None)
        baselines._outputs[(example.author, example.prompt)] = baseline_text
        return AuthorshipMetric(judging, baselines, feedback=feedback)

    answer = dspy.Prediction(response="a new text in the user's habits")
    assert metric_with(["A", "B"])(example, answer) == 1.0
    assert metric_with(["B", "A"])(example, answer) == 0.0
    assert metric_with(["A", "A"])(example, answer) == 0.5
    failed = metric_with(["A", "error"])
    assert failed(example, answer) == 0.0 and failed.failures == 1
    empty = metric_with([])
    assert empty(example, dspy.Prediction(response=" ")) == 0.0 and empty.failures == 1
    copy = dspy.Prediction(response=" ".join(samples[0].split()[:14]))
    assert metric_with([])(example, copy) == 0.0
    with_feedback = metric_with(["A", "B"], feedback=True)(example, answer, None, "generate", None)
    assert with_feedback.score == 1.0 and "win" in with_feedback.feedback and "reason A" in with_feedback.feedback


def test_save_program_is_atomic(tmp_path, monkeypatch):
    program = ha.HyPerAlign()
    out = tmp_path / "p.json"
    save_program(program, out, {"recipe": "x"})
    before = (out.read_text(), metadata_path(out).read_text())

    def interrupted(self, path, **kwargs):
        Path(path).write_text('{"half": ')
        raise KeyboardInterrupt

    monkeypatch.setattr(ha.HyPerAlign, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_program(program, out, {"recipe": "y"})
    assert (out.read_text(), metadata_path(out).read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.meta.json"]


def test_a_signal_while_saving_leaves_the_old_pair_and_one_while_renaming_the_new(tmp_path, monkeypatch):
    import os
    import signal

    import hyperalign_dspy.program_files as program_files

    program = ha.HyPerAlign()
    out = tmp_path / "p.json"
    save_program(program, out, {"recipe": "old"})
    old = (out.read_text(), metadata_path(out).read_text())
    real_save = ha.HyPerAlign.save

    def signalled_after_writing(self, path, **kwargs):  # Ctrl-C once the program's file is written
        real_save(self, path, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ha.HyPerAlign, "save", signalled_after_writing)
    with pytest.raises(KeyboardInterrupt):
        save_program(program, out, {"recipe": "new"})
    assert (out.read_text(), metadata_path(out).read_text()) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.meta.json"]

    monkeypatch.setattr(ha.HyPerAlign, "save", real_save)
    renamed = []

    def signalled_between_renames(temporary, target):  # Ctrl-C after the first file is in place
        program_files_publish(temporary, target)
        renamed.append(target)
        if len(renamed) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    program_files_publish = program_files.publish
    monkeypatch.setattr(program_files, "publish", signalled_between_renames)
    with pytest.raises(KeyboardInterrupt):
        save_program(program, out, {"recipe": "new"})
    assert len(renamed) == 2 and json.loads(metadata_path(out).read_text()) == {"recipe": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.meta.json"]


def test_compare_lists_compile_runs_best_first(compiled, tmp_path, capsys):
    # Copies of a real compile run (its tags, params and metrics) with other validation win-rates
    # against the uncompiled program, one with none: compare lists them best first, None last.
    real = mlflow.get_run(compiled(BOOTSTRAP).result["mlflow_run_id"])
    client = MlflowClient()
    experiment = client.create_experiment("compare-test")
    rates = (0.25, 0.75, None, 0.5)
    for rate in rates:
        copy = client.create_run(experiment, tags={k: v for k, v in real.data.tags.items() if not k.startswith("mlflow.")})
        for key, value in real.data.params.items():
            client.log_param(copy.info.run_id, key, value)
        for key, value in real.data.metrics.items():
            if not key.startswith("validation.vs_uncompiled."):
                client.log_metric(copy.info.run_id, key, value)
        if rate is not None:
            for key, value in (("win_rate", rate), ("ci_low", rate - 0.2), ("ci_high", rate + 0.2)):
                client.log_metric(copy.info.run_id, f"validation.vs_uncompiled.{key}", value)
        client.set_terminated(copy.info.run_id, "FINISHED")
    chart = tmp_path / "chart.png"
    assert main(["compare", "--experiment", "compare-test", "--chart", str(chart), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert len(listing["runs"]) == 4 and chart.stat().st_size > 1000
    assert [run["vs_uncompiled"] for run in listing["runs"]] == [0.75, 0.5, 0.25, None]
    assert [run.vs_uncompiled for run in compare_runs("compare-test")] == [0.75, 0.5, 0.25, None]
    assert {run["recipe"] for run in listing["runs"]} == {"bootstrap-fewshot"}
    assert main(["compare", "--experiment", "compare-test", "--chart", str(chart)]) == 0
    table = capsys.readouterr().out
    assert "bootstrap-fewshot" in table and "openai-compatible/test-model" in table
    assert main(["compare", "--experiment", "no-such-experiment"]) == 2


def test_ctrl_c_during_compile_ends_the_run_killed_and_writes_nothing(server, suite, tmp_path, monkeypatch, capsys):
    class Interrupted:
        def compile(self, student, **kwargs):
            raise KeyboardInterrupt

    monkeypatch.setattr("hyperalign_dspy.optimize.compiler.build_teleprompter", lambda *args: Interrupted())
    out = tmp_path / "p.json"
    assert main([*compile_args(server.base, BOOTSTRAP, suite, out, "--limit", "1", "--experiment", "ctrl-c")]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "hyperalign: interrupted"
    assert list(tmp_path.glob("p*.json")) == [] and list(tmp_path.glob(".p.json*")) == []
    (run,) = mlflow.search_runs(experiment_names=["ctrl-c"], output_format="list")
    assert run.info.status == "KILLED" and mlflow.active_run() is None


def test_saved_programs_are_readable_by_others(tmp_path):
    out = tmp_path / "p.json"
    save_program(ha.HyPerAlign(), out, {})
    assert out.stat().st_mode & 0o044 and metadata_path(out).stat().st_mode & 0o044


def test_the_teleprompters_evaluations_run_on_the_compiles_threads(server, suite, tmp_path, monkeypatch):
    from dspy.utils.parallelizer import ParallelExecutor

    seen = []
    original = ParallelExecutor.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.num_threads)

    monkeypatch.setattr(ParallelExecutor, "__init__", recording)
    recipe = PROJECT_ROOT / "optimizers" / "writer-instructions.toml"  # COPRO: Evaluate with no num_threads
    out = tmp_path / "p.json"
    assert main([*compile_args(server.base, recipe, suite, out, "--limit", "1", "--threads", "3")]) == 0
    assert seen and set(seen) == {3}
