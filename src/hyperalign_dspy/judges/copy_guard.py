"""The copy guard: a candidate that copies a passage of the user's sample texts, or hands back the
prompt's given text, inflates any style score without being style; it loses its pair without a
judge call. What counts as copying the prompt depends on its form: a prompt that hands over an
opening to continue is copied when a passage of it (`words` or more) comes back more than once (a
news story names its subject again in five words of its opening: 11 of the dev suite's 120 real
texts did, none in 12 or more); a prompt that asks
about something (a question to answer by email) may be restated, as a reply quotes what it
answers. Either way a text that adds nothing to the prompt is a copy. The runs of words are those
of `core.output_checks`."""

from __future__ import annotations

from hyperalign_dspy.core.output_checks import (
    given_opening,
    hands_over_opening,
    prompt_segments,
    shares_run,
    tokens_of,
    without_segments,
)


def copy_flag(text: str, samples: list[str], prompt: str, words: int = 12) -> str | None:
    """Why `text` counts as a copy, or None: it adds nothing to the prompt's given text, it shares
    `words` consecutive words with the user's sample texts, or it repeats `words` or more of the
    opening the prompt hands over."""
    matches, segments = prompt_segments(text, prompt)
    own = without_segments(text, matches, segments)
    if not tokens_of(own):
        return "adds nothing to the prompt's given text"
    if shares_run(own, samples, words):
        return f"copies {words}+ consecutive words of the sample texts"
    # A passage of the opening counts from `words` words, or from the whole of a shorter opening.
    passage = min(words, len(tokens_of(given_opening(prompt))))
    if hands_over_opening(prompt) and sum(end - start >= passage for start, end in segments) > 1:
        return "repeats the prompt's given text"
    return None
