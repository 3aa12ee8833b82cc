"""Compiled program files: DSPy's JSON state of the program plus a metadata sidecar
(`NAME.json` and `NAME.meta.json`), both written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

import dspy

from hyperalign_dspy.atomic_files import publish
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.program import HyPerAlign, load_program_state



def metadata_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.meta.json")


def save_program(program: dspy.Module, path: str | Path, metadata: dict) -> None:
    """Write the program and its metadata. Both go to temporary files in the target folder first
    and are renamed into place only when both are complete: an interrupted save leaves neither
    a half file nor a program without its metadata."""
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
        program.save(str(temporary[0]))
        temporary[1].write_text(json.dumps({"task": "authorship", **metadata}, indent=2, default=str), encoding="utf-8")
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


def load_program(path: str | Path, task: str = "authorship", spec: str | None = None) -> dspy.Module:
    """A compiled program of `task` from `path` (its metadata, when present, names its task);
    a deliberative program gets `spec` (default: the packaged specification)."""
    from hyperalign_dspy.deliberative import DeliberativeHyPerAlign

    path = Path(path)
    if not path.is_file():
        raise HyperAlignError(f"program file {path} does not exist")
    compiled_for = read_metadata(path).get("task", task)
    if compiled_for != task:
        raise HyperAlignError(f"program file {path} was compiled for the '{compiled_for}' task, not '{task}'")
    program = HyPerAlign() if task == "authorship" else DeliberativeHyPerAlign(spec=spec)
    return load_program_state(program, path)
