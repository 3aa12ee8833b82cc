"""Shared fixtures. Everything that could leak between runs goes to a throw-away folder.

The environment is set at import time, before `dspy`, `datasets` or `mlflow` are imported by any
test module: DSPy resolves its disk-cache folder from `DSPY_CACHEDIR` (see
`dspy/utils/caching.py::default_cache_dir`) and `datasets` its cache from `HF_DATASETS_CACHE`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
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

import dspy  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

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
    previous = dspy.cache
    dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True, disk_cache_dir=str(tmp_path / "dspy_cache"))
    yield dspy.cache
    with dspy._cache_lock:
        dspy.cache = previous


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
