"""Grammars for stage 2 on an engine that takes one (the embedded models).

`length_grammar`, on by default (`ProgramSettings.length_grammar`): after an answer shorter than
the output check's bound (half the person's typical length), the next attempt may end only past
that bound. It bounds nothing but the count of words, so every sentence and paragraph stays the
model's own.

`paragraphs_grammar`, off by default (`ProgramSettings.paragraph_grammar`): the answer is at least
two paragraphs (`fewest_paragraphs`), a blank line apart, each of at most one and a half times as
many sentences as the person's paragraphs hold. The 1.5B model otherwise handed back a
prompt's opening sentence as the whole text, and wrote essays in a few long paragraphs for
writers of one- and two-sentence paragraphs. The bounds fall on sentence ends, never on a count of
characters (which cut words in two when tried) or of words (which would cut sentences).

A word that ends in `.`, `!` or `?` (a closing quote may follow) ends a sentence, so an
abbreviation ("U.S.") counts as one: the grammar may end a paragraph early, never late.

Both grammars cover DSPy's ChatAdapter answer whole: its field header, the text, its end marker.

The paragraph grammar is off because where a paragraph reached its bound and the
1.5B model wanted to go on, it glued the next sentence on without a space ("oil.BP") or wrote a
token of another script in place of the English word it wanted; see docs/results.md.
"""

from __future__ import annotations

from hyperalign_dspy.tasks.authorship.counting.text_counts import TextCounts

# Tokens per word of English news text for the embedded models' tokenizer, with a margin: the
# answer's budget must hold the grammar's whole text, or it is cut off before its end marker.
TOKENS_PER_WORD = 1.5


def _answer_rule(field: str) -> str:
    """The root rule of both grammars: the field header, the `text` rule, the end marker. The end
    marker may follow the last sentence on its line too: the 1.5B model, kept from writing " [["
    there, wrote "]] {{## completed ##}}" and then one endless word."""
    return f'root ::= "[[ ## {field} ## ]]\\n" text (" " | "\\n" | "\\n\\n") "[[ ## completed ## ]]"'


def fewest_paragraphs(person: TextCounts) -> int:
    """Two, so that the answer goes on past a given opening (one for a writer of one-paragraph
    texts). A third of the person's paragraphs, tried first, kept the 1.5B model writing after its
    own conclusion: five paragraphs for a wire reporter came out as four, "In summary, ..." and a
    fifth of JSON."""
    return min(2, max(1, round(person.paragraphs_per_text)))


def most_sentences(person: TextCounts) -> int:
    """Sentences a paragraph may hold: one and a half times the person's average. At twice, the
    1.5B model's sentences, longer than a wire reporter's, made paragraphs above the output check's
    bound on their words."""
    return max(1, round(1.5 * person.sentences_per_paragraph))


def paragraphs_grammar(person: TextCounts, field: str = "response") -> str:
    """GBNF for `[[ ## <field> ## ]]`, then at least `fewest_paragraphs` paragraphs of at most
    `most_sentences` sentences, then the end marker."""
    first = " ".join(["para", *['"\\n\\n" para'] * (fewest_paragraphs(person) - 1)])
    more = most_sentences(person) - 1
    letter = "[^ \\t\\n\\r[]"  # no line break and no "[" (so no forged field header or end marker)
    return "\n".join([
        _answer_rule(field),
        f'text ::= {first} ("\\n\\n" para)*',
        f'para ::= sentence (" " sentence){{0,{more}}}' if more else "para ::= sentence",
        # Words one space apart and of at most 25 characters; only the last word of a sentence
        # ends in a sentence mark (a closing quote may follow it).
        'sentence ::= (word " ")* last',
        f'word ::= {letter}{{0,24}} [^ \\t\\n\\r[.!?"\u201d] | {letter}{{0,23}} [^ \\t\\n\\r[.!?] ["\u201d]',
        f'last ::= {letter}{{0,23}} [.!?] ["\u201d]?',
    ])


# Characters no news, essay, email or blog text needs, with which the 1.5B model forged DSPy's end
# marker when "[" was kept from it ("]] {{## completed ##}}").
_MARKER_CHARACTERS = "\\[\\]{}#"  # as a GBNF character class holds them


def fewest_words(person: TextCounts) -> int:
    """The length an answer must reach under `length_grammar`: half the person's typical length
    (the output check's bound), and a tenth more, since the grammar counts what stands between
    spaces (a dash counts there, and not as a word of the output check)."""
    return max(1, round(person.words_per_text / 2 * 1.1))


def length_grammar(person: TextCounts, field: str = "response") -> str:
    """GBNF for `[[ ## <field> ## ]]`, then a text of at least `fewest_words` words of at most 25
    characters, a space, a line break or a blank line apart, then the end marker."""
    letter = f"[^ \\t\\n\\r{_MARKER_CHARACTERS}]"
    return "\n".join([
        _answer_rule(field),
        f"text ::= word (gap word){{{fewest_words(person) - 1},}}",
        'gap ::= " " | "\\n" | "\\n\\n"',
        f"word ::= {letter}{{1,25}}",
    ])


def answer_tokens(person: TextCounts) -> int:
    """Tokens for an answer up to twice the person's length (the output check's bound)."""
    return max(1024, int(2 * person.words_per_text * TOKENS_PER_WORD))
