"""`Profile`: what stage 1 learned about one person (hypotheses, each of a kind, typed attributes, the
ids of the texts they came from, and what checking the hypotheses against those texts changed),
saved as JSON, edited, passed back in. Each task's profile names the type of its attributes."""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from hyperalign_dspy.core.files import publish
from hyperalign_dspy.errors import HyperAlignError


class Hypothesis(BaseModel):
    kind: str = Field(description="what it is about: a task's kinds (authorship: communication, personality, style)")
    text: str = Field(min_length=1)


class ClaimCheck(BaseModel):
    """A hypothesis that checking it against the person's texts changed."""

    hypothesis: str  # as stage 1 stated it
    outcome: Literal["corrected", "dropped"]
    reason: str


class Profile(BaseModel):
    hypotheses: list[Hypothesis] = Field(min_length=1)
    attributes: BaseModel  # a task's profile narrows this to its attributes type
    source_ids: list[str] = Field(description="ids of the texts the hypotheses were inferred from")
    checks: list[ClaimCheck] = Field(default_factory=list, description="hypotheses corrected or dropped by the counts")

    @field_validator("hypotheses", mode="before")
    @classmethod
    def _kinds_of_plain_texts(cls, hypotheses):
        """A hypothesis given as plain text (an edited or older profile) gets its kind from the task."""
        if not isinstance(hypotheses, list):
            return hypotheses
        return [{"kind": cls.kind_of(item), "text": item} if isinstance(item, str) else item for item in hypotheses]

    @classmethod
    def kind_of(cls, text: str) -> str:
        """The kind of a hypothesis stated as `text`."""
        return "unspecified"

    @property
    def hypothesis_texts(self) -> list[str]:
        return [hypothesis.text for hypothesis in self.hypotheses]

    def as_text(self) -> str:
        """The profile for people: numbered hypotheses with their kinds, then the attributes."""
        return profile_text(self.hypotheses, self.attributes.model_dump(), self.checks)

    def save(self, path: str | Path) -> None:
        """Write the profile as JSON, atomically: an interrupted save leaves no half file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False, encoding="utf-8") as out:
            try:
                out.write(self.model_dump_json(indent=2))
            except BaseException:
                os.unlink(out.name)
                raise
        publish(out.name, path)

    @classmethod
    def load(cls, path: str | Path) -> "Profile":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HyperAlignError(f"cannot read profile {path}: {exc.__class__.__name__}: {exc}") from exc
        try:
            return cls.model_validate(json.loads(text))
        except json.JSONDecodeError as exc:
            raise HyperAlignError(f"profile {path} is not JSON: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise HyperAlignError(f"profile {path} does not match the profile schema: {where}: {first['msg']}") from exc


def profile_text(hypotheses: list[Hypothesis], attributes: dict, checks: list[ClaimCheck] = ()) -> str:
    """Hypotheses, numbered with their kinds, attributes, and what the checks changed, wrapped for a terminal."""
    lines = ["Hypotheses:"]
    for number, hypothesis in enumerate(hypotheses, start=1):
        lines.append(textwrap.fill(f"[{hypothesis.kind}] {hypothesis.text}", width=100,
                                   initial_indent=f"{number:>3}. ", subsequent_indent="     "))
    if checks:
        lines.append("\nChecked against the texts:")
        for check in checks:
            lines.append(textwrap.fill(f"{check.outcome}: {check.hypothesis} ({check.reason})", width=100,
                                       initial_indent="  - ", subsequent_indent="    "))
    lines.append("\nAttributes:")
    for name, value in attributes.items():
        shown = "; ".join(value) if isinstance(value, list) else value
        lines.append(textwrap.fill(f"{name}: {shown}", width=100, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(lines)
