"""Author files (JSON Lines, CSV, Parquet; one row per author with `fewshot` and `test` texts) as
`dspy.Example`s. The 12 development authors ship with the package (`data/`, CCAT50, CC BY 4.0)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import dspy

from hyperalign_dspy.core.tables import read_table
from hyperalign_dspy.core.user_texts import as_user_texts
from hyperalign_dspy.errors import HyperAlignError

DEV_AUTHORS = Path(str(resources.files("hyperalign_dspy.tasks.authorship").joinpath("data/authors_ccat50_dev.jsonl")))


def load_authors(path: str | Path = DEV_AUTHORS) -> list[dspy.Example]:
    """One `dspy.Example` per test item of each author: inputs `examples` (the author's few-shot
    texts) and `prompt`; labels `reference` (the author's real text) and `author`."""
    result = []
    for line, row in enumerate(read_table(path), start=1):
        for key in ("author", "fewshot", "test"):
            if not row.get(key):
                raise HyperAlignError(f"{path}: row {line} has no '{key}'")
        if not isinstance(row["test"], list) or not all(isinstance(item, dict) for item in row["test"]):
            raise HyperAlignError(f"{path}: row {line}: 'test' is not a list of objects")
        try:
            fewshot = as_user_texts(row["fewshot"])
        except HyperAlignError as exc:
            raise HyperAlignError(f"{path}: row {line}, fewshot: {exc}") from None
        for number, item in enumerate(row["test"], start=1):
            for key in ("prompt", "text"):
                if not isinstance(item.get(key), str) or not item[key].strip():
                    raise HyperAlignError(f"{path}: row {line}, test item {number} has no '{key}' text")
            result.append(
                dspy.Example(
                    author=row["author"],
                    examples=fewshot,
                    prompt=item["prompt"],
                    reference=item["text"],
                    doc_id=item.get("doc_id"),
                ).with_inputs("examples", "prompt")
            )
    return result
