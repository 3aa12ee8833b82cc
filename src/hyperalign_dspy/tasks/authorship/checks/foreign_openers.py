"""The sentence openers of stage 2's answers that the person never writes: "However,", "Ultimately,",
"In conclusion," opening the 1.5B model's sentences, in the voice of someone whose texts open no
sentence with those words. Learnt per person by contrast, from the answers already written for the
prompt and the person's `TextCounts.sentence_openings`: words the person opens with are never one
of them, whatever a list of connectives would say ("In 1995," opens their sentences, "In conclusion,"
may still be barred). A name is not one ("Paris, a city of ..."): a word the prompt or the answers
capitalize inside a sentence is kept."""

from __future__ import annotations

import regex

from hyperalign_dspy.tasks.authorship.checks.claims import names_in
from hyperalign_dspy.tasks.authorship.counting.text_counts import sentences_of

# One or two words and a comma, opening a sentence: the shape of a discourse marker ("However,",
# "In conclusion,", "Of course,"). Not a subject and its apposition ("The acquisition, valued at"),
# nor a place or a name ("In Vancouver,", "Peter Thomas,"): a second word is in lower case.
_COMMA_OPENER = regex.compile(r"^[\"“]?(?!(?:The|A|An) )(\p{L}[\p{L}'’-]*(?: \p{Ll}[\p{L}'’-]*)?),")


def foreign_openers(answers: list[str], sentence_openings: list[str], prompt: str = "") -> list[str]:
    """The comma openers of `answers` that open none of the person's sentences and begin with no
    name, each once, as the answers write them."""
    sentences = [sentence for answer in answers for sentence in sentences_of(answer)]
    names = names_in([*answers, prompt])
    found = (_COMMA_OPENER.match(sentence) for sentence in sentences)
    return list(dict.fromkeys(match[1] for match in found if match and match[1].lower() not in sentence_openings
                              and match[1].split()[0].lower() not in names))
