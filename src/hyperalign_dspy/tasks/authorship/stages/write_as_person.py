"""Stage 2 of authorship: a text written as the person, from their profile alone. The LM is told the
hypotheses' claims, the attributes and the habits counted in the person's texts; each answer is
mended where a program can, checked against those counts, and written again while it fails."""

from __future__ import annotations

import re

import dspy

from hyperalign_dspy.core.attempts import Review, best_of_attempts
from hyperalign_dspy.core.output_checks import RECITED_WORDS, added_words, given_opening, instruction_texts, shares_run
from hyperalign_dspy.core.stage_lm import active_lm, stage_lm
from hyperalign_dspy.core.stage_two_notes import told
from hyperalign_dspy.tasks.authorship.checks.claims import split_hypothesis
from hyperalign_dspy.tasks.authorship.checks.foreign_openers import foreign_openers
from hyperalign_dspy.tasks.authorship.checks.output_fit import (
    expectations,
    first_document,
    fit_of,
    without_repeats_and_remarks,
)
from hyperalign_dspy.tasks.authorship.counting.text_counts import words_of
from hyperalign_dspy.tasks.authorship.profile import UserProfile
from hyperalign_dspy.tasks.authorship.settings import AuthorshipSettings
from hyperalign_dspy.lms.document_adapter import DocumentAdapter
from hyperalign_dspy.tasks.authorship.signatures import CLAIM_SUBJECT, ContinueAsPerson, GeneratePersonalized
from hyperalign_dspy.tasks.authorship.stages.grammars import (
    answer_tokens,
    document_tokens,
    fewest_document_tokens,
    fewest_words,
    length_grammar,
    paragraphs_grammar,
)
from hyperalign_dspy.tasks.authorship.stages.infer_profile import claim_of


def note_of(hypothesis: str) -> str:
    """What the writer is told of a hypothesis: its claim as a note ("Argument: uses questions ...").
    The quoted evidence is for the reader of the profile, and a quote in the notes invites copying."""
    return re.sub(rf"^(\w+: )?{CLAIM_SUBJECT} ", r"\1", claim_of(hypothesis))


def voice_samples(hypotheses: list[str]) -> list[str]:
    """The hypotheses' quoted evidence, each once: the person's own words (the claim check keeps
    only quotes found in the texts), at most twelve words each, shorter than the copy guard's run."""
    quotes = (split_hypothesis(hypothesis)[2] for hypothesis in hypotheses)
    return list(dict.fromkeys(quote for quote in quotes if quote))


class WriteAsPerson(dspy.Module):
    """`WriteAsPerson(settings, lm)(prompt, profile) -> Prediction(response, fit)`: the best of
    `settings.attempts` answers by how they keep the person's counted habits (`fit`, None for a
    profile without counts). `lm`: stage 2's own LM (else DSPy's configured one)."""

    def __init__(self, settings: AuthorshipSettings, lm: dspy.LM | None = None):
        super().__init__()
        self.settings, self.own_lm = settings, lm
        self.generate = dspy.Predict(GeneratePersonalized, temperature=settings.temperature)
        if settings.document_writer:
            # Only then: a teleprompter tunes every predictor it finds, and this one is called only then.
            self.continue_text = dspy.Predict(ContinueAsPerson, temperature=settings.temperature)

    def forward(self, prompt: str, profile: UserProfile) -> dspy.Prediction:
        notes = told(self.notes_for(prompt, profile), self.settings.stage_two_notes)
        with stage_lm(self.own_lm):
            write = self.continued if self.writes_documents() else self.answered
            written, review = best_of_attempts(
                lambda config: write(notes, config), self.settings.attempts,
                review=lambda answer: self.review(answer, prompt, profile, notes["measured_habits"]),
                revise=lambda answer: without_repeats_and_remarks(answer, prompt),
                options=lambda earlier: self.decoding(profile, earlier, prompt))
        return dspy.Prediction(response=written.response, fit=review.details)

    def writes_documents(self) -> bool:
        """With `document_writer`, on an engine that continues documents: stage 2 is `ContinueAsPerson`."""
        engine = getattr(self.own_lm or active_lm(self.generate), "engine", None)
        return self.settings.document_writer and getattr(engine, "supports_documents", False)

    def answered(self, notes: dict, config: dict) -> dspy.Prediction:
        """One answer in chat (`GeneratePersonalized`)."""
        return self.generate(**notes, config=config)

    def continued(self, notes: dict, config: dict) -> dspy.Prediction:
        """One answer as the continuation of the person's document: the prompt's opening and what
        the LM wrote on from it."""
        opening = given_opening(notes["prompt"])
        with dspy.context(adapter=DocumentAdapter()):
            written = self.continue_text(**notes, opening=opening, config=config)
        return dspy.Prediction(response=first_document(f"{opening}{written.continuation}".strip(), opening, notes["prompt"]))

    def notes_for(self, prompt: str, profile: UserProfile) -> dict:
        """The signature's inputs: the claims, the attributes, and the habits the output check will
        count (none for a profile without counts: one saved before they were kept, or written by hand)."""
        habits = [expectation.says for expectation in expectations(profile.counts)] if profile.counts else []
        return {"prompt": prompt, "hypotheses": [note_of(hypothesis) for hypothesis in profile.hypothesis_texts],
                "attributes": profile.attributes, "measured_habits": habits,
                "voice_samples": voice_samples(profile.hypothesis_texts)}

    def review(self, answer: str, prompt: str, profile: UserProfile, habits: list[str]) -> Review:
        """An answer passes when it recites neither its notes nor its instructions, adds at least
        `shortest_share` of the person's typical length to the prompt, and keeps `fit_share` of
        their counted habits. Failed answers rank by those, in that order, then by words added."""
        recited = [*profile.hypothesis_texts, *habits, *instruction_texts(self.generate)]
        recites, added = shares_run(answer, recited, RECITED_WORDS), added_words(answer, prompt)
        enough = added >= max(1, int(profile.attributes.typical_length_words * self.settings.shortest_share))
        habits_kept = fit_of(answer, profile.counts, prompt) if profile.counts else None
        share = None if habits_kept is None else habits_kept.share
        return Review(passes=not recites and enough and (share is None or share >= self.settings.fit_share),
                      rank=(not recites, enough, share or 0.0, 0 if recites else added), details=habits_kept)

    def decoding(self, profile: UserProfile, earlier: list[str], prompt: str = "") -> dict:
        """The next call's options after the answers `earlier` to `prompt`: the grammar (`grammar`)
        and the token bans (`token_bans`, `opener_bans`) the engine takes, in the call's metadata."""
        engine = getattr(self.own_lm or active_lm(self.generate), "engine", None)
        metadata = {**self.token_bans(profile, engine), **self.opener_bans(profile, engine, earlier, prompt),
                    **self.loop_stop(engine)}
        if self.writes_documents():
            # No grammar (they are of DSPy's chat fields, not of a document), and an answer of at most
            # 1.5 times the person's length: past it the 1.5B model wrote other documents.
            return {"metadata": metadata, **({"max_tokens": document_tokens(profile.counts)} if profile.counts else {})}
        grammar = self.grammar(profile, engine, earlier)
        if grammar is None:
            return {"metadata": metadata} if metadata else {}
        return {"metadata": {"gbnf": grammar, **metadata}, "max_tokens": answer_tokens(profile.counts)}

    def grammar(self, profile: UserProfile, engine, earlier: list[str]) -> str | None:
        """On an engine that takes a grammar: the paragraph grammar (`paragraph_grammar`), or, once
        an answer came back shorter than the person's length allows (`length_grammar`), a grammar
        that ends only past that length; else None."""
        if not (profile.counts and getattr(engine, "supports_grammar", False)):
            return None
        if profile.counts.unspaced_words >= 0.5:
            return None  # both grammars count words between spaces, which Chinese and Japanese do not write
        if self.settings.paragraph_grammar:
            return paragraphs_grammar(profile.counts)
        if self.settings.length_grammar and any(len(words_of(answer)) < fewest_words(profile.counts) for answer in earlier):
            return length_grammar(profile.counts)
        return None

    def loop_stop(self, engine) -> dict:
        """On an engine that stops loops: the run of tokens whose repeat ends the answer (`stop_on_repeat`)."""
        if not (self.settings.stop_on_repeat and getattr(engine, "supports_loop_stop", False)):
            return {}
        return {"stop_on_repeat": self.settings.stop_on_repeat}

    def token_bans(self, profile: UserProfile, engine) -> dict:
        """On an engine that takes them: with `token_bans`, the marks the person never writes and the
        run of tokens an answer may not write twice (`lms/token_bans.py`); the document writer bans
        the marks and an end before half the person's length whatever the setting."""
        documents = self.writes_documents()
        if not ((self.settings.token_bans or documents) and getattr(engine, "supports_token_bans", False)):
            return {}
        marks = profile.counts.unused_marks if profile.counts else None
        bans = {"banned_marks": marks} if marks else {}
        if self.settings.token_bans:
            # Not for documents by default: the 1.5B model, barred from a repeat, wrote it again
            # misspelt ("politicalunity"); a repeat is left to the loop stop and the revision's cut
            # (docs/results.md, "The document writer's repeats").
            bans["no_repeat_ngram"] = self.settings.no_repeat_ngram
        if documents and profile.counts:
            # Without it the 1.5B model ended a continued news text after two or three sentences.
            bans["fewest_tokens"] = fewest_document_tokens(profile.counts)
        return bans

    def opener_bans(self, profile: UserProfile, engine, earlier: list[str], prompt: str) -> dict:
        """With `opener_bans`, on an engine that bans tokens, after an attempt: the sentence openers
        the earlier answers wrote and the person never does (`foreign_openers`)."""
        counted = profile.counts is not None and profile.counts.sentence_openings is not None
        if not (self.settings.opener_bans and counted and earlier and getattr(engine, "supports_token_bans", False)):
            return {}
        openers = foreign_openers(earlier, profile.counts.sentence_openings, prompt)
        return {"banned_openers": openers} if openers else {}
