"""The copy guard: a candidate that copies a passage of the user's sample texts, or hands back the
prompt's given text, inflates any style score without being style; it loses its pair without a
judge call. The runs of words are those of `core.output_checks`."""

from __future__ import annotations

from hyperalign_dspy.core.output_checks import prompt_segments, shares_run, without_segments, words_of


def copy_flag(text: str, samples: list[str], prompt: str, words: int = 12) -> str | None:
    """Why `text` counts as a copy, or None: it adds nothing to the prompt's given text, it shares
    `words` consecutive words with the user's sample texts, or it repeats the prompt's given
    text more than once."""
    matches, segments = prompt_segments(text, prompt)
    own = without_segments(text, matches, segments)
    if not words_of(own):
        return "adds nothing to the prompt's given text"
    if shares_run(own, samples, words):
        return f"copies {words}+ consecutive words of the sample texts"
    if len(segments) > 1:
        return "repeats the prompt's given text"
    return None
