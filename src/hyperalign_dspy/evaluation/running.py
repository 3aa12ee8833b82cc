"""Running systems over examples, shared by evaluation and compiling: which LMs and how many
threads, the examples in an order that interleaves their groups, dspy.Parallel without re-runs,
workers that report a failure and their cost instead of raising it, and a count of the LM calls made."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dspy
import numpy as np
from dspy.clients.base_lm import GLOBAL_HISTORY

from hyperalign_dspy.core.lm_cost import measured
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation.progress import StageProgress
from hyperalign_dspy.lms.names import adapter_for, runs_in_process
from hyperalign_dspy.lms.roles import LMConfig, LMNames


@dataclass
class Output:
    value: object = None  # a response text, or a profile
    error: str | None = None
    profile: object = None  # beside a program's response: the profile it answered from
    fit: object = None  # ... and its own check of the response, where it made one (authorship: a `Fit`)
    lm_calls: int | None = None  # the LM calls that made it (cached answers not counted)
    seconds: float | None = None  # and the time they took, waits on other threads included

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


def run_lms(suite_lms: LMNames, lms: LMConfig | None, lm: dspy.LM | None, judge_lm: dspy.LM | None) -> LMConfig:
    """The LM of each role for a run: `lm` and `judge_lm` first, then `lms`, then the suite's
    `[lms]`; the task (generate) LM defaults to DSPy's configured one, the judge to the task LM."""
    given = lms or LMConfig()
    chosen = {"generate": lm or given.generate, "infer": given.infer, "judge": judge_lm or given.judge,
              "reflection": given.reflection}
    from_suite = LMNames(**{role: getattr(suite_lms, role) for role, value in chosen.items() if value is None}).build()
    config = LMConfig(**{role: value or getattr(from_suite, role) for role, value in chosen.items()})
    config.generate = config.generate or dspy.settings.lm
    if config.generate is None:
        raise HyperAlignError("no LM is configured: pass lm= or call dspy.configure(lm=...)")
    config.judge = config.judge or config.generate
    return config


def check_counts(limit: int | None, threads: int | None) -> None:
    if limit is not None and limit < 1:
        raise HyperAlignError("--limit must be at least 1")
    if threads is not None and threads < 1:
        raise HyperAlignError("--threads must be at least 1")


def run_settings(lm: dspy.LM, adapter: dspy.Adapter | None, threads: int | None) -> tuple[dspy.Adapter | None, int]:
    """The task LM's adapter (default: DSPy's configured one, else the one the LM needs) and the
    thread count (default 8, 1 on the embedded engine, which runs one call at a time)."""
    return adapter or dspy.settings.adapter or adapter_for(lm), threads or (1 if runs_in_process(lm) else 8)


class ParallelStages:
    """dspy.Parallel without its straggler re-runs (timeout 0): a slow call is not started a second
    time beside the first; it would be a second LM call (an embedded model would run both, one after
    the other) while LM faults already have their retries. Its progress bar shows on a terminal
    only: in a log it is noise, and redrawing it costs the worker threads time. Off a terminal,
    each stage reports a line per tenth of its jobs instead (`StageProgress`)."""

    def __init__(self, threads: int, max_errors: int | None = None,
                 progress: Callable[[str], None] = lambda message: None):
        self.parallel = dspy.Parallel(num_threads=threads, max_errors=max_errors, timeout=0,
                                      disable_progress_bar=not sys.stderr.isatty())
        self.progress = progress

    def __call__(self, jobs: list[tuple[Callable, tuple]], stage: str, announce: str | None = None) -> list:
        """Run `jobs` (function, arguments) in parallel as the stage named `stage`, first reporting
        `announce` (default: the name)."""
        self.progress(announce or stage)
        counter = StageProgress(self.progress, stage, len(jobs))
        return self.parallel([(counter.counted(function), arguments) for function, arguments in jobs])


def safely(function: Callable) -> Callable:
    """A worker for dspy.Parallel that returns its failure instead of raising it, so one failed
    example is reported as such and never stops the run, and what its value cost: the LM calls
    DSPy's usage tracker saw in the worker's thread, and the seconds."""

    def run(*args):
        with measured() as cost:
            try:
                output = Output(value=function(*args))
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                output = Output(error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        output.lm_calls, output.seconds = cost.calls, round(cost.seconds, 2)
        return output

    return run


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class CallCounter:
    """Counts the LM calls made in this process from now on, from DSPy's global history, which
    also holds the calls of LM copies (teleprompters sample through `lm.copy(...)`). A cached
    answer is recorded with empty usage, so the entries with usage are the calls made. (The
    global history keeps DSPy's last 10,000 calls.) A call for n candidates (COPRO asks for several
    instructions at once) counts n: an engine answers it with n requests."""

    def __init__(self):
        self.seen = {entry["uuid"] for entry in GLOBAL_HISTORY}

    def totals(self) -> dict[str, int]:
        calls = prompt = completion = 0
        for entry in list(GLOBAL_HISTORY):
            usage = entry.get("usage") or {}
            if entry["uuid"] in self.seen or not usage:
                continue
            calls += max(1, len(entry.get("outputs") or ()))
            prompt += usage.get("prompt_tokens") or usage.get("input_tokens") or 0
            completion += usage.get("completion_tokens") or usage.get("output_tokens") or 0
        return {"calls": calls, "prompt_tokens": prompt, "completion_tokens": completion}
