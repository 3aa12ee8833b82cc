"""`compile_program`: tune HyPerAlign with a recipe's DSPy teleprompter against the judge, check
the result on held-out authors, save it, and track it all in one MLflow run.

1. Split the suite's authors into training and validation authors (no author on both sides).
2. Calibrate the judge on the training authors' real-vs-impostor pairs; a judge that cannot tell
   them apart stops the compile (unless `force`): optimizing against it would optimize noise.
3. Compile with the recipe's teleprompter and the metric of `compile_metric.py`.
4. Evaluate the compiled and the uncompiled program on the validation authors with the
   evaluation harness (a nested MLflow run).
5. Save the program and its metadata atomically.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import dspy
import numpy as np
from pydantic import BaseModel

from hyperalign_dspy.attribution import AuthorAttribution
from hyperalign_dspy.baselines import FewShotInContext, ZeroShot
from hyperalign_dspy.compile_metric import AuthorshipMetric, BaselineOutputs
from hyperalign_dspy.data import load_authors
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation import (
    UNCOMPILED,
    CallCounter,
    EvaluationReport,
    evaluate,
    run_settings,
    select_examples,
)
from hyperalign_dspy.judging import AuthorshipJudging
from hyperalign_dspy.pairwise import WinRate
from hyperalign_dspy.program import HyPerAlign
from hyperalign_dspy.program_files import save_program
from hyperalign_dspy.recipe import Recipe, build_teleprompter, load_recipe
from hyperalign_dspy.suite import EvalSuite, load_suite

VALIDATION_SHARE = 1 / 3


class CompileResult(BaseModel):
    program_path: str
    recipe: str
    train_authors: list[str]
    validation_authors: list[str]
    judge_accuracy: float | None
    judge_ci_low: float | None
    judge_ci_high: float | None
    validation: EvaluationReport
    lm_calls: int
    train_lm_calls: int  # calibration and the teleprompter's own calls
    metric_failures: int
    wall_seconds: float
    mlflow_run_id: str


def split_authors(authors: list[str], seed: int, validation_share: float = VALIDATION_SHARE) -> tuple[list[str], list[str]]:
    """Disjoint training and validation authors, drawn with `seed`; at least one of each."""
    authors = sorted(set(authors))
    if len(authors) < 2:
        raise HyperAlignError(f"compiling needs at least 2 authors (training and validation); the data has {len(authors)}")
    shuffled = list(np.random.default_rng(seed).permutation(authors))
    count = min(len(authors) - 1, max(1, round(len(authors) * validation_share)))
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
    limit: int | None = None,
    threads: int | None = None,
    force: bool = False,
    experiment: str = "hyperalign",
    progress: Callable[[str], None] = lambda message: None,
) -> CompileResult:
    """Compile HyPerAlign with `recipe` on `suite`'s training authors and write it to `out`
    (plus `out`'s `.meta.json`). `limit` caps the training and the validation prompts each."""
    import mlflow

    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    suite = suite if isinstance(suite, EvalSuite) else load_suite(suite)
    out = Path(out)
    if out.suffix != ".json":
        raise HyperAlignError(f"--out {out}: a program file ends in .json")
    task_lm, adapter, threads = run_settings(lm, adapter, limit, threads)

    if suite.task != "authorship":
        raise HyperAlignError(f"compiling the {suite.task} task is not supported yet; use an authorship suite")
    examples = load_authors(suite.data[0])
    train_authors, validation_authors = split_authors([e.author for e in examples], suite.seed)
    trainset = select_examples([e for e in examples if e.author in train_authors], limit, suite.seed)
    judging = AuthorshipJudging(examples, suite.judge, judge_lm or task_lm, judge_adapter)
    baseline = {"few-shot": FewShotInContext, "zero-shot": ZeroShot}[recipe.metric.baseline]()
    metric = AuthorshipMetric(
        judging, BaselineOutputs(baseline, task_lm, adapter),
        attribution=AuthorAttribution(judging.samples) if recipe.metric.attribution else None,
        feedback=recipe.teleprompter == "GEPA",
    )

    mlflow.set_experiment(experiment)
    started = time.perf_counter()
    run = mlflow.start_run(run_name=f"compile {recipe.name}")
    status = "FAILED"
    try:
        mlflow.set_tags({"kind": "compile", "recipe": recipe.name, "suite": suite.name, "lm": task_lm.model,
                         "judge_lm": judging.lm.model})
        mlflow.log_params({
            "recipe": recipe.name, "teleprompter": recipe.teleprompter, "metric.baseline": recipe.metric.baseline,
            "metric.attribution": recipe.metric.attribution, "suite": suite.name, "task_lm": task_lm.model,
            "task_api_base": task_lm.kwargs.get("api_base") or "", "judge_lm": judging.lm.model,
            "judge_kind": judging.kind, "train_authors": ",".join(train_authors),
            "validation_authors": ",".join(validation_authors), "train_examples": len(trainset),
            "limit": limit or "", "threads": threads, "seed": suite.seed, "dspy_version": dspy.__version__,
            **{f"recipe.{key}": value for key, value in recipe.arguments.items()},
            **{f"recipe.compile.{key}": value for key, value in recipe.compile_arguments.items()},
        })
        counter = CallCounter(task_lm, judging.lm)
        mlflow.dspy.autolog(log_compiles=True, log_evals=True, log_traces_from_compile=False, silent=True)
        with dspy.context(lm=task_lm, adapter=adapter):
            progress(f"calibrating the {judging.kind} judge on {len(trainset)} training prompts")
            calibration = WinRate.of("real text", "impostor", dspy.Parallel(num_threads=threads)(
                [(judging.calibrate, (example, index)) for index, example in enumerate(trainset)]), suite.seed)
            mlflow.log_metrics({f"train_judge_{key}": value for key, value in
                                {"accuracy": calibration.win_rate, "ci_low": calibration.ci_low,
                                 "ci_high": calibration.ci_high}.items() if value is not None})
            if not (calibration.ci_low is not None and calibration.ci_low > 0.5) and not force:
                raise HyperAlignError(
                    f"the {judging.kind} judge cannot tell the training authors apart (accuracy "
                    f"{_share(calibration.win_rate)}, 95% CI [{_share(calibration.ci_low)}, {_share(calibration.ci_high)}], "
                    f"{calibration.failures} failures): compiling against it would optimize noise; --force compiles anyway"
                )
            teleprompter = build_teleprompter(recipe, metric, task_lm, threads)  # some read DSPy's LM here
            progress(f"compiling with {recipe.teleprompter} on {len(trainset)} prompts of {len(train_authors)} authors")
            compiled = teleprompter.compile(HyPerAlign(), trainset=trainset, **recipe.compile_arguments)
        mlflow.dspy.autolog(disable=True, silent=True)
        train_calls = counter.totals()["calls"] + judging.scoring_calls

        progress(f"validating on {len(validation_authors)} held-out authors")
        validation = evaluate(
            suite, lm=task_lm, adapter=adapter, judge_lm=judge_lm or task_lm, judge_adapter=judge_adapter,
            program=compiled, authors=validation_authors, limit=limit, threads=threads, experiment=experiment,
            progress=progress,
        )
        wall = round(time.perf_counter() - started, 1)
        lm_calls = train_calls + validation.lm_calls
        metadata = {
            "recipe": recipe.model_dump(mode="json"), "suite": suite.name,
            "data_sha256": hashlib.sha256(Path(suite.data[0]).read_bytes()).hexdigest(),
            "task_lm": task_lm.model, "task_api_base": task_lm.kwargs.get("api_base"),
            "judge_lm": judging.lm.model, "judge_kind": judging.kind,
            "split": {"seed": suite.seed, "train_authors": train_authors, "validation_authors": validation_authors,
                      "train_examples": len(trainset), "validation_examples": validation.examples},
            "train_judge": {"accuracy": calibration.win_rate, "ci_low": calibration.ci_low, "ci_high": calibration.ci_high},
            "validation": {"judge_accuracy": validation.judge_accuracy, "judge_ci_low": validation.judge_ci_low,
                           "judge_ci_high": validation.judge_ci_high,
                           "comparisons": [c.model_dump() for c in validation.comparisons],
                           "attribution": validation.attribution, "mlflow_run_id": validation.mlflow_run_id},
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
        mlflow.log_artifact(str(out.with_name(f"{out.stem}.meta.json")), artifact_path="program")
        status = "FINISHED"
        return CompileResult(
            program_path=str(out), recipe=recipe.name, train_authors=train_authors,
            validation_authors=validation_authors, judge_accuracy=calibration.win_rate,
            judge_ci_low=calibration.ci_low, judge_ci_high=calibration.ci_high, validation=validation,
            lm_calls=lm_calls, train_lm_calls=train_calls, metric_failures=metric.failures, wall_seconds=wall, mlflow_run_id=run.info.run_id,
        )
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        mlflow.dspy.autolog(disable=True, silent=True)
        while mlflow.active_run() is not None and mlflow.active_run().info.run_id != run.info.run_id:
            mlflow.end_run(status=status)  # a nested run the interruption left open
        mlflow.end_run(status=status)


def _share(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"
