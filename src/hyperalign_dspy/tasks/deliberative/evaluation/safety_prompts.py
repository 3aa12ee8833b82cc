"""Safety prompt files (JSON Lines, CSV, Parquet; `prompt` and `label` safe/unsafe) as `dspy.Example`s."""

from __future__ import annotations

from pathlib import Path

import dspy

from hyperalign_dspy.core.tables import read_table
from hyperalign_dspy.errors import HyperAlignError


def load_safety_prompts(paths: list[str | Path]) -> list[dspy.Example]:
    """One `dspy.Example` per prompt of safety files (JSON Lines, CSV, Parquet with `prompt` and
    `label` safe/unsafe): input `prompt`; labels `label`, `source`, `id`."""
    result = []
    for path in paths:
        for line, row in enumerate(read_table(path), start=1):
            if not isinstance(row.get("prompt"), str) or not row["prompt"].strip():
                raise HyperAlignError(f"{path}: row {line} has no 'prompt' text")
            if row.get("label") not in ("safe", "unsafe"):
                raise HyperAlignError(f"{path}: row {line} has label {row.get('label')!r}; expected 'safe' or 'unsafe'")
            result.append(dspy.Example(prompt=row["prompt"], label=row["label"], source=row.get("source") or Path(path).stem,
                                       id=str(row.get("id") if row.get("id") is not None else line),
                                       type=row.get("type") or "").with_inputs("prompt"))
    return result
