"""`SchemaOrTextAdapter`: JSON answers held to the signature's schema by a server that takes one
(llama-server and vLLM turn `response_format` into a grammar), and DSPy's text answers from a
server that refuses it.

A server that answers a call carrying the schema with an HTTP error (llama-cpp-python's own server
answers 500 to `json_schema`) gets the same call again through DSPy's `ChatAdapter`, and every
later call to that server goes the text way at once. A refusal is not told from a passing server
fault: after either, that server loses the schema for the rest of the process, with a warning.
"""

from __future__ import annotations

import logging
import threading
from typing import ClassVar

import dspy
from dspy.utils.exceptions import LMInvalidRequestError, LMServerError

from hyperalign_dspy.lms.llama_engine import grammar_schema

logger = logging.getLogger(__name__)


class SchemaOrTextAdapter(dspy.JSONAdapter):
    _without_schema: ClassVar[set[tuple[str, str | None]]] = set()  # (model, api_base) of servers that refused
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def _prepare_response_format(self, lm, lm_kwargs, signature):
        # The schema bounded as the embedded engine bounds it (arrays, free text, one hypothesis
        # per aspect in order): under a server's grammar of the bare schema, a small model may run
        # one hypothesis on until max_tokens.
        super()._prepare_response_format(lm, lm_kwargs, signature)
        output_model = lm_kwargs.get("response_format")
        if hasattr(output_model, "model_json_schema"):  # DSPy's pydantic model of the signature's outputs
            lm_kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": output_model.__name__, "schema": grammar_schema(output_model.model_json_schema()),
                "strict": False}}

    def __call__(self, lm, lm_kwargs, signature, demos, inputs):
        server = (lm.model, lm.kwargs.get("api_base"))
        if server not in self._without_schema:
            try:
                # JSONAdapter writes the response format into the call's options: a copy keeps it from the text call.
                return super().__call__(lm, dict(lm_kwargs), signature, demos, inputs)
            except (LMServerError, LMInvalidRequestError) as error:
                with self._lock:
                    self._without_schema.add(server)
                logger.warning("%s at %s refused an answer held to a JSON schema (%s); its answers are read as "
                               "text from now on", *server, error)
        return dspy.ChatAdapter(use_json_adapter_fallback=False)(lm, lm_kwargs, signature, demos, inputs)
