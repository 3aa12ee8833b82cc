"""HyPerAlign, the baselines and UserProfile, driven by a scripted DummyLM (no model, no network)."""

from __future__ import annotations

import hashlib
import json
import logging

import dspy
import pytest
from dspy.utils import DummyLM
from lm_answers import hypotheses_are_strings, sample_hypotheses
from lm_answers import hypothesis_texts as texts_of

import hyperalign_dspy as ha
from hyperalign_dspy import FewShotInContext, HyPerAlign, HyperAlignError, UserProfile, ZeroShot
from hyperalign_dspy.core.settings import ProgramSettings
from hyperalign_dspy.core.user_texts import UserText
from hyperalign_dspy.program_files import load_program_state
from hyperalign_dspy.tasks.authorship.data.authors import load_authors
from hyperalign_dspy.tasks.authorship.demo import run_demo
from hyperalign_dspy.tasks.authorship.stages.write_as_person import note_of

INFER_MAX_TOKENS = ProgramSettings().infer_max_tokens

ADAPTERS = {"json": dspy.JSONAdapter, "chat": dspy.ChatAdapter}

TEXTS = [
    "Shares of Barrick Gold rose on Monday after the company said output would climb. "
    "Analysts said the outlook was firm.",
    "The Toronto Stock Exchange closed higher on Monday, led by mining stocks, analysts said.",
]  # "analysts said" and "on Monday" twice: characteristic phrases of these texts


def scripted(answers: list[dict], adapter_name: str = "json"):
    """A DummyLM that returns `answers` in order, and the adapter to run it with."""
    adapter = ADAPTERS[adapter_name]()
    return DummyLM(answers, follow_examples=False, reasoning=False, adapter=adapter), adapter


def sha_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]


def claims_of(hypotheses: list[str]) -> list[str]:
    """What stage 2 is told of each hypothesis: its claim, without the quoted evidence."""
    return [note_of(hypothesis) for hypothesis in hypotheses]


def all_message_text(lm, index: int) -> str:
    return "\n".join(message["content"] for message in lm.history[index]["messages"])


# --- stage 1 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter_name", sorted(ADAPTERS))
def test_infer_profile_returns_the_scripted_profile(adapter_name, hypotheses, hypothesis_texts, attributes):
    lm, adapter = scripted([{"hypotheses": hypotheses, "attributes": attributes}], adapter_name)
    with dspy.context(lm=lm, adapter=adapter):
        profile = HyPerAlign().infer_profile(TEXTS)
    assert isinstance(profile, UserProfile)
    assert profile.hypothesis_texts == hypothesis_texts
    assert [h.kind for h in profile.hypotheses] == ["communication", "communication"]  # Openings, Support
    counted = {"typical_length_words": 17, "perspective": "third person"}  # TEXTS have 20 and 14 words
    assert profile.attributes == ha.UserAttributes(**{**attributes, **counted})
    assert profile.source_ids == [sha_id(text) for text in TEXTS]
    assert len(lm.history) == 1


def test_counted_attributes_replace_the_lms_guesses(hypotheses, attributes):
    guessed = {**attributes, "typical_length_words": 345, "perspective": "first person"}
    diary = ["I walked to the river today and we talked for hours.", "My sister said I burnt the rice; I did."]
    lm, adapter = scripted([{"hypotheses": hypotheses, "attributes": guessed}] * 2)
    with dspy.context(lm=lm, adapter=adapter):
        news = HyPerAlign().infer_profile(TEXTS).attributes
        mine = HyPerAlign().infer_profile(diary).attributes
    assert (news.typical_length_words, news.perspective) == (17, "third person")
    assert (mine.typical_length_words, mine.perspective) == (10, "first person")
    assert news.tone == mine.tone == attributes["tone"]  # what cannot be counted stays the LM's


def test_infer_profile_keeps_dataset_doc_ids(hypotheses, attributes):
    examples = load_authors()
    fewshot = examples[0].examples
    assert all(isinstance(text, UserText) for text in fewshot)
    lm, adapter = scripted([{"hypotheses": hypotheses, "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter):
        profile = HyPerAlign().infer_profile(fewshot)
    assert profile.source_ids == [text.id for text in fewshot]
    assert all(source_id.startswith("C50train/") for source_id in profile.source_ids)


def test_infer_profile_accepts_mappings_with_id_or_doc_id(hypotheses, attributes):
    texts = [{"id": "first", "text": TEXTS[0]}, {"doc_id": "second", "text": TEXTS[1]}, {"text": "A third text here."}]
    lm, adapter = scripted([{"hypotheses": hypotheses, "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter):
        profile = HyPerAlign().infer_profile(texts)
    assert profile.source_ids == ["first", "second", sha_id("A third text here.")]


def test_infer_prompt_carries_texts_and_measurements_and_a_larger_token_budget(hypotheses, attributes):
    lm, adapter = scripted([{"hypotheses": hypotheses, "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter):
        HyPerAlign().infer_profile(TEXTS)
    sent = all_message_text(lm, 0)
    for text in TEXTS:
        assert text in sent
    assert "(median of 2 texts;" in sent  # the style measurements
    assert lm.history[0]["kwargs"].get("max_tokens") == INFER_MAX_TOKENS


def test_duplicate_hypotheses_are_kept_once_in_order(attributes):
    a, b = sample_hypotheses(2)
    lm, adapter = scripted([{"hypotheses": [a, b, a, b, a], "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter):
        profile = HyPerAlign().infer_profile(TEXTS)
    assert profile.hypothesis_texts == texts_of([a, b])


@pytest.mark.skipif(not hypotheses_are_strings(), reason="the signature declares structured hypotheses")
def test_string_hypotheses_are_stripped_and_blank_ones_dropped(attributes):
    a, b = sample_hypotheses(2)
    lm, adapter = scripted([{"hypotheses": [f"  {a}\n", " " * 12, b, f"{a} "], "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter):
        profile = HyPerAlign().infer_profile(TEXTS)
    assert profile.hypothesis_texts == [a, b]


@pytest.mark.skipif(not hypotheses_are_strings(), reason="the signature declares structured hypotheses")
def test_only_blank_string_hypotheses_is_an_error(attributes):
    lm, adapter = scripted([{"hypotheses": [" " * 12, "\n" * 12], "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter), pytest.raises(HyperAlignError, match="no hypotheses"):
        HyPerAlign().infer_profile(TEXTS)


def test_no_hypotheses_is_an_error(attributes):
    lm, adapter = scripted([{"hypotheses": [], "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter), pytest.raises(HyperAlignError, match="no hypotheses"):
        HyPerAlign().infer_profile(TEXTS)


def test_no_lm_configured_is_an_error():
    with dspy.context(lm=None), pytest.raises(HyperAlignError, match="no LM is configured"):
        HyPerAlign().infer_profile(TEXTS)


QUOTED = "Support: The writer names analysts as sources (evidence: 'Analysts said the outlook was firm')"
COUNTED = "Openings: The writer opens with a market move (evidence: 'two of two texts')"  # a count, not a quote
BARE = "Positions: The writer admires steady output"


def test_a_hypothesis_without_quoted_evidence_is_dropped(attributes):
    lm, adapter = scripted([{"hypotheses": [QUOTED, COUNTED, BARE], "attributes": attributes}])
    with dspy.context(lm=lm, adapter=adapter):
        profile = HyPerAlign().infer_profile(TEXTS)
    assert profile.hypothesis_texts == [QUOTED]
    assert [(check.outcome, check.hypothesis.split(":")[0]) for check in profile.checks] == [
        ("corrected", "Openings"), ("dropped", "Openings"), ("dropped", "Positions")]
    assert len(lm.history) == 1


def test_with_quote_again_a_hypothesis_without_quoted_evidence_is_asked_again_once(attributes):
    quoted, counted, bare = QUOTED, COUNTED, BARE
    answers = [{"hypotheses": [quoted, counted, bare], "attributes": attributes},
               {"evidence": "Shares of Barrick Gold rose on Monday"},  # in the texts
               {"evidence": "Output is what matters most to them"}]  # not in the texts
    lm, adapter = scripted(answers)
    with dspy.context(lm=lm, adapter=adapter):
        profile = HyPerAlign(settings=ha.AuthorshipSettings(quote_again=True)).infer_profile(TEXTS)
    assert profile.hypothesis_texts == [
        quoted, "Openings: The writer opens with a market move (evidence: 'Shares of Barrick Gold rose on Monday')"]
    assert [(check.outcome, check.hypothesis.split(":")[0]) for check in profile.checks] == [
        ("corrected", "Openings"), ("corrected", "Openings"), ("dropped", "Positions")]
    assert "asked again" in profile.checks[2].reason
    # One request per hypothesis without a quote: the claim alone, beside the texts stage 1 read.
    assert len(lm.history) == 3
    for index, claim in ((1, "The writer opens with a market move"), (2, "The writer admires steady output")):
        sent = all_message_text(lm, index)
        assert claim in sent and TEXTS[1] in sent and "two of two texts" not in sent


# --- N prompts cost N+1 calls ----------------------------------------------------------------------


@pytest.mark.parametrize("adapter_name", sorted(ADAPTERS))
def test_n_prompts_for_one_user_cost_n_plus_one_calls(adapter_name, hypotheses, hypothesis_texts, attributes):
    prompts = ["Write about gold prices.", "Write about a merger.", "Write about the TSX."]
    # Answers that keep the habits counted in TEXTS (about 17 words, sentences of about 11, told
    # in the third person): an answer that fits the person poorly would be sampled again.
    responses = [f"Gold miner number {n} rose on Monday after the company said output would climb. "
                 "Traders said the outlook was firm." for n in range(1, len(prompts) + 1)]
    answers = [{"hypotheses": hypotheses, "attributes": attributes}] + [{"response": r} for r in responses]
    lm, adapter = scripted(answers, adapter_name)
    program = HyPerAlign()
    with dspy.context(lm=lm, adapter=adapter):
        results = [program(examples=TEXTS, prompt=prompt) for prompt in prompts]
    assert [result.response for result in results] == responses
    assert len(lm.history) == len(prompts) + 1
    assert all(result.profile is results[0].profile for result in results)
    assert results[0].profile.hypothesis_texts == hypothesis_texts
    # Stage 2 sees the profile and the prompt, not the user's texts.
    for index, prompt in enumerate(prompts, start=1):
        sent = all_message_text(lm, index)
        assert prompt in sent
        assert all(claim in sent for claim in claims_of(hypothesis_texts))  # their claims, without the quotes
        assert TEXTS[0] not in sent


def test_other_texts_are_inferred_anew(hypotheses, hypothesis_texts, attributes):
    other = ["The author of this one writes differently, they said."]
    other_hypotheses = sample_hypotheses(3, start=2)
    answers = [
        {"hypotheses": hypotheses, "attributes": attributes},
        {"response": "Gold rose on Monday after the miners said output would climb this year. Traders said so too."},
        {"hypotheses": other_hypotheses, "attributes": attributes},
        {"response": "The author wrote this one in a new way, they said."},
    ]
    lm, adapter = scripted(answers)
    program = HyPerAlign()
    with dspy.context(lm=lm, adapter=adapter):
        first = program(examples=TEXTS, prompt="P")
        second = program(examples=other, prompt="P")
    assert len(lm.history) == 4
    assert first.profile.hypothesis_texts == hypothesis_texts
    assert second.profile.hypothesis_texts == texts_of(other_hypotheses) != hypothesis_texts
    assert second.profile.source_ids == [sha_id(other[0])]


def test_changed_stage_one_instructions_infer_anew(hypotheses, attributes):
    answers = [{"hypotheses": hypotheses, "attributes": attributes}] * 2
    lm, adapter = scripted(answers)
    program = HyPerAlign()
    with dspy.context(lm=lm, adapter=adapter):
        program.infer_profile(TEXTS)
        program.infer_profile(TEXTS)
        assert len(lm.history) == 1
        program.profiler.infer.signature = program.profiler.infer.signature.with_instructions("Tuned stage-1 instructions.")
        program.infer_profile(TEXTS)
    assert len(lm.history) == 2
    assert "Tuned stage-1 instructions." in all_message_text(lm, 1)


def test_a_given_profile_costs_one_call(profile):
    lm, adapter = scripted([{"response": "Only one call."}])
    with dspy.context(lm=lm, adapter=adapter):
        result = HyPerAlign()(profile=profile, prompt="Write about copper.")
    assert result.response == "Only one call."
    assert result.profile is profile
    assert len(lm.history) == 1
    sent = all_message_text(lm, 0)
    assert "Write about copper." in sent
    assert all(claim in sent for claim in claims_of(profile.hypothesis_texts))
    assert profile.attributes.domain in sent


@pytest.mark.parametrize("prompt", ["", "   \n", None, 42])
def test_empty_or_non_string_prompt_is_an_error(prompt, profile):
    lm, adapter = scripted([])
    with dspy.context(lm=lm, adapter=adapter), pytest.raises(HyperAlignError, match="prompt is empty"):
        HyPerAlign()(profile=profile, prompt=prompt)
    assert lm.history == []


def test_neither_profile_nor_examples_is_an_error():
    lm, adapter = scripted([])
    with dspy.context(lm=lm, adapter=adapter), pytest.raises(HyperAlignError, match="profile or the user's example texts"):
        HyPerAlign()(prompt="Write something.")
    assert lm.history == []


@pytest.mark.parametrize("examples", [[], [""], ["fine", "  "], [3]])
def test_bad_examples_are_an_error_before_any_call(examples):
    lm, adapter = scripted([])
    with dspy.context(lm=lm, adapter=adapter), pytest.raises(HyperAlignError):
        HyPerAlign()(examples=examples, prompt="Write something.")
    assert lm.history == []


# --- baselines -------------------------------------------------------------------------------------


def test_zero_shot_returns_the_response_without_user_information():
    lm, adapter = scripted([{"response": "A generic answer."}])
    with dspy.context(lm=lm, adapter=adapter):
        result = ZeroShot()(prompt="Write about nickel.", examples=TEXTS)
    assert result.response == "A generic answer."
    assert len(lm.history) == 1
    sent = all_message_text(lm, 0)
    assert "Write about nickel." in sent
    assert TEXTS[0] not in sent


def test_zero_shot_empty_prompt_is_an_error():
    with pytest.raises(HyperAlignError, match="prompt is empty"):
        ZeroShot()(prompt=" ")


def test_few_shot_puts_the_texts_in_the_prompt_untrimmed():
    lm, adapter = scripted([{"response": "In the author's style."}])
    with dspy.context(lm=lm, adapter=adapter):
        result = FewShotInContext()(prompt="Write about zinc.", examples=TEXTS)
    assert result.response == "In the author's style."
    assert result.trimmed_ids == []
    sent = all_message_text(lm, 0)
    assert all(text in sent for text in TEXTS)
    assert len(lm.history) == 1


def test_few_shot_reports_trimmed_ids_when_texts_exceed_the_context(caplog):
    sentence = "The company said on Monday that output of gold would rise this year. "
    long_text = sentence * 400  # about 28,000 characters, more than a default 8192-token context holds
    texts = [{"id": "long-1", "text": long_text}, {"id": "short", "text": TEXTS[0]}, {"id": "long-2", "text": long_text}]
    lm, adapter = scripted([{"response": "Trimmed but answered."}])
    with caplog.at_level(logging.WARNING, logger="hyperalign_dspy"), dspy.context(lm=lm, adapter=adapter):
        result = FewShotInContext()(prompt="Write about gold.", examples=texts)
    assert result.response == "Trimmed but answered."
    assert result.trimmed_ids == ["long-1", "long-2"]
    assert "long-1" in caplog.text and "long-2" in caplog.text
    sent = all_message_text(lm, 0)
    assert TEXTS[0] in sent  # the short text is kept whole
    assert long_text not in sent


def test_few_shot_without_examples_is_an_error():
    lm, adapter = scripted([])
    with dspy.context(lm=lm, adapter=adapter), pytest.raises(HyperAlignError, match="example texts"):
        FewShotInContext()(prompt="Write.")
    assert lm.history == []


# --- demo ------------------------------------------------------------------------------------------


def test_run_demo_personalizes_two_prompts_of_the_first_author(hypotheses, attributes):
    examples = load_authors()
    first_author = sorted({example.author for example in examples})[0]
    mine = [example for example in examples if example.author == first_author]
    # The author's own held-out articles as the answers; this test is about the demo's plumbing,
    # so the output check is off (tests/test_output_fit.py tests it).
    answers = [example.reference for example in mine[:2]]
    lm, adapter = scripted([{"hypotheses": hypotheses, "attributes": attributes},
                            {"response": answers[0]}, {"response": answers[1]}])
    with dspy.context(lm=lm, adapter=adapter):
        result = run_demo(prompts=2, program=HyPerAlign(settings=ProgramSettings(fit_share=0.0)))
    assert result.author == first_author
    assert [item.response for item in result.items] == answers
    assert [item.prompt for item in result.items] == [example.prompt for example in mine[:2]]
    assert [item.reference for item in result.items] == [example.reference for example in mine[:2]]
    assert result.profile.source_ids == [text.id for text in mine[0].examples]
    assert len(lm.history) == 3
    assert [cost.calls for cost in [result.profile_cost, *[item.cost for item in result.items]]] == [1, 1, 1]


def test_a_measured_step_costs_the_calls_and_tokens_the_usage_tracker_saw():
    from hyperalign_dspy.core.lm_cost import measured

    with measured() as cost:
        for prompt_tokens, completion_tokens in ((300, 40), (120, 8)):
            dspy.settings.usage_tracker.add_usage("local", {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens})
    assert (cost.calls, cost.prompt_tokens, cost.completion_tokens) == (2, 420, 48) and cost.seconds > 0
    assert cost.as_text().endswith("2 LM calls, 420 tokens read, 48 written")


def test_run_demo_unknown_author_is_an_error():
    lm, adapter = scripted([])
    with dspy.context(lm=lm, adapter=adapter), pytest.raises(HyperAlignError, match="no author 'Nobody'"):
        run_demo(author="Nobody")
    assert lm.history == []


# --- saved program state ------------------------------------------------------------------------


def test_load_program_state_round_trip(tmp_path, profile):
    tuned = HyPerAlign()
    tuned.writer.generate.signature = tuned.writer.generate.signature.with_instructions("Tuned stage-2 instructions.")
    path = tmp_path / "program.json"
    tuned.save(str(path))
    loaded = load_program_state(HyPerAlign(), path)
    assert loaded.writer.generate.signature.instructions == "Tuned stage-2 instructions."
    lm, adapter = scripted([{"response": "tuned"}])
    with dspy.context(lm=lm, adapter=adapter):
        assert loaded(profile=profile, prompt="Write.").response == "tuned"
    assert "Tuned stage-2 instructions." in all_message_text(lm, 0)


def test_a_program_saved_before_a_predictor_existed_loads_it_untuned(tmp_path):
    tuned = HyPerAlign()
    tuned.writer.generate.signature = tuned.writer.generate.signature.with_instructions("Tuned stage-2 instructions.")
    path = tmp_path / "program.json"
    tuned.save(str(path))
    state = json.loads(path.read_text())
    # As saved before the stages were modules (predictors at the top) and before stage 1 asked
    # again for evidence (no `quote`).
    state["infer"], state["generate"] = state.pop("profiler.infer"), state.pop("writer.generate")
    del state["profiler.quote"]
    path.write_text(json.dumps(state))
    loaded = load_program_state(HyPerAlign(), path)
    assert loaded.writer.generate.signature.instructions == "Tuned stage-2 instructions."
    assert loaded.profiler.quote.signature.instructions == HyPerAlign().profiler.quote.signature.instructions
    # A state with none of the program's predictors is not a program of this task.
    path.write_text(json.dumps({"metadata": state["metadata"]}))
    with pytest.raises(HyperAlignError, match=f"program file {path}"):
        load_program_state(HyPerAlign(), path)


@pytest.mark.parametrize("content", [None, "not json", '{"unrelated": 1}'])
def test_load_program_state_errors(tmp_path, content):
    path = tmp_path / "program.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(HyperAlignError, match=f"program file {path}"):
        load_program_state(HyPerAlign(), path)


# --- UserProfile persistence -----------------------------------------------------------------------


def test_profile_save_load_round_trip(tmp_path, profile):
    path = tmp_path / "nested" / "folder" / "profile.json"
    profile.save(path)
    assert UserProfile.load(path) == profile
    assert json.loads(path.read_text(encoding="utf-8"))["hypotheses"] == [h.model_dump() for h in profile.hypotheses]
    assert sorted(p.name for p in path.parent.iterdir()) == ["profile.json"]  # no temp file left


def test_profile_save_replaces_an_existing_file(tmp_path, profile):
    path = tmp_path / "profile.json"
    path.write_text("old content", encoding="utf-8")
    changed = profile.model_copy(update={"hypotheses": ["The author writes one new hypothesis."]})
    changed.save(path)
    assert UserProfile.load(path).hypothesis_texts == ["The author writes one new hypothesis."]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.json"]


def test_failed_profile_save_keeps_the_old_file(tmp_path, profile, monkeypatch):
    path = tmp_path / "profile.json"
    profile.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(UserProfile, "model_dump_json", broken)
    with pytest.raises(OSError):
        profile.save(path)
    assert path.read_bytes() == before


def test_failed_profile_save_leaves_no_temp_file(tmp_path, profile, monkeypatch):
    path = tmp_path / "profile.json"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(UserProfile, "model_dump_json", broken)
    with pytest.raises(OSError):
        profile.save(path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda data: data.pop("hypotheses"), "hypotheses"),
        (lambda data: data.update(hypotheses=[]), "hypotheses"),
        (lambda data: data["attributes"].update(formality="shouty"), "attributes.formality"),
        (lambda data: data["attributes"].pop("genre"), "attributes.genre"),
    ],
)
def test_profile_load_schema_mismatch_is_a_one_line_error(tmp_path, profile, change, where):
    data = profile.model_dump()
    change(data)
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(HyperAlignError, match="does not match the profile schema") as caught:
        UserProfile.load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f": {where}: " in message


def test_profile_load_non_object_is_a_top_level_error(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(HyperAlignError, match=r"\(top level\)"):
        UserProfile.load(path)


def test_a_completion_marker_left_in_the_text_is_removed():
    from hyperalign_dspy.core.output_checks import clean_response

    assert clean_response("The end of the article. [[ ## completed ## ]]") == "The end of the article."
    assert clean_response("Text.\n[[ ## completed ## ]]\n") == "Text."
    assert clean_response("Quoting [[ ## completed ## ]] mid-text stays.") == "Quoting [[ ## completed ## ]] mid-text stays."


def test_a_writer_of_its_own_plugs_in_as_stage_two(profile):
    """A program variant names its stage-2 module; stage 1 and the rest of the program stay."""

    class Echo(dspy.Module):
        def __init__(self, settings, lm=None):
            super().__init__()
            self.generate = dspy.Predict("prompt -> response")

        def forward(self, prompt, profile):
            return dspy.Prediction(response=self.generate(prompt=prompt).response.upper(), fit=None)

    class EchoingHyPerAlign(HyPerAlign):
        writer_type = Echo

    program = EchoingHyPerAlign()
    assert [name for name, _ in program.named_predictors()] == ["profiler.infer", "profiler.quote", "writer.generate"]
    lm, adapter = scripted([{"response": "as written"}])
    with dspy.context(lm=lm, adapter=adapter):
        assert program(prompt="Write.", profile=profile).response == "AS WRITTEN"
