"""DSPy prices every LM call from its bundled model-metadata snapshot (about 4,500 entries). For a
model the snapshot does not name, which is any model behind a local OpenAI-compatible server,
each of the two lookups per call scans every entry for an alias: about 1 ms of the client's CPU
each, its largest single cost per call (profiled on benchmark figure 3, where 16 threads wait on
a server and every millisecond under the interpreter lock delays all of them). A lookup's answer
depends only on its arguments and the snapshot, which DSPy loads once per process, so it is kept.
"""

from __future__ import annotations

import copy
import functools

from dspy.clients import costs


def remember_model_metadata() -> None:
    """Make DSPy's per-call price lookup remember its answers (once per process)."""
    if getattr(costs.model_info, "remembered", False):
        return
    lookup = functools.lru_cache(maxsize=512)(costs.model_info)

    def model_info(provider, model, *, namespaces=None):
        return copy.deepcopy(lookup(provider, model, namespaces=namespaces))  # callers get their own copy, as before

    model_info.remembered = True
    costs.model_info = model_info
