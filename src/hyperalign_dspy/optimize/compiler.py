"""`compile_program`: tune a task's HyPerAlign program with a recipe's DSPy teleprompter against the
judge, check the result on held-out data, save it, and track it all in one MLflow run.

1. Split the suite's authors (authorship) or prompts (deliberative) into training and validation
   (none on both sides).
2. Calibrate the judge on the training side (authorship: real-vs-impostor pairs; deliberative:
   substantive answers against refusals); a judge that fails stops the compile (unless `force`):
   optimizing against it would optimize noise.
3. Compile with the recipe's teleprompter and the task's compile metric (`judges/metric.py`).
4. Evaluate the compiled and the uncompiled program on the validation side with the evaluation
   harness (a nested MLflow run).
5. Save the program and its metadata atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dspy
import numpy as np
from pydantic import BaseModel, SerializeAsAny

from hyperalign_dspy.core.files import check_writable_folder, validated
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation.harness import UNCOMPILED, evaluate
from hyperalign_dspy.evaluation.progress import StageProgress
from hyperalign_dspy.evaluation.report import EvaluationReport
from hyperalign_dspy.evaluation.running import (
    CallCounter,
    ParallelStages,
    check_counts,
    file_sha256,
    run_lms,
    run_settings,
    select_examples,
)
from hyperalign_dspy.evaluation.suite import PROGRAM, EvalSuite, load_suite
from hyperalign_dspy.judges.metric import BaselineOutputs
from hyperalign_dspy.judges.pairwise import PairJudgment, WinRate, share_text
from hyperalign_dspy.lms.names import adapter_for, choice_of
from hyperalign_dspy.lms.roles import LMConfig, LMNames
from hyperalign_dspy.optimize.recipe import Recipe, build_teleprompter, freeze_untuned, load_recipe, thaw
from hyperalign_dspy.program_files import metadata_path, save_program
from hyperalign_dspy.tracking.store import check_experiment, prepare_store, use_experiment

VALIDATION_SHARE = 1 / 3


class CompileResult(BaseModel):
    program_path: str
    recipe: str
    task: str
    train: list[str]  # authors (authorship) or prompts as source:id (deliberative)
    validation: list[str]
    judge_accuracy: float | None
    judge_ci_low: float | None
    judge_ci_high: float | None
    validation_report: SerializeAsAny[EvaluationReport]  # the task's report, with its own fields
    lm_calls: int
    train_lm_calls: int  # calibration and the teleprompter's own calls
    metric_failures: int
    wall_seconds: float
    mlflow_run_id: str
    model_uri: str  # the servable MLflow model of the program (`mlflow models serve -m ...`)
    registered_model: str  # ... registered under the program file's name
    registered_version: int | None


def split_groups(groups: list[str], seed: int, validation_share: float = VALIDATION_SHARE) -> tuple[list[str], list[str]]:
    """Disjoint training and validation groups (authors, or prompts), drawn with `seed`; at least
    one of each."""
    groups = sorted(set(groups))
    if len(groups) < 2:
        raise HyperAlignError(f"compiling needs at least 2 authors or prompts (training and validation); the data has {len(groups)}")
    shuffled = list(np.random.default_rng(seed).permutation(groups))
    count = min(len(groups) - 1, max(1, round(len(groups) * validation_share)))
    return sorted(shuffled[count:]), sorted(shuffled[:count])


def compile_program(
    recipe: Recipe | str | Path,
    suite: EvalSuite | str | Path,
    out: str | Path,
    *,
    lm: dspy.LM | None = None,
    adapter: dspy.Adapter | None = None,
    judge_lm: dspy.LM | None = None,
    judge_adapter: dspy.Adapter | None = None,
    lms: LMConfig | None = None,
    limit: int | None = None,
    threads: int | None = None,
    force: bool = False,
    experiment: str = "hyperalign",
    progress: Callable[[str], None] = lambda message: None,
) -> CompileResult:
    """Compile the suite's task's program with `recipe` on `suite`'s training side and write it to
    `out` (plus `out`'s `.meta.json`). `limit` caps the training and the validation prompts each.
    The LMs are chosen as `evaluate` chooses them; `lms.reflection`, if set, is the teleprompter's
    reflection LM in the recipe's place. The program's settings: the recipe's `[program]` over the
    suite's over the task's defaults."""
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    suite = suite if isinstance(suite, EvalSuite) else load_suite(suite)
    out = _checked_out(out)
    check_counts(limit, threads)
    check_experiment(experiment)
    plan = _plan(recipe, suite, out, run_lms(suite.lms, lms, lm, judge_lm), adapter, judge_adapter, limit, threads)
    with _tracked_run(plan, experiment) as run:
        _log_params(plan)
        calibration, compiled, train_calls = _train(plan, force, progress)
        progress(f"validating on {len(plan.validation_keys)} held-out {plan.task.split_unit}")
        validation = evaluate(
            suite, lm=plan.task_lm, adapter=plan.adapter, judge_lm=plan.roles.judge, judge_adapter=plan.judge_adapter,
            lms=LMConfig(infer=plan.roles.infer), settings=plan.settings, program=compiled,
            subset=plan.validation_keys, limit=limit, threads=plan.threads, experiment=experiment, progress=progress,
        )
        result = _result(plan, calibration, validation, train_calls, run)
        save_program(compiled, out, _metadata(plan, calibration, validation, result))
        _log_program(plan, result, validation)
        return result


@dataclass
class _Plan:
    """What one compile runs: the recipe, the suite and its task's side, the LMs and adapters, the
    program's settings, the baseline, the program to compile, the split, the training examples and
    the metric."""

    recipe: Recipe
    suite: EvalSuite
    out: Path
    task: Any  # the task's `TaskEvaluation` of the suite (tasks/base.py, above this part)
    roles: LMConfig
    adapter: dspy.Adapter | None
    judge_adapter: dspy.Adapter | None
    threads: int
    limit: int | None
    settings: ProgramSettings
    baseline: str
    student: dspy.Module  # the uncompiled program, its untuned stages frozen
    train_keys: list[str]
    validation_keys: list[str]
    trainset: list[dspy.Example]
    baseline_outputs: BaselineOutputs
    metric: object
    started: float = 0.0

    @property
    def task_lm(self) -> dspy.LM:
        return self.roles.generate


def _checked_out(out: str | Path) -> Path:
    out = Path(out)
    if out.suffix != ".json":
        raise HyperAlignError(f"--out {out}: a program file ends in .json")
    check_writable_folder(out.parent, f"--out {out}")
    return out


def _plan(recipe, suite, out, roles, adapter, judge_adapter, limit, threads) -> _Plan:
    """The task's side of the suite, the recipe's baseline, the split into training and validation,
    the training examples and the compile metric."""
    adapter, threads = run_settings(roles.generate, adapter, threads)
    judge_adapter = judge_adapter if judge_adapter is not None else adapter_for(roles.judge)
    task_type = suite.task_type
    if recipe.task and recipe.task != suite.task:
        raise HyperAlignError(f"recipe {recipe.name} compiles {recipe.task} programs; the suite {suite.name} "
                              f"is of the {suite.task} task")
    settings: ProgramSettings = validated(recipe.program, task_type.settings_type,
                                          f"recipe {recipe.path}", table="program").over(suite.settings)
    task = task_type.evaluation(suite, roles.judge, judge_adapter, None, None, lms=LMConfig(infer=roles.infer),
                                settings=settings)
    baseline = task_type.default_compile_baseline if recipe.metric.baseline == "default" else recipe.metric.baseline
    if baseline not in task_type.systems or baseline == PROGRAM:
        raise HyperAlignError(f"recipe {recipe.name}: baseline '{baseline}' is not a system of the "
                              f"{suite.task} task ({', '.join(name for name in task_type.systems if name != PROGRAM)})")
    student = freeze_untuned(recipe, task.new_system(PROGRAM))
    train_keys, validation_keys = split_groups([task.key(example) for example in task.pool], suite.seed)
    trainset = select_examples([e for e in task.pool if task.key(e) in train_keys], limit, suite.seed, group=task.group)
    baseline_outputs = BaselineOutputs(task.new_system(baseline), roles.generate, adapter)
    metric = task.compile_metric(baseline_outputs, attribution=recipe.metric.attribution,
                                 feedback=recipe.teleprompter == "GEPA")
    return _Plan(recipe=recipe, suite=suite, out=out, task=task, roles=roles, adapter=adapter,
                 judge_adapter=judge_adapter, threads=threads, limit=limit, settings=settings, baseline=baseline,
                 student=student, train_keys=train_keys, validation_keys=validation_keys, trainset=trainset,
                 baseline_outputs=baseline_outputs, metric=metric)


@contextmanager
def _tracked_run(plan: _Plan, experiment: str):
    """The compile's MLflow run (nested in the active one, if any), ended as FINISHED, KILLED (an
    interrupt) or FAILED, with any nested run that an interruption left open; DSPy's autolog is off
    on leaving."""
    import mlflow

    prepare_store()
    use_experiment(experiment)
    plan.started = time.perf_counter()
    run = mlflow.start_run(run_name=f"compile {plan.recipe.name}", nested=mlflow.active_run() is not None)
    status = "FAILED"
    try:
        yield run
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        mlflow.dspy.autolog(disable=True, silent=True)
        while mlflow.active_run() is not None and mlflow.active_run().info.run_id != run.info.run_id:
            mlflow.end_run(status=status)  # a nested run the interruption left open
        mlflow.end_run(status=status)


def _log_params(plan: _Plan) -> None:
    import mlflow

    recipe, suite, task, task_lm, settings = plan.recipe, plan.suite, plan.task, plan.task_lm, plan.settings
    mlflow.set_tags({"kind": "compile", "recipe": recipe.name, "suite": suite.name, "task": suite.task,
                     "lm": task_lm.model, "judge_lm": task.judge_lm.model})
    mlflow.log_params({
        "recipe": recipe.name, "teleprompter": recipe.teleprompter, "metric.baseline": plan.baseline,
        "metric.attribution": recipe.metric.attribution, "suite": suite.name, "task_lm": task_lm.model,
        "task_api_base": task_lm.kwargs.get("api_base") or "", "judge_lm": task.judge_lm.model,
        "judge_kind": task.judge_kind, "train_groups": ",".join(plan.train_keys)[:6000],
        "validation_groups": ",".join(plan.validation_keys)[:6000], "train_examples": len(plan.trainset),
        "limit": plan.limit or "", "threads": plan.threads, "seed": suite.seed, "dspy_version": dspy.__version__,
        "infer_lm": (plan.roles.infer or task_lm).model,
        **settings.as_params(),
        "recipe.tune": ",".join(recipe.tune) or "all",
        **{f"recipe.{key}": value for key, value in recipe.arguments.items()},
        **{f"recipe.compile.{key}": value for key, value in recipe.compile_arguments.items()},
    })


def _train(plan: _Plan, force: bool, progress: Callable[[str], None]) -> tuple[WinRate, dspy.Module, int]:
    """The judge calibrated on the training side (a judge that fails stops the compile, unless
    `force`), then the recipe's teleprompter run; DSPy's autolog records the compile. Returns the
    calibration, the compiled program and the LM calls made."""
    import mlflow

    counter = CallCounter()
    mlflow.dspy.autolog(log_compiles=True, log_evals=True, log_traces_from_compile=False, silent=True)
    # DSPy's Evaluate, inside COPRO and others, takes its threads from the settings (8 by default): on
    # the embedded engine, which runs one call at a time, 8 threads only make every result wait for
    # all 8, and ParallelExecutor starts a straggler's call a second time.
    with dspy.context(lm=plan.task_lm, adapter=plan.adapter, num_threads=plan.threads):
        calibration = _calibrate(plan, force, progress)
        # Some teleprompters read DSPy's LM here.
        teleprompter = build_teleprompter(plan.recipe, plan.metric, plan.task_lm, plan.threads, plan.roles.reflection)
        progress(f"compiling with {plan.recipe.teleprompter} on {len(plan.trainset)} training prompts")
        # The teleprompter decides how many outputs it scores: a line per len(trainset) / 10 of them.
        plan.metric.scored = StageProgress(progress, "compiling", every=max(1, len(plan.trainset) // 10),
                                           unit="outputs scored").tick
        compiled = thaw(teleprompter.compile(plan.student, trainset=plan.trainset, **plan.recipe.compile_arguments))
    mlflow.dspy.autolog(disable=True, silent=True)
    return calibration, compiled, counter.totals()["calls"] + plan.task.scoring_calls


def _calibrate(plan: _Plan, force: bool, progress: Callable[[str], None]) -> WinRate:
    """The judge on the training prompts' calibration pairs: optimizing against a judge that
    cannot tell them apart would optimize noise."""
    import mlflow

    task, trainset = plan.task, plan.trainset

    def calibration_pair(example, index):
        try:
            return task.calibration_pair(example, index, plan.baseline_outputs)
        except Exception as exc:  # a failed baseline or judge: reported, never a result
            return PairJudgment("failure", error=f"{type(exc).__name__}: {exc}")

    pairs = ParallelStages(plan.threads, progress=progress)(
        [(calibration_pair, (example, index)) for index, example in enumerate(trainset)], "calibrating",
        f"calibrating the {task.judge_kind} judge on {len(trainset)} training prompts")
    calibration = WinRate.of("calibration", "known answer", [pair for pair in pairs if pair], plan.suite.seed)
    mlflow.log_metrics({f"train_judge_{key}": value for key, value in
                        {"accuracy": calibration.win_rate, "ci_low": calibration.ci_low,
                         "ci_high": calibration.ci_high}.items() if value is not None})
    if not calibration.above_chance and not force:
        raise HyperAlignError(
            f"the {task.judge_kind} judge fails calibration on the training prompts ({task.calibration_label}: accuracy "
            f"{share_text(calibration.win_rate)}, 95% CI [{share_text(calibration.ci_low)}, {share_text(calibration.ci_high)}], "
            f"{calibration.failures} failures): compiling against it would optimize noise; --force compiles anyway"
        )
    return calibration


def _result(plan: _Plan, calibration: WinRate, validation: EvaluationReport, train_calls: int, run) -> CompileResult:
    """The compile's result; its servable model is filled in once logged (`_log_program`)."""
    return CompileResult(
        program_path=str(plan.out), recipe=plan.recipe.name, task=plan.suite.task, train=plan.train_keys,
        validation=plan.validation_keys, judge_accuracy=calibration.win_rate,
        judge_ci_low=calibration.ci_low, judge_ci_high=calibration.ci_high, validation_report=validation,
        lm_calls=train_calls + validation.lm_calls, train_lm_calls=train_calls, metric_failures=plan.metric.failures,
        wall_seconds=round(time.perf_counter() - plan.started, 1), mlflow_run_id=run.info.run_id,
        model_uri="", registered_model=plan.out.stem, registered_version=None,
    )


def _metadata(plan: _Plan, calibration: WinRate, validation: EvaluationReport, result: CompileResult) -> dict:
    """The program file's metadata: what it was compiled with, on what, and how it did."""
    suite, task, task_lm = plan.suite, plan.task, plan.task_lm
    return {
        "recipe": plan.recipe.model_dump(mode="json"), "suite": suite.name,
        "data_sha256": [file_sha256(path) for path in suite.data],
        "task": suite.task, "task_lm": task_lm.model, "task_api_base": task_lm.kwargs.get("api_base"),
        "judge_lm": task.judge_lm.model, "judge_kind": task.judge_kind,
        "split": {"seed": suite.seed, "train": plan.train_keys, "validation": plan.validation_keys,
                  "train_examples": len(plan.trainset), "validation_examples": validation.examples},
        "train_judge": {"accuracy": calibration.win_rate, "ci_low": calibration.ci_low, "ci_high": calibration.ci_high},
        "validation": {"judge_accuracy": validation.judge_accuracy, "judge_ci_low": validation.judge_ci_low,
                       "judge_ci_high": validation.judge_ci_high,
                       "comparisons": [c.model_dump() for c in validation.comparisons],
                       **validation.task_summary(), "mlflow_run_id": validation.mlflow_run_id},
        "program_settings": plan.settings.model_dump(),
        "dspy_version": dspy.__version__, "lm_calls": result.lm_calls, "train_lm_calls": result.train_lm_calls,
        "metric_failures": result.metric_failures,
        "wall_seconds": result.wall_seconds, "mlflow_run_id": result.mlflow_run_id,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _log_program(plan: _Plan, result: CompileResult, validation: EvaluationReport) -> None:
    """The compile's metrics, the program file and its metadata as artifacts, and the program as a
    servable MLflow model (from code, LMs by name): a new version of the registered model named
    after the program file, whose address goes into `result`."""
    import mlflow

    from hyperalign_dspy.tracking.servable_program import log_servable_program

    out = plan.out
    metrics = {"lm_calls": result.lm_calls, "train_lm_calls": result.train_lm_calls,
               "metric_failures": result.metric_failures, "wall_minutes": result.wall_seconds / 60}
    for comparison in validation.comparisons:
        label = "vs_uncompiled" if comparison.baseline == UNCOMPILED else f"{comparison.system}_vs_{comparison.baseline}"
        for key in ("win_rate", "ci_low", "ci_high"):
            value = getattr(comparison, key)
            if value is not None:
                metrics[f"validation.{label}.{key}"] = value
    mlflow.log_metrics(metrics)
    mlflow.log_artifact(str(out), artifact_path="program")
    mlflow.log_artifact(str(metadata_path(out)), artifact_path="program")
    stage_lms = LMNames(generate=choice_of(plan.task_lm), infer=choice_of(plan.roles.infer) if plan.roles.infer else None)
    model = log_servable_program(out, plan.suite.task, stage_lms, plan.task.task.suite_options(plan.suite).get("spec"),
                                 registered_name=out.stem)
    mlflow.set_tag("program_model_uri", model.model_uri)
    result.model_uri, result.registered_version = model.model_uri, model.registered_model_version
