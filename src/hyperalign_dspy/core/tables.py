"""Tabular files (JSON Lines, CSV, Parquet), read with Hugging Face `datasets`: the rows of a file as
dicts, every problem one line naming the file and the line."""

from __future__ import annotations

import json
from pathlib import Path

from hyperalign_dspy.errors import HyperAlignError

TABULAR = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def read_table(path: str | Path) -> list[dict]:
    """The rows of a JSON Lines, CSV or Parquet file, as dicts."""
    import datasets

    path = Path(path)
    if not path.is_file():
        raise HyperAlignError(f"{path}: no such file")
    builder = TABULAR.get(path.suffix.lower())
    if builder is None:
        raise HyperAlignError(f"{path}: expected one of {', '.join(TABULAR)}")
    if path.suffix.lower() == ".jsonl":
        _check_json_lines(path)
    datasets.disable_progress_bars()
    try:
        table = datasets.load_dataset(builder, data_files=str(path), split="train")
    except Exception as exc:  # datasets wraps parse errors in several types, some without a message
        said = next(iter(str(exc).splitlines()), "") or type(exc).__name__
        raise HyperAlignError(f"{path}: cannot be read as {builder}: {said[:200]}") from exc
    return table.to_list()


def _check_json_lines(path: Path) -> None:
    """Name the file and line of the first bad line, which `datasets` would not."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise HyperAlignError(f"{path}: not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if any(rest.strip() for rest in lines[number:]):
                raise HyperAlignError(f"{path}: line {number} is empty")
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HyperAlignError(f"{path}: line {number} is not valid JSON ({exc.msg}, column {exc.colno})") from None
        if not isinstance(value, dict):
            raise HyperAlignError(f"{path}: line {number} is not a JSON object")
    if not any(line.strip() for line in lines):
        raise HyperAlignError(f"{path}: the file has no rows")
