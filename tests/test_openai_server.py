"""The CLI against an OpenAI-compatible server on loopback that answers as a well-behaved LM would.

The server reads which output fields the DSPy ChatAdapter asks for (the system message lists
them under "Your output fields are:") and answers in the `[[ ## field ## ]]` format.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hyperalign_dspy import UserProfile
from hyperalign_dspy.cli import main
from lm_answers import hypothesis_texts, sample_attributes, sample_hypotheses

API_KEY = "sk-test-not-a-real-key"
# Valid for the signatures as they are now (see lm_answers.py).
ATTRIBUTES = sample_attributes()
HYPOTHESES = sample_hypotheses(2)
HYPOTHESIS_TEXTS = hypothesis_texts(HYPOTHESES)


def output_fields(system: str) -> list[str]:
    section = system.split("Your output fields are:", 1)[1].split("All interactions", 1)[0]
    return re.findall(r"^\d+\. `(\w+)`", section, flags=re.MULTILINE)


def chat_answer(fields: list[str], user: str) -> str:
    if fields == ["hypotheses", "attributes"]:
        return (f"[[ ## hypotheses ## ]]\n{json.dumps(HYPOTHESES)}\n\n"
                f"[[ ## attributes ## ]]\n{json.dumps(ATTRIBUTES)}\n\n[[ ## completed ## ]]")
    if fields == ["response"]:
        prompt = re.search(r"\[\[ ## prompt ## \]\]\n(.*?)\n\n", user, flags=re.DOTALL).group(1)
        return f"[[ ## response ## ]]\nAnswer to {prompt}\n\n[[ ## completed ## ]]"
    raise AssertionError(f"unexpected output fields {fields}")


class FakeOpenAI:
    def __init__(self, garbage: bool = False):
        self.requests: list[dict] = []
        self.garbage = garbage
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with server.lock:
                    server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                messages = body["messages"]
                system = next(m["content"] for m in messages if m["role"] == "system")
                user = [m["content"] for m in messages if m["role"] == "user"][-1]
                content = "I will not follow any format." if server.garbage else chat_answer(output_fields(system), user)
                payload = json.dumps({
                    "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion", "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server(monkeypatch, fresh_dspy_cache):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def user_files(tmp_path):
    paths = []
    for n, body in enumerate(["I walked to city hall today. Why? Because nobody else would.",
                              "Mark my words, the budget will pass. Did anyone read it? I did."], start=1):
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
    assert out["hypotheses"] == HYPOTHESIS_TEXTS
    assert out["attributes"] == ATTRIBUTES
    assert out["responses"] == [{"prompt": p, "response": f"Answer to {p}"} for p in prompts]
    assert len(server.requests) == len(prompts) + 1
    assert {r["path"] for r in server.requests} == {"/v1/chat/completions"}
    assert {r["auth"] for r in server.requests} == {f"Bearer {API_KEY}"}
    assert {r["body"]["model"] for r in server.requests} == {"test-model"}
    # Only the first request carries the user's texts.
    first_user = server.requests[0]["body"]["messages"][-1]["content"]
    assert "city hall" in first_user and "budget will pass" in first_user
    for request in server.requests[1:]:
        assert "city hall" not in json.dumps(request["body"]["messages"])


def test_personalize_text_output(server, user_files, capsys):
    assert main(["personalize", *lm_args(server), "--examples", *user_files, "--prompt", "Write about parking."]) == 0
    out = capsys.readouterr().out
    assert "Hypotheses:" in out and "Attributes:" in out
    assert HYPOTHESIS_TEXTS[0][:60] in " ".join(out.split())
    assert f"domain: {ATTRIBUTES['domain']}" in out
    assert "Prompt: Write about parking." in out and "Answer to Write about parking." in out
    assert len(server.requests) == 2


def test_saved_profile_is_reused_without_inference(server, user_files, tmp_path, capsys):
    saved = tmp_path / "profiles" / "columnist.json"
    assert main(["hypotheses", *lm_args(server), "--examples", *user_files, "--out", str(saved), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(server.requests) == 1
    profile = UserProfile.load(saved)
    assert profile.hypotheses == HYPOTHESIS_TEXTS == printed["hypotheses"]
    assert profile.source_ids == ["column1.txt", "column2.txt"]

    assert main(["personalize", *lm_args(server), "--profile", str(saved), "--prompt", "X", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["responses"] == [{"prompt": "X", "response": "Answer to X"}]
    assert len(server.requests) == 2  # one more call: the saved profile replaced stage 1


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
