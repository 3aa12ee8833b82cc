"""The cost and speed benchmark of hyperalign-dspy: eleven figures, each a ratio measured in this
run and printed beside its target (settings and targets: `evals/benchmark.toml`).

    make bench                      # all eleven; 4 and 7 to 11 run the embedded 1.5B model
    .venv/bin/python evals/benchmark.py --only 1 2 3 5 6 --out bench.json

Figures 1, 2, 3, 5 and 6 run the real program against scripted LMs (the tests' loopback
OpenAI-compatible server, or an in-process engine that answers instantly), so they measure the
program, not a model. Figures 4, 7, 8 and 11 run the embedded model; 9 and 10 set it beside
llama.cpp's own `llama-batched-bench` and `llama-server` (`make llama-server` builds both). The
figures are written as JSON
(`--out`) and logged as one MLflow run of experiment `hyperalign-bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import dspy
import numpy as np
from dspy.lm15 import Message, Response, Usage

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the loopback server and scripted answers of the tests

from fake_openai import API_KEY, FakeOpenAI, chat_answer, field_value, output_fields  # noqa: E402

import hyperalign_dspy as ha  # noqa: E402
from hyperalign_dspy.judges.likelihood import LikelihoodJudge  # noqa: E402


@contextmanager
def dspy_cache(folder: Path | None):
    """DSPy's LM cache in `folder` (a fresh one), or no cache at all when `folder` is None."""
    if folder is None:
        dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    else:
        dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True, disk_cache_dir=str(folder))
    try:
        yield
    finally:
        dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True)


class ScriptedEngine:
    """A DSPy engine that answers at once, in the ChatAdapter's format (the tests' scripted
    answers), stage 1 with a given profile. `count_tokens`, when given, counts each prompt."""

    context_tokens = 8192  # the embedded models' window: the few-shot baseline trims to it

    def __init__(self, profile: dict | None = None, count_tokens=None):
        self.profile = profile
        self.count_tokens = count_tokens
        self.prompt_tokens: list[tuple[str, int]] = []  # (signature's output fields, tokens) per call

    def complete(self, request) -> Response:
        system = "".join(getattr(part, "text", "") for part in request.system or []) \
            if not isinstance(request.system, str) else request.system
        user = "".join(getattr(part, "text", "") for message in request.messages for part in message.parts)
        fields = output_fields(system)
        if fields == ["hypotheses", "attributes"] and self.profile is not None:
            hypotheses = quoted_from(self.profile["hypotheses"], self.profile["evidence_in_texts"],
                                     json.loads(field_value(user, "texts") or "[]"))
            content = (f"[[ ## hypotheses ## ]]\n{json.dumps(hypotheses)}\n\n"
                       f"[[ ## attributes ## ]]\n{json.dumps(self.profile['attributes'])}\n\n[[ ## completed ## ]]")
        else:
            content = chat_answer(fields, system, user)
        if self.count_tokens is not None:
            self.prompt_tokens.append((",".join(fields), self.count_tokens(system + "\n" + user)))
        return Response(id=None, model="scripted", message=Message.assistant(content), finish_reason="stop",
                        usage=Usage(input_tokens=10, output_tokens=5))


def quoted_from(hypotheses: list[str], in_texts: list[bool], texts: list[str]) -> list[str]:
    """The profile's hypotheses with each quote of evidence that was in the recorded author's
    texts (`in_texts`) taken, as many words long, from the start of this person's first text: such
    evidence passes the check that it is in this person's texts too. Evidence that was no quote
    stays as stated, and its hypothesis is dropped (or asked again for, with `quote_again`), as
    it was for the recorded author."""
    words = texts[0].split() if texts else []
    quoted = []
    for hypothesis, was_quoted in zip(hypotheses, in_texts, strict=True):
        claim, marker, evidence = hypothesis.partition(" (evidence: '")
        length = len(evidence.removesuffix("')").split())
        quoted.append(f"{claim}{marker}{' '.join(words[:length])}')" if marker and words and was_quoted else hypothesis)
    return quoted


def scripted_lm(engine: ScriptedEngine) -> dspy.LM:
    return dspy.LM("hyperalign/scripted", engine=engine, temperature=0.0, max_tokens=1024)


def figure(name: str, value: float, target: float, better: str, unit: str = "×", **details) -> dict:
    met = value <= target if better == "lower" else value >= target
    return {"figure": name, "value": round(float(value), 4), "target": target,
            "target_is": "at most" if better == "lower" else "at least", "unit": unit, "met": bool(met), **details}


# 1 ------------------------------------------------------------------------------------------------
def calls_per_user(settings, authors) -> dict:
    """One user's N prompts through the Python API against the loopback server."""
    n = settings["calls_per_user"]["prompts"]
    examples = [example for example in authors if example.author == authors[0].author][:n]
    while len(examples) < n:
        examples += examples
    with FakeOpenAI() as server, dspy_cache(None):
        os.environ.setdefault("OPENAI_API_KEY", API_KEY)
        dspy.configure(lm=ha.lm("openai/bench", api_base=server.base))
        program = ha.HyPerAlign()
        profile = program.infer_profile(examples[0].examples)
        for example in examples[:n]:
            program(profile=profile, prompt=example.prompt)
        calls = len(server.requests)
    return figure("1. LM calls for N prompts of one user, / (N+1)", calls / (n + 1), 1.0, "lower",
                  calls=calls, prompts=n, naive_calls=2 * n, vs_naive=round(calls / (2 * n), 3))


# 2 ------------------------------------------------------------------------------------------------
def prompt_tokens(settings, authors, embedded: str) -> dict:
    """Prompt tokens per output on the dev suite, counted with the embedded model's tokenizer."""
    from llama_cpp import Llama

    from hyperalign_dspy.lms.embedded_models import model_path

    tokenizer = Llama(model_path=str(model_path(embedded)), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(tokenizer.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    profile = json.loads((HERE / settings["prompt_tokens"]["profile"]).read_text())
    by_author: dict[str, list] = {}
    for example in authors:
        by_author.setdefault(example.author, []).append(example)
    totals = {}
    with dspy_cache(None):
        for system in ("hyperalign", "few-shot"):
            engine = ScriptedEngine(profile, count)
            with dspy.context(lm=scripted_lm(engine)):
                for examples in by_author.values():
                    program = ha.HyPerAlign() if system == "hyperalign" else ha.FewShotInContext()
                    for example in examples:
                        program(prompt=example.prompt, examples=example.examples)
            totals[system] = sum(tokens for _, tokens in engine.prompt_tokens)
            if system == "hyperalign":
                stage_one = [tokens for fields, tokens in engine.prompt_tokens if fields == "hypotheses,attributes"]
                stage_two = [tokens for fields, tokens in engine.prompt_tokens if fields == "response"]
                quote_again = [tokens for fields, tokens in engine.prompt_tokens if fields == "evidence"]
    outputs = len(authors)
    return figure("2. prompt tokens per output, HyPerAlign / few-shot", totals["hyperalign"] / totals["few-shot"],
                  settings["prompt_tokens"]["target"], "lower", outputs=outputs,
                  hyperalign_per_output=round(totals["hyperalign"] / outputs),
                  few_shot_per_output=round(totals["few-shot"] / outputs),
                  stage_one_mean=round(float(np.mean(stage_one))), stage_two_mean=round(float(np.mean(stage_two))),
                  quote_again_requests=len(quote_again),
                  quote_again_mean=round(float(np.mean(quote_again))) if quote_again else 0)


# 3 ------------------------------------------------------------------------------------------------
@contextmanager
def server_process(latency: float):
    """The loopback server in a process of its own, as a real server is: in this process its
    request handling would take turns with the client's threads for the interpreter lock."""
    server = subprocess.Popen([sys.executable, str(HERE.parent / "tests" / "fake_openai.py"), str(latency)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield server.stdout.readline().strip()
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def eval_process_seconds(suite: Path, base: str, limit: int, threads: int, experiment: str, workdir: Path,
                         store: str) -> float:
    """Wall seconds of `hyperalign eval SUITE --limit N --threads T` as a process of its own (start-up,
    imports and MLflow's flush at exit included), with an empty DSPy cache, logging to `store`."""
    run = Path(tempfile.mkdtemp(prefix=f"eval-{threads}-", dir=workdir))
    environment = dict(os.environ, DSPY_CACHEDIR=str(run / "cache"), MLFLOW_TRACKING_URI=store)
    command = [str(Path(sys.executable).parent / "hyperalign"), "eval", str(suite), "--limit", str(limit),
               "--threads", str(threads), "--lm", "openai/bench", "--api-base", base, "--experiment", experiment]
    started = time.perf_counter()
    finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"hyperalign eval failed: {finished.stderr.strip().splitlines()[-1:]}")
    return seconds


def parallel_speedup(settings, suite: Path, workdir: Path) -> dict:
    """The eval's speed-up with `threads` threads over 1, in this process (the harness alone) and
    as the whole `hyperalign eval` command run as a process (what a user waits for)."""
    config = settings["parallel_speedup"]
    latency, many = config["latency_seconds"], config["threads"]
    seconds, calls, process_seconds = {}, {}, {}
    os.environ.setdefault("OPENAI_API_KEY", API_KEY)
    with server_process(latency) as base, dspy_cache(None):
        for threads in (1, many):
            started = time.perf_counter()
            report = ha.evaluate(suite, lm=ha.lm("openai/bench", api_base=base), limit=config["limit"],
                                 threads=threads, experiment=settings["experiment"])
            seconds[threads] = time.perf_counter() - started
            calls[threads] = report.lm_calls
        # One MLflow store for both processes, made first: a user's store is there after the first
        # run, and making one (about 4 s) would fall on the 1-thread run alone.
        from mlflow import MlflowClient

        store = f"sqlite:///{workdir}/process-store.db"
        MlflowClient(store).search_experiments(max_results=1)
        for threads in (1, many):
            process_seconds[threads] = eval_process_seconds(suite, base, config["limit"], threads,
                                                            settings["experiment"], workdir, store)
    speedup = seconds[1] / seconds[many]
    return figure(f"3. eval speed-up, {many} threads vs 1 ({latency * 1000:.0f} ms per call)", speedup,
                  config["target"], "higher", seconds_1=round(seconds[1], 2),
                  seconds_n=round(seconds[many], 2), lm_calls=calls[1],
                  calls_waiting_on_average=round(calls[1] * latency / seconds[many], 2),
                  process_speedup=round(process_seconds[1] / process_seconds[many], 2),
                  process_seconds_1=round(process_seconds[1], 2), process_seconds_n=round(process_seconds[many], 2))


# 4 ------------------------------------------------------------------------------------------------
def engine_speed(settings, embedded: str) -> dict:
    config = settings["engine_speed"]
    lm = ha.lm(embedded, max_tokens=config["max_tokens"], temperature=0.0)
    llama = lm.engine.llama
    messages = [{"role": "system", "content": "You are a reporter."},
                {"role": "user", "content": "Write a long news article about a new bridge that opened in a small town."}]
    rates = {"engine": [], "direct": []}
    with dspy_cache(None):
        # Untimed: the prompt's KV state is then kept for both paths (llama-cpp-python reuses a
        # matching prefix), so every timed call decodes the same tokens.
        lm(messages=messages)
        for _ in range(config["repeats"]):
            started = time.perf_counter()
            lm(messages=messages)
            tokens = lm.history[-1]["usage"]["completion_tokens"]
            rates["engine"].append(tokens / (time.perf_counter() - started))
            started = time.perf_counter()
            result = llama.create_chat_completion(messages=messages, max_tokens=config["max_tokens"], temperature=0.0,
                                                  repeat_penalty=lm.engine.repeat_penalty, seed=0)
            rates["direct"].append(result["usage"]["completion_tokens"] / (time.perf_counter() - started))
    engine, direct = max(rates["engine"]), max(rates["direct"])
    return figure("4. embedded engine tokens/s / llama-cpp-python direct", engine / direct, config["target"], "higher",
                  engine_tokens_per_second=round(engine, 1), direct_tokens_per_second=round(direct, 1))


# 5 ------------------------------------------------------------------------------------------------
def overhead(settings, authors) -> dict:
    calls = settings["overhead"]["calls"]
    engine = ScriptedEngine()
    recorded = json.loads((HERE / settings["prompt_tokens"]["profile"]).read_text())
    profile = ha.UserProfile.model_validate({"hypotheses": recorded["hypotheses"], "attributes": recorded["attributes"],
                                             "source_ids": ["bench"]})
    program = ha.HyPerAlign()
    prompts = [example.prompt for example in authors]
    with dspy_cache(None), dspy.context(lm=scripted_lm(engine)):
        program(profile=profile, prompt=prompts[0])  # imports and first-call set-up
        started = time.perf_counter()
        for number in range(calls):
            program(profile=profile, prompt=prompts[number % len(prompts)])
        per_call = (time.perf_counter() - started) / calls
    # The scripted engine's own time per answer is not the program's.
    engine_started = time.perf_counter()
    for _ in range(50):
        chat_answer(["response"], "Your output fields are:\n1. `response` (str)\nAll interactions", "[[ ## prompt ## ]]\nx")
    engine_seconds = (time.perf_counter() - engine_started) / 50
    milliseconds = (per_call - engine_seconds) * 1000
    return figure("5. program overhead per LM call (zero-latency LM)", milliseconds, settings["overhead"]["target_ms"],
                  "lower", unit="ms", calls=calls)


# 6 ------------------------------------------------------------------------------------------------
def rerun_calls(settings, suite: Path, workdir: Path) -> dict:
    config = settings["rerun"]
    counts = {}
    with FakeOpenAI() as server, dspy_cache(workdir / "dspy-cache"):
        os.environ.setdefault("OPENAI_API_KEY", API_KEY)
        lm = ha.lm("openai/bench", api_base=server.base)
        for run in ("first", "second"):
            before = len(server.requests)
            ha.evaluate(suite, lm=lm, limit=config["limit"], experiment=settings["experiment"])
            counts[f"eval_{run}"] = len(server.requests) - before
            before = len(server.requests)
            ha.compile(HERE / config["optimizer"], suite, workdir / f"compiled-{run}.json", lm=lm,
                      limit=config["limit"], force=True, experiment=settings["experiment"])
            counts[f"compile_{run}"] = len(server.requests) - before
    first = counts["eval_first"] + counts["compile_first"]
    second = counts["eval_second"] + counts["compile_second"]
    return figure("6. new LM calls on a second eval + compile, / first run", second / first, 0.0, "lower", **counts)


# 7 ------------------------------------------------------------------------------------------------
def demo_memory(settings, embedded: str, workdir: Path) -> dict:
    """`hyperalign demo` in a child process with an empty DSPy cache, so the model really runs."""
    environment = dict(os.environ, DSPY_CACHEDIR=str(workdir / "demo-cache"), MLFLOW_TRACKING_URI=f"sqlite:///{workdir}/demo.db")
    started = time.perf_counter()
    finished = subprocess.run([str(Path(sys.executable).parent / "hyperalign"), "demo", "--lm", embedded],
                              env=environment, cwd=workdir, capture_output=True, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"hyperalign demo failed: {finished.stderr.strip().splitlines()[-1:]}")
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    return figure("7. peak memory of `hyperalign demo` (GB), / target", peak_gb / settings["demo_memory"]["target_gb"],
                  1.0, "lower", peak_gb=round(peak_gb, 2), target_gb=settings["demo_memory"]["target_gb"],
                  wall_seconds=round(time.perf_counter() - started))


# 8 ------------------------------------------------------------------------------------------------
def prefix_reuse(settings, authors, embedded: str, judge_settings) -> dict:
    """The suite's likelihood judge scoring candidates after one user's samples: with the samples'
    KV state kept from an earlier score (as in an eval, where every candidate of a prompt follows
    the same samples), and with the state dropped before each candidate."""
    count = settings["prefix_reuse"]["candidates"]
    lm = ha.lm(embedded)
    judge = LikelihoodJudge(lm, sample_tokens=judge_settings.sample_tokens,
                            candidate_tokens=judge_settings.candidate_tokens)
    user = authors[0]
    context = judge._context([text.text for text in user.examples])
    candidates = [judge._scored_text(example.reference, example.prompt)
                  for example in authors if example.author != user.author][: count + 1]
    llama = lm.engine.llama
    with dspy_cache(None):
        judge.mean_logprob(context, candidates[-1])  # the samples' state is now kept
        started = time.perf_counter()
        kept = [judge.mean_logprob(context, text) for text in candidates[:count]]
        kept_seconds = time.perf_counter() - started
        started = time.perf_counter()
        scratch = []
        for text in candidates[:count]:
            llama.n_tokens = 0  # drop the kept state: the samples are evaluated again
            scratch.append(judge.mean_logprob(context, text))
        scratch_seconds = time.perf_counter() - started
    if not np.allclose(kept, scratch, atol=1e-3):
        raise RuntimeError(f"scores differ with and without the kept state: {kept} vs {scratch}")
    context_tokens = len(llama.tokenize(context.encode("utf-8"), add_bos=True, special=False))
    candidate_tokens = np.mean([len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))
                                for text in candidates[:count]])
    return figure(f"8. scoring {count} candidates after one user's samples: from scratch / kept state",
                  scratch_seconds / kept_seconds, settings["prefix_reuse"]["target"], "higher",
                  kept_seconds=round(kept_seconds, 2), scratch_seconds=round(scratch_seconds, 2),
                  context_tokens=context_tokens, candidate_tokens=round(float(candidate_tokens)))


# 9 and 10: llama.cpp's own figures ---------------------------------------------------------------
def native_speeds(model: Path, prompt_tokens: int, generated: int, sequences: list[int], threads: int) -> dict[int, dict]:
    """`llama-batched-bench` (built beside llama-server): prompt and generation tokens/s of `model`
    decoding 1 and more sequences at once, each of distinct prompt tokens."""
    from hyperalign_dspy.lms.llama_server import server_binary

    binary = server_binary().parent / "llama-batched-bench"
    width = max(sequences) * (prompt_tokens + generated)
    output = subprocess.run([str(binary), "-m", str(model), "-c", str(width), "-b", "2048", "-ub", "512",
                             "-npp", str(prompt_tokens), "-ntg", str(generated), "-npl", ",".join(map(str, sequences)),
                             "-t", str(threads), "-fa", "on"], capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0] == str(prompt_tokens) and cells[2].isdigit():
            rows[int(cells[2])] = {"prompt_tps": float(cells[5]), "generation_tps": float(cells[7])}
    if sorted(rows) != sorted(sequences):
        raise RuntimeError(f"llama-batched-bench printed no row for some of {sequences}:\n{output[-2000:]}")
    return rows


def prompt_of_tokens(llama, count: int, authors) -> list[dict]:
    """Chat messages whose templated prompt is `count` tokens of the 1.5B model, asking for a long text."""
    from hyperalign_dspy.lms.llama_engine import _chat_tokens

    ask = "Write a long news article about the bridge, in many paragraphs."
    notes = " ".join(author.reference for author in authors)
    words = notes.split()
    low, high = 0, len(words)
    while low < high:  # the most words of notes that keep the prompt within `count` tokens
        middle = (low + high + 1) // 2
        messages = [{"role": "user", "content": f"Notes: {' '.join(words[:middle])}\n\n{ask}"}]
        if len(_chat_tokens(llama, messages)) <= count:
            low = middle
        else:
            high = middle - 1
    return [{"role": "user", "content": f"Notes: {' '.join(words[:low])}\n\n{ask}"}]


def native_speed(settings, authors, embedded: str) -> dict:
    """The engine's generation tokens/s (a DSPy call, the prompt's KV state kept from an untimed
    call, as in figure 4) over llama.cpp's own decoding rate on the same model, prompt length and
    generated length; best of `repeats` each, alternating."""
    config = settings["native_speed"]
    lm = ha.lm(embedded, max_tokens=config["generated_tokens"], temperature=0.0)
    llama = lm.engine.llama
    messages = prompt_of_tokens(llama, config["prompt_tokens"], authors)
    from hyperalign_dspy.lms.embedded_models import model_path
    from hyperalign_dspy.lms.llama_engine import _chat_tokens

    engine_rates, native_rates = [], []
    with dspy_cache(None):
        lm(messages=messages)
        for _ in range(config["repeats"]):
            started = time.perf_counter()
            lm(messages=messages)
            seconds = time.perf_counter() - started
            tokens = lm.history[-1]["usage"]["completion_tokens"]
            if tokens != config["generated_tokens"]:
                raise RuntimeError(f"the engine stopped after {tokens} of {config['generated_tokens']} tokens")
            engine_rates.append(tokens / seconds)
            native = native_speeds(model_path(embedded), len(_chat_tokens(llama, messages)), config["generated_tokens"],
                                   [1], llama.n_threads)
            native_rates.append(native[1]["generation_tps"])
    engine, native = max(engine_rates), max(native_rates)
    return figure("9. embedded engine generation tokens/s / llama.cpp's own (llama-batched-bench)", engine / native,
                  config["target"], "higher", engine_tokens_per_second=round(engine, 1),
                  native_tokens_per_second=round(native, 1), prompt_tokens=len(_chat_tokens(llama, messages)),
                  generated_tokens=config["generated_tokens"], threads=llama.n_threads)


def served_generation(server, prompts: list[list[int]], generated: int) -> dict:
    """`prompts` (token ids) sent at once to `server`'s completion endpoint, each decoding
    `generated` tokens, after each was sent alone so that its slot holds its KV state: what is
    timed is generation, as in llama-batched-bench's generation figure (prompts processed while
    other slots generate would slow them, and count as neither)."""
    def one(tokens, count):
        body = json.dumps({"prompt": tokens, "n_predict": count, "ignore_eos": True, "temperature": 0.0,
                           "cache_prompt": True}).encode()
        request = urllib.request.Request(f"http://{server.settings.host}:{server.settings.port}/completion", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as answer:
            return json.load(answer)["timings"]

    warm = [one(tokens, 1) for tokens in prompts]
    started = time.perf_counter()
    with ThreadPoolExecutor(len(prompts)) as pool:
        timings = list(pool.map(one, prompts, [generated] * len(prompts)))
    seconds = time.perf_counter() - started
    if any(t["predicted_n"] != generated for t in timings):
        raise RuntimeError(f"the server stopped early: {[t['predicted_n'] for t in timings]} of {generated} tokens")
    return {"generation_tps": len(prompts) * generated / seconds,
            "prompt_tps": sum(t["prompt_n"] for t in warm) / (sum(t["prompt_ms"] for t in warm) / 1000),
            "prompt_tokens_again": max(t["prompt_n"] for t in timings)}


def server_slots(settings, authors, embedded: str) -> dict:
    """Aggregate generation tokens/s through llama-server with `slots` requests at once over one
    request on a 1-slot server, as a share of the same ratio in llama.cpp's own batched decoding
    on this machine (its limit here: a CPU gains little from batching)."""
    from hyperalign_dspy.lms.embedded_models import model_path
    from hyperalign_dspy.lms.llama_server import LlamaServer, ServeSettings, free_port

    config = settings["server_slots"]
    slots, prompt_tokens, generated = config["slots"], config["prompt_tokens"], config["generated_tokens"]
    llama = ha.lm(embedded).engine.llama  # its tokenizer: distinct prompts of `prompt_tokens` tokens
    notes = [author.reference for author in authors]
    prompts = [llama.tokenize(" ".join(notes[i::slots]).encode(), add_bos=True)[:prompt_tokens] for i in range(slots)]
    served = {}
    for count in (1, slots):
        serve = ServeSettings(model=embedded, slots=count, port=free_port(), context_per_slot=prompt_tokens + generated + 64)
        with LlamaServer(serve) as server:
            served[count] = served_generation(server, prompts[:count], generated)
    native = native_speeds(model_path(embedded), prompt_tokens, generated, [1, slots], serve.threads)
    server_gain = served[slots]["generation_tps"] / served[1]["generation_tps"]
    native_gain = native[slots]["generation_tps"] / native[1]["generation_tps"]
    return figure(f"10. llama-server {slots} slots over 1 (aggregate generation), / llama.cpp's own {slots} over 1",
                  server_gain / native_gain, config["target"], "higher",
                  server_tokens_per_second={count: round(value["generation_tps"], 1) for count, value in served.items()},
                  server_prompt_tokens_per_second={count: round(value["prompt_tps"], 1) for count, value in served.items()},
                  server_prompt_tokens_again={count: value["prompt_tokens_again"] for count, value in served.items()},
                  native_tokens_per_second={count: round(value["generation_tps"], 1) for count, value in native.items()},
                  native_prompt_tokens_per_second={count: round(value["prompt_tps"], 1) for count, value in native.items()},
                  server_gain=round(server_gain, 3), native_gain=round(native_gain, 3), threads=serve.threads)


# 11 -----------------------------------------------------------------------------------------------
class _Captured(Exception):
    """Raised in place of stage 1's call, once its request is recorded."""


def stage_one_request(lm: dspy.LM, texts) -> dict:
    """The arguments the engine gives llama-cpp-python for stage 1 of `texts` (its messages, and
    the response schema as a grammar), recorded in place of the call."""
    llama, recorded = lm.engine.llama, {}

    def record(**arguments):
        recorded.update(arguments)
        raise _Captured

    llama.create_chat_completion = record
    try:
        with dspy_cache(None), dspy.context(lm=lm):
            ha.HyPerAlign().infer_profile(texts)
    except Exception:  # DSPy wraps the engine's exception
        pass
    finally:
        del llama.create_chat_completion  # the class's method again
    if "messages" not in recorded:
        raise RuntimeError("stage 1 made no call to the engine")
    return recorded


def stage_one_grammar(settings, authors, embedded: str) -> dict:
    """Stage 1's generation tokens/s under its response schema (a grammar, sampled grammar-first)
    over free decoding of the same prompt and length (the end tokens banned, so it runs as long),
    the prompt's KV state kept from an untimed call, so both time decoding alone."""
    config = settings["stage_one_grammar"]
    lm = ha.lm(embedded, temperature=0.0)
    llama = lm.engine.llama
    request = stage_one_request(lm, authors[0].examples)
    ends = {llama.token_eos(), *llama.tokenize(b"<|im_end|>", add_bos=False, special=True)}

    def no_end(input_ids, scores):
        scores[list(ends)] = -np.inf
        return scores

    from llama_cpp import LogitsProcessorList

    free = {key: value for key, value in request.items() if key != "response_format"}
    llama.create_chat_completion(**{**free, "max_tokens": 1})  # untimed: the prompt's KV state
    rates = {}
    for name, arguments in (("grammar", request), ("free", {**free, "logits_processor": LogitsProcessorList([no_end])})):
        started = time.perf_counter()
        result = llama.create_chat_completion(**{**arguments, "max_tokens": config["generated_tokens"]})
        rates[name] = (result["usage"]["completion_tokens"], time.perf_counter() - started)
    (grammar_tokens, grammar_seconds), (free_tokens, free_seconds) = rates["grammar"], rates["free"]
    grammar_rate, free_rate = grammar_tokens / grammar_seconds, free_tokens / free_seconds
    return figure("11. stage 1 generation tokens/s under its grammar / free decoding, same prompt",
                  grammar_rate / free_rate, config["target"], "higher",
                  grammar_tokens_per_second=round(grammar_rate, 1), free_tokens_per_second=round(free_rate, 1),
                  grammar_tokens=grammar_tokens, free_tokens=free_tokens,
                  prompt_tokens=result["usage"]["prompt_tokens"], author=authors[0].author)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(HERE / "benchmark.toml"))
    parser.add_argument("--only", type=int, nargs="+", choices=range(1, 12), help="run only these figures")
    parser.add_argument("--out", default="benchmark.json", help="where the figures go as JSON")
    args = parser.parse_args(argv)
    settings = tomllib.loads(Path(args.config).read_text())
    suite = HERE / settings["suite"]
    suite_settings = ha.load_suite(suite)
    authors = ha.load_authors(suite_settings.data[0])
    embedded = settings["embedded_lm"]
    chosen = set(args.only or range(1, 12))
    results = []
    import mlflow

    mlflow.set_experiment(settings["experiment"])
    # The evals and compiles that figures 3 and 6 run are nested runs of the benchmark's run.
    with tempfile.TemporaryDirectory(prefix="hyperalign-bench-") as scratch, mlflow.start_run(run_name="benchmark"):
        workdir = Path(scratch)
        mlflow.log_params({"config": args.config, "figures": ",".join(map(str, sorted(chosen))),
                           "embedded_lm": embedded, "dspy_version": dspy.__version__})
        steps = {
            1: lambda: calls_per_user(settings, authors),
            2: lambda: prompt_tokens(settings, authors, embedded),
            3: lambda: parallel_speedup(settings, suite, workdir),
            4: lambda: engine_speed(settings, embedded),
            5: lambda: overhead(settings, authors),
            6: lambda: rerun_calls(settings, suite, workdir),
            7: lambda: demo_memory(settings, embedded, workdir),
            8: lambda: prefix_reuse(settings, authors, embedded, suite_settings.judge),
            9: lambda: native_speed(settings, authors, embedded),
            10: lambda: server_slots(settings, authors, embedded),
            11: lambda: stage_one_grammar(settings, authors, embedded),
        }
        for number in sorted(chosen):
            started = time.perf_counter()
            print(f"[bench] figure {number} …", file=sys.stderr, flush=True)
            result = steps[number]()
            result["seconds"] = round(time.perf_counter() - started, 1)
            results.append(result)
            print(f"{result['figure']:<78} {result['value']:>9.3f}{result['unit']:<2}  target {result['target_is']} "
                  f"{result['target']}{result['unit']:<2}  {'met' if result['met'] else 'MISSED'}", flush=True)
            if "process_speedup" in result:  # figure 3: the whole command, beside the harness in this process
                print(f"{'   the whole `hyperalign eval` process':<78} {result['process_speedup']:>9.3f}×  "
                      f"({result['process_seconds_1']} s vs {result['process_seconds_n']} s)", flush=True)
            mlflow.log_metrics({f"figure_{number}.value": result["value"], f"figure_{number}.met": float(result["met"]),
                                **({f"figure_{number}.process_speedup": result["process_speedup"]}
                                   if "process_speedup" in result else {})})
        mlflow.log_dict(results, "benchmark.json")
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{sum(r['met'] for r in results)} of {len(results)} figures meet their targets; JSON in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
