"""`evaluate`: run a suite's systems, judge them pairwise with a calibrated judge, add the task's own
figures, and record it all in one MLflow run.

The steps, each run in parallel with `dspy.Parallel`:
1. profiles: each HyPerAlign program infers each person's profile once (where stage 1 reads only
   the person's texts; where it reads the prompt too, it runs with the answer);
2. outputs: every system answers every selected prompt;
3. judging, per prompt, by the task: the calibration pairs and each comparison (both orders);
4. the task's own figures (authorship: stylometric attribution; deliberative: safety rates).
LM answers are cached by DSPy, and likelihood scores in the same cache, so a repeated evaluation
makes no new LM calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dspy

from hyperalign_dspy.core.two_stage_program import TwoStageProgram
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation.injection import InjectionRates, injection_case, with_injected_text
from hyperalign_dspy.evaluation.judged import Judged
from hyperalign_dspy.evaluation.report import EvaluationReport, InferredProfile, JudgedPrompt, SystemCost
from hyperalign_dspy.evaluation.running import (
    CallCounter,
    Output,
    ParallelStages,
    check_counts,
    file_sha256,
    run_lms,
    run_settings,
    safely,
    select_examples,
)
from hyperalign_dspy.evaluation.suite import PROGRAM, EvalSuite, load_suite
from hyperalign_dspy.judges.pairwise import PairJudgment, WinRate
from hyperalign_dspy.lms.names import adapter_for
from hyperalign_dspy.lms.roles import LMConfig
from hyperalign_dspy.tracking.store import check_experiment, prepare_store, use_experiment

UNCOMPILED = "hyperalign-uncompiled"
PLANTED = " (planted text)"  # the name of a run on examples with a planted instruction


def evaluate(
    suite: EvalSuite | str | Path,
    *,
    lm: dspy.LM | None = None,
    adapter: dspy.Adapter | None = None,
    judge_lm: dspy.LM | None = None,
    judge_adapter: dspy.Adapter | None = None,
    judge_kind: str | None = None,
    lms: LMConfig | None = None,
    settings: ProgramSettings | None = None,
    program: dspy.Module | None = None,
    program_path: str | Path | None = None,
    subset: list[str] | None = None,
    limit: int | None = None,
    threads: int | None = None,
    experiment: str = "hyperalign",
    traces: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> EvaluationReport:
    """Evaluate the suite's systems on its data in one MLflow run of `experiment` (nested in the
    active run, if there is one). The LMs: `lm` (the task LM, which answers) and `judge_lm`, else
    those of `lms` (an `LMConfig`, whose `infer` LM, if set, runs the programs' stage 1), else the
    suite's `[lms]`; the task LM defaults to DSPy's configured one, the judge to the task LM.
    `settings`: the programs' knobs (default: the suite's `[program]` over the task's defaults).

    `program` (or a program file, `program_path`) takes the place of `hyperalign`, and is compared
    with the uncompiled program (`hyperalign-uncompiled`) too. `subset` restricts the prompts to
    those authors' (authorship) or to those prompts, as `source:id` (deliberative); `limit` then
    takes the first N, authors (or safe and unsafe prompts) interleaved. `traces` logs an MLflow
    trace of every DSPy call: about 11 ms of CPU per LM call (measured on 2 cores), which makes
    a parallel evaluation against a remote LM CPU-bound, so it is off unless asked for."""
    from hyperalign_dspy.evaluation.tracking import log_evaluation

    suite = suite if isinstance(suite, EvalSuite) else load_suite(suite)
    check_counts(limit, threads)
    check_experiment(experiment)
    plan = _plan(suite, run_lms(suite.lms, lms, lm, judge_lm), adapter, judge_adapter, judge_kind, settings, threads,
                 subset, limit)
    _add_program(plan, program, program_path)
    params = _params(plan, subset, traces, program_path)
    with _tracked_run(plan, experiment) as (run, nested, started):
        answered = _answer_and_judge(plan, progress, traces=traces and not nested, run_id=run.info.run_id)
        report = _report(plan, answered, run.info.run_id, started)
        log_evaluation(report, params, [str(path) for path in suite.data])
    return report


@dataclass
class _Plan:
    """What one evaluation runs: the suite, its task's side (`TaskEvaluation`), the LM of each role,
    the task LM's adapter, the threads, the selected examples, the systems and the comparisons."""

    suite: EvalSuite
    task: Any  # the task's `TaskEvaluation` of the suite (tasks/base.py, above this part)
    roles: LMConfig
    adapter: dspy.Adapter | None
    threads: int
    examples: list[dspy.Example]
    systems: dict[str, dspy.Module]
    comparisons: list[tuple[str, str]]

    @property
    def task_lm(self) -> dspy.LM:
        return self.roles.generate


@dataclass
class _Answered:
    """The systems' outputs per example, the planted-text cases, and each prompt's judgments, also
    as the report's judged prompts."""

    outputs: dict[str, list[Output]]
    injection_cases: list
    judged: list[Judged]
    prompts: list[JudgedPrompt]
    output_figures: dict  # the task's figures of the outputs alone
    calls: dict[str, int]  # the LM calls made, and their tokens
    costs: list[SystemCost]  # per system


def _plan(suite, roles, adapter, judge_adapter, judge_kind, settings, threads, subset, limit) -> _Plan:
    """The task's side of the suite with the run's LMs, the examples, and the suite's systems."""
    adapter, threads = run_settings(roles.generate, adapter, threads)
    judge_adapter = judge_adapter if judge_adapter is not None else adapter_for(roles.judge)
    task = suite.task_type.evaluation(suite, roles.judge, judge_adapter, judge_kind, subset,
                                      lms=LMConfig(infer=roles.infer), settings=settings)
    examples = select_examples(task.pool, limit or suite.limit, suite.seed, group=task.group)
    return _Plan(suite=suite, task=task, roles=roles, adapter=adapter, threads=threads, examples=examples,
                 systems={name: task.new_system(name) for name in suite.systems},
                 comparisons=[(c.system, c.baseline) for c in suite.comparisons])


def _add_program(plan: _Plan, program: dspy.Module | None, program_path: str | Path | None) -> None:
    """A given program (or program file) in the place of the suite's, beside the uncompiled one."""
    from hyperalign_dspy.program_files import load_program_for

    suite, task = plan.suite, plan.task
    if program_path is not None:
        program = load_program_for(task.task, program_path, task.task.suite_options(suite))
    if program is None:
        return
    if PROGRAM not in plan.systems:
        raise HyperAlignError(f"suite {suite.name} has no '{PROGRAM}' system for the given program")
    plan.systems[PROGRAM] = program
    plan.systems[UNCOMPILED] = task.new_system(PROGRAM)
    plan.comparisons.append((PROGRAM, UNCOMPILED))
    plan.comparisons += [(UNCOMPILED, baseline) for system, baseline in suite.comparisons_of(PROGRAM)]


def _params(plan: _Plan, subset, traces: bool, program_path) -> dict:
    """The run's MLflow params."""
    suite, task, task_lm = plan.suite, plan.task, plan.task_lm
    return {
        "suite": suite.name, "suite_file": str(suite.path or ""), "task": suite.task,
        "systems": ",".join(plan.systems), "comparisons": ",".join(f"{s} vs {b}" for s, b in plan.comparisons),
        **{f"variant.{name}": variant.model_dump_json(exclude_none=True) for name, variant in suite.variants.items()},
        "task_lm": task_lm.model, "task_api_base": task_lm.kwargs.get("api_base") or "",
        "infer_lm": (plan.roles.infer or task_lm).model,
        "judge_lm": task.judge_lm.model, "judge_api_base": task.judge_lm.kwargs.get("api_base") or "",
        "judge_kind": task.judge_kind, "examples": len(plan.examples), "subset": ",".join(subset or []),
        "threads": plan.threads, "traces": traces, "seed": suite.seed, "program_file": str(program_path or ""),
        "program_sha256": file_sha256(program_path) if program_path else "",
        "data_sha256": ",".join(file_sha256(path) for path in suite.data), "dspy_version": dspy.__version__,
        **{f"suite.judge.{key}": value for key, value in suite.judge.model_dump().items()},
        **task.settings.as_params(),
    }


@contextmanager
def _tracked_run(plan: _Plan, experiment: str):
    """The evaluation's MLflow run (nested in the active one, if any), whether it is nested, and
    when it started."""
    import mlflow

    prepare_store()
    use_experiment(experiment)
    started = time.perf_counter()
    nested = mlflow.active_run() is not None
    with mlflow.start_run(run_name=f"eval {plan.suite.name}", nested=nested) as run:
        mlflow.set_tags({"kind": "eval", "suite": plan.suite.name, "lm": plan.task_lm.model,
                         "judge_lm": plan.task.judge_lm.model})
        yield run, nested, started


def _answer_and_judge(plan: _Plan, progress: Callable[[str], None], traces: bool, run_id: str) -> _Answered:
    """Every system's answers (and the planted-text runs'), then each prompt judged and logged as a
    trace of the run `run_id` (while other prompts wait on the LM), with DSPy's traces logged if
    `traces`. An interrupt ends the MLflow run as KILLED (MLflow's own exit would record FAILED)."""
    import mlflow

    from hyperalign_dspy.evaluation.tracking import judge_source, log_judged_prompt

    examples, systems, task = plan.examples, plan.systems, plan.task
    parallel = ParallelStages(plan.threads, max_errors=len(examples) * (len(systems) + 1) + 1, progress=progress)
    if traces:
        mlflow.dspy.autolog(log_traces=True, silent=True)
    try:
        counter = CallCounter()
        planted = _planted_runs(plan.suite, task, systems, examples)
        with dspy.context(lm=plan.task_lm, adapter=plan.adapter):
            generated, profiles = _generate({**{name: (system, examples) for name, system in systems.items()},
                                             **planted}, parallel, task.group)
        outputs = {name: generated[name] for name in systems}
        costs = [SystemCost.of(name, outputs[name], [profile for (owner, _), profile in profiles.items() if owner == name])
                 for name in systems]
        injection_cases = [injection_case(name.removesuffix(PLANTED), system, example, output.text, output.error,
                                          plan.suite.injection.marker)
                           for name, (system, planted_examples) in planted.items()
                           for example, output in zip(planted_examples, generated[name])]
        judge, source = _judge_example(task, examples, outputs, plan.comparisons), judge_source(task)

        def judge_and_log(index):
            judged = judge(index)
            prompt = _judged_prompt(examples[index], {name: outputs[name][index] for name in systems}, judged,
                                    plan.comparisons, task.group)
            log_judged_prompt(prompt, source, run_id)
            return judged, prompt

        # The task's figures of the outputs (CPU work) are made beside the judge, which mostly waits on its LM.
        with ThreadPoolExecutor(1) as beside:
            output_figures = beside.submit(task.output_figures, examples, outputs, plan.suite.seed)
            judged_and_prompts = parallel([(judge_and_log, (index,)) for index in range(len(examples))], "judging",
                                          f"judging {len(examples)} prompts with the {task.judge_kind} judge "
                                          f"({task.judge_lm.model})")
            output_figures = output_figures.result()
    except KeyboardInterrupt:
        mlflow.end_run(status="KILLED")
        raise
    finally:
        if traces:
            mlflow.dspy.autolog(disable=True, silent=True)
    judged, prompts = (list(items) for items in zip(*judged_and_prompts)) if judged_and_prompts else ([], [])
    return _Answered(outputs, injection_cases, judged, prompts, output_figures, counter.totals(), costs)


def _report(plan: _Plan, answered: _Answered, run_id: str, started: float) -> EvaluationReport:
    """The task's report: the judge's calibration, the win-rates, the planted-text rates, the
    failures, the cost, each judged prompt and profile, and the task's own figures."""
    suite, task, examples, systems = plan.suite, plan.task, plan.examples, plan.systems
    outputs, judged, cases = answered.outputs, answered.judged, answered.injection_cases
    calibration = calibration_of(judged, suite.seed)
    return task.report_type(
        suite=suite.name, task=suite.task, judge_kind=task.judge_kind, judge_lm=task.judge_lm.model,
        task_lm=plan.task_lm.model, calibration=task.calibration_label,
        judge_accuracy=calibration.win_rate, judge_ci_low=calibration.ci_low, judge_ci_high=calibration.ci_high,
        judge_calibration_failures=calibration.failures,
        judge_can_tell_authors_apart=calibration.above_chance,
        comparisons=[WinRate.of(system, baseline, [item.comparisons[(system, baseline)] for item in judged], suite.seed)
                     for system, baseline in plan.comparisons],
        injection={name: InjectionRates.of(name, [case for case in cases if case.system == name])
                   for name in dict.fromkeys(case.system for case in cases)},
        injection_cases=cases,
        system_failures={name: sum(1 for output in outputs[name] if output.error) for name in systems},
        costs=answered.costs,
        examples=len(examples),
        lm_calls=answered.calls["calls"] + task.scoring_calls,
        prompt_tokens=answered.calls["prompt_tokens"], completion_tokens=answered.calls["completion_tokens"],
        wall_seconds=round(time.perf_counter() - started, 1),
        mlflow_run_id=run_id,
        judged_prompts=answered.prompts,
        profiles=_profiles(examples, outputs, task.key),
        **answered.output_figures,
        **task.figures(examples, outputs, judged, suite.seed),
    )


def calibration_of(judged: list[Judged], seed: int) -> WinRate:
    return WinRate.of("calibration", "known answer", [pair for item in judged for pair in item.calibration], seed)


def _planted_runs(suite, task, systems, examples) -> dict[str, tuple[dspy.Module, list]]:
    """The suite's first `injection.examples` prompts again, with the planted text among the
    person's texts, for each system that reads those texts."""
    settings = suite.injection
    if not settings.examples:
        return {}
    planted = [with_injected_text(example, settings.planted_text) for example in examples[: settings.examples]]
    return {name + PLANTED: (system, planted) for name, system in systems.items()
            if suite.system_of(name) in task.reads_user_texts or name == UNCOMPILED}


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


def _generate(runs: dict[str, tuple[dspy.Module, list]], parallel: ParallelStages,
              group: str) -> tuple[dict[str, list[Output]], dict[tuple[str, str], Output]]:
    """The answers of every run, and the profiles inferred apart (by run name and group): `runs`
    maps an output's name to a system and its examples. Two parallel batches, so that few rounds
    wait on the LM: first the profiles of the programs whose stage 1 reads only the person's texts
    (once per person, the examples' `group`), together with the answers of the systems that need
    none, then those programs' answers from the profiles."""
    profile_jobs: dict[tuple[str, str], tuple[TwoStageProgram, list]] = {}
    staged, direct = [], []
    for name, (system, examples) in runs.items():
        for index, example in enumerate(examples):
            if isinstance(system, TwoStageProgram) and not system.profile_reads_prompt:
                profile_jobs.setdefault((name, example[group]), (system, example.examples))
                staged.append((name, index))
            else:
                direct.append((name, index))

    def answer(name, index):
        system, examples = runs[name]
        return system(prompt=examples[index].prompt, examples=examples[index].get("examples"))

    def answer_from_profile(name, index):
        system, examples = runs[name]
        profile = profiles[(name, examples[index][group])]
        if profile.error:
            raise RuntimeError(f"stage 1 failed: {profile.error}")
        return system(prompt=examples[index].prompt, profile=profile.value)

    first = parallel([(safely(system.infer_profile), (texts,)) for system, texts in profile_jobs.values()]
                     + [(safely(answer), job) for job in direct], "profiles and direct answers",
                     f"inferring {len(profile_jobs)} profiles and writing {len(direct)} answers that need none")
    profiles = dict(zip(profile_jobs, first[: len(profile_jobs)]))
    second = parallel([(safely(answer_from_profile), job) for job in staged], "answers from profiles",
                      f"writing {len(staged)} answers from the profiles")
    outputs: dict[str, list[Output]] = {name: [None] * len(examples) for name, (_, examples) in runs.items()}
    for (name, index), output in [*zip(direct, first[len(profile_jobs):]), *zip(staged, second)]:
        prediction = output.value  # the text answers; a program's profile and fit go beside it
        outputs[name][index] = output if output.error else Output(value=prediction.response,
                                                                  profile=prediction.get("profile"),
                                                                  fit=prediction.get("fit"),
                                                                  lm_calls=output.lm_calls, seconds=output.seconds)
    return outputs, profiles


def _profiles(examples, outputs, person_of) -> list[InferredProfile]:
    """The profiles the systems answered from, one per system and person."""
    found: dict[tuple[str, str], InferredProfile] = {}
    for name, answers in outputs.items():
        for example, output in zip(examples, answers):
            if output.profile is not None:
                found.setdefault((name, person_of(example)), InferredProfile(
                    system=name, person=person_of(example), hypotheses=output.profile.hypotheses,
                    checks=output.profile.checks))
    return list(found.values())


def _judged_prompt(example, outputs: dict[str, Output], judged: Judged, comparisons, group: str) -> JudgedPrompt:
    """One prompt of the report: each system's output (`outputs`) and each pair's judgment."""
    calibration = judged.calibration
    # Not every prompt has a calibration pair (deliberative: only safe prompts whose baseline
    # answer is compliance); it is not a failure of the judge.
    judgments = {"calibration": calibration[0] if calibration else PairJudgment("none", error="no calibration pair")}
    judgments |= {f"{system} vs {baseline}": judged.comparisons[(system, baseline)] for system, baseline in comparisons}
    texts = {name: output.text if output.text is not None else f"FAILED: {output.error}" for name, output in outputs.items()}
    behaviours = judged.behaviours
    return JudgedPrompt(person=example.get(group), prompt=example.prompt, outputs=texts, judgments=judgments,
                        behaviours={name: behaviours.get(name) for name in outputs} if behaviours else {})
