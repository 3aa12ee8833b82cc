"""`AuthorshipSettings`: the authorship program's knobs, the shared `ProgramSettings` and its own."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperalign_dspy.core.settings import ProgramSettings


class AuthorshipSettings(ProgramSettings):
    stage_two_notes: list[Literal["hypotheses", "attributes", "measured_habits", "voice_samples"]] = Field(
        ["hypotheses", "attributes", "measured_habits"],
        description="what stage 2 is told of the profile (an ablation leaves some out; left out, a note is empty); "
                    "`voice_samples` adds the hypotheses' quoted evidence, the person's own words")
    length_grammar: bool = Field(
        True, description="on an engine that takes a grammar (the embedded models), an attempt after one shorter than "
                          "half the person's typical length writes under a grammar that lets it end only past that "
                          "length (its sentences and paragraphs stay free)")
    paragraph_grammar: bool = Field(
        False, description="on an engine that takes a grammar (the embedded models), stage 2 writes under one: at "
                           "least two paragraphs, each of at most 1.5 times the person's sentences per paragraph (off by "
                           "default: see docs/decisions.md)")
    quote_again: bool = Field(
        False, description="a hypothesis whose evidence is not in the person's texts is asked for a quote once more "
                           "(one request, about as long as the texts, per such hypothesis); else it is dropped")
    token_bans: bool = Field(
        False, description="on an engine that bans tokens (the embedded models), stage 2 may not write a mark the "
                           "person's texts never hold (brackets, braces, markdown) nor a run of `no_repeat_ngram` "
                           "tokens twice")
    opener_bans: bool = Field(
        False, description="on an engine that bans tokens (the embedded models), an attempt after the first may not "
                           "open a sentence with a word the earlier attempts opened one with, before a comma, and the "
                           "person's texts never do (\"However,\", \"In conclusion,\": `checks/foreign_openers.py`)")
    no_repeat_ngram: int = Field(5, ge=2, description="with `token_bans`: the tokens in a run that an answer may "
                                                      "not write twice")
    stop_on_repeat: int = Field(16, ge=0, description="on an engine that stops loops (the embedded models), stage 2's "
                                                      "answer ends once its last this-many tokens stand earlier in it, "
                                                      "a loop the revision then cuts (0: off)")
    document_writer: bool = Field(
        True, description="on an engine that completes documents (the embedded models), stage 2 continues a "
                           "document of the person's notes ending in the text's opening (`ContinueAsPerson`), with "
                           "the marks the person never writes banned and no end before half their length (the n-gram "
                           "ban only with `token_bans`); elsewhere, and when off, it answers in chat "
                           "(`GeneratePersonalized`). On by default on the dev suite's figures (docs/results.md, "
                           "\"Each writer of stage 2\")")
