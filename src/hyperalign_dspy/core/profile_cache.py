"""`ProfileCache`: the profiles a stage-1 module has inferred, by what decides them (the texts it
read, its LM and its predictors' state), so that N prompts for one person cost one stage-1 call."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import dspy

from hyperalign_dspy.core.profile import Profile


class ProfileCache:
    def __init__(self):
        self._profiles: dict[str, Profile] = {}

    @staticmethod
    def key(texts: list[str], lm: dspy.LM, stage: dspy.Module) -> str:
        """What decides a profile: the texts, the LM's name, and the state (instructions, demos) of
        every predictor of `stage`."""
        state = {name: predictor.dump_state() for name, predictor in stage.named_predictors()}
        return hashlib.sha256(json.dumps([texts, lm.model, state], sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str, infer: Callable[[], Profile]) -> Profile:
        """The profile under `key`, inferred by `infer` the first time."""
        if key not in self._profiles:
            self._profiles[key] = infer()
        return self._profiles[key]
