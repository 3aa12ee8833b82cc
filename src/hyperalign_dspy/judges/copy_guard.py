"""The copy guard: a candidate that copies a passage of the user's sample texts, or hands back the
prompt's given text, inflates any style score without being style; it loses its pair without a
judge call. What counts as copying the prompt depends on its form: a prompt that hands over an
opening to continue is copied when the opening comes back more than once; a prompt that asks
about something (a question to answer by email) may be restated, as a reply quotes what it
answers. Either way a text that adds nothing to the prompt is a copy. The runs of words are those
of `core.output_checks`."""

from __future__ import annotations

from hyperalign_dspy.core.output_checks import hands_over_opening, prompt_segments, shares_run, without_segments, words_of


def copy_flag(text: str, samples: list[str], prompt: str, words: int = 12) -> str | None:
    """Why `text` counts as a copy, or None: it adds nothing to the prompt's given text, it shares
    `words` consecutive words with the user's sample texts, or it repeats the opening the prompt
    hands over."""
    matches, segments = prompt_segments(text, prompt)
    own = without_segments(text, matches, segments)
    if not words_of(own):
        return "adds nothing to the prompt's given text"
    if shares_run(own, samples, words):
        return f"copies {words}+ consecutive words of the sample texts"
    if len(segments) > 1 and hands_over_opening(prompt):
        return "repeats the prompt's given text"
    return None
