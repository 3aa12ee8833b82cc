"""Optimizer recipes: `optimizers/*.toml`, each naming a DSPy teleprompter, its arguments and the
metric's settings. A recipe is data; this module only turns it into the teleprompter."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Literal

import dspy
from pydantic import BaseModel, ConfigDict, Field

from hyperalign_dspy.core.files import read_toml_model
from hyperalign_dspy.errors import HyperAlignError

TELEPROMPTERS = ("BootstrapFewShot", "BootstrapFewShotWithRandomSearch", "MIPROv2", "COPRO", "SIMBA", "GEPA")


class MetricSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    baseline: str = Field(
        "default", description="the program's output is judged against this system's output for the same prompt, "
                               "a system of the suite's task; default: the task's (few-shot in-context for "
                               "authorship, plain for deliberative)")
    attribution: bool = Field(False, description="authorship: average the judge's score with stylometric attribution "
                                                 "(1 if the output is attributed to its author, else 0)")


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    teleprompter: Literal[TELEPROMPTERS]
    description: str = ""
    task: str | None = Field(None, description="the task whose programs it compiles, where its stages or baseline "
                                               "are that task's; none: any task")
    arguments: dict[str, Any] = Field(default_factory=dict, description="the teleprompter's constructor arguments")
    compile_arguments: dict[str, Any] = Field(default_factory=dict, description="extra arguments of its compile()")
    reflection_lm: str | None = Field(None, description="GEPA: 'task' for the task LM, or an LM name for ha.lm()")
    metric: MetricSettings = MetricSettings()
    program: dict[str, Any] = Field(default_factory=dict, description="the program's knobs, over the suite's (its "
                                                                      "task's settings, checked at compile)")
    tune: list[str] = Field(default_factory=list, description="the program's stages the teleprompter may change "
                                                            "('profiler', 'writer'); the others stay as they are. "
                                                            "Empty: all")
    path: Path | None = Field(None, exclude=True)


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    recipe = read_toml_model(path, Recipe, "recipe")
    recipe.path = path
    accepted = inspect.signature(getattr(dspy, recipe.teleprompter).__init__).parameters
    unknown = sorted(set(recipe.arguments) - set(accepted))
    if unknown:
        raise HyperAlignError(f"recipe {path}: {recipe.teleprompter} takes no argument {', '.join(unknown)}")
    if recipe.teleprompter == "GEPA" and not recipe.reflection_lm:
        raise HyperAlignError(f"recipe {path}: GEPA needs reflection_lm ('task' or an LM name)")
    if recipe.reflection_lm and recipe.reflection_lm != "task":
        from hyperalign_dspy.lms.names import check_name

        try:
            check_name(recipe.reflection_lm)
        except HyperAlignError as exc:
            raise HyperAlignError(f"recipe {path}: reflection_lm: {exc}") from None
    return recipe


def build_teleprompter(recipe: Recipe, metric, task_lm: dspy.LM, threads: int | None = None,
                       reflection_lm: dspy.LM | None = None):
    """The recipe's teleprompter with `metric`; `threads` fills `num_threads` where it is taken; a
    given `reflection_lm` takes the place of the recipe's where the teleprompter reflects."""
    from hyperalign_dspy.lms.names import lm

    teleprompter = getattr(dspy, recipe.teleprompter)
    arguments = dict(recipe.arguments)
    accepted = inspect.signature(teleprompter.__init__).parameters
    if threads and "num_threads" in accepted:
        arguments["num_threads"] = threads
    if recipe.reflection_lm:
        arguments["reflection_lm"] = reflection_lm or (task_lm if recipe.reflection_lm == "task" else lm(recipe.reflection_lm))
    try:
        return teleprompter(metric=metric, **arguments)
    except ImportError as exc:
        raise HyperAlignError(f"{recipe.teleprompter} needs a package that is not installed: {exc}") from exc


def stages_of(program: dspy.Module) -> dict[str, dspy.Module]:
    """The program's stages: its attributes that are DSPy modules (`profiler`, `writer`)."""
    return {name: value for name, value in vars(program).items() if isinstance(value, dspy.Module)}


def freeze_untuned(recipe: Recipe, program: dspy.Module) -> dspy.Module:
    """`program` with the stages `recipe` does not tune marked compiled, which DSPy's teleprompters
    skip (`named_parameters` does not enter a compiled module); a stage it names that the program
    lacks is refused. See `thaw`."""
    stages = stages_of(program)
    unknown = sorted(set(recipe.tune) - set(stages))
    if unknown:
        raise HyperAlignError(f"recipe {recipe.path or recipe.name}: tune: the program has no stage "
                              f"{', '.join(unknown)} (its stages: {', '.join(stages)})")
    for name, stage in stages.items():
        if recipe.tune and name not in recipe.tune:
            stage._compiled = True
    return program


def thaw(program: dspy.Module) -> dspy.Module:
    """`program` with its stages open again, so that its saved state holds every predictor."""
    for stage in stages_of(program).values():
        stage._compiled = False
    return program
