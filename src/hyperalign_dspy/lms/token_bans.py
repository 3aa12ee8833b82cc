"""Tokens the embedded engine may not sample, as a llama.cpp logits processor: no run of `ngram`
tokens written twice in one answer (a small model's loop), and no token holding a mark the person
never writes (a template slot "[Name]", markdown "**" or a heading "#" in the text of someone whose
texts have none: `TextCounts.unused_marks`), and no sentence opened with a word the person never
opens one with ("However", "In conclusion": `checks/foreign_openers.py`), and no end of text before
`fewest_tokens` (a continued document the 1.5B model ended after two or three sentences). DSPy's own
field markers ("[[ ## response ## ]]") stay writable.

Asked for in a call's metadata: `{"banned_marks": "[]#*", "no_repeat_ngram": 5, "banned_openers": ["However"],
"fewest_tokens": 300}`."""

from __future__ import annotations

import re
import threading

import numpy as np

# DSPy's ChatAdapter writes its fields between these markers; their tokens are never banned.
_FIELD_MARKERS = ("[[ ## response ## ]]", "[[ ## completed ## ]]", "\n\n[[ ## completed ## ]]")

_PIECES: dict[int, list[str]] = {}  # id(llama) -> the text of each token
_BANNED: dict[tuple[int, str], np.ndarray] = {}
_ENDS: dict[int, np.ndarray] = {}  # id(llama) -> its end-of-generation tokens
_LOCK = threading.Lock()


# A token after which a sentence starts: it ends one, or a line.
_SENTENCE_ENDS = re.compile(r"(?:[.!?][\"”’)]*\s*|\n\s*)$")


def pieces_of(llama) -> list[str]:
    """The text of each token of the model's vocabulary, made once per model (about a second)."""
    with _LOCK:
        if id(llama) not in _PIECES:
            _PIECES[id(llama)] = [llama.detokenize([token]).decode("utf-8", errors="ignore")
                                  for token in range(llama.n_vocab())]
        return _PIECES[id(llama)]


def end_tokens(llama) -> np.ndarray:
    """The ids of the tokens that end generation (the model's end-of-text and end-of-turn tokens)."""
    import llama_cpp

    with _LOCK:
        if id(llama) not in _ENDS:
            model = getattr(llama, "_model", None)  # llama-cpp-python's own model; none in a scripted one
            ends = {llama.token_eos()}
            if model is not None:
                ends |= {token for token in range(llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(model.vocab, token)}
            _ENDS[id(llama)] = np.array(sorted(ends), dtype=np.int64)
        return _ENDS[id(llama)]


def opener_tokens(llama, openers: list[str]) -> list[list[int]]:
    """The tokens of each opener as it starts a sentence after a space and after a line break."""
    spellings = {f"{space}{opener}" for opener in openers for space in (" ", "")}
    return [llama.tokenize(spelling.encode("utf-8"), add_bos=False, special=False) for spelling in sorted(spellings)]


def tokens_holding(llama, marks: str) -> np.ndarray:
    """The ids of the tokens whose text holds any of `marks`, but for the tokens of DSPy's field
    markers. Made once per model and marks (a pass over the vocabulary)."""
    key = (id(llama), marks)
    pieces = pieces_of(llama)
    with _LOCK:
        if key not in _BANNED:
            markers = {token for marker in _FIELD_MARKERS
                       for token in llama.tokenize(marker.encode("utf-8"), add_bos=False, special=False)}
            found = re.compile(f"[{re.escape(marks)}]")
            _BANNED[key] = np.array([token for token, piece in enumerate(pieces)
                                     if token not in markers and found.search(piece)], dtype=np.int64)
        return _BANNED[key]


class TokenBans:
    """A llama.cpp logits processor: `banned` token ids never; with `ngram`, no token that would
    write again a run of `ngram` tokens the answer holds already; with `openers` (token runs, from
    `opener_tokens`) and the vocabulary's `pieces`, no token that would complete one of them at the
    start of a sentence; with `ends` (`end_tokens`) and `fewest`, none of them before the answer's
    `fewest` tokens. The answer starts where the processor is first called (the prompt's tokens
    are what it is called with first)."""

    def __init__(self, banned: np.ndarray | None = None, ngram: int | None = None,
                 openers: list[list[int]] | None = None, pieces: list[str] | None = None,
                 ends: np.ndarray | None = None, fewest: int = 0):
        self.banned, self.ngram, self.openers, self.pieces = banned, ngram, openers or [], pieces
        self.ends, self.fewest = ends, fewest
        self.answer_start: int | None = None
        self.seen, self.sentence_start = 0, None  # the answer's tokens looked at; where its sentence began

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.answer_start is None:
            self.answer_start = len(input_ids)
        if self.banned is not None and len(self.banned):
            scores[self.banned] = -np.inf
        answer = list(input_ids[self.answer_start:])
        if self.ends is not None and len(answer) < self.fewest:
            scores[self.ends] = -np.inf
        if self.ngram:
            for token in repeated_next_tokens(answer, self.ngram):
                scores[token] = -np.inf
        if self.openers:
            for token in self.completing_an_opener(answer):
                scores[token] = -np.inf
        return scores

    def completing_an_opener(self, answer: list[int]) -> set[int]:
        """The tokens that, written next, would complete an opener at the start of this sentence."""
        for position in range(self.seen, len(answer)):
            if _SENTENCE_ENDS.search(self.pieces[answer[position]]):
                self.sentence_start = position + 1
        self.seen = len(answer)
        if self.sentence_start is None:
            return set()  # a continued document's answer may begin inside a sentence
        # Spaces alone between the sentence's end and its first word are no part of an opener.
        written = [token for token in answer[self.sentence_start:] if self.pieces[token].strip()]
        return {opener[-1] for opener in self.openers
                if len(opener) == len(written) + 1 and opener[:-1] == written}


def repeated_next_tokens(answer: list[int], ngram: int) -> set[int]:
    """The tokens that, written next, would repeat a run of `ngram` tokens `answer` holds."""
    if ngram < 2 or len(answer) < ngram - 1:
        return set()
    tail = answer[len(answer) - ngram + 1:]
    return {answer[start + ngram - 1] for start in range(len(answer) - ngram + 1)
            if answer[start:start + ngram - 1] == tail}
