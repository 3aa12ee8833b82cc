"""Compiled program files: DSPy's JSON state of the program plus a metadata sidecar
(`NAME.json` and `NAME.meta.json`), both written atomically. The metadata names the program's task
and its settings, which loading restores."""

from __future__ import annotations

import json
import os
import signal
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import dspy

from hyperalign_dspy.core.files import publish, signals_held
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.roles import LMConfig
from hyperalign_dspy.registry import DEFAULT_TASK, Task, get_task


def metadata_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.meta.json")


def save_program(program: dspy.Module, path: str | Path, metadata: dict) -> None:
    """Write the program and its metadata. Both go to temporary files in the target folder first
    and are renamed into place only when both are complete. Ctrl-C or SIGTERM while they are
    written leaves the old pair (no new file); one that comes while they are renamed is held until
    both are: never a program beside another program's metadata."""
    path = Path(path)
    if path.suffix != ".json":
        raise HyperAlignError(f"--out {path}: a program file ends in .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        temporary = []
        for target in (path, metadata_path(path)):
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{target.name}.", suffix=".tmp.json")
            os.close(handle)
            temporary.append(Path(name))
            cleanup.callback(lambda name=name: Path(name).unlink(missing_ok=True))
        with signals_held(signal.SIGINT, signal.SIGTERM) as received:
            program.save(str(temporary[0]))
            temporary[1].write_text(json.dumps(metadata, indent=2, default=str), encoding="utf-8")
            if not received:  # else the signals are delivered on leaving, and the old pair stays
                publish(temporary[0], path)
                publish(temporary[1], metadata_path(path))


def read_metadata(path: str | Path) -> dict:
    sidecar = metadata_path(path)
    if not sidecar.is_file():
        return {}
    try:
        return json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HyperAlignError(f"program metadata {sidecar} cannot be read: {exc}") from None


# Knobs every program had before they became authorship's own: a program of another task saved
# them too (at their defaults), and loads without them.
_ONCE_SHARED = frozenset({"length_grammar", "paragraph_grammar", "quote_again"})


def _without_knobs_of_other_tasks(settings, settings_type: type[ProgramSettings]):
    if not isinstance(settings, dict):
        return settings
    return {name: value for name, value in settings.items()
            if name in settings_type.model_fields or name not in _ONCE_SHARED}


def load_program(path: str | Path, task: str = DEFAULT_TASK, options: dict[str, Any] | None = None,
                 lms: LMConfig | None = None) -> dspy.Module:
    """A compiled program of the task named `task` from `path`: `load_program_for`."""
    return load_program_for(get_task(task), path, options, lms)


def load_program_for(task: Task, path: str | Path, options: dict[str, Any] | None = None,
                     lms: LMConfig | None = None, changes: dict[str, Any] | None = None) -> dspy.Module:
    """A compiled program of `task` (the registry's) from `path` (its metadata, when present, names
    its task and settings), with the task's `options` (deliberative: `{"spec": path}`), the
    stages' `lms`, and `changes` of its settings (name -> value, e.g. `{"attempts": 1}`)."""
    path = Path(path)
    if not path.is_file():
        raise HyperAlignError(f"program file {path} does not exist")
    metadata = read_metadata(path)
    compiled_for = metadata.get("task", DEFAULT_TASK)
    if compiled_for != task.name:
        raise HyperAlignError(f"program file {path} was compiled for the '{compiled_for}' task, not '{task.name}'")
    settings = metadata.get("program_settings")
    try:
        settings = task.default_settings if settings is None else task.settings_type.model_validate(
            _without_knobs_of_other_tasks(settings, task.settings_type))
    except ValueError as exc:
        raise HyperAlignError(f"program metadata {metadata_path(path)}: its program_settings are not valid: {exc}") from None
    if changes:
        settings = settings.updated(changes)
    return load_program_state(task.new_program(settings, lms, options), path)


def load_program_state(program: dspy.Module, path: str | Path) -> dspy.Module:
    """Load tuned instructions and demos saved with `program.save(path)` (DSPy's JSON state)."""
    try:
        program.load(str(path))
    except FileNotFoundError:
        raise HyperAlignError(f"program file {path} does not exist") from None
    except Exception as exc:  # DSPy raises several types for a file that is not its state
        raise HyperAlignError(f"program file {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    return program
