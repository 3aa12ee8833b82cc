"""The task registry: a task's name to the object that supplies its programs, baselines, data,
judging, default compile baseline and report (a `tasks.base.Task`). The CLI, suites, the
evaluation harness, the compiler and program files ask here; only the task packages know what a
task does.

A built-in task is registered by name with the module that defines it, and imported on first use,
so the harness never imports a task package itself. A new task is a package beside
`tasks/authorship/` and `tasks/deliberative/`, and a line in `_BUILT_IN` (or a `register` call).
"""

from __future__ import annotations

import importlib
from typing import Any

from hyperalign_dspy.errors import HyperAlignError

Task = Any  # a `tasks.base.Task`; not imported here, so that the registry stays below the tasks

# name -> "module:attribute" of its Task
_BUILT_IN = {
    "authorship": "hyperalign_dspy.tasks.authorship.task:AUTHORSHIP",
    "deliberative": "hyperalign_dspy.tasks.deliberative.task:DELIBERATIVE",
}
_REGISTERED: dict[str, Task | str] = dict(_BUILT_IN)
DEFAULT_TASK = "authorship"  # the command line's, and that of a program file whose metadata names none


def register(task: Task) -> None:
    """Add a task (or put another in the place of one of the same name)."""
    _REGISTERED[task.name] = task


def task_names() -> list[str]:
    return list(_REGISTERED)


def get_task(name: str) -> Task:
    entry = _REGISTERED.get(name)
    if entry is None:
        raise HyperAlignError(f"unknown task '{name}'; known: {', '.join(_REGISTERED)}")
    if isinstance(entry, str):
        module, attribute = entry.split(":")
        entry = _REGISTERED[name] = getattr(importlib.import_module(module), attribute)
    return entry


__all__ = ["DEFAULT_TASK", "get_task", "register", "task_names"]
