"""`DocumentAdapter`: a signature rendered as a plain document that the LM continues, for an engine
that completes text without a chat template (the embedded models, `supports_documents`).

A small instruction-tuned model asked in chat answers as an assistant ("Here are some tips",
"[Recipient's Name]"); given a document that ends where the person's text begins, it writes on in
the document's register (docs/results.md, issue 32's probes). The document is the signature's
docstring, then each input field under its description as a heading, in order; the last input's
value is left open and the LM's continuation is the one output field. Demos are not rendered: a
demo here would be another person's text for the LM to continue the form of. A continuation cut
off at its token budget ends at its last finished sentence ("... net income was $1" is dropped).
"""

from __future__ import annotations

import re
from typing import Any

import dspy
from pydantic import BaseModel


def _section(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return "\n".join(f"{name.replace('_', ' ')}: {_section(item) if isinstance(item, list) else item}"
                         for name, item in value.items() if item not in (None, "", []))
    if isinstance(value, (list, tuple)):
        return "\n".join(f"- {item}" for item in value) if all(isinstance(item, str) for item in value) else \
            ", ".join(str(item) for item in value)
    return str(value)


# A sentence's end: its mark, any closing quotation or bracket, then a space or the text's end.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s|$)")


def to_last_sentence(text: str) -> str:
    """`text` up to the end of its last finished sentence; `text` itself if it has none."""
    ends = list(_SENTENCE_END.finditer(text))
    return text[:ends[-1].end()] if ends else text


class DocumentAdapter(dspy.Adapter):
    def headings(self, signature: type[dspy.Signature]) -> list[str]:
        """Each input field's heading ("How they write:"), in the signature's order."""
        return [f"{field.json_schema_extra['desc']}:" for field in signature.input_fields.values()]

    def document(self, signature: type[dspy.Signature], inputs: dict[str, Any]) -> str:
        """The text the LM continues. Empty sections (an ablation's left-out notes) are left out."""
        parts = [signature.instructions.strip()]
        names, headings = list(signature.input_fields), self.headings(signature)
        for name, heading in zip(names[:-1], headings[:-1]):
            if inputs.get(name) not in (None, "", []):
                parts.append(f"{heading}\n{_section(inputs[name])}")
        last = str(inputs.get(names[-1]) or "")
        return "\n\n".join(parts) + f"\n\n{headings[-1]}\n{last}"

    def format(self, signature, demos, inputs) -> list[dict[str, Any]]:
        return [{"role": "user", "content": self.document(signature, inputs)}]

    def parse(self, signature, completion: str) -> dict[str, Any]:
        (output,) = signature.output_fields
        return {output: completion}

    def __call__(self, lm, lm_kwargs, signature, demos, inputs):
        # The document ends at the next heading of its own: a small model that finishes the text
        # runs on into another copy of the frame (its notes again, a second draft), or closes the
        # frame ("End of text.").
        stops = [f"\n{heading}" for heading in self.headings(signature)] + ["\n---", "\nEnd of text"]
        lm_kwargs = {**lm_kwargs, "stop": [*(lm_kwargs.get("stop") or []), *stops][:8],
                     "metadata": {**(lm_kwargs.get("metadata") or {}), "document": True}}
        outputs = super().__call__(lm, lm_kwargs, signature, demos, inputs)
        # The call's own history entry (a cached answer keeps its finish reason too).
        response = lm.history[-1].get("response") if lm.history else None
        if getattr(response, "finish_reason", None) == "length":
            outputs = [{name: to_last_sentence(value) for name, value in output.items()} for output in outputs]
        return outputs
