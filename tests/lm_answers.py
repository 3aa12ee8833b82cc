"""Scripted LM answers that are valid for the signatures as they are now.

The stage-1 output types (`hypotheses` items, `UserAttributes`) are still being tuned, so the
answers are built from the declared types instead of being copied here: a hand-written value is
used where it fits, and any other required field gets a value that satisfies its constraints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, TypeAdapter

from hyperalign_dspy.tasks.authorship.signatures import InferHypotheses, UserAttributes

CLAIMS = [
    "The author opens every text with the news itself, then names who said it",
    "The author attributes nearly every claim to a named source with 'said'",
    "The author keeps paragraphs to one or two sentences",
    "The author ends with a market figure rather than a conclusion",
    "The author quotes analysts by name and firm",
    "The author gives exact numbers, often with currency and a comparison",
]
# Stage-1 hypotheses as the signature asks for them, one per aspect of a kind, each quoting its
# evidence. The quote, "said", stands in every text the tests give stage 1 (a hypothesis whose
# quote is not in the texts costs a second request for one, `HyPerAlign.quoted`).
HYPOTHESES = [
    "Openings: The writer opens every text with the news itself then names who said it (evidence: 'said')",
    "Support: The writer attributes nearly every claim to a named source (evidence: 'said')",
    "Paragraphs: The writer keeps paragraphs to one or two sentences (evidence: 'said')",
    "Closings: The writer ends with a market figure rather than a conclusion (evidence: 'said')",
    "Temperament: The writer stays dry and even and never excited (evidence: 'said')",
    "Positions: The writer cares about exact figures and who said what (evidence: 'said')",
]
EVIDENCE = ["said 12x", "1.4 sentences per paragraph", "'closed at $368.40 an ounce'", "numbers: 4.1 per 100 words"]

PREFERRED_ATTRIBUTES: dict[str, Any] = {
    "domain": "Canadian mining company news",
    "genre": "wire-service news report",
    # Short texts: the fake LMs answer with a few words, which must count as a whole text (the
    # program samples again an answer shorter than a tenth of the typical length).
    "typical_length_words": 10,
    "formality": "formal",
    "perspective": "third person",
    "tone": "dry, factual",
    "sentence_style": "sentences that open with the subject",
    "paragraph_style": "one or two sentences per paragraph",
    "recurring_devices": ["attributes claims with said", "quotes analysts by name"],
    "characteristic_phrases": ["analysts said", "on Monday"],
}


def _constraints(metadata) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("min_length", "max_length", "ge", "le", "gt", "lt"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
        found.update(_constraints(getattr(item, "metadata", []) or []))
    return found


def _text(base: str, limits: dict[str, Any]) -> str:
    text = base[: limits.get("max_length", len(base))]
    return text.ljust(limits.get("min_length", 0), ".")


def value_for(annotation, index: int = 0, metadata=(), name: str = "") -> Any:
    """A JSON-able value of `annotation` that satisfies its constraints."""
    limits = _constraints(metadata)
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        return value_for(base, index, [*metadata, *extras], name)
    if get_origin(annotation) is Literal:
        choices = get_args(annotation)
        return choices[index % len(choices)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {field_name: value_for(field.annotation, index, field.metadata, field_name)
                for field_name, field in annotation.model_fields.items() if field.is_required()}
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        count = min(max(2, limits.get("min_length", 0)), limits.get("max_length", 2))
        return [value_for(item, index + n, (), name) for n in range(count)]
    if annotation is str:
        pool = EVIDENCE if "evidence" in name else HYPOTHESES if name == "hypotheses" else CLAIMS
        return _text(pool[index % len(pool)], limits)
    if annotation is int:
        return max(limits.get("ge", 1), min(limits.get("le", 400), 400))
    if annotation is float:
        return 0.5
    if annotation is bool:
        return True
    raise TypeError(f"no sample value for {annotation!r}")


def hypothesis_item_type():
    annotation = InferHypotheses.output_fields["hypotheses"].annotation
    if isinstance(annotation, type) and issubclass(annotation, list) and not get_args(annotation):
        return str  # a list type of its own, such as the grammar-bound `Hypotheses`
    (item,) = get_args(annotation)
    return item


def hypotheses_are_strings() -> bool:
    item = hypothesis_item_type()
    return item is str or (get_origin(item) is Annotated and get_args(item)[0] is str)


def sample_hypotheses(count: int = 2, start: int = 0) -> list:
    """`count` LM-side hypotheses (strings or objects, as the signature declares), all different."""
    item = hypothesis_item_type()
    values = [value_for(item, start + n, name="hypotheses") for n in range(count)]
    TypeAdapter(list[item]).validate_python(values)
    return values


def hypothesis_texts(values: list) -> list[str]:
    """What a profile holds for these LM-side hypotheses: each one's string form."""
    adapter = TypeAdapter(hypothesis_item_type())
    return [str(adapter.validate_python(value)) for value in values]


def sample_attributes() -> dict[str, Any]:
    generated = value_for(UserAttributes)
    chosen = {}
    for name in UserAttributes.model_fields:
        candidate = dict(generated, **{name: PREFERRED_ATTRIBUTES[name]}) if name in PREFERRED_ATTRIBUTES else generated
        try:
            UserAttributes.model_validate(candidate)
            chosen[name] = candidate.get(name)
        except Exception:
            chosen[name] = generated.get(name)
    result = {name: value for name, value in chosen.items() if value is not None}
    UserAttributes.model_validate(result)
    return result
