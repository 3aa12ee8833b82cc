"""MLflow's UI as a researcher sees it: open the tracking server's UI in headless Chromium on an
experiment's latest eval and compile runs, save screenshots of the Evaluation runs view, of one
judged prompt's trace with its assessments and of the compile run, and check that the win-rate
metrics, the dataset, a verdict's reason and the servable program are on the pages.

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 .venv/bin/python evals/mlflow_ui_check.py \
        --experiment hyperalign --out docs/screenshots

Needs Debian's Chromium (`apt-get install chromium`) and Playwright (the `test` extra), which
drives it without downloading a browser of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# A fresh profile each time, and nothing that reaches beyond loopback.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The UI's assistant panel and its "detect issues" hint open by themselves and cover the page.
QUIET_UI = """
localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');
localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');
localStorage.setItem('mlflow.detectIssues.guidanceShown_v1', 'true');
"""
WAIT_MS = 60_000


class UICheckFailed(Exception):
    pass


@dataclass
class Runs:
    """What the pages are checked against, read from the tracking server."""

    experiment_id: str
    eval_run_id: str
    eval_run_name: str
    win_rate_metric: str
    dataset: str
    trace_id: str
    verdict_reason: str
    judge: str
    compile_run_id: str
    compile_run_name: str


def latest_runs(experiment: str) -> Runs:
    """The experiment's latest finished top-level eval run (and one of its judged prompts whose
    verdict has a reason) and latest finished compile run."""
    import mlflow

    found = mlflow.get_experiment_by_name(experiment)
    if found is None:
        raise UICheckFailed(f"no experiment '{experiment}' at {mlflow.get_tracking_uri()}")

    def latest(kind: str):
        runs = mlflow.search_runs([found.experiment_id], filter_string=f"tags.kind = '{kind}' and status = 'FINISHED'",
                                  order_by=["start_time DESC"], output_format="list")
        runs = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
        if not runs:
            raise UICheckFailed(f"experiment '{experiment}' has no finished {kind} run")
        return runs[0]

    evaluation, compiled = latest("eval"), latest("compile")
    metric = next((name for name in sorted(evaluation.data.metrics) if name.endswith(".win_rate")), None)
    if metric is None:
        raise UICheckFailed(f"eval run {evaluation.info.run_id} has no win-rate metric")
    traces = mlflow.search_traces(locations=[found.experiment_id], run_id=evaluation.info.run_id, return_type="list")
    judged = [(trace, assessment) for trace in traces for assessment in trace.info.assessments
              if assessment.name != "calibration" and assessment.rationale]
    if not judged:
        raise UICheckFailed(f"eval run {evaluation.info.run_id} has no judged prompt with a verdict's reason")
    trace, verdict = judged[0]
    return Runs(
        experiment_id=found.experiment_id, eval_run_id=evaluation.info.run_id, eval_run_name=evaluation.info.run_name,
        win_rate_metric=metric, dataset=evaluation.inputs.dataset_inputs[0].dataset.name,
        trace_id=trace.info.trace_id, verdict_reason=verdict.rationale, judge=verdict.source.source_id,
        compile_run_id=compiled.info.run_id, compile_run_name=compiled.info.run_name,
    )


def excerpt(text: str, words: int = 8) -> str:
    """A stretch of a long text that the page shows whole (its first words)."""
    return " ".join(text.split()[:words])


def check_ui(base_url: str, runs: Runs, out: Path, wait_ms: int = WAIT_MS) -> dict[str, Path]:
    """Open the pages, check them, and save their screenshots into `out`; returns them by name.
    A page gets `wait_ms` to show each thing looked for."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    base = f"{base_url.rstrip('/')}/#/experiments/{runs.experiment_id}"
    shots: dict[str, Path] = {}

    def require(page, texts: list[str], where: str) -> None:
        """Wait for each text to show (the UI fills its tables piece by piece)."""
        for text in texts:
            try:
                page.get_by_text(text).first.wait_for(timeout=wait_ms)
            except PlaywrightError:
                raise UICheckFailed(f"{where}: not on the page after {wait_ms / 1000:.0f} s: {text!r}") from None

    def shot(page, name: str) -> None:
        page.wait_for_timeout(1000)  # charts and lazy cells settle
        shots[name] = out / f"{name}.png"
        page.screenshot(path=str(shots[name]), full_page=True)

    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1920, "height": 1080})
        try:
            browser.add_init_script(QUIET_UI)
            page = browser.new_page()
            page.set_default_timeout(wait_ms)

            # The Evaluation runs view: the eval run, its dataset and its win-rate columns.
            page.goto(f"{base}/evaluation-runs?workflowType=genai")
            require(page, [runs.eval_run_name, runs.win_rate_metric, runs.dataset], "Evaluation runs view")
            shot(page, "mlflow-evaluation-runs")

            # One judged prompt's trace, its assessments pane open and each verdict expanded.
            page.goto(f"{base}/traces/{runs.trace_id}?workflowType=genai")
            toggle = page.locator('[data-component-id="shared.model-trace-explorer.assessments-pane-toggle"]')
            toggle.wait_for()
            feedback_heading = page.get_by_text(re.compile(r"^Feedback \(\d+\)$")).first
            if not feedback_heading.is_visible():
                toggle.click()
            feedback_heading.wait_for()
            for button in page.locator('[data-component-id="shared.model-trace-explorer.toggle-assessment-expanded"]').all():
                button.click()
            require(page, [excerpt(runs.verdict_reason), runs.judge], "trace assessments")
            shot(page, "mlflow-trace-assessments")

            # The compile run: its validation win-rates and the servable program it logged.
            page.goto(f"{base}/runs/{runs.compile_run_id}")
            require(page, ["validation.vs_uncompiled.win_rate", "servable_program"], "compile run")
            shot(page, "mlflow-compile-run")
        except PlaywrightError as exc:
            raise UICheckFailed(f"the MLflow UI did not show what was expected: {str(exc).splitlines()[0]}") from None
        finally:
            browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="hyperalign", help="the MLflow experiment (default: hyperalign)")
    parser.add_argument("--out", default="docs/screenshots", help="where the screenshots go (default: docs/screenshots)")
    args = parser.parse_args(argv)
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith("http"):
        print("mlflow_ui_check: set MLFLOW_TRACKING_URI to a tracking server's http:// address "
              "(`hyperalign tracking-server` starts one)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        runs = latest_runs(args.experiment)
        shots = check_ui(uri, runs, Path(args.out))
    except UICheckFailed as exc:
        print(f"mlflow_ui_check: {exc}", file=sys.stderr)
        return 1
    print(f"eval run {runs.eval_run_id}: {runs.win_rate_metric} and dataset '{runs.dataset}' shown; "
          f"trace {runs.trace_id}: the verdict's reason and its judge ({runs.judge}) shown; "
          f"compile run {runs.compile_run_id}: validation win-rate and servable program shown "
          f"({time.perf_counter() - started:.0f} s)")
    for path in shots.values():
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
