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
from pathlib import Path

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
from hyperalign_dspy.optimize.recipe import Recipe, build_teleprompter, load_recipe
from hyperalign_dspy.program_files import metadata_path, save_program
from hyperalign_dspy.registry import get_task
from hyperalign_dspy.tracking.servable_program import log_servable_program
from hyperalign_dspy.tracking.store import check_experiment, prepare_store

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
    import mlflow

    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    suite = suite if isinstance(suite, EvalSuite) else load_suite(suite)
    out = Path(out)
    if out.suffix != ".json":
        raise HyperAlignError(f"--out {out}: a program file ends in .json")
    check_writable_folder(out.parent, f"--out {out}")
    check_counts(limit, threads)
    check_experiment(experiment)
    roles = run_lms(suite.lms, lms, lm, judge_lm)
    task_lm = roles.generate
    adapter, threads = run_settings(task_lm, adapter, threads)
    judge_adapter = judge_adapter if judge_adapter is not None else adapter_for(roles.judge)
    task_type = get_task(suite.task)
    settings: ProgramSettings = validated(recipe.program, task_type.settings_type,
                                          f"recipe {recipe.path}", table="program").over(suite.settings)
    task = task_type.evaluation(suite, roles.judge, judge_adapter, None, None, lms=LMConfig(infer=roles.infer),
                                settings=settings)
    baseline = task_type.default_compile_baseline if recipe.metric.baseline == "default" else recipe.metric.baseline
    if baseline not in task_type.systems or baseline == PROGRAM:
        raise HyperAlignError(f"recipe {recipe.name}: baseline '{baseline}' is not a system of the "
                              f"{suite.task} task ({', '.join(name for name in task_type.systems if name != PROGRAM)})")
    train_keys, validation_keys = split_groups([task.key(example) for example in task.pool], suite.seed)
    trainset = select_examples([e for e in task.pool if task.key(e) in train_keys], limit, suite.seed, group=task.group)
    baseline_outputs = BaselineOutputs(task.new_system(baseline), task_lm, adapter)
    metric = task.compile_metric(baseline_outputs, attribution=recipe.metric.attribution,
                                 feedback=recipe.teleprompter == "GEPA")

    prepare_store()
    mlflow.set_experiment(experiment)
    started = time.perf_counter()
    run = mlflow.start_run(run_name=f"compile {recipe.name}", nested=mlflow.active_run() is not None)
    status = "FAILED"
    try:
        mlflow.set_tags({"kind": "compile", "recipe": recipe.name, "suite": suite.name, "task": suite.task,
                         "lm": task_lm.model, "judge_lm": task.judge_lm.model})
        mlflow.log_params({
            "recipe": recipe.name, "teleprompter": recipe.teleprompter, "metric.baseline": baseline,
            "metric.attribution": recipe.metric.attribution, "suite": suite.name, "task_lm": task_lm.model,
            "task_api_base": task_lm.kwargs.get("api_base") or "", "judge_lm": task.judge_lm.model,
            "judge_kind": task.judge_kind, "train_groups": ",".join(train_keys)[:6000],
            "validation_groups": ",".join(validation_keys)[:6000], "train_examples": len(trainset),
            "limit": limit or "", "threads": threads, "seed": suite.seed, "dspy_version": dspy.__version__,
            "infer_lm": (roles.infer or task_lm).model,
            **settings.as_params(),
            **{f"recipe.{key}": value for key, value in recipe.arguments.items()},
            **{f"recipe.compile.{key}": value for key, value in recipe.compile_arguments.items()},
        })
        counter = CallCounter()
        mlflow.dspy.autolog(log_compiles=True, log_evals=True, log_traces_from_compile=False, silent=True)
        with dspy.context(lm=task_lm, adapter=adapter):
            def calibration_pair(example, index):
                try:
                    return task.calibration_pair(example, index, baseline_outputs)
                except Exception as exc:  # a failed baseline or judge: reported, never a result
                    return PairJudgment("failure", error=f"{type(exc).__name__}: {exc}")

            pairs = ParallelStages(threads, progress=progress)(
                [(calibration_pair, (example, index)) for index, example in enumerate(trainset)], "calibrating",
                f"calibrating the {task.judge_kind} judge on {len(trainset)} training prompts")
            calibration = WinRate.of("calibration", "known answer", [pair for pair in pairs if pair], suite.seed)
            mlflow.log_metrics({f"train_judge_{key}": value for key, value in
                                {"accuracy": calibration.win_rate, "ci_low": calibration.ci_low,
                                 "ci_high": calibration.ci_high}.items() if value is not None})
            if not calibration.above_chance and not force:
                raise HyperAlignError(
                    f"the {task.judge_kind} judge fails calibration on the training prompts ({task.calibration_label}: accuracy "
                    f"{share_text(calibration.win_rate)}, 95% CI [{share_text(calibration.ci_low)}, {share_text(calibration.ci_high)}], "
                    f"{calibration.failures} failures): compiling against it would optimize noise; --force compiles anyway"
                )
            # Some teleprompters read DSPy's LM here.
            teleprompter = build_teleprompter(recipe, metric, task_lm, threads, roles.reflection)
            progress(f"compiling with {recipe.teleprompter} on {len(trainset)} training prompts")
            # The teleprompter decides how many outputs it scores: a line per len(trainset) / 10 of them.
            metric.scored = StageProgress(progress, "compiling", every=max(1, len(trainset) // 10),
                                          unit="outputs scored").tick
            compiled = teleprompter.compile(task.new_system(PROGRAM), trainset=trainset, **recipe.compile_arguments)
        mlflow.dspy.autolog(disable=True, silent=True)
        train_calls = counter.totals()["calls"] + task.scoring_calls

        progress(f"validating on {len(validation_keys)} held-out {task.split_unit}")
        validation = evaluate(
            suite, lm=task_lm, adapter=adapter, judge_lm=roles.judge, judge_adapter=judge_adapter,
            lms=LMConfig(infer=roles.infer), settings=settings, program=compiled, subset=validation_keys,
            limit=limit, threads=threads, experiment=experiment, progress=progress,
        )
        wall = round(time.perf_counter() - started, 1)
        lm_calls = train_calls + validation.lm_calls
        metadata = {
            "recipe": recipe.model_dump(mode="json"), "suite": suite.name,
            "data_sha256": [file_sha256(path) for path in suite.data],
            "task": suite.task, "task_lm": task_lm.model, "task_api_base": task_lm.kwargs.get("api_base"),
            "judge_lm": task.judge_lm.model, "judge_kind": task.judge_kind,
            "split": {"seed": suite.seed, "train": train_keys, "validation": validation_keys,
                      "train_examples": len(trainset), "validation_examples": validation.examples},
            "train_judge": {"accuracy": calibration.win_rate, "ci_low": calibration.ci_low, "ci_high": calibration.ci_high},
            "validation": {"judge_accuracy": validation.judge_accuracy, "judge_ci_low": validation.judge_ci_low,
                           "judge_ci_high": validation.judge_ci_high,
                           "comparisons": [c.model_dump() for c in validation.comparisons],
                           **validation.task_summary(), "mlflow_run_id": validation.mlflow_run_id},
            "program_settings": settings.model_dump(),
            "dspy_version": dspy.__version__, "lm_calls": lm_calls, "train_lm_calls": train_calls,
            "metric_failures": metric.failures,
            "wall_seconds": wall, "mlflow_run_id": run.info.run_id,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        save_program(compiled, out, metadata)
        metrics = {"lm_calls": lm_calls, "train_lm_calls": train_calls, "metric_failures": metric.failures,
                   "wall_minutes": wall / 60}
        for comparison in validation.comparisons:
            label = "vs_uncompiled" if comparison.baseline == UNCOMPILED else f"{comparison.system}_vs_{comparison.baseline}"
            for key in ("win_rate", "ci_low", "ci_high"):
                value = getattr(comparison, key)
                if value is not None:
                    metrics[f"validation.{label}.{key}"] = value
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(out), artifact_path="program")
        mlflow.log_artifact(str(metadata_path(out)), artifact_path="program")
        # The program as a servable MLflow model (from code, LMs by name), a new version of the
        # registered model named after the program file.
        stage_lms = LMNames(generate=choice_of(task_lm), infer=choice_of(roles.infer) if roles.infer else None)
        model = log_servable_program(out, suite.task, stage_lms, task.task.suite_options(suite).get("spec"),
                                     registered_name=out.stem)
        mlflow.set_tag("program_model_uri", model.model_uri)
        status = "FINISHED"
        return CompileResult(
            program_path=str(out), recipe=recipe.name, task=suite.task, train=train_keys,
            validation=validation_keys, judge_accuracy=calibration.win_rate,
            judge_ci_low=calibration.ci_low, judge_ci_high=calibration.ci_high, validation_report=validation,
            lm_calls=lm_calls, train_lm_calls=train_calls, metric_failures=metric.failures, wall_seconds=wall, mlflow_run_id=run.info.run_id,
            model_uri=model.model_uri, registered_model=out.stem, registered_version=model.registered_model_version,
        )
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        mlflow.dspy.autolog(disable=True, silent=True)
        while mlflow.active_run() is not None and mlflow.active_run().info.run_id != run.info.run_id:
            mlflow.end_run(status=status)  # a nested run the interruption left open
        mlflow.end_run(status=status)
