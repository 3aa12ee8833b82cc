"""Decoding under a grammar at about the speed of free decoding, as llama.cpp's own sampler does it.

llama-cpp-python puts the grammar in the sampler chain before the other samplers, so every token
checks all 151,936 tokens of Qwen's vocabulary against the grammar: stage 1's hypotheses under
their JSON grammar decoded at 9.0 tokens/s against 11.7 free (docs/benchmark.md). llama.cpp's
`common_sampler_sample` (llama-server) samples without the grammar first and asks the grammar
about that one token only; only when the grammar rejects it is the whole vocabulary checked and the
token sampled again. Under greedy decoding the token is the same either way: the best token the
grammar allows. `GrammarFirstLlama` is `llama_cpp.Llama` with that sampler.
"""

from __future__ import annotations

import ctypes

import llama_cpp
import numpy as np
from llama_cpp import Llama
from llama_cpp._internals import LlamaTokenDataArray


class GrammarFirstSampler:
    """`sample(ctx, idx) -> token`, as `llama_cpp._internals.LlamaSampler` is called by `Llama.generate`:
    `free` (the chain without the grammar) picks a token; the grammar checks it and, where it
    rejects it, masks the whole vocabulary before `free` picks again. Both accept the token."""

    def __init__(self, free, grammar_sampler, n_vocab: int):
        self.free, self.grammar, self.n_vocab = free, grammar_sampler, n_vocab
        self.candidates = LlamaTokenDataArray(n_vocab=n_vocab)
        self.one = LlamaTokenDataArray(n_vocab=1)

    def allows(self, token: int) -> bool:
        self.one.candidates_data.id[0], self.one.candidates_data.logit[0] = token, 1.0
        self.one.candidates.size, self.one.candidates.sorted = 1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes_ref(self.one))
        return bool(np.isfinite(self.one.candidates_data.logit[0]))

    def pick(self, logits: np.ndarray, masked: bool) -> int:
        self.candidates.copy_logits(logits)
        self.candidates.candidates.selected = -1
        if masked:
            llama_cpp.llama_sampler_apply(self.grammar, ctypes_ref(self.candidates))
        llama_cpp.llama_sampler_apply(self.free.sampler, ctypes_ref(self.candidates))
        return int(self.candidates.candidates_data.id[self.candidates.candidates.selected])

    def sample(self, ctx, idx: int = -1) -> int:
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx.ctx, idx), shape=(self.n_vocab,))
        token = self.pick(logits, masked=False)
        if not self.allows(token):
            token = self.pick(logits, masked=True)
        self.free.accept(token)
        llama_cpp.llama_sampler_accept(self.grammar, token)
        return token

    def __del__(self, free_sampler=llama_cpp.llama_sampler_free):
        # The function is bound at definition: at the interpreter's exit the module may be gone.
        if getattr(self, "grammar", None) is not None:
            free_sampler(self.grammar)
            self.grammar = None


def ctypes_ref(array: LlamaTokenDataArray):
    return ctypes.byref(array.candidates)


class GrammarFirstLlama(Llama):
    """`Llama` whose calls under a grammar sample grammar-first (`GrammarFirstSampler`)."""

    def _init_sampler(self, *args, grammar=None, **kwargs):
        free = super()._init_sampler(*args, grammar=None, **kwargs)
        if grammar is None:
            return free
        grammar_sampler = llama_cpp.llama_sampler_init_grammar(
            self._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
        return GrammarFirstSampler(free, grammar_sampler, self._n_vocab)
