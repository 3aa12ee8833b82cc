"""The demo: one dev author's profile, and two of their test prompts personalized."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dspy

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.tasks.authorship.data.authors import DEV_AUTHORS, load_authors
from hyperalign_dspy.tasks.authorship.checks.output_fit import Fit
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.program import HyPerAlign


@dataclass
class StepCost:
    """What one step of the demo cost: LM calls and tokens (DSPy's usage tracker; a cached answer
    counts no call) and wall seconds."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def as_text(self) -> str:
        return (f"{self.seconds:.0f} s, {self.calls} LM calls, {self.prompt_tokens:,} tokens read, "
                f"{self.completion_tokens:,} written")


@contextmanager
def measured() -> Iterator[StepCost]:
    cost, started = StepCost(), time.perf_counter()
    with dspy.track_usage() as usage:
        yield cost
    entries = [entry for per_lm in usage.usage_data.values() for entry in per_lm]
    cost.calls = len(entries)
    cost.prompt_tokens = sum(entry.get("prompt_tokens") or 0 for entry in entries)
    cost.completion_tokens = sum(entry.get("completion_tokens") or 0 for entry in entries)
    cost.seconds = time.perf_counter() - started


@dataclass
class DemoItem:
    prompt: str
    response: str
    reference: str
    fit: Fit | None = None  # how the response keeps the author's counted habits
    cost: StepCost = field(default_factory=StepCost)


@dataclass
class DemoResult:
    author: str
    profile: UserProfile
    items: list[DemoItem]
    profile_cost: StepCost = field(default_factory=StepCost)


def run_demo(author: str | None = None, prompts: int = 2, data_path=DEV_AUTHORS,
             progress: Callable[[str], None] = lambda message: None, program: HyPerAlign | None = None) -> DemoResult:
    """Personalize `prompts` test prompts of one dev author (the first one unless named) with
    `program` (default: a new `HyPerAlign` on the configured LM); the author's real texts are
    returned beside the responses."""
    examples = load_authors(data_path)
    authors = sorted({example.author for example in examples})
    chosen = author or authors[0]
    mine = [example for example in examples if example.author == chosen]
    if not mine:
        raise HyperAlignError(f"no author '{chosen}' in {data_path}; authors: {', '.join(authors)}")
    program = program or HyPerAlign()
    progress(f"inferring hypotheses from {len(mine[0].examples)} texts by {chosen}")
    with measured() as profile_cost:
        profile = program.infer_profile(mine[0].examples)
    items = []
    for number, example in enumerate(mine[:prompts], start=1):
        progress(f"writing response {number}/{min(prompts, len(mine))}")
        with measured() as cost:
            answer = program(profile=profile, prompt=example.prompt)
        items.append(DemoItem(prompt=example.prompt, response=answer.response, reference=example.reference,
                              fit=answer.fit, cost=cost))
    return DemoResult(author=chosen, profile=profile, items=items, profile_cost=profile_cost)
