"""The program's knobs as data: `ProgramSettings`, read from a suite's or a recipe's `[program]`
table (over the task's defaults), saved with a compiled program and logged as MLflow params."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    length_grammar: bool = Field(
        True, description="on an engine that takes a grammar (the embedded models), an attempt after one shorter than "
                          "half the person's typical length writes under a grammar that lets it end only past that "
                          "length (its sentences and paragraphs stay free)")
    paragraph_grammar: bool = Field(
        False, description="on an engine that takes a grammar (the embedded models), stage 2 writes under one: at "
                           "least two paragraphs, each of at most 1.5 times the person's sentences per paragraph (off: "
                           "under it the 1.5B model glued words across sentence ends, see docs/results.md)")
    quote_again: bool = Field(
        False, description="a hypothesis whose evidence is not in the person's texts is asked for a quote once more "
                           "(one request, about as long as the texts, per such hypothesis); else it is dropped")
    same_hypothesis: float = Field(
        0.6, gt=0, le=1, description="hypotheses whose word sets overlap this much (Jaccard) say the same thing; the "
                                     "later one is dropped")

    def over(self, defaults: ProgramSettings) -> ProgramSettings:
        """`defaults` with the fields set here (explicitly, as in a TOML table) put in their place."""
        return defaults.model_copy(update=self.model_dump(include=self.model_fields_set))

    def as_params(self) -> dict[str, float | int | bool | str]:
        return {f"program.{name}": ",".join(value) if isinstance(value, list) else value
                for name, value in self.model_dump().items()}
