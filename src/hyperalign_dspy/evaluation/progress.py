"""Progress of a long stage when stderr is not a terminal (a log, `nohup`, CI), where DSPy's bar
does not show: a line at each tenth of the stage's items, with done/total. On a terminal DSPy's own
bar does this, and these lines stay quiet. (The command line stamps every line with the time since
the command began.)"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


class StageProgress:
    """Counts a stage's finished items (thread-safe) and reports each tenth through `progress`.
    With `total=None` (a teleprompter's metric calls, whose number it decides) a line goes out
    every `every` items, without a share."""

    def __init__(self, progress: Callable[[str], None], stage: str, total: int | None = None, *,
                 every: int | None = None, unit: str = "done", quiet: bool | None = None):
        self.progress, self.stage, self.total, self.unit = progress, stage, total, unit
        self.every = every or (max(1, total // 10) if total else 1)
        self.quiet = sys.stderr.isatty() if quiet is None else quiet
        self.done = 0
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self.done += 1
            done = self.done
            if self.total:  # the line for each tenth passed, and for the last item
                due = done * 10 // self.total > (done - 1) * 10 // self.total or done == self.total
            else:
                due = done % self.every == 0
        if due and not self.quiet:
            share = f"{done}/{self.total} {self.unit} ({100 * done // self.total}%)" if self.total else f"{done} {self.unit}"
            self.progress(f"{self.stage}: {share}")

    def counted(self, function: Callable) -> Callable:
        """`function`, ticking once each time it returns or raises."""

        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            finally:
                self.tick()

        return run
