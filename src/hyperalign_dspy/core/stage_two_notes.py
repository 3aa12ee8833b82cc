"""What stage 2 is told of a profile, and the ablation that leaves some of it out
(`ProgramSettings.stage_two_notes`)."""

from __future__ import annotations

NOTES = ("hypotheses", "attributes", "measured_habits", "voice_samples")  # the last: authorship's only


def told(inputs: dict, notes: list[str]) -> dict:
    """Stage 2's `inputs` with the notes not in `notes` emptied (attributes to None, lists to [])."""
    return {name: (None if name == "attributes" else []) if name in NOTES and name not in notes else value
            for name, value in inputs.items()}
