"""A grammar for stage 2 on an engine that takes one (the embedded models): the answer is at least
a third as many paragraphs as the person's texts have, a blank line apart, each of at most twice
as many sentences as the person's paragraphs hold. The 1.5B model otherwise handed back a
prompt's opening sentence as the whole text, and wrote essays in a few long paragraphs for
writers of one- and two-sentence paragraphs. The bounds fall on sentence ends, never on a count of
characters (which cut words in two when tried) or of words (which would cut sentences).

A word that ends in `.`, `!` or `?` (a closing quote may follow) ends a sentence, so an
abbreviation ("U.S.") counts as one: the grammar may end a paragraph early, never late.

The grammar covers DSPy's ChatAdapter answer whole: its field header, the text, its end marker.
"""

from __future__ import annotations

from hyperalign_dspy.tasks.authorship.style_measurements import TextCounts

# Tokens per word of English news text for the embedded models' tokenizer, with a margin: the
# answer's budget must hold the grammar's whole text, or it is cut off before its end marker.
TOKENS_PER_WORD = 1.5


def fewest_paragraphs(person: TextCounts) -> int:
    return max(2, round(person.paragraphs_per_text / 3))


def most_sentences(person: TextCounts) -> int:
    """Sentences a paragraph may hold: twice the person's average, the output check's bound on length."""
    return max(1, round(2 * person.sentences_per_paragraph))


def paragraphs_grammar(person: TextCounts, field: str = "response") -> str:
    """GBNF for `[[ ## <field> ## ]]`, then at least `fewest_paragraphs` paragraphs of at most
    `most_sentences` sentences, then the end marker."""
    first = " ".join(["para", *['"\\n\\n" para'] * (fewest_paragraphs(person) - 1)])
    more = most_sentences(person) - 1
    return "\n".join([
        f'root ::= "[[ ## {field} ## ]]\\n" text "\\n\\n[[ ## completed ## ]]"',
        f'text ::= {first} ("\\n\\n" para)*',
        f'para ::= sentence (" " sentence){{0,{more}}}' if more else "para ::= sentence",
        # Words one space apart, with no line break and no "[" (so no forged field header or end
        # marker); only the last word of a sentence ends in a sentence mark.
        'sentence ::= (word " ")* last',
        'word ::= [^ \\t\\n\\r[]* [^ \\t\\n\\r[.!?"\u201d] | [^ \\t\\n\\r[]* [^ \\t\\n\\r[.!?] ["\u201d]',
        'last ::= [^ \\t\\n\\r[]* [.!?] ["\u201d]?',
    ])


def answer_tokens(person: TextCounts) -> int:
    """Tokens for an answer up to twice the person's length (the output check's bound)."""
    return max(1024, int(2 * person.words_per_text * TOKENS_PER_WORD))
