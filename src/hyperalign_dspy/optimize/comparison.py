"""`compare_runs`: the compile runs of an MLflow experiment, best first, and a chart of them."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from hyperalign_dspy.core.files import check_writable_folder
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.tracking.store import check_experiment, prepare_store


class CompileRunSummary(BaseModel):
    run_id: str
    recipe: str
    lm: str
    suite: str
    vs_uncompiled: float | None
    vs_uncompiled_ci_low: float | None
    vs_uncompiled_ci_high: float | None
    vs_baseline: dict[str, float]  # baseline -> the compiled program's validation win-rate
    lm_calls: int | None
    minutes: float | None
    started: int


def compare_runs(experiment: str = "hyperalign") -> list[CompileRunSummary]:
    import mlflow

    check_experiment(experiment)
    prepare_store()
    if mlflow.get_experiment_by_name(experiment) is None:
        raise HyperAlignError(f"no MLflow experiment '{experiment}' in {mlflow.get_tracking_uri()}")
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list",
                              filter_string="tags.kind = 'compile' and attributes.status = 'FINISHED'")
    summaries = []
    for run in runs:
        metrics, tags = run.data.metrics, run.data.tags
        prefix = "validation.hyperalign_vs_"
        summaries.append(CompileRunSummary(
            run_id=run.info.run_id, recipe=tags.get("recipe", "?"), lm=tags.get("lm", "?"),
            suite=tags.get("suite", "?"),
            vs_uncompiled=metrics.get("validation.vs_uncompiled.win_rate"),
            vs_uncompiled_ci_low=metrics.get("validation.vs_uncompiled.ci_low"),
            vs_uncompiled_ci_high=metrics.get("validation.vs_uncompiled.ci_high"),
            vs_baseline={key[len(prefix):-len(".win_rate")]: value for key, value in metrics.items()
                         if key.startswith(prefix) and key.endswith(".win_rate")},
            lm_calls=int(metrics["lm_calls"]) if "lm_calls" in metrics else None,
            minutes=metrics.get("wall_minutes"), started=run.info.start_time,
        ))
    return sorted(summaries, key=lambda s: (s.vs_uncompiled is None, -(s.vs_uncompiled or 0), -s.started))


def check_chart_path(path: str | Path) -> Path:
    """`path` as a chart's file: a format matplotlib writes (by its suffix), in a folder it can write."""
    from matplotlib.figure import Figure

    path = Path(path)
    formats = Figure().canvas.get_supported_filetypes()
    if path.suffix.lower().lstrip(".") not in formats:
        raise HyperAlignError(f"--chart {path}: end the name in one of {', '.join('.' + name for name in sorted(formats))}")
    check_writable_folder(path.parent, f"--chart {path}")
    return path


def compare_chart(summaries: list[CompileRunSummary], path: str | Path, experiment: str) -> Path:
    """Bars of each run's validation win-rate against the uncompiled program, CI whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = check_chart_path(path)
    labels = [f"{s.recipe}\n{s.lm}\n{s.run_id[:8]}" for s in summaries]
    values = [s.vs_uncompiled or 0.0 for s in summaries]
    below = [v - s.vs_uncompiled_ci_low if s.vs_uncompiled_ci_low is not None else 0 for v, s in zip(values, summaries)]
    above = [s.vs_uncompiled_ci_high - v if s.vs_uncompiled_ci_high is not None else 0 for v, s in zip(values, summaries)]
    figure, axes = plt.subplots(figsize=(6, 1.2 + 0.7 * max(1, len(summaries))))
    axes.barh(range(len(summaries)), values, xerr=[below, above], capsize=5, color="tab:blue")
    axes.axvline(0.5, color="black", linestyle="--", linewidth=1)
    axes.set_yticks(range(len(summaries)), labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("validation win-rate vs the uncompiled program (95% CI)")
    axes.set_title(f"compile runs of experiment {experiment}", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
