"""MLflow records of evaluations: params, metrics, the per-example table, a win-rate chart; and
for MLflow's GenAI views the prompts as the run's dataset and one trace per prompt, on which each
of the judge's pairwise verdicts is an assessment (source: the LLM judge; value: the outcome;
rationale: the judge's reasons in both orders), logged as soon as the prompt is judged."""

from __future__ import annotations

import warnings

import mlflow
import pandas as pd
from mlflow.entities import AssessmentSource, SpanType

from hyperalign_dspy.evaluation.report import metric_name


def win_rate_chart(report):
    """Bars of each comparison's win-rate and of the judge's calibration accuracy, CI whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"judge calibration\n({report.calibration})"]
    values = [report.judge_accuracy]
    lows, highs = [report.judge_ci_low], [report.judge_ci_high]
    for comparison in report.comparisons:
        labels.append(f"{comparison.system}\nvs {comparison.baseline}")
        values.append(comparison.win_rate)
        lows.append(comparison.ci_low)
        highs.append(comparison.ci_high)
    shown = [value if value is not None else 0.0 for value in values]
    below = [value - low if low is not None else 0.0 for value, low in zip(shown, lows)]
    above = [high - value if high is not None else 0.0 for value, high in zip(shown, highs)]
    figure, axes = plt.subplots(figsize=(1.8 + 1.9 * len(labels), 4))
    colors = ["tab:gray"] + ["tab:blue"] * (len(labels) - 1)
    axes.bar(range(len(labels)), shown, yerr=[below, above], capsize=6, color=colors)
    axes.axhline(0.5, color="black", linestyle="--", linewidth=1)
    axes.set_xticks(range(len(labels)), labels, fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("win-rate / accuracy (95% CI)")
    axes.set_title(f"{report.suite}: {report.judge_kind} judge, {report.examples} prompts", fontsize=10)
    figure.tight_layout()
    return figure


def judge_source(task) -> AssessmentSource:
    """The judge of a task's evaluation (`TaskEvaluation`), as the source of its assessments."""
    return AssessmentSource(source_type="LLM_JUDGE", source_id=f"{task.judge_kind} judge on {task.judge_lm.model}")


def log_judged_prompt(judged, judge: AssessmentSource, run_id: str) -> None:
    """One prompt as a trace of the run `run_id` (its outputs), with the judge's verdicts as
    assessments. Logged on the open trace, they are stored with it, in the background (MLflow's
    trace queue), while the evaluation goes on: each trace costs the store about 0.1 s."""
    with mlflow.start_span(name="judged prompt", span_type=SpanType.EVALUATOR) as span:
        span.set_inputs({"person": judged.person, "prompt": judged.prompt})
        span.set_outputs(judged.outputs)
        for label, judgment in judged.judgments.items():
            if judgment.outcome == "none":  # a prompt without a calibration pair
                continue
            said = judged.described(judgment)
            rationale = "; ".join(part for part in (f"verdicts (both orders): {said['verdicts']}" if said["verdicts"] else "",
                                                    said["reasons"], said["note"]) if part)
            mlflow.log_feedback(trace_id=span.trace_id, name=label, value=judgment.outcome,
                                rationale=rationale or None, source=judge,
                                metadata={"mlflow.assessment.sourceRunId": run_id})


def log_judged_prompts(report, suite_data: list[str]) -> None:
    """The prompts as the run's evaluation dataset; their traces, logged as each prompt was judged
    (`log_judged_prompt`), stored before the run ends."""
    prompts = pd.DataFrame([{"person": judged.person, "prompt": judged.prompt} for judged in report.judged_prompts])
    with warnings.catch_warnings():
        # MLflow registers its local-file source for two URI schemes and warns that a path matches
        # both, then takes the local-file source: the warning says nothing to a user.
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted in multiple ways")
        dataset = mlflow.data.from_pandas(prompts, source=",".join(suite_data), name=report.suite)
    mlflow.log_input(dataset, context="evaluation")
    mlflow.flush_trace_async_logging()


def log_evaluation(report, params: dict, suite_data: list[str] = ()) -> None:
    """Log an evaluation into the active MLflow run."""
    import matplotlib.pyplot as plt

    mlflow.log_params({key: str(value)[:6000] for key, value in params.items()})
    # The win-rates first: MLflow's Evaluation runs view shows the metrics in the order logged.
    prefixes = [(metric_name(f"{c.system}_vs_{c.baseline}"), c) for c in report.comparisons]
    metrics = {f"{prefix}.win_rate": comparison.win_rate for prefix, comparison in prefixes}
    metrics |= {
        "judge_accuracy": report.judge_accuracy, "judge_ci_low": report.judge_ci_low,
        "judge_ci_high": report.judge_ci_high, "judge_calibration_failures": report.judge_calibration_failures,
        "lm_calls": report.lm_calls, "prompt_tokens": report.prompt_tokens,
        "completion_tokens": report.completion_tokens, "wall_seconds": report.wall_seconds,
        "examples": report.examples,
    }
    for prefix, comparison in prefixes:
        for key in ("ci_low", "ci_high", "wins", "ties", "losses", "failures", "copies", "n"):
            metrics[f"{prefix}.{key}"] = getattr(comparison, key)
    metrics.update(report.task_metrics())
    for system, summary in report.hypothesis_kinds().items():
        for key, value in summary.items():
            metrics[f"hypotheses.{metric_name(system)}.{key}"] = value
    for system, rates in report.injection.items():
        for key in ("n", "obeyed", "leaked", "failures"):
            metrics[f"injection.{metric_name(system)}.{key}"] = getattr(rates, key)
    for system, failures in report.system_failures.items():
        metrics[f"failures.{metric_name(system)}"] = failures
    for cost in report.costs:
        for key in ("calls_per_answer", "seconds_per_answer", "calls_per_profile", "seconds_per_profile"):
            metrics[f"cost.{metric_name(cost.system)}.{key}"] = getattr(cost, key)
    mlflow.log_metrics({key: float(value) for key, value in metrics.items() if value is not None})
    mlflow.set_tag("judge_can_tell_authors_apart", str(report.judge_can_tell_authors_apart).lower())
    rows = [judged.row() for judged in report.judged_prompts]
    if rows:
        columns = {key: [row.get(key, "") for row in rows] for key in rows[0]}
        mlflow.log_table(columns, artifact_file="examples.json")
    mlflow.log_dict(report.model_dump(mode="json"), "report.json")
    if report.profiles:
        mlflow.log_dict([profile.model_dump(mode="json") for profile in report.profiles], "profiles.json")
    figure = win_rate_chart(report)
    mlflow.log_figure(figure, "win_rates.png")
    plt.close(figure)
    if report.judged_prompts:
        log_judged_prompts(report, list(suite_data))
