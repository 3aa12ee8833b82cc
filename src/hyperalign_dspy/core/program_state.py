"""Loading a saved program's state into a program whose predictors have moved or been added since."""

from __future__ import annotations

import dspy


def completed_state(program: dspy.Module, state: dict, moved: dict[str, str]) -> dict:
    """`state` with each predictor saved under a name in `moved` put under its name now, and every
    predictor the state does not hold as it is in `program` (untuned). A state that holds none of
    the program's predictors is left as it is, for DSPy to refuse."""
    state = {moved.get(name, name): value for name, value in state.items()}
    predictors = program.named_predictors()
    if any(name in state for name, _ in predictors):
        state = {**{name: predictor.dump_state() for name, predictor in predictors}, **state}
    return state
