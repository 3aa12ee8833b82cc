"""What a piece of work cost in LM calls and tokens (DSPy's usage tracker, in the current thread;
an answer from DSPy's cache counts no call) and in wall seconds. The eval's workers and the demo's
steps are measured with it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dspy


@dataclass
class LMCost:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def as_text(self) -> str:
        return (f"{self.seconds:.0f} s, {self.calls} LM calls, {self.prompt_tokens:,} tokens read, "
                f"{self.completion_tokens:,} written")


@contextmanager
def measured() -> Iterator[LMCost]:
    """`with measured() as cost:` fills `cost` when the block ends, also when it raises."""
    cost, started = LMCost(), time.perf_counter()
    with dspy.track_usage() as usage:
        try:
            yield cost
        finally:
            entries = [entry for per_lm in usage.usage_data.values() for entry in per_lm]
            cost.calls = len(entries)
            cost.prompt_tokens = sum(entry.get("prompt_tokens") or 0 for entry in entries)
            cost.completion_tokens = sum(entry.get("completion_tokens") or 0 for entry in entries)
            cost.seconds = time.perf_counter() - started
