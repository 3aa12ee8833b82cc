"""GBNF grammars for stage 2's answer, built from the person's counts (`TextCounts`).

`WriteAsPerson.decoding` hands one to the LM only on an engine that takes a grammar (the embedded
llama.cpp engine), and never for a person whose texts are mostly unspaced words (Chinese,
Japanese), since both grammars find words between spaces. Which grammar applies:
- `paragraphs_grammar`, on every attempt, when the setting `paragraph_grammar` is on (it is off
  by default): at least `fewest_paragraphs` paragraphs, a blank line apart, each of at most
  `most_sentences` sentences;
- else `length_grammar`, when the setting `length_grammar` is on (the default) and an earlier
  attempt came back shorter than `fewest_words`: the next attempt may end only after that many
  words. Nothing but the count of words is bounded, so the sentences and paragraphs stay the
  model's own.

Both grammars cover DSPy's ChatAdapter answer whole (its field header, the text, its end marker),
and `answer_tokens` is the token budget that holds it. The paragraph grammar's bounds fall on
sentence ends: a word that ends in `.`, `!` or `?` (a closing quote may follow) ends a sentence,
so an abbreviation ("U.S.") counts as one, and a paragraph may end early, never late.

Example: for a person whose texts run to 546 words, `length_grammar` lets an answer end after 300
words (`fewest_words`), within a budget of 1,638 tokens (`answer_tokens`).

Why the bounds are what they are, and why the paragraph grammar is off: docs/decisions.md.
"""

from __future__ import annotations

from hyperalign_dspy.tasks.authorship.counting.text_counts import TextCounts

# Tokens per word of English news text for the embedded models' tokenizer, with a margin: the
# answer's budget must hold the grammar's whole text, or it is cut off before its end marker.
TOKENS_PER_WORD = 1.5


def _answer_rule(field: str) -> str:
    """The root rule of both grammars: the field header, the `text` rule, the end marker. The end
    marker may stand on the last sentence's line (after a space) as well as on a line of its own:
    a small model kept from ending a line with it may forge a marker of other characters and run
    on."""
    return f'root ::= "[[ ## {field} ## ]]\\n" text (" " | "\\n" | "\\n\\n") "[[ ## completed ## ]]"'


def fewest_paragraphs(person: TextCounts) -> int:
    """Paragraphs an answer must hold: two, so that it goes on past an opening the prompt gives
    (one for a writer of one-paragraph texts). A count in proportion to the person's can keep a
    small model writing after its own conclusion."""
    return min(2, max(1, round(person.paragraphs_per_text)))


def most_sentences(person: TextCounts) -> int:
    """Sentences a paragraph may hold: one and a half times the person's average, at least one. A
    looser bound lets a small model's long sentences make paragraphs longer than the output check
    allows."""
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


# Characters no news, essay, email or blog text needs, kept out of the length grammar's words: with
# "[" alone kept out, a small model can still spell an end marker from the others.
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


def document_tokens(person: TextCounts) -> int:
    """Tokens for a continued document: up to 1.5 times the person's length, at least 256."""
    return max(256, int(1.5 * person.words_per_text * TOKENS_PER_WORD))


def fewest_document_tokens(person: TextCounts) -> int:
    """Tokens a continued document writes before it may end: half the person's length."""
    return round(person.words_per_text / 2 * TOKENS_PER_WORD)


def answer_tokens(person: TextCounts) -> int:
    """Tokens for an answer up to twice the person's length (the output check's bound)."""
    return max(1024, int(2 * person.words_per_text * TOKENS_PER_WORD))
