"""One LM per role, in the spirit of STORM's per-stage LM configurations.

The roles: `infer` (stage 1, the hypotheses), `generate` (stage 2 and the baselines), `judge`
(the evaluation's and the compile metric's judge) and `reflection` (an optimizer's own LM, such as
GEPA's). A role left unset uses the `generate` LM; `generate` left unset uses the LM DSPy is
configured with. `LMNames` is the same as data (a suite's `[lms]` table, the CLI's flags), turned
into LMs by `build()`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import dspy
from pydantic import BaseModel, ConfigDict, model_validator

from hyperalign_dspy.errors import HyperAlignError

Role = Literal["generate", "infer", "judge", "reflection"]


@dataclass
class LMConfig:
    generate: dspy.LM | None = None
    infer: dspy.LM | None = None
    judge: dspy.LM | None = None
    reflection: dspy.LM | None = None

    def of(self, role: Role) -> dspy.LM | None:
        """The LM of `role`: its own, else the `generate` LM (None: DSPy's configured LM)."""
        return getattr(self, role) or self.generate

    def names(self) -> dict[str, str]:
        """The model name of each role, as logged with a run ('' where DSPy's configured LM serves)."""
        configured = dspy.settings.lm
        return {f"{field.name}_lm": getattr(self.of(field.name) or configured, "model", "") for field in fields(self)}


class LMChoice(BaseModel):
    """An LM by name (as `lm()` takes it), with the base URL of its server where it has one."""

    model_config = ConfigDict(extra="forbid")
    name: str
    api_base: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value):
        return {"name": value} if isinstance(value, str) else value


class LMNames(BaseModel):
    """The LMs of the roles by name: `generate = "local"`, or `judge = { name = "openai/m", api_base = "..." }`."""

    model_config = ConfigDict(extra="forbid")
    generate: LMChoice | None = None
    infer: LMChoice | None = None
    judge: LMChoice | None = None
    reflection: LMChoice | None = None

    def over(self, fallback: LMNames) -> LMNames:
        """These choices, and `fallback`'s for the roles these leave unset."""
        return LMNames(**{role: getattr(self, role) or getattr(fallback, role) for role in LMNames.model_fields})

    def build(self) -> LMConfig:
        """The LMs; roles that name the same LM share one object (an embedded model is loaded once)."""
        from hyperalign_dspy.lms.names import lm

        made: dict[tuple[str, str | None], dspy.LM] = {}
        config = LMConfig()
        for role in LMNames.model_fields:
            choice = getattr(self, role)
            if choice is not None:
                key = (choice.name, choice.api_base)
                if key not in made:
                    try:
                        made[key] = lm(choice.name, api_base=choice.api_base)
                    except HyperAlignError as exc:  # which LM of the run it is
                        raise HyperAlignError(f"the {role} LM ({choice.name}): {exc}") from None
                setattr(config, role, made[key])
        return config
