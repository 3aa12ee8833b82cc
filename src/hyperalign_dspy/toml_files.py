"""Configuration files are TOML read into Pydantic models; every problem is one line naming the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hyperalign_dspy.errors import HyperAlignError

Model = TypeVar("Model", bound=BaseModel)


def read_toml_model(path: str | Path, model: type[Model], what: str) -> Model:
    """`path` parsed as TOML and validated as `model`; `what` names the file in errors."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HyperAlignError(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HyperAlignError(f"{what} {path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise HyperAlignError(f"{what} {path}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise HyperAlignError(f"{what} {path}: {where}: {first['msg']}") from None
