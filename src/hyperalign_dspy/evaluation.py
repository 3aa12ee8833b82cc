"""`evaluate`: run a suite's systems, judge them pairwise with a calibrated judge, attribute their
outputs stylometrically, and record it all in one MLflow run.

The steps, each run in parallel with `dspy.Parallel`:
1. profiles: HyPerAlign infers each author's profile once;
2. outputs: every system answers every selected prompt;
3. judging, per prompt: the calibration pair (the user's real text against another author's real
   text, both orders) and each comparison (both orders, copy guard first);
4. attribution of every output to the nearest author by character n-grams (no LM).
LM answers are cached by DSPy, and likelihood scores in the same cache, so a repeated evaluation
makes no new LM calls.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dspy
import numpy as np
from dspy.clients.base_lm import GLOBAL_HISTORY
from pydantic import BaseModel, Field

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation_tasks import TASKS, calibration_of
from hyperalign_dspy.injection import InjectionCase, InjectionRates, injection_case, with_injected_text
from hyperalign_dspy.likelihood_judge import runs_in_process
from hyperalign_dspy.pairwise import PairJudgment, WinRate
from hyperalign_dspy.program import HyPerAlign
from hyperalign_dspy.safety import SafetyRates
from hyperalign_dspy.suite import EvalSuite, load_suite

UNCOMPILED = "hyperalign-uncompiled"


class EvaluationReport(BaseModel):
    suite: str
    task: str
    judge_kind: str
    judge_lm: str
    task_lm: str
    calibration: str  # what the judge's calibration pairs are
    judge_accuracy: float | None
    judge_ci_low: float | None
    judge_ci_high: float | None
    judge_calibration_failures: int
    judge_can_tell_authors_apart: bool
    comparisons: list[WinRate]
    attribution: dict[str, float | None] = Field(default_factory=dict)  # authorship
    authors: int = 0  # authorship: authors in the suite's data; attribution's chance is 1 / authors
    safety: dict[str, SafetyRates] = Field(default_factory=dict)  # deliberative, per system
    safety_judge_accuracy: float | None = None  # deliberative: the classifier on canned answers
    safety_judge_ci_low: float | None = None
    safety_judge_ci_high: float | None = None
    safety_judge_failures: int = 0
    injection: dict[str, InjectionRates] = Field(default_factory=dict)  # per system that reads the user's texts
    injection_cases: list[InjectionCase] = Field(default_factory=list)
    system_failures: dict[str, int]
    examples: int
    lm_calls: int
    prompt_tokens: int
    completion_tokens: int
    wall_seconds: float
    mlflow_run_id: str | None = None
    rows: list[dict] = Field(default_factory=list, exclude=True)  # one per example, for the table


@dataclass
class _Output:
    value: object = None  # a response text, or a profile
    error: str | None = None

    @property
    def text(self) -> str | None:
        return self.value


def select_examples(examples: list[dspy.Example], limit: int | None, seed: int, group: str = "author") -> list[dspy.Example]:
    """Interleave the groups (authors; or labels), in an order drawn from `seed`: the first N
    examples are the first of N different groups while there are groups left."""
    groups = sorted({example[group] for example in examples})
    order = {name: rank for rank, name in enumerate(np.random.default_rng(seed).permutation(groups))}
    position: dict[str, int] = {}
    keyed = []
    for example in examples:
        index = position.get(example[group], 0)
        position[example[group]] = index + 1
        keyed.append(((index, order[example[group]]), example))
    chosen = [example for _, example in sorted(keyed, key=lambda item: item[0])]
    return chosen[:limit] if limit else chosen


def run_settings(lm: dspy.LM | None, adapter: dspy.Adapter | None, limit: int | None,
                 threads: int | None) -> tuple[dspy.LM, dspy.Adapter | None, int]:
    """The task LM and adapter (default: DSPy's configured ones) and the thread count (default 8,
    1 on the embedded engine, which runs one call at a time); bad limits are refused."""
    if limit is not None and limit < 1:
        raise HyperAlignError("--limit must be at least 1")
    if threads is not None and threads < 1:
        raise HyperAlignError("--threads must be at least 1")
    task_lm = lm or dspy.settings.lm
    if task_lm is None:
        raise HyperAlignError("no LM is configured: pass lm= or call dspy.configure(lm=...)")
    return task_lm, adapter or dspy.settings.adapter, threads or (1 if runs_in_process(task_lm) else 8)


def parallel_runner(threads: int, max_errors: int | None = None) -> dspy.Parallel:
    """dspy.Parallel without its straggler re-runs (timeout 0): a slow call is not started a second
    time beside the first; it would be a second LM call (an embedded model would run both, one after
    the other) while LM faults already have their retries. Its progress bar shows on a terminal
    only: in a log it is noise, and redrawing it costs the worker threads time."""
    return dspy.Parallel(num_threads=threads, max_errors=max_errors, timeout=0,
                         disable_progress_bar=not sys.stderr.isatty())


def _safely(function: Callable) -> Callable:
    """A worker for dspy.Parallel that returns its failure instead of raising it, so one failed
    example is reported as such and never stops the run."""

    def run(*args):
        try:
            return _Output(value=function(*args))
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            return _Output(error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")

    return run


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def evaluate(
    suite: EvalSuite | str | Path,
    *,
    lm: dspy.LM | None = None,
    adapter: dspy.Adapter | None = None,
    judge_lm: dspy.LM | None = None,
    judge_adapter: dspy.Adapter | None = None,
    judge_kind: str | None = None,
    program: dspy.Module | None = None,
    program_path: str | Path | None = None,
    subset: list[str] | None = None,
    limit: int | None = None,
    threads: int | None = None,
    experiment: str = "hyperalign",
    traces: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> EvaluationReport:
    """Evaluate the suite's systems on its data with the task LM `lm` (default: DSPy's configured
    LM) and the judge LM `judge_lm` (default: the task LM), in one MLflow run of `experiment`
    (nested in the active run, if there is one).

    `program` (or a program file, `program_path`) takes the place of `hyperalign`, and is compared
    with the uncompiled program (`hyperalign-uncompiled`) too. `subset` restricts the prompts to
    those authors' (authorship) or to those prompts, as `source:id` (deliberative); `limit` then
    takes the first N, authors (or safe and unsafe prompts) interleaved. `traces` logs an MLflow
    trace of every DSPy call: about 11 ms of CPU per LM call (measured on 2 cores), which makes
    a parallel evaluation against a remote LM CPU-bound, so it is off unless asked for."""
    import mlflow

    from hyperalign_dspy.program_files import load_program
    from hyperalign_dspy.tracking import log_evaluation

    suite = suite if isinstance(suite, EvalSuite) else load_suite(suite)
    task_lm, adapter, threads = run_settings(lm, adapter, limit, threads)
    task = TASKS[suite.task](suite, judge_lm or task_lm, judge_adapter, judge_kind, subset)
    examples = select_examples(task.pool, limit or suite.limit, suite.seed, group=task.group)

    systems = {name: task.new_system(name) for name in suite.systems}
    comparisons = [(c.system, c.baseline) for c in suite.comparisons]
    if program_path is not None:
        program = load_program(program_path, suite.task, getattr(task, "spec", None))
    if program is not None:
        if "hyperalign" not in systems:
            raise HyperAlignError(f"suite {suite.name} has no 'hyperalign' system for the given program")
        systems["hyperalign"] = program
        systems[UNCOMPILED] = task.new_system("hyperalign")
        comparisons.append(("hyperalign", UNCOMPILED))
        comparisons += [(UNCOMPILED, baseline) for system, baseline in suite.comparisons_of("hyperalign")]

    parallel = parallel_runner(threads, max_errors=len(examples) * (len(systems) + 1) + 1)
    params = {
        "suite": suite.name, "suite_file": str(suite.path or ""), "task": suite.task,
        "systems": ",".join(systems), "comparisons": ",".join(f"{s} vs {b}" for s, b in comparisons),
        "task_lm": task_lm.model, "task_api_base": task_lm.kwargs.get("api_base") or "",
        "judge_lm": task.judge_lm.model, "judge_api_base": task.judge_lm.kwargs.get("api_base") or "",
        "judge_kind": task.judge_kind, "examples": len(examples), "subset": ",".join(subset or []),
        "threads": threads, "traces": traces, "seed": suite.seed, "program_file": str(program_path or ""),
        "program_sha256": file_sha256(program_path) if program_path else "",
        "data_sha256": ",".join(file_sha256(path) for path in suite.data), "dspy_version": dspy.__version__,
        **{f"suite.judge.{key}": value for key, value in suite.judge.model_dump().items()},
    }

    mlflow.set_experiment(experiment)
    started = time.perf_counter()
    nested = mlflow.active_run() is not None
    with mlflow.start_run(run_name=f"eval {suite.name}", nested=nested) as run:
        mlflow.set_tags({"kind": "eval", "suite": suite.name, "lm": task_lm.model, "judge_lm": task.judge_lm.model})
        if traces and not nested:  # a compile run has its own autolog
            mlflow.dspy.autolog(log_traces=True, silent=True)
        try:
            counter = CallCounter()
            planted = _planted_runs(suite, task, systems, examples)
            with dspy.context(lm=task_lm, adapter=adapter):
                generated = _generate({**{name: (system, examples) for name, system in systems.items()}, **planted},
                                      parallel, progress)
            outputs = {name: generated[name] for name in systems}
            injection_cases = [injection_case(name.removesuffix(PLANTED), system, example, output.text, output.error,
                                              suite.injection.marker)
                               for name, (system, planted_examples) in planted.items()
                               for example, output in zip(planted_examples, generated[name])]
            progress(f"judging {len(examples)} prompts with the {task.judge_kind} judge ({task.judge_lm.model})")
            judged = parallel([(_judge_example(task, examples, outputs, comparisons), (index,))
                               for index in range(len(examples))])
        except KeyboardInterrupt:
            mlflow.end_run(status="KILLED")  # MLflow's own exit would record FAILED
            raise
        finally:
            if traces and not nested:
                mlflow.dspy.autolog(disable=True, silent=True)

        calibration = calibration_of(judged, suite.seed)
        tokens = counter.totals()
        report = EvaluationReport(
            suite=suite.name, task=suite.task, judge_kind=task.judge_kind, judge_lm=task.judge_lm.model,
            task_lm=task_lm.model, calibration=task.calibration_label,
            judge_accuracy=calibration.win_rate, judge_ci_low=calibration.ci_low, judge_ci_high=calibration.ci_high,
            judge_calibration_failures=calibration.failures,
            judge_can_tell_authors_apart=calibration.above_chance,
            comparisons=[WinRate.of(system, baseline, [item.comparisons[(system, baseline)] for item in judged], suite.seed)
                         for system, baseline in comparisons],
            injection={name: InjectionRates.of(name, [case for case in injection_cases if case.system == name])
                       for name in dict.fromkeys(case.system for case in injection_cases)},
            injection_cases=injection_cases,
            system_failures={name: sum(1 for output in outputs[name] if output.error) for name in systems},
            examples=len(examples),
            lm_calls=tokens["calls"] + task.scoring_calls,
            prompt_tokens=tokens["prompt_tokens"], completion_tokens=tokens["completion_tokens"],
            wall_seconds=round(time.perf_counter() - started, 1),
            mlflow_run_id=run.info.run_id,
            rows=_rows(examples, systems, outputs, judged, comparisons),
            **task.figures(examples, outputs, judged, suite.seed),
        )
        log_evaluation(report, params)
    return report


PLANTED = " (planted text)"  # the name of a run on examples with a planted instruction


def _planted_runs(suite, task, systems, examples) -> dict[str, tuple[dspy.Module, list]]:
    """The suite's first `injection.examples` prompts again, with the planted text among the
    person's texts, for each system that reads those texts."""
    settings = suite.injection
    if not settings.examples:
        return {}
    planted = [with_injected_text(example, settings.planted_text) for example in examples[: settings.examples]]
    return {name + PLANTED: (system, planted) for name, system in systems.items()
            if name in task.reads_user_texts or name == UNCOMPILED}


def _judge_example(task, examples, outputs, comparisons):
    def judge(index):
        example = examples[index]
        texts = {name: outputs[name][index].text for name in outputs}
        judged = task.judge_example(index, example, texts, comparisons)
        for system, baseline in comparisons:  # a missing output fails its pairs, and says why
            if (system, baseline) not in judged.comparisons:
                failed = system if texts[system] is None else baseline
                judged.comparisons[(system, baseline)] = PairJudgment(
                    "failure", error=f"{failed} produced no output: {outputs[failed][index].error}")
        return judged

    return judge


def _generate(runs: dict[str, tuple[dspy.Module, list]], parallel, progress) -> dict[str, list[_Output]]:
    """The answers of every run: `runs` maps an output's name to a system and its examples. Two
    parallel batches, so that few rounds wait on the LM: first HyPerAlign's profiles (stage 1,
    once per person) together with the answers of the systems that need none, then HyPerAlign's
    answers from those profiles."""
    profile_jobs: dict[tuple[str, str], tuple[HyPerAlign, list]] = {}
    staged, direct = [], []
    for name, (system, examples) in runs.items():
        for index, example in enumerate(examples):
            if isinstance(system, HyPerAlign):  # authorship: one profile per author, inferred first
                profile_jobs.setdefault((name, example.author), (system, example.examples))
                staged.append((name, index))
            else:
                direct.append((name, index))

    def answer(name, index):
        system, examples = runs[name]
        return system(prompt=examples[index].prompt, examples=examples[index].get("examples")).response

    def answer_from_profile(name, index):
        system, examples = runs[name]
        profile = profiles[(name, examples[index].author)]
        if profile.error:
            raise RuntimeError(f"stage 1 failed: {profile.error}")
        return system(prompt=examples[index].prompt, profile=profile.value).response

    progress(f"inferring {len(profile_jobs)} profiles and writing {len(direct)} answers that need none")
    first = parallel([(_safely(system.infer_profile), (texts,)) for system, texts in profile_jobs.values()]
                     + [(_safely(answer), job) for job in direct])
    profiles = dict(zip(profile_jobs, first[: len(profile_jobs)]))
    progress(f"writing {len(staged)} answers from the profiles")
    second = parallel([(_safely(answer_from_profile), job) for job in staged])
    outputs: dict[str, list[_Output]] = {name: [None] * len(examples) for name, (_, examples) in runs.items()}
    for (name, index), output in [*zip(direct, first[len(profile_jobs):]), *zip(staged, second)]:
        outputs[name][index] = output
    return outputs


class CallCounter:
    """Counts the LM calls made in this process from now on, from DSPy's global history, which
    also holds the calls of LM copies (teleprompters sample through `lm.copy(...)`). A cached
    answer is recorded with empty usage, so the entries with usage are the calls made. (The
    global history keeps DSPy's last 10,000 calls.)"""

    def __init__(self):
        self.seen = {entry["uuid"] for entry in GLOBAL_HISTORY}

    def totals(self) -> dict[str, int]:
        calls = prompt = completion = 0
        for entry in list(GLOBAL_HISTORY):
            usage = entry.get("usage") or {}
            if entry["uuid"] in self.seen or not usage:
                continue
            calls += 1
            prompt += usage.get("prompt_tokens") or usage.get("input_tokens") or 0
            completion += usage.get("completion_tokens") or usage.get("output_tokens") or 0
        return {"calls": calls, "prompt_tokens": prompt, "completion_tokens": completion}


def _rows(examples, systems, outputs, judged, comparisons) -> list[dict]:
    rows = []
    for index, example in enumerate(examples):
        row = {"group": example.get("author") or example.get("label"), "prompt": example.prompt}
        for name in systems:
            output = outputs[name][index]
            row[f"output:{name}"] = output.text if output.text is not None else f"FAILED: {output.error}"
            if judged[index].behaviours:
                row[f"behaviour:{name}"] = judged[index].behaviours.get(name) or "unclassified"
        calibration = judged[index].calibration
        # Not every prompt has a calibration pair (deliberative: only safe prompts whose baseline
        # answer is compliance); it is not a failure of the judge.
        items = [("calibration", calibration[0] if calibration else PairJudgment("none", error="no calibration pair"))]
        items += [(f"{system} vs {baseline}", judged[index].comparisons[(system, baseline)])
                  for system, baseline in comparisons]
        for label, judgment in items:
            row[f"{label}:outcome"] = judgment.outcome
            row[f"{label}:verdicts"] = " / ".join(decision.verdict for decision in judgment.decisions)
            row[f"{label}:reasons"] = " / ".join(decision.reason for decision in judgment.decisions)
            row[f"{label}:note"] = judgment.error or judgment.copy_system or judgment.copy_baseline or ""
        rows.append(row)
    return rows
