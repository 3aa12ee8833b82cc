"""The CLI against an OpenAI-compatible server on loopback (see fake_openai.py)."""

from __future__ import annotations

import json

import pytest
from fake_openai import API_KEY, ATTRIBUTES, FakeOpenAI, quoting, vocabulary_hypothesis

from hyperalign_dspy import UserProfile
from hyperalign_dspy.cli import main

COLUMNS = ["I walked to city hall today. Why? Because nobody else would.",
           "Mark my words, the budget will pass. Did anyone read it? I did."]
# The server's hypotheses: its communication ones quoting the first column, and one naming the
# columns' most used words ("walked city hall").
HYPOTHESIS_TEXTS = [*quoting(COLUMNS[0]), vocabulary_hypothesis(COLUMNS)]


@pytest.fixture
def user_files(tmp_path):
    paths = []
    for n, body in enumerate(COLUMNS, start=1):
        path = tmp_path / f"column{n}.txt"
        path.write_text(body, encoding="utf-8")
        paths.append(str(path))
    return paths


def lm_args(server) -> list[str]:
    return ["--lm", "openai/test-model", "--api-base", server.base]


def test_personalize_three_prompts_costs_four_requests(server, user_files, capsys):
    prompts = ["A", "B", "C"]
    argv = ["personalize", *lm_args(server), "--examples", *user_files]
    for prompt in prompts:
        argv += ["--prompt", prompt]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(h["kind"], h["text"]) for h in out["hypotheses"]] == [
        *[("communication", text) for text in HYPOTHESIS_TEXTS[:-1]], ("style", HYPOTHESIS_TEXTS[-1])]
    # The server's attributes, with the length and perspective counted in the columns (11 and 13
    # words, told as "I"), less the phrases the columns never use.
    assert out["attributes"] == {**ATTRIBUTES, "typical_length_words": 12, "perspective": "first person",
                                 "characteristic_phrases": []}
    assert [item["prompt"] for item in out["responses"]] == prompts
    # The server writes as the profile's counted habits say: first person, about 12 words.
    for prompt, item in zip(prompts, out["responses"], strict=True):
        assert item["response"].startswith(f"Personalized answer to {prompt}.") and " I " in item["response"]
        assert all(f"saw {word}" in item["response"] for word in ("walked", "city", "hall"))  # the words the Vocabulary hypothesis names
        assert item["fit"]["share"] >= 0.85 and item["fit"]["breaks_character"] is None
        assert item["fit"]["kept"] == item["fit"]["of"] - len(item["fit"]["missed"])
    assert len(server.requests) == len(prompts) + 1
    assert {r["path"] for r in server.requests} == {"/v1/chat/completions"}
    assert {r["auth"] for r in server.requests} == {f"Bearer {API_KEY}"}
    assert {r["body"]["model"] for r in server.requests} == {"test-model"}
    # Only the first request carries the user's texts.
    first_user = server.requests[0]["body"]["messages"][-1]["content"]
    assert "city hall" in first_user and "budget will pass" in first_user
    for request in server.requests[1:]:
        assert "walked to city hall" not in json.dumps(request["body"]["messages"])


def test_personalize_text_output(server, user_files, capsys):
    assert main(["personalize", *lm_args(server), "--examples", *user_files, "--prompt", "Write about parking."]) == 0
    out = capsys.readouterr().out
    assert "Hypotheses:" in out and "Attributes:" in out
    assert HYPOTHESIS_TEXTS[0][:60] in " ".join(out.split())
    assert f"domain: {ATTRIBUTES['domain']}" in out
    assert "Prompt: Write about parking." in out and "Personalized answer to Write about parking." in out
    assert "habits counted in the person's texts" in out
    assert len(server.requests) == 2


def test_saved_profile_is_reused_without_inference(server, user_files, tmp_path, capsys):
    saved = tmp_path / "profiles" / "columnist.json"
    assert main(["hypotheses", *lm_args(server), "--examples", *user_files, "--out", str(saved), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(server.requests) == 1
    profile = UserProfile.load(saved)
    assert profile.hypothesis_texts == HYPOTHESIS_TEXTS == [h["text"] for h in printed["hypotheses"]]
    assert profile.source_ids == ["column1.txt", "column2.txt"]

    assert main(["personalize", *lm_args(server), "--profile", str(saved), "--prompt", "X", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [item["prompt"] for item in out["responses"]] == ["X"]
    assert out["responses"][0]["response"].startswith("Personalized answer to X.")
    assert len(server.requests) == 2  # one more call: the saved profile replaced stage 1


def test_stage_two_writes_from_the_profile_it_is_given_not_from_the_texts(server, user_files, tmp_path, capsys):
    saved = tmp_path / "columnist.json"
    assert main(["hypotheses", *lm_args(server), "--examples", *user_files, "--out", str(saved)]) == 0
    capsys.readouterr()
    profile = UserProfile.load(saved)
    # The same person, told to use other words: the answer follows the profile.
    edited = [h.model_copy(update={"text": "Vocabulary: The writer often uses the words ferry gulls pier "
                                           "(evidence: 'ferry gulls pier')"}) if h.text.startswith("Vocabulary:") else h
              for h in profile.hypotheses]
    profile.model_copy(update={"hypotheses": edited}).save(tmp_path / "edited.json")
    answers = {}
    for name in ("columnist", "edited"):
        assert main(["personalize", *lm_args(server), "--profile", str(tmp_path / f"{name}.json"), "--prompt", "X",
                     "--json"]) == 0
        answers[name] = json.loads(capsys.readouterr().out)["responses"][0]["response"]
    assert all(f"saw {word}" in answers["columnist"] for word in ("walked", "city", "hall")) and "ferry" not in answers["columnist"]
    assert all(f"saw {word}" in answers["edited"] for word in ("ferry", "gulls", "pier")) and "walked" not in answers["edited"].lower()


def test_an_lm_that_ignores_the_format_fails_with_one_line(monkeypatch, fresh_dspy_cache, user_files, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    with FakeOpenAI(garbage=True) as fake:
        code = main(["personalize", *lm_args(fake), "--examples", *user_files, "--prompt", "A"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hyperalign: failed: ")
    assert "HYPERALIGN_DEBUG=1" in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert len(fake.requests) >= 1


def test_a_server_that_refuses_the_schema_is_read_as_text(user_files, capsys):
    # As llama-cpp-python's own server answers a `json_schema` response format: HTTP 500.
    def refuses(number, body):
        return "500" if (body.get("response_format") or {}).get("type") == "json_schema" else None

    with FakeOpenAI(faults=refuses) as server:
        argv = ["personalize", *lm_args(server), "--examples", *user_files, "--prompt", "A", "--json"]
        assert main(argv) == 0, capsys.readouterr().err
        out = json.loads(capsys.readouterr().out)
        assert [h["text"] for h in out["hypotheses"]] == HYPOTHESIS_TEXTS
        formats = [(request["body"].get("response_format") or {}).get("type") for request in server.requests]
    # Stage 1 asked with the schema first; refused, it and every later call went as text.
    assert formats[0] == "json_schema"
    first_text = formats.index(None)
    assert set(formats[:first_text]) == {"json_schema"} and "json_schema" not in formats[first_text:]
