"""The program's knobs as data: `ProgramSettings`, read from a suite's or a recipe's `[program]`
table (over the task's defaults), saved with a compiled program and logged as MLflow params. These
are the knobs every task's program has; a task with knobs of its own derives its settings from
them (authorship: `tasks/authorship/settings.py`)."""

from __future__ import annotations

import tomllib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hyperalign_dspy.errors import HyperAlignError


class ProgramSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    infer_text_tokens: int = Field(
        2000, gt=0, description="stage 1 reads at most this many tokens of the person's texts (prompt processing "
                                "dominates its cost on a CPU)")
    infer_max_tokens: int = Field(2048, gt=0, description="stage 1's answer: hypotheses and attributes")
    temperature: float = Field(
        0.7, ge=0, description="stage 2 and the baselines sample (greedy decoding makes small models repeat one "
                               "sentence until max_tokens); stage 1 stays greedy")
    attempts: int = Field(5, gt=0, description="stage 2's calls for one answer at most: an answer that recites its "
                                               "notes, adds too little or fits the person poorly is sampled again")
    shortest_share: float = Field(
        0.1, ge=0, le=1, description="an answer that adds less than this share of the person's typical length to the "
                                     "prompt's given text is sampled again")
    stage_two_notes: list[Literal["hypotheses", "attributes", "measured_habits"]] = Field(
        ["hypotheses", "attributes", "measured_habits"],
        description="what stage 2 is told of the profile (an ablation leaves some out; left out, a note is empty)")
    fit_share: float = Field(
        1.0, ge=0, le=1, description="an answer that shows less than this share of the person's counted habits (or "
                                      "breaks character) is sampled again, within `attempts`")
    same_hypothesis: float = Field(
        0.6, gt=0, le=1, description="hypotheses whose word sets overlap this much (Jaccard) say the same thing; the "
                                     "later one is dropped")

    @classmethod
    def of(cls, settings: ProgramSettings) -> ProgramSettings:
        """`settings` as this type: knobs `settings` does not have (a task's own) at their defaults."""
        return settings if isinstance(settings, cls) else cls(**settings.model_dump())

    def over(self, defaults: ProgramSettings) -> ProgramSettings:
        """`defaults` with the fields set here (explicitly, as in a TOML table) put in their place."""
        return defaults.model_copy(update=self.model_dump(include=self.model_fields_set))

    def updated(self, changes: dict[str, Any], source: str = "--set") -> ProgramSettings:
        """These settings with `changes` (name -> value) in their place, checked as a TOML table's
        are; a bad name or value is a `HyperAlignError` naming it (`source` says where it came from)."""
        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            raise HyperAlignError(f"{source} {unknown[0]}: not a setting of this program; known: "
                                  f"{', '.join(type(self).model_fields)}")
        try:
            checked = type(self).model_validate({**self.model_dump(include=self.model_fields_set), **changes})
        except ValidationError as exc:
            error = exc.errors()[0]
            raise HyperAlignError(f"{source} {error['loc'][0]}: {error['msg']}") from None
        return self.model_copy(update=checked.model_dump(include=set(changes)))

    def as_params(self) -> dict[str, float | int | bool | str]:
        return {f"program.{name}": ",".join(value) if isinstance(value, list) else value
                for name, value in self.model_dump().items()}


def parse_assignments(assignments: list[str] | None) -> dict[str, Any]:
    """`NAME=VALUE` pairs (the command line's `--set`) as a dict: VALUE is read as a TOML value
    (`attempts=2`, `temperature=0.3`, `length_grammar=false`, `stage_two_notes=["hypotheses"]`), and
    as plain text where it is not one."""
    changes: dict[str, Any] = {}
    for assignment in assignments or []:
        name, equals, raw = assignment.partition("=")
        if not equals or not name.strip():
            raise HyperAlignError(f"--set {assignment}: give NAME=VALUE, e.g. --set attempts=2")
        try:
            changes[name.strip()] = tomllib.loads(f"value = {raw.strip()}")["value"]
        except tomllib.TOMLDecodeError:
            changes[name.strip()] = raw.strip()
    return changes
