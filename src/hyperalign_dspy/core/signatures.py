"""The one prompt every task shares: the zero-shot baseline, which knows nothing about the person."""

import dspy


class GenerateZeroShot(dspy.Signature):
    """Write the response to the prompt."""

    prompt: str = dspy.InputField()
    response: str = dspy.OutputField(desc="the complete text")
