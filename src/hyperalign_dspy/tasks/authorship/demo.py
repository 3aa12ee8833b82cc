"""The demo: one dev author's profile, and two of their test prompts personalized."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hyperalign_dspy.core.lm_cost import LMCost, measured
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.tasks.authorship.checks.output_fit import Fit
from hyperalign_dspy.tasks.authorship.data.authors import DEV_AUTHORS, load_authors
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.program import HyPerAlign


@dataclass
class DemoItem:
    prompt: str
    response: str
    reference: str
    fit: Fit | None = None  # how the response keeps the author's counted habits
    cost: LMCost = field(default_factory=LMCost)


@dataclass
class DemoResult:
    author: str
    profile: UserProfile
    items: list[DemoItem]
    profile_cost: LMCost = field(default_factory=LMCost)


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
