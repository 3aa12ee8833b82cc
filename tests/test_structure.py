"""The package's layering, read from its own imports and string constants: dependencies run one
way (the method, `core`, depends on nothing of the harness), and only the task registry and the
task packages know a task by name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from project import PROJECT_ROOT

from hyperalign_dspy.registry import get_task, task_names

PACKAGE = PROJECT_ROOT / "src" / "hyperalign_dspy"

# What each part may import from the package besides itself, bottom up: the dependencies run one way.
BELOW = {
    "registry": {"errors"},
    "local_service": set(),
    "lms": {"errors", "local_service"},
    "core": {"errors", "lms"},
    "judges": {"errors", "lms", "core"},
    "program_files": {"errors", "lms", "core", "registry"},
    "tracking": {"errors", "local_service", "lms", "core", "registry", "program_files"},
    "evaluation": {"errors", "lms", "core", "judges", "registry", "program_files", "tracking"},
    "tasks": {"errors", "lms", "core", "judges", "registry", "evaluation"},
    "optimize": {"errors", "lms", "core", "judges", "registry", "program_files", "evaluation", "tracking"},
}


def modules_of(part: str) -> list[Path]:
    module = PACKAGE / f"{part}.py"
    return [module] if module.is_file() else sorted((PACKAGE / part).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The package's modules that `path` imports, anywhere in it (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "hyperalign_dspy":
            names.update(f"hyperalign_dspy.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name.removeprefix("hyperalign_dspy.") for name in names if name.startswith("hyperalign_dspy.")}


@pytest.mark.parametrize("part", sorted(BELOW))
def test_a_part_imports_only_the_parts_below_it(part):
    assert modules_of(part)
    for path in modules_of(part):
        for module in imported(path):
            top = module.split(".")[0]
            assert top == part or top in BELOW[part], f"{path.relative_to(PACKAGE)} imports hyperalign_dspy.{module}"


def test_no_module_outside_the_tasks_names_a_task():
    names = set(task_names())
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "tasks") or path == PACKAGE / "registry.py":
            continue
        constants = {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        assert not constants & names, f"{path.relative_to(PACKAGE)} names the task(s) {sorted(constants & names)}"


@pytest.mark.parametrize("name", task_names())
def test_a_tasks_method_is_its_signatures_and_its_program(name):
    """The program composes the task's stage modules, and every prompt they send is a signature of
    the task's signatures.py."""
    program = get_task(name).new_program()
    package = f"hyperalign_dspy.tasks.{name}"
    assert type(program).__module__ == f"{package}.program"
    stages = [module for _, module in program.named_sub_modules() if module is not program and not hasattr(module, "signature")]
    assert len(stages) == 2 and all(type(stage).__module__.startswith(f"{package}.stages.") for stage in stages)
    predictors = program.named_predictors()
    assert predictors and all(predictor.signature.__module__ == f"{package}.signatures" for _, predictor in predictors)
