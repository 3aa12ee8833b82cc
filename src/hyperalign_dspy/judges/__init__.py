"""Pairwise judging: a pair judged in both orders with win-rates and bootstrap CIs (`pairwise.py`),
the judges (an LM's written verdict, `verdict.py`; a verdict read from log-probabilities,
`likelihood_verdict.py`; style gain from log-probabilities, `likelihood.py`), the copy guard, and
pairwise judging as an optimizer's metric (`metric.py`). A task's judges name their signatures."""
