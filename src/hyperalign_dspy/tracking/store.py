"""The local MLflow store (`sqlite:///mlflow.db` unless `MLFLOW_TRACKING_URI` says otherwise),
made ready once before a run is logged.

MLflow creates and migrates a SQLite store's tables on first use, and two processes doing so at
once break each other (`table _alembic_tmp_metrics already exists`): three evals started together
in a new folder all failed. Here the first process creates the tables under a file lock beside
the database, and the others wait for it, then find them made.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from hyperalign_dspy.errors import HyperAlignError


def check_experiment(name: str) -> None:
    """An MLflow experiment's name must say something (MLflow takes a blank one for its Default)."""
    if not isinstance(name, str) or not name.strip():
        raise HyperAlignError(f"--experiment {name!r}: name the MLflow experiment, e.g. --experiment hyperalign")


def prepare_store() -> None:
    """Create or migrate the tracking store now, one process at a time (SQLite stores; a server
    or another database does its own)."""
    import mlflow
    from mlflow import MlflowClient

    uri = mlflow.get_tracking_uri()
    if not uri.startswith("sqlite:///"):
        return
    database = Path(uri.removeprefix("sqlite:///").split("?", 1)[0])
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(f".{database.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            MlflowClient(uri).search_experiments(max_results=1)  # the store's tables, made or migrated
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_USED: dict[str, object] = {}  # what `use_experiment` last made active: (tracking URI, name) and its id


def use_experiment(name: str) -> None:
    """Make the experiment `name` the active one, unless this did so last in the same store and
    nothing has changed it since. Once a trace was logged in the process, MLflow's `set_experiment`
    also retires its trace exporter, waiting about 1 s on the exporter's threads: each evaluation
    after the first in a process paid that."""
    import mlflow

    key = (mlflow.get_tracking_uri(), name)
    if _USED.get("key") == key and os.environ.get("MLFLOW_EXPERIMENT_ID") == _USED.get("id"):  # set_experiment sets it
        return
    experiment = mlflow.set_experiment(name)
    _USED.update(key=key, id=experiment.experiment_id)
