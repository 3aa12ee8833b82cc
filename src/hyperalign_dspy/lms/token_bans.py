"""Tokens the embedded engine may not sample, as a llama.cpp logits processor: no run of `ngram`
tokens written twice in one answer (a small model's loop), and no token holding a mark the person
never writes (a template slot "[Name]", markdown "**" or a heading "#" in the text of someone whose
texts have none: `TextCounts.unused_marks`). DSPy's own field markers ("[[ ## response ## ]]") stay writable.

Asked for in a call's metadata: `{"banned_marks": "[]#*", "no_repeat_ngram": 5}`."""

from __future__ import annotations

import re
import threading

import numpy as np

# DSPy's ChatAdapter writes its fields between these markers; their tokens are never banned.
_FIELD_MARKERS = ("[[ ## response ## ]]", "[[ ## completed ## ]]", "\n\n[[ ## completed ## ]]")

_PIECES: dict[int, list[str]] = {}  # id(llama) -> the text of each token
_BANNED: dict[tuple[int, str], np.ndarray] = {}
_LOCK = threading.Lock()


def tokens_holding(llama, marks: str) -> np.ndarray:
    """The ids of the tokens whose text holds any of `marks`, but for the tokens of DSPy's field
    markers. Made once per model and marks (a pass over the vocabulary, about a second)."""
    key = (id(llama), marks)
    with _LOCK:
        if key not in _BANNED:
            if id(llama) not in _PIECES:
                _PIECES[id(llama)] = [llama.detokenize([token]).decode("utf-8", errors="ignore")
                                      for token in range(llama.n_vocab())]
            markers = {token for marker in _FIELD_MARKERS
                       for token in llama.tokenize(marker.encode("utf-8"), add_bos=False, special=False)}
            found = re.compile(f"[{re.escape(marks)}]")
            _BANNED[key] = np.array([token for token, piece in enumerate(_PIECES[id(llama)])
                                     if token not in markers and found.search(piece)], dtype=np.int64)
        return _BANNED[key]


class TokenBans:
    """A llama.cpp logits processor: `banned` token ids never, and with `ngram`, no token that
    would write again a run of `ngram` tokens the answer holds already. The answer starts where the
    processor is first called (the prompt's tokens are what it is called with first)."""

    def __init__(self, banned: np.ndarray | None = None, ngram: int | None = None):
        self.banned, self.ngram = banned, ngram
        self.answer_start: int | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.answer_start is None:
            self.answer_start = len(input_ids)
        if self.banned is not None and len(self.banned):
            scores[self.banned] = -np.inf
        if self.ngram:
            for token in repeated_next_tokens(list(input_ids[self.answer_start:]), self.ngram):
                scores[token] = -np.inf
        return scores


def repeated_next_tokens(answer: list[int], ngram: int) -> set[int]:
    """The tokens that, written next, would repeat a run of `ngram` tokens `answer` holds."""
    if ngram < 2 or len(answer) < ngram - 1:
        return set()
    tail = answer[len(answer) - ngram + 1:]
    return {answer[start + ngram - 1] for start in range(len(answer) - ngram + 1)
            if answer[start:start + ngram - 1] == tail}
