"""A user's texts: reading them from files, ids for them, and trimming them to fit an LM's context
window, with a warning."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hyperalign_dspy.core.tables import TABULAR, read_table
from hyperalign_dspy.errors import HyperAlignError

logger = logging.getLogger("hyperalign_dspy")

# A conservative estimate for English prose with BPE tokenizers (news runs about 4.3).
CHARS_PER_TOKEN = 3.5
# A text this long is not a writing sample (a whole book, a log file): refused, not trimmed.
MAX_TEXT_CHARS = 1_000_000
# What a prompt needs besides the texts: the signature's instructions, schema and field markers.
INSTRUCTION_TOKENS = 900


@dataclass(frozen=True)
class UserText:
    id: str
    text: str


def as_user_texts(texts: Iterable[str | UserText | Mapping]) -> list[UserText]:
    """Accept plain strings, `UserText`s or mappings with `text` (and optionally `id` or `doc_id`)."""
    if isinstance(texts, (str, bytes, Mapping)) or not isinstance(texts, Iterable):
        raise HyperAlignError(f"the texts are a {type(texts).__name__}, expected a list of strings or mappings with 'text'")
    result = []
    seen: dict[str, int] = {}
    for position, item in enumerate(texts, start=1):
        if isinstance(item, UserText):
            user_text = item
        elif isinstance(item, str):
            user_text = UserText(id=f"sha256:{hashlib.sha256(item.encode()).hexdigest()[:12]}", text=item)
        elif isinstance(item, Mapping) and isinstance(item.get("text"), str):
            given = item.get("id") or item.get("doc_id")
            digest = hashlib.sha256(item["text"].encode()).hexdigest()[:12]
            user_text = UserText(id=str(given) if given else f"sha256:{digest}", text=item["text"])
        else:
            raise HyperAlignError(f"text {position} is a {type(item).__name__}, expected a string or a mapping with 'text'")
        if not user_text.text.strip():
            raise HyperAlignError(f"text {position} ({user_text.id}) is empty")
        if len(user_text.text) > MAX_TEXT_CHARS:
            raise HyperAlignError(f"text {position} ({user_text.id}) is larger than {MAX_TEXT_CHARS:,} characters: "
                                  "give a few texts of ordinary length")
        if user_text.id in seen:
            raise HyperAlignError(f"text {position} has the duplicate id '{user_text.id}' (text {seen[user_text.id]} has it too)")
        seen[user_text.id] = position
        result.append(user_text)
    if not result:
        raise HyperAlignError("no texts given: personalization needs at least one text the user wrote")
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
        elif path.suffix.lower() in TABULAR:
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


@dataclass(frozen=True)
class Trimmed:
    texts: list[str]
    trimmed_ids: list[str]
    chars_removed: int


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    boundary = max(cut.rfind(". "), cut.rfind("\n"))
    if boundary > limit // 2:
        return cut[: boundary + 1]
    return cut.rsplit(" ", 1)[0].strip() or cut


def fit_to_context(texts: list[UserText], context_tokens: int, reserved_tokens: int,
                   limit_tokens: int | None = None) -> Trimmed:
    """Trim texts so that all of them fit in `context_tokens - reserved_tokens - INSTRUCTION_TOKENS`
    (and in `limit_tokens`, a caller's own budget, when given).

    Every text keeps a share of the budget (none is dropped); short texts keep all of theirs and
    give what they do not need to the long ones. A trim forced by the context window is logged as
    a warning; one made for the caller's budget, as information.
    """
    context_budget = context_tokens - reserved_tokens - INSTRUCTION_TOKENS
    minimum = 200 * len(texts)  # characters: what every text keeps at least
    if context_budget * CHARS_PER_TOKEN < minimum:
        raise HyperAlignError(
            f"{len(texts)} texts do not fit a {context_tokens}-token context: use fewer texts or an LM with a larger context"
        )
    # The caller's budget grows to the minimum when there are many texts; the context never does.
    budget = int(min(context_budget * CHARS_PER_TOKEN, max((limit_tokens or context_budget) * CHARS_PER_TOKEN, minimum)))
    limits = {}
    remaining = budget
    for position, user_text in sorted(enumerate(texts), key=lambda item: len(item[1].text)):
        share = remaining // (len(texts) - len(limits))
        limits[position] = min(len(user_text.text), share)
        remaining -= limits[position]
    kept, trimmed_ids, removed = [], [], 0
    for position, user_text in enumerate(texts):
        text = _cut(user_text.text, limits[position])
        if len(text) < len(user_text.text):
            trimmed_ids.append(user_text.id)
            removed += len(user_text.text) - len(text)
        kept.append(text)
    if trimmed_ids:
        over_context = limit_tokens is None or limit_tokens >= context_budget
        logger.log(
            logging.WARNING if over_context else logging.INFO,
            "trimmed %d of %d texts (%d characters) to fit %s: %s",
            len(trimmed_ids), len(texts), removed,
            f"the {context_tokens}-token context" if over_context else f"a budget of {limit_tokens} tokens",
            ", ".join(trimmed_ids),
        )
    return Trimmed(texts=kept, trimmed_ids=trimmed_ids, chars_removed=removed)


def require_prompt(prompt) -> None:
    """Refuse a prompt that is not a non-empty string."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise HyperAlignError("the prompt is empty")


def require_examples(examples):
    """The person's example texts, refused when none are given."""
    if examples is None:
        raise HyperAlignError("give either a profile or the user's example texts")
    return examples
