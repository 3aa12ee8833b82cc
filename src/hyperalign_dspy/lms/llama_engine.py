"""A DSPy 3.4 engine that runs a GGUF model in-process through llama-cpp-python.

DSPy calls `complete(Request) -> Response`. One llama context is not thread-safe, so calls are
serialized with a lock; the model is loaded once per process and path, and every engine of that
model (an LM made twice by name, a role's copy) shares its lock. llama-cpp-python keeps the
KV state of the previous prompt and re-evaluates only what follows the longest shared prefix, so
consecutive calls that share an instruction block or a user's texts pay for that prefix once.
A JSON schema in `response_format` becomes a llama.cpp grammar, so even a small model emits
parseable JSON.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import threading
from pathlib import Path

import numpy as np
from dspy.lm15 import Message, Response, Usage

from hyperalign_dspy.errors import HyperAlignError

_LOADED: dict[tuple[str, int], object] = {}
_LOAD_LOCK = threading.Lock()
_CALL_LOCKS: dict[tuple[str, int], threading.Lock] = {}  # per model name and context size


def _call_lock(model_name: str, context_tokens: int) -> threading.Lock:
    with _LOAD_LOCK:
        return _CALL_LOCKS.setdefault((model_name, context_tokens), threading.Lock())


@atexit.register
def _close_models() -> None:
    # Freed here, while llama.cpp is still loaded; a model left to the interpreter's final
    # clean-up prints an ignored exception from llama-cpp-python's destructor.
    for llama in _LOADED.values():
        llama.close()
    _LOADED.clear()


def available_cores() -> int:
    """The cores this process may run on (`taskset`), not all the machine's: a thread more than
    there are cores stalls every step of llama.cpp's thread barrier."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2


def _load_llama(path: Path, context_tokens: int):
    key = (str(path), context_tokens)
    with _LOAD_LOCK:
        if key not in _LOADED:
            try:
                from hyperalign_dspy.lms.grammar_first import GrammarFirstLlama
            except ImportError as exc:
                raise HyperAlignError(
                    "the embedded LM needs llama-cpp-python; run `make setup` (it builds it with the right CPU flags)"
                ) from exc
            _LOADED[key] = GrammarFirstLlama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=available_cores(),
                # Half llama.cpp's default batch, and flash attention: a smaller compute buffer
                # (peak memory of the demo), at the same prompt speed on 2 cores.
                n_batch=256,
                flash_attn=True,
                # Read into memory, not mapped: llama.cpp copies most weights into an AVX2 layout
                # (its CPU_REPACK buffer), and a mapped file stays resident beside the copy, which
                # raises the peak memory (docs/decisions.md).
                use_mmap=False,
                logits_all=False,
                verbose=False,
            )
        return _LOADED[key]


# DSPy builds response schemas from bare field types, so a signature's list bounds do not reach
# the schema; a small model under a grammar can then repeat one list item until max_tokens.
MAX_ITEMS = 12


# An array schema's extension: its item pattern opens with an alternation `^(A|B|C)...`, and the
# array holds one item for each alternative, in that order (a tuple, as `prefixItems` says it).
# Spelled out in the schema, the tuple would repeat the item pattern once per alternative in the
# prompt, where DSPy shows the schema; the grammar alone gets it.
IN_ORDER = "x-in-order"
_LEADING_ALTERNATION = re.compile(r"\^\(([^()]*)\)(.*)", re.DOTALL)


# A string with nothing else to say its shape: at most 60 words of at most 30 characters, one
# space apart. Unbounded, a small model may run one field on to max_tokens, and the answer is cut
# off before it parses (docs/decisions.md).
FREE_TEXT = r'^([^ "\\]{1,30}( [^ "\\]{1,30}){0,59})?$'


def grammar_schema(schema):
    """The schema as a grammar should enforce it: every array holds 1 to MAX_ITEMS items unless it
    states its own bounds (or is a tuple: `x-in-order`), a string without a pattern, enum or
    format is FREE_TEXT, and strings have no length bounds (llama-cpp-python spells `maxLength: n`
    as n nested optional rules, which makes sampling orders of magnitude slower)."""
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: grammar_schema(value) for key, value in schema.items()
              if not (key in ("minLength", "maxLength") and schema.get("type") == "string") and key != IN_ORDER}
    in_order = schema.get(IN_ORDER) and _LEADING_ALTERNATION.fullmatch((schema.get("items") or {}).get("pattern", ""))
    if result.get("type") == "array" and in_order:
        alternatives, rest = in_order.group(1).split("|"), in_order.group(2)
        result.pop("items")
        result["prefixItems"] = [{"type": "string", "pattern": f"^{alternative}{rest}"} for alternative in alternatives]
    elif result.get("type") == "array":
        result.setdefault("minItems", 1)
        result.setdefault("maxItems", MAX_ITEMS)
    elif result.get("type") == "string" and not {"pattern", "enum", "const", "format"} & result.keys():
        result["pattern"] = FREE_TEXT
    return result


def _schema_of(response_format: dict | None) -> dict | None:
    if not response_format:
        return None
    schema = response_format.get("schema") or (response_format.get("json_schema") or {}).get("schema")
    return grammar_schema(schema) if schema else None


def _text_of(parts) -> str:
    if isinstance(parts, str):
        return parts
    return "".join(getattr(part, "text", "") or "" for part in parts)


class LlamaCppEngine:
    """Runs one embedded model; `model_name` is a key of `EMBEDDED_MODELS`."""

    supports_response_schema = True
    supports_grammar = True  # a GBNF grammar of free text, in the call's metadata
    # Banned marks, repeated n-grams, sentence openers and an early end, in the call's metadata (`token_bans.py`).
    supports_token_bans = True
    supports_loop_stop = True  # generation ends at a repeated run of tokens, in the call's metadata (`loop_stop.py`)
    supports_documents = True  # a call whose metadata says `document` continues the text, no chat template
    supported_params = ("response_format", "temperature", "max_tokens", "stop", "top_p", "top_k", "seed")

    def __init__(self, model_name: str, context_tokens: int | None = None, repeat_penalty: float = 1.1):
        from hyperalign_dspy.lms.embedded_models import EMBEDDED_MODELS

        if model_name not in EMBEDDED_MODELS:
            raise HyperAlignError(f"unknown embedded model '{model_name}'; known: {', '.join(EMBEDDED_MODELS)}")
        self.model_name = model_name
        self.context_tokens = context_tokens or EMBEDDED_MODELS[model_name].context_tokens
        self.repeat_penalty = repeat_penalty  # small models loop at temperature 0 without it
        self._lock = _call_lock(model_name, self.context_tokens)
        self._seeds = itertools.count()

    @property
    def llama(self):
        from hyperalign_dspy.lms.embedded_models import model_path

        return _load_llama(model_path(self.model_name), self.context_tokens)

    def complete(self, request) -> Response:
        messages = []
        if request.system is not None:
            messages.append({"role": "system", "content": _text_of(request.system)})
        for message in request.messages:
            role = "user" if message.role == "developer" else message.role
            messages.append({"role": role, "content": _text_of(message.parts)})
        config = request.config
        settings = {
            "temperature": 0.0 if config.temperature is None else config.temperature,
            "max_tokens": config.max_tokens or 1024,
            "repeat_penalty": self.repeat_penalty,
        }
        if config.top_p is not None:
            settings["top_p"] = config.top_p
        if config.top_k is not None:
            settings["top_k"] = config.top_k
        # Each call draws the next seed, so a resampled request (DSPy's rollouts) gets a new answer
        # while a fresh process replays the same sequence; DSPy's cache keeps repeated runs equal.
        settings["seed"] = next(self._seeds) if config.seed is None else config.seed
        if config.stop:
            settings["stop"] = list(config.stop)
        schema = _schema_of(config.response_format)
        # A grammar of the answer's free text (GBNF), given as `config={"metadata": {"gbnf": ...}}`,
        # the one per-call key DSPy passes to an engine unchanged (and keeps in its cache key). A
        # response schema wins: DSPy's JSON fallback keeps the metadata of the call it replaces.
        metadata = (config.extensions or {}).get("metadata") or {}
        gbnf = metadata.get("gbnf")
        processors = []
        free_text = schema is None and not config.response_format  # a JSON answer needs its braces and may repeat its keys
        bans = ("banned_marks", "no_repeat_ngram", "banned_openers", "fewest_tokens")
        if free_text and any(metadata.get(key) for key in bans):
            from hyperalign_dspy.lms.token_bans import TokenBans, end_tokens, opener_tokens, pieces_of, tokens_holding

            marks, openers, fewest = metadata.get("banned_marks"), metadata.get("banned_openers"), metadata.get("fewest_tokens")
            processors.append(TokenBans(tokens_holding(self.llama, marks) if marks else None, metadata.get("no_repeat_ngram"),
                                        openers=opener_tokens(self.llama, openers) if openers else None,
                                        pieces=pieces_of(self.llama) if openers else None,
                                        ends=end_tokens(self.llama) if fewest else None, fewest=fewest or 0))
        if processors:
            from llama_cpp import LogitsProcessorList

            settings["logits_processor"] = LogitsProcessorList(processors)
        if schema is not None:
            settings["response_format"] = {"type": "json_object", "schema": schema}
        elif config.response_format:
            settings["response_format"] = {"type": "json_object"}
        elif gbnf:
            from llama_cpp import LlamaGrammar

            settings["grammar"] = LlamaGrammar.from_string(gbnf, verbose=False)
        stops_loops = free_text and metadata.get("stop_on_repeat")
        if stops_loops:
            from llama_cpp import StoppingCriteriaList

            from hyperalign_dspy.lms.loop_stop import RepeatStop

            settings["stopping_criteria"] = StoppingCriteriaList([RepeatStop(metadata["stop_on_repeat"])])
        with self._lock:
            if metadata.get("document"):
                # A document to continue (`DocumentAdapter`): the messages' text, no chat template.
                result = self.llama.create_completion(
                    prompt="\n\n".join(message["content"] for message in messages), **settings)
            elif stops_loops:
                # The chat template's tokens, completed: chat completion takes no stopping criteria.
                result = self.llama.create_completion(prompt=_chat_tokens(self.llama, messages), **settings)
            else:
                result = self.llama.create_chat_completion(messages=messages, **settings)
        choice = result["choices"][0]
        if "text" in choice:
            choice = {**choice, "message": {"content": choice["text"]}}
        usage = result.get("usage") or {}
        return Response(
            id=None,
            model=self.model_name,
            message=Message.assistant(choice["message"]["content"] or ""),
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            usage=Usage(input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens")),
        )

    def continuation_logprobs(self, context: str, continuation: str) -> list[float]:
        """The log-probability of each token of `continuation` when it follows `context` (raw text,
        no chat template). The context's KV state is kept, so scoring several continuations of one
        context evaluates the context once."""
        llama = self.llama
        return self._score(llama.tokenize(context.encode("utf-8"), add_bos=True, special=False), continuation)

    def chat_continuation_logprobs(self, messages: list[dict], continuation: str) -> list[float]:
        """The log-probability of each token of `continuation` as the start of the assistant's
        reply to the chat `messages` (in the model's own chat template)."""
        return self._score(_chat_tokens(self.llama, messages), continuation)

    def _score(self, context_tokens: list[int], continuation: str) -> list[float]:
        llama = self.llama
        continuation_tokens = llama.tokenize(continuation.encode("utf-8"), add_bos=False, special=False)
        if not context_tokens or not continuation_tokens:
            raise HyperAlignError("cannot score an empty context or continuation")
        if len(context_tokens) + len(continuation_tokens) > self.context_tokens:
            raise HyperAlignError(
                f"context and continuation ({len(context_tokens) + len(continuation_tokens)} tokens) "
                f"exceed the {self.context_tokens}-token context of '{self.model_name}'"
            )
        with self._lock:
            return _score_after(llama, context_tokens, continuation_tokens)

    def close(self) -> None:
        pass


def _chat_tokens(llama, messages: list[dict]) -> list[int]:
    """The tokens of `messages` in the model's chat template, up to the start of the assistant's
    reply. The template's own text may hold control tokens; the messages' contents never do (a
    text that spells `<|im_end|>` stays text), so each content is tokenized on its own."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return "" if token < 0 else llama.detokenize([token], special=True).decode("utf-8", errors="ignore")

    formatter = Jinja2ChatFormatter(llama.metadata["tokenizer.chat_template"],
                                    eos_token=token_text(llama.token_eos()), bos_token=token_text(llama.token_bos()))
    slots = [f"\x00{index}\x00" for index in range(len(messages))]
    rendered = formatter(messages=[{**message, "content": slot} for message, slot in zip(messages, slots)]).prompt
    tokens: list[int] = []
    for index, slot in enumerate(slots):
        template_text, rendered = rendered.split(slot, 1)
        tokens += llama.tokenize(template_text.encode("utf-8"), add_bos=not tokens, special=True)
        tokens += llama.tokenize(messages[index]["content"].encode("utf-8"), add_bos=False, special=False)
    return tokens + llama.tokenize(rendered.encode("utf-8"), add_bos=False, special=True)


SCORE_BATCH = 64  # tokens whose logits are read per decode: 64 x vocabulary floats


def _score_after(llama, context_tokens: list[int], continuation_tokens: list[int]) -> list[float]:
    # Keep the KV state of whatever the previous call shares with this context (Llama.eval drops
    # everything from n_tokens on); all but the context's last token are evaluated the usual way.
    kept = llama.input_ids[: llama.n_tokens].tolist()
    shared = 0
    for old, new in zip(kept, context_tokens[:-1]):
        if old != new:
            break
        shared += 1
    llama.n_tokens = shared
    llama.eval(context_tokens[shared:-1])
    # The context's last token and the continuation are decoded with logits for every position:
    # the logits at position i predict token i + 1.
    tokens = [context_tokens[-1], *continuation_tokens]
    start_position = len(context_tokens) - 1
    vocabulary = llama.n_vocab()
    logprobs: list[float] = []
    try:
        for offset in range(0, len(tokens) - 1, SCORE_BATCH):
            chunk = tokens[offset : offset + SCORE_BATCH]
            targets = np.array(tokens[offset + 1 : offset + 1 + len(chunk)])
            llama._batch.set_batch(batch=chunk, n_past=start_position + offset, logits_all=True)
            llama._ctx.decode(llama._batch)
            logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(chunk), vocabulary))[: len(targets)]
            peak = logits.max(axis=1)
            log_normalizer = peak + np.log(np.exp(logits - peak[:, None]).sum(axis=1))
            logprobs.extend((logits[np.arange(len(targets)), targets] - log_normalizer).tolist())
    finally:
        # Only the context minus its last token is known to be in the KV state with its ids.
        llama.n_tokens = start_position
        llama._requires_eval = True
    return logprobs
