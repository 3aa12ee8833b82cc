"""What a task is. A `Task` (one per task, in the registry) supplies the programs and baselines, the
suite type, the default compile baseline and the command line's personalize; its
`evaluation(...)` is a `TaskEvaluation` for one suite: the examples, the judging of one prompt's
outputs, the calibration pairs, the compile metric, the task's own figures and its report type. The evaluation
harness and the compiler do the rest, the same for every task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import dspy

from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.two_stage_program import TwoStageProgram
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.evaluation.judged import Judged
from hyperalign_dspy.evaluation.report import EvaluationReport
from hyperalign_dspy.evaluation.suite import PROGRAM, EvalSuite
from hyperalign_dspy.judges.pairwise import PairJudgment
from hyperalign_dspy.lms.roles import LMConfig, LMNames


class TaskEvaluation:
    """A task's side of evaluating (and compiling on) one suite. `pool`: the suite's examples (of
    `subset`, if given); `group`: the example field that groups them for `--limit`."""

    group: ClassVar[str]
    split_unit: ClassVar[str]  # what `key` names, plural ("authors"): compile splits these
    calibration_label: ClassVar[str]  # what the judge's calibration pairs are
    reads_user_texts: ClassVar[tuple[str, ...]]  # the systems a planted text can reach
    report_type: ClassVar[type[EvaluationReport]] = EvaluationReport

    pool: list[dspy.Example]
    judge_lm: dspy.LM
    judge_kind: str

    def __init__(self, suite: EvalSuite, lms: LMConfig | None = None, settings: ProgramSettings | None = None):
        self.task, self.suite, self.lms = suite.task_type, suite, lms or LMConfig()
        self.settings = settings or suite.settings

    def new_system(self, name: str) -> dspy.Module:
        """A fresh system of the suite's task, with the run's settings and LMs and the suite's
        options; a suite's variant gets its own LMs for the roles it names, and its own settings
        over the run's."""
        lms, settings, variant = self.lms, self.settings, self.suite.variants.get(name)
        if variant is not None:
            own = LMNames(infer=variant.infer, generate=variant.generate).build()
            lms = LMConfig(infer=own.infer or self.lms.infer, generate=own.generate or self.lms.generate)
            settings = variant.program.over(self.settings) if variant.program else self.settings
        return self.task.new_system(self.suite.system_of(name), settings, lms, self.task.suite_options(self.suite))

    @property
    def scoring_calls(self) -> int:
        """Judge scores computed without an LM call of DSPy's (likelihood); 0 elsewhere."""
        return 0

    def key(self, example: dspy.Example) -> str:
        """What compile splits by: no key is on both sides."""
        raise NotImplementedError

    def compile_metric(self, baseline_outputs, attribution: bool, feedback: bool):
        raise NotImplementedError

    def calibration_pair(self, example: dspy.Example, index: int, baseline_outputs) -> PairJudgment | None:
        raise NotImplementedError

    def judge_example(self, index: int, example: dspy.Example, texts: dict[str, str | None],
                      comparisons: list[tuple[str, str]]) -> Judged:
        raise NotImplementedError

    def output_figures(self, examples: list[dspy.Example], outputs: dict, seed: int) -> dict:
        """The task's own report fields that rest on the outputs alone: the harness makes them
        while the judge works."""
        return {}

    def figures(self, examples: list[dspy.Example], outputs: dict, judged: list[Judged], seed: int) -> dict:
        """The task's own report fields that rest on the judgments too."""
        return {}


class Task:
    name: ClassVar[str]
    description: ClassVar[str]  # one line, for --help
    systems: ClassVar[dict[str, Callable[..., dspy.Module]]]  # name -> class; PROGRAM first
    default_compile_baseline: ClassVar[str]
    suite_type: ClassVar[type[EvalSuite]] = EvalSuite
    evaluation_type: ClassVar[type[TaskEvaluation]]
    personalize_options: ClassVar[frozenset[str]] = frozenset()  # command-line options beyond the common ones

    @property
    def default_settings(self) -> ProgramSettings:
        return self.systems[PROGRAM].default_settings

    @property
    def settings_type(self) -> type[ProgramSettings]:
        """The type of the program's knobs: `ProgramSettings`, or a task's own that derives from it."""
        return type(self.default_settings)

    def suite_options(self, suite: EvalSuite) -> dict[str, Any]:
        """What the task's systems take from a suite of its own (its `suite_type`'s fields)."""
        return {}

    def new_system(self, name: str, settings: ProgramSettings | None = None, lms: LMConfig | None = None,
                   options: dict[str, Any] | None = None) -> dspy.Module:
        if name not in self.systems:
            raise HyperAlignError(f"unknown system '{name}' for the {self.name} task; known: {', '.join(self.systems)}")
        return self.systems[name](settings=settings, lms=lms)

    def new_program(self, settings: ProgramSettings | None = None, lms: LMConfig | None = None,
                    options: dict[str, Any] | None = None) -> TwoStageProgram:
        return self.new_system(PROGRAM, settings, lms, options)

    def evaluation(self, suite: EvalSuite, judge_lm: dspy.LM, judge_adapter: dspy.Adapter | None,
                   judge_kind: str | None, subset: list[str] | None, lms: LMConfig | None = None,
                   settings: ProgramSettings | None = None) -> TaskEvaluation:
        """`lms`: the stages' own LMs for the systems; `settings`: theirs (default: the suite's)."""
        return self.evaluation_type(suite, judge_lm, judge_adapter, judge_kind, subset, lms=lms, settings=settings)

    def personalize(self, program: TwoStageProgram, prompts: list[str], texts: list | None, profile_path: str | None,
                    progress: Callable[[str], None]) -> dict:
        """The command line's `personalize`: the program's answers to `prompts` for the person of
        `texts` (or of a saved profile), as one JSON-able dict."""
        raise NotImplementedError

    def personalized_text(self, result: dict) -> str:
        """`personalize`'s result for people."""
        raise NotImplementedError
