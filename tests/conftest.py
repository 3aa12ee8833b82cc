"""Shared fixtures. Everything that could leak between runs goes to a throw-away folder.

The environment is set at import time, before `dspy`, `datasets` or `mlflow` are imported by any
test module: DSPy resolves its disk-cache folder from `DSPY_CACHEDIR` (see
`dspy/utils/caching.py::default_cache_dir`) and `datasets` its cache from `HF_DATASETS_CACHE`.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="hyperalign-tests-"))
atexit.register(shutil.rmtree, _SESSION_DIR, ignore_errors=True)

os.environ["DSPY_CACHEDIR"] = str(_SESSION_DIR / "dspy_cache")
os.environ["HF_DATASETS_CACHE"] = str(_SESSION_DIR / "hf_datasets")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_SESSION_DIR / 'mlflow.db'}"
os.environ["HYPERALIGN_HOME"] = str(_SESSION_DIR / "hyperalign_home")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "true"
os.environ.pop("HYPERALIGN_DEBUG", None)
# hyperalign_dspy writes MLflow traces as each span ends (its default of
# MLFLOW_ENABLE_ASYNC_TRACE_LOGGING); the `async_trace_logging` fixture turns MLflow's background
# queue on for a test that checks the eval waits for it. A user's own setting is kept.
os.environ.pop("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", None)

import dspy  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

from helpers import new_dspy_cache  # noqa: E402

# The loader fuzzing (test_loader_fuzzing.py): random examples on a developer's machine, kept in the
# session folder; CI draws the same examples on every run, so that a run fails for a change and not
# for the dice.
settings.register_profile("local", database=DirectoryBasedExampleDatabase(str(_SESSION_DIR / "hypothesis")))
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "local")

# In case a plugin imported dspy before this file ran, configure the cache explicitly as well.
dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True, disk_cache_dir=str(_SESSION_DIR / "dspy_cache"))


@pytest.fixture(autouse=True)
def work_in_a_temporary_folder(tmp_path, monkeypatch):
    """Run every test in its own folder: MLflow puts a SQLite store's artifacts under ./mlruns, and
    `hyperalign compare` writes its chart to the working folder by default."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def attributes() -> dict:
    """Stage-1 `attributes` as the LM returns them (a dict valid for `UserAttributes`)."""
    from lm_answers import sample_attributes

    return sample_attributes()


@pytest.fixture
def hypotheses() -> list:
    """Stage-1 `hypotheses` as the LM returns them (strings or objects, as the signature declares)."""
    from lm_answers import sample_hypotheses

    return sample_hypotheses(2)


@pytest.fixture
def hypothesis_texts(hypotheses) -> list[str]:
    """What a `UserProfile` built from `hypotheses` holds."""
    from lm_answers import hypothesis_texts

    return hypothesis_texts(hypotheses)


@pytest.fixture
def profile(attributes, hypothesis_texts):
    from hyperalign_dspy import UserProfile

    return UserProfile(hypotheses=hypothesis_texts, attributes=attributes, source_ids=["doc-1", "doc-2"])


@pytest.fixture
def hyperalign_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "hyperalign_home"
    monkeypatch.setenv("HYPERALIGN_HOME", str(home))
    return home


@pytest.fixture
def fresh_dspy_cache(tmp_path):
    """A new, empty DSPy cache (memory and disk) for one test, so no call is answered from a cache."""
    with new_dspy_cache(tmp_path) as cache:
        yield cache


@pytest.fixture
def async_trace_logging(monkeypatch):
    """MLflow's background trace queue, as a user who sets MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=true has
    it (read when an experiment is set)."""
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "true")


@pytest.fixture(autouse=True)
def _reset_dspy_settings():
    """The CLI calls `dspy.configure(lm=..., adapter=...)`; do not let that leak into later tests."""
    yield
    dspy.configure(lm=None, adapter=None)


@pytest.fixture(autouse=True)
def _no_model_loading(request, monkeypatch):
    """Outside `runtime` tests, fail loudly instead of loading (or hashing) a GGUF model."""
    if request.node.get_closest_marker("runtime"):
        return
    from hyperalign_dspy.lms import llama_engine

    def refuse(self):
        raise AssertionError(f"a non-runtime test tried to load the embedded model '{self.model_name}'")

    monkeypatch.setattr(llama_engine.LlamaCppEngine, "llama", property(refuse))


@pytest.fixture
def server(monkeypatch, fresh_dspy_cache):
    """The loopback OpenAI-compatible server of `fake_openai.py`, with its API key in the environment."""
    from fake_openai import API_KEY, FakeOpenAI

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="session")
def tracking_server():
    """An MLflow tracking server on PostgreSQL: the one `.ci/run` starts with `hyperalign
    tracking-server` (its address in `$HYPERALIGN_TEST_TRACKING_URI`, its store's in
    `$HYPERALIGN_TEST_TRACKING_STORE`), else one started here the same way. Yields (tracking URI,
    backend store URI)."""
    given = os.environ.get("HYPERALIGN_TEST_TRACKING_URI")
    if given:
        yield given, os.environ["HYPERALIGN_TEST_TRACKING_STORE"]
        return
    if os.environ.get("CI"):
        pytest.fail("CI runs the tracking-server tests against the server .ci/run starts: "
                    "HYPERALIGN_TEST_TRACKING_URI is not set")
    from hyperalign_dspy.lms.llama_server import free_port
    from hyperalign_dspy.tracking.server import TrackingServer, TrackingServerSettings

    folder = Path(tempfile.mkdtemp(prefix="hyperalign-tracking-"))  # under /tmp: PostgreSQL's user can reach it
    folder.chmod(0o755)
    with TrackingServer(TrackingServerSettings(folder=folder, port=free_port(), postgres_port=free_port())) as server:
        yield server.settings.uri, server.backend_store_uri
    shutil.rmtree(folder, ignore_errors=True)


# --- runs that several tests check ----------------------------------------------------------------
# A compile or an eval through the fake server takes seconds to a minute; tests that check different
# things about the same run share it. Each shared run has its own fake server (so its request count
# is the run's), an empty DSPy cache of its own while it runs, and its own working folder; the server
# keeps answering until the session ends (some tests go on to use the compiled program with it).


@dataclass
class SharedRun:
    """A CLI run made once for several tests."""

    argv: list[str]
    code: int
    out: str  # what it printed on stdout
    err: str  # and on stderr (its progress lines among it)
    server: object  # the FakeOpenAI it ran against
    requests: int  # how many requests that server had when the run ended
    folder: Path  # its working folder
    paths: dict[str, Path] = field(default_factory=dict)  # the files the tests look at, by name
    experiment: str | None = None  # the MLflow experiment it logged to, where the tests need it

    @property
    def result(self) -> dict:
        assert self.code == 0, self.err[-3000:]
        return json.loads(self.out)


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory):
    """`run(name, argv_of, after=None, tracking_uri=None)`: the CLI run `argv_of(server, folder)`
    made once a session under `name`, against a FakeOpenAI of its own, in a folder of its own; or,
    `after` another shared run, with that one's server, folder and DSPy cache. `tracking_uri`: the
    MLflow store it logs to (else the session's)."""
    import mlflow
    from fake_openai import API_KEY, FakeOpenAI

    from hyperalign_dspy.cli import main

    made: dict[str, SharedRun] = {}
    with contextlib.ExitStack() as servers:

        def run(name: str, argv_of, after: SharedRun | None = None, tracking_uri: str | None = None) -> SharedRun:
            if name not in made:
                folder = after.folder if after else tmp_path_factory.mktemp(name)
                fake = after.server if after else servers.enter_context(FakeOpenAI())
                argv = argv_of(fake, folder)
                out, err = io.StringIO(), io.StringIO()
                with pytest.MonkeyPatch.context() as patch, new_dspy_cache(folder), \
                        contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    patch.setenv("OPENAI_API_KEY", API_KEY)
                    patch.chdir(folder)
                    if tracking_uri:
                        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
                        mlflow.set_tracking_uri(tracking_uri)
                    try:
                        code = main(argv)
                    finally:
                        dspy.configure(lm=None, adapter=None)
                        if tracking_uri:
                            mlflow.set_tracking_uri(None)
                made[name] = SharedRun(argv, code, out.getvalue(), err.getvalue(), fake, len(fake.requests), folder)
            return made[name]

        yield run


@pytest.fixture(scope="session")
def compiled(shared_runs):
    """`compiled(recipe)`: `hyperalign compile --limit 2 --json` of a recipe on the six-author suite,
    once a session; its program is `paths["out"]` (programs/RECIPE.json), its suite `paths["suite"]`."""
    from helpers import compile_args
    from word_authors import SIX_AUTHORS, write_suite

    def compile_once(recipe: Path) -> SharedRun:
        def argv_of(fake, folder):
            suite = write_suite(folder, **SIX_AUTHORS)
            out = folder / "programs" / f"{recipe.stem}.json"
            return compile_args(fake.base, recipe, suite, out, "--limit", "2", "--json")

        run = shared_runs(f"compile-{recipe.stem}", argv_of)
        run.paths.update(suite=run.folder / "suite.toml", out=run.folder / "programs" / f"{recipe.stem}.json")
        return run

    return compile_once


@pytest.fixture(scope="session")
def demos_compile(shared_runs) -> SharedRun:
    """bootstrap-fewshot against the zero-shot baseline, where the fake judge ties every pair (a half
    meets the threshold), so the compile keeps demos; `--limit 2 --json`, to `tides.json`."""
    from helpers import BOOTSTRAP, compile_args
    from word_authors import SIX_AUTHORS, write_suite

    def argv_of(fake, folder):
        suite = write_suite(folder, **SIX_AUTHORS)
        recipe = folder / "bootstrap.toml"
        recipe.write_text(BOOTSTRAP.read_text().replace('baseline = "default"', 'baseline = "zero-shot"'))
        return compile_args(fake.base, recipe, suite, folder / "tides.json", "--limit", "2", "--json")

    run = shared_runs("demos-compile", argv_of)
    run.paths.update(out=run.folder / "tides.json")
    return run


@pytest.fixture(scope="session")
def tracked_runs(tracking_server, shared_runs) -> tuple[SharedRun, SharedRun]:
    """An eval (`--limit 2`) and then a compile (bootstrap-fewshot, `--limit 2`) of the six-author
    suite, logged to the tracking server on PostgreSQL in an experiment of their own (`.experiment`),
    with one fake server and one DSPy cache: (eval, compile)."""
    import uuid

    from helpers import BOOTSTRAP
    from word_authors import SIX_AUTHORS, write_suite

    uri, _ = tracking_server
    experiment = f"shared-{uuid.uuid4().hex[:8]}"

    def lm(fake):
        return ["--lm", "openai/test-model", "--api-base", fake.base, "--experiment", experiment, "--limit", "2", "--json"]

    def eval_argv(fake, folder):
        return ["eval", str(write_suite(folder, **SIX_AUTHORS)), *lm(fake)]

    def compile_argv(fake, folder):
        return ["compile", "--optimizer", str(BOOTSTRAP), "--suite", str(folder / "suite.toml"),
                "--out", str(folder / "program.json"), *lm(fake)]

    evaluation = shared_runs("tracked-eval", eval_argv, tracking_uri=uri)
    compiling = shared_runs("tracked-compile", compile_argv, after=evaluation, tracking_uri=uri)
    for run in (evaluation, compiling):
        run.paths.update(suite=run.folder / "suite.toml", out=run.folder / "program.json")
        run.experiment = experiment
    return evaluation, compiling
