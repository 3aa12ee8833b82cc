"""A PostgreSQL cluster of the project's own, for the MLflow tracking server's backend store:
created once in a folder (`initdb`), started and stopped with `pg_ctl`, listening on loopback only.

PostgreSQL will not run as root; under root its programs run as the `postgres` user that Debian's
package creates, who must be able to reach the folder. Authentication is `trust` on 127.0.0.1
(and a Unix socket inside the folder): the cluster is for one machine's tracking server, not a
shared database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from hyperalign_dspy.errors import HyperAlignError

SERVICE_USER = "postgres"  # Debian's package's user; PostgreSQL refuses to run as root


def postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs: `$HYPERALIGN_POSTGRES_BIN`, the one holding
    `initdb` on the PATH, or Debian's newest `/usr/lib/postgresql/<version>/bin`."""
    given = os.environ.get("HYPERALIGN_POSTGRES_BIN")
    on_path = shutil.which("initdb")
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    found = Path(given) if given else Path(on_path).resolve().parent if on_path else Path(debian[-1]).parent if debian else None
    if found is None or not (found / "pg_ctl").is_file():
        raise HyperAlignError("PostgreSQL's server programs (initdb, pg_ctl) are not installed: `make tracking-server` "
                              "installs Debian's postgresql package, or set HYPERALIGN_POSTGRES_BIN")
    return found


@dataclass
class PostgresCluster:
    """A cluster in `folder` (its data in `folder/data`, its log in `folder/postgres.log`) on
    127.0.0.1:`port`."""

    folder: Path
    port: int = 5432

    def __post_init__(self):
        self.folder = Path(self.folder).resolve()
        self.bin = postgres_bin()
        self.as_service_user = os.geteuid() == 0

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log_path(self) -> Path:
        return self.folder / "postgres.log"

    def uri(self, database: str) -> str:
        """The SQLAlchemy URI of one of its databases, through psycopg2 (MLflow's server reads it)."""
        return f"postgresql+psycopg2://{SERVICE_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        if self.as_service_user:
            command = ("runuser", "-u", SERVICE_USER, "--", *command)
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd="/", check=False)
        if check and done.returncode != 0:
            said = " ".join((done.stderr or done.stdout).split())[-300:]
            raise HyperAlignError(f"{Path(command[command.index('--') + 1] if '--' in command else command[0]).name} "
                                  f"failed ({done.returncode}): {said} (log: {self.log_path})")
        return done

    def _prepare_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.as_service_user:
            return
        user = pwd.getpwnam(SERVICE_USER)
        os.chown(self.folder, user.pw_uid, user.pw_gid)
        reach = subprocess.run(["runuser", "-u", SERVICE_USER, "--", "test", "-w", str(self.folder)],
                               stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if reach.returncode != 0:
            raise HyperAlignError(f"PostgreSQL runs as user '{SERVICE_USER}' under root, and it cannot reach "
                                  f"{self.folder}: choose a folder it can, e.g. under /tmp")

    def create(self) -> None:
        """`initdb`, once: an existing cluster is kept."""
        if (self.data / "PG_VERSION").is_file():
            return
        self._prepare_folder()
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", SERVICE_USER, "-E", "UTF8")

    def running(self) -> bool:
        if not (self.data / "PG_VERSION").is_file():
            return False
        return self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "status", check=False).returncode == 0

    def start(self) -> Self:
        self.create()
        if not self.running():
            options = f"-k {self.folder} -p {self.port} -h 127.0.0.1"
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log_path),
                      "-w", "-t", "60", "start")
        return self

    def create_database(self, name: str) -> None:
        """Create database `name` unless it exists."""
        psql = [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SERVICE_USER, "-d", "postgres",
                "-tAc"]
        found = self._run(*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'").stdout.strip()
        if found != "1":
            self._run(*psql, f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        if self.data.is_dir() and self.running():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
