"""llama.cpp's own server (`llama-server`) serving an embedded model on loopback, with parallel
slots (continuous batching): `hyperalign serve`, or `with LlamaServer(ServeSettings(...))`.

The binary is built once by `make llama-server`, from the llama.cpp source that the pinned
llama-cpp-python sdist vendors, with the same portable CPU flags; it lands in the virtual
environment (`<venv>/llama.cpp/build/bin/llama-server`, or `$HYPERALIGN_LLAMA_SERVER`).
Clients reach it as `--lm openai/<model> --api-base <base_url>`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.embedded_models import EMBEDDED_MODELS, model_path
from hyperalign_dspy.lms.llama_engine import available_cores
from hyperalign_dspy.local_service import answers_health, last_log_line, stop_process


@dataclass(frozen=True)
class ServeSettings:
    model: str = "local"  # an embedded model's name
    slots: int = 4  # requests decoded together; give clients as many `--threads`
    threads: int = field(default_factory=available_cores)
    port: int = 8080
    host: str = "127.0.0.1"
    context_per_slot: int = 8192  # the embedded engine's window: stage 1 needs it whole
    repeat_penalty: float = 1.1  # the embedded engine's: small models loop without it

    def __post_init__(self):
        if self.model not in EMBEDDED_MODELS:
            raise HyperAlignError(f"cannot serve '{self.model}': serve one of the embedded models, "
                                  f"{', '.join(EMBEDDED_MODELS)}")
        for name in ("slots", "threads", "context_per_slot"):
            if getattr(self, name) < 1:
                raise HyperAlignError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}")
        if not 0 <= self.port < 65536:
            raise HyperAlignError(f"--port {self.port} is not a TCP port")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def lm_name(self) -> str:
        return f"openai/{self.model}"


def server_binary() -> Path:
    """Where `make llama-server` puts the binary (inside the virtual environment), unless
    `$HYPERALIGN_LLAMA_SERVER` names another."""
    given = os.environ.get("HYPERALIGN_LLAMA_SERVER")
    path = Path(given) if given else Path(sys.prefix) / "llama.cpp" / "build" / "bin" / "llama-server"
    if not path.is_file():
        raise HyperAlignError(f"llama-server is not built at {path}: run `make llama-server` (it builds it once "
                              "from the llama.cpp source of the pinned llama-cpp-python, about 5 minutes on 2 cores)")
    return path


def server_command(settings: ServeSettings, binary: Path) -> list[str]:
    return [str(binary), "--model", str(model_path(settings.model)), "--alias", settings.model,
            "--host", settings.host, "--port", str(settings.port),
            "--parallel", str(settings.slots), "--ctx-size", str(settings.slots * settings.context_per_slot),
            "--threads", str(settings.threads), "--threads-batch", str(settings.threads),
            "--flash-attn", "on", "--repeat-penalty", str(settings.repeat_penalty),
            "--no-webui", "--metrics"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LlamaServer:
    """A running `llama-server`: started on entry (ready once its model is loaded), stopped on exit.
    Its log goes to `log_path` (a temporary file unless given)."""

    def __init__(self, settings: ServeSettings, binary: Path | None = None, log_path: Path | None = None):
        if log_path is not None and not Path(log_path).parent.is_dir():
            raise HyperAlignError(f"--log {log_path}: the folder {Path(log_path).parent} does not exist")
        self.settings = settings
        self.binary = binary or server_binary()
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self, timeout_seconds: float = 300) -> Self:
        with socket.socket() as probe:
            if probe.connect_ex((self.settings.host, self.settings.port)) == 0:
                raise HyperAlignError(f"port {self.settings.port} on {self.settings.host} is taken; choose another "
                                      "with --port")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(server_command(self.settings, self.binary), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HyperAlignError(f"llama-server stopped with exit code {self.process.returncode}: "
                                      f"{self.last_log_line()} (log: {self.log_path})")
            if self.ready():
                return self
            time.sleep(0.25)
        self.stop()
        raise HyperAlignError(f"llama-server was not ready after {timeout_seconds:.0f} s (log: {self.log_path})")

    def ready(self) -> bool:
        return answers_health(f"http://{self.settings.host}:{self.settings.port}/health")  # 503 while the model loads

    def last_log_line(self) -> str:
        return last_log_line(self.log_path)

    def stop(self) -> None:
        stop_process(self.process, timeout=15)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
