"""Loaders: author files into `dspy.Example`s, a user's files into `UserText`s.

Tabular files (JSON Lines, CSV, Parquet) are read with Hugging Face `datasets`.
"""

from __future__ import annotations

import json
from pathlib import Path

import dspy

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.user_texts import UserText, as_user_texts

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEV_AUTHORS = PROJECT_ROOT / "evals" / "data" / "authors_ccat50_dev.jsonl"

_TABULAR = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def read_table(path: str | Path) -> list[dict]:
    """The rows of a JSON Lines, CSV or Parquet file, as dicts."""
    import datasets

    path = Path(path)
    if not path.is_file():
        raise HyperAlignError(f"{path}: no such file")
    builder = _TABULAR.get(path.suffix.lower())
    if builder is None:
        raise HyperAlignError(f"{path}: expected one of {', '.join(_TABULAR)}")
    if path.suffix.lower() == ".jsonl":
        _check_json_lines(path)
    datasets.disable_progress_bars()
    try:
        table = datasets.load_dataset(builder, data_files=str(path), split="train")
    except Exception as exc:  # datasets wraps parse errors in several types
        raise HyperAlignError(f"{path}: cannot be read as {builder}: {str(exc).splitlines()[0][:200]}") from exc
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


def load_authors(path: str | Path = DEV_AUTHORS) -> list[dspy.Example]:
    """One `dspy.Example` per test item of each author: inputs `examples` (the author's few-shot
    texts) and `prompt`; labels `reference` (the author's real text) and `author`."""
    result = []
    for line, row in enumerate(read_table(path), start=1):
        for key in ("author", "fewshot", "test"):
            if not row.get(key):
                raise HyperAlignError(f"{path}: row {line} has no '{key}'")
        fewshot = as_user_texts(row["fewshot"])
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


def read_user_texts(paths: list[str | Path]) -> list[UserText]:
    """Texts from `.txt` files (one text each), folders of them, and `.jsonl` files with `text`."""
    texts: list[UserText] = []
    _collect(paths, texts)
    if not texts:
        raise HyperAlignError("no texts given: pass --examples with .txt files, folders or .jsonl files")
    return as_user_texts(texts)  # checks every text's size and that ids are unique


def _collect(paths: list[str | Path], texts: list[UserText]) -> None:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".txt", ".jsonl") and p.is_file())
            if not files:
                raise HyperAlignError(f"{path}: the folder has no .txt or .jsonl files")
            _collect(files, texts)
        elif not path.exists():
            raise HyperAlignError(f"{path}: no such file or folder")
        elif path.suffix.lower() in _TABULAR:
            rows = read_table(path)
            for line, row in enumerate(rows, start=1):
                if not isinstance(row.get("text"), str):
                    raise HyperAlignError(f"{path}: row {line} has no 'text' string")
            texts.extend(as_user_texts(
                [{"id": row.get("id") or row.get("doc_id") or f"{path.name}:{line}", "text": row["text"]}
                 for line, row in enumerate(rows, start=1)]
            ))
        else:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise HyperAlignError(f"{path}: not UTF-8 text") from None
            except OSError as exc:
                raise HyperAlignError(f"{path}: cannot be read ({exc.strerror})") from None
            if not text.strip():
                raise HyperAlignError(f"{path}: the file is empty")
            # A file's id is its name, or its path where another file of the texts has that name.
            taken = {user_text.id for user_text in texts}
            texts.append(UserText(id=path.name if path.name not in taken else str(path), text=text))


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
