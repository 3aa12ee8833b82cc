"""The safety specification: a Markdown file of rules with ids (`specs/safety.md` is packaged)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hyperalign_dspy.errors import HyperAlignError


def load_spec(path: str | Path | None = None) -> str:
    """The specification's text, from `path` (default: the packaged one)."""
    if path is None:
        return resources.files("hyperalign_dspy.tasks.deliberative").joinpath("specs/safety.md").read_text(encoding="utf-8")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HyperAlignError(f"spec {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HyperAlignError(f"spec {path}: cannot be read as UTF-8 text: {exc}") from None
    if not text.strip():
        raise HyperAlignError(f"spec {path}: the file is empty")
    return text
