"""MLflow's tracking server on a PostgreSQL backend store, as a team shares one: `hyperalign
tracking-server` (or `make tracking-server`), or `with TrackingServer(TrackingServerSettings(...))`.

Everything lives in one folder: the PostgreSQL cluster (`postgres/`), the artifacts the server
stores for its clients (`artifacts/`), and the server's log. Clients send their runs with
`MLFLOW_TRACKING_URI=http://<host>:<port>`; the UI is at the same address.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.local_service import answers_health, last_log_line, stop_process
from hyperalign_dspy.tracking.postgres import PostgresCluster


@dataclass(frozen=True)
class TrackingServerSettings:
    folder: Path = Path("mlflow-server")
    port: int = 5000
    host: str = "127.0.0.1"
    postgres_port: int = 5433
    database: str = "mlflow"
    workers: int = 2

    def __post_init__(self):
        for name in ("port", "postgres_port"):
            if not 0 < getattr(self, name) < 65536:
                raise HyperAlignError(f"--{name.replace('_', '-')} {getattr(self, name)} is not a TCP port")
        if self.port == self.postgres_port:
            raise HyperAlignError("--port and --postgres-port must differ")
        if self.workers < 1:
            raise HyperAlignError(f"--workers must be at least 1, not {self.workers}")
        if not self.database.replace("_", "").isalnum():
            raise HyperAlignError(f"--database '{self.database}': use letters, digits and _")
        try:
            socket.getaddrinfo(self.host, self.port)
        except (socket.gaierror, UnicodeError):
            raise HyperAlignError(f"--host {self.host!r} is no address of this machine's network") from None

    @property
    def uri(self) -> str:
        return f"http://{self.host}:{self.port}"


def port_taken(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


class TrackingServer:
    """PostgreSQL and `mlflow server` over it: started on entry (ready once the server answers
    `/health`), stopped on exit, PostgreSQL last."""

    def __init__(self, settings: TrackingServerSettings):
        self.settings = settings
        self.folder = Path(settings.folder).resolve()
        if self.folder.exists() and not self.folder.is_dir():
            raise HyperAlignError(f"--folder {settings.folder} is a file, not a folder")
        self.postgres = PostgresCluster(self.folder / "postgres", settings.postgres_port)
        self.log_path = self.folder / "mlflow-server.log"
        self.process: subprocess.Popen | None = None

    @property
    def backend_store_uri(self) -> str:
        return self.postgres.uri(self.settings.database)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", self.backend_store_uri,
                "--artifacts-destination", str(self.folder / "artifacts"), "--host", self.settings.host,
                "--port", str(self.settings.port), "--workers", str(self.settings.workers)]

    def start(self, timeout_seconds: float = 180) -> Self:
        settings = self.settings
        if port_taken(settings.host, settings.port):
            raise HyperAlignError(f"port {settings.port} on {settings.host} is taken; choose another with --port")
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.postgres.running() and port_taken("127.0.0.1", settings.postgres_port):
            raise HyperAlignError(f"port {settings.postgres_port} is taken; choose another with --postgres-port")
        self.postgres.start()
        try:
            self.postgres.create_database(settings.database)
            environment = {
                **os.environ,
                "LITELLM_LOCAL_MODEL_COST_MAP": "true",  # LiteLLM, which it imports, would wait for its price list
                "MLFLOW_DISABLE_TELEMETRY": "true",
                # Its job runner (8 processes, about 380 MB each) runs judges on the server; ours run in the client.
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            }
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, env=environment, start_new_session=True)
            deadline = time.monotonic() + timeout_seconds
            while time.monotonic() < deadline:  # the first start creates MLflow's tables
                if self.process.poll() is not None:
                    raise HyperAlignError(f"mlflow server stopped with exit code {self.process.returncode}: "
                                          f"{self.last_log_line()} (log: {self.log_path})")
                if self.ready():
                    return self
                time.sleep(0.5)
            raise HyperAlignError(f"mlflow server was not ready after {timeout_seconds:.0f} s (log: {self.log_path})")
        except BaseException:
            self.stop()
            raise

    def ready(self) -> bool:
        return answers_health(f"{self.settings.uri}/health")

    def last_log_line(self) -> str:
        return last_log_line(self.log_path)

    def stop(self) -> None:
        """Stop the server (its worker processes with it), then PostgreSQL."""
        stop_process(self.process, timeout=30, group=True)
        self.postgres.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
