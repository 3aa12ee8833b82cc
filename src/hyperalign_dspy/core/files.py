"""Files the library writes and reads: written whole or not at all (content goes to a temporary
file beside the target, renamed into place only when complete), and configuration TOML read into
Pydantic models, every problem one line naming the file."""

from __future__ import annotations

import os
import signal
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hyperalign_dspy.errors import HyperAlignError

Model = TypeVar("Model", bound=BaseModel)


def check_writable_folder(folder: str | Path, flag: str) -> None:
    """Can a file be written into `folder` (made with its parents if missing)? Checked before any
    work, creating nothing: the nearest folder that exists must be a writable folder."""
    folder = Path(folder).absolute()
    existing = next(candidate for candidate in (folder, *folder.parents) if candidate.exists())
    if not existing.is_dir():
        raise HyperAlignError(f"{flag}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise HyperAlignError(f"{flag}: the folder {existing} is not writable")


def publish(temporary: str | Path, target: str | Path) -> None:
    """Rename a finished temporary file onto `target`, readable as any file the user creates
    (temporary files are made readable by their owner only)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(temporary, 0o666 & ~mask)
    os.replace(temporary, target)


@contextmanager
def signals_held(*signals: signal.Signals) -> Iterator[list[int]]:
    """Hold `signals` (Ctrl-C's SIGINT, SIGTERM) back while the block runs, yielding the list of
    those that arrived; on leaving, deliver them to their own handlers (Ctrl-C: KeyboardInterrupt).
    Only the main thread handles signals: elsewhere nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    received: list[int] = []
    previous = {number: signal.signal(number, lambda signum, frame: received.append(signum)) for number in signals}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(received):
            signal.raise_signal(number)


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """`path` parsed as TOML; `what` names the file in errors."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HyperAlignError(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HyperAlignError(f"{what} {path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise HyperAlignError(f"{what} {path}: not valid TOML: {exc}") from None


def validated(raw: Any, model: type[Model], where: str, context: dict[str, Any] | None = None,
              table: str | None = None) -> Model:
    """`raw` validated as `model` (its validators given `context`); the first problem becomes one
    line starting with `where`, its location within `table` (a file's table that `raw` is), if given."""
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in [*([table] if table else []), *first["loc"]]) or "(top level)"
        raise HyperAlignError(f"{where}: {location}: {first['msg']}") from None


def read_toml_model(path: str | Path, model: type[Model], what: str) -> Model:
    """`path` parsed as TOML and validated as `model`; `what` names the file in errors."""
    return validated(read_toml(path, what), model, f"{what} {path}")
