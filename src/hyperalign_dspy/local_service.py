"""What the project's own servers (llama-server, MLflow's tracking server) share: a process on a
loopback port, ready once its health URL answers 200, its output in a log file, stopped with
SIGTERM and, if it does not stop in time, SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path


def answers_health(url: str) -> bool:
    """The URL answers 200 (a server still loading answers 503, or nothing)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def last_log_line(log_path: Path) -> str:
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def stop_process(process: subprocess.Popen | None, timeout: float, group: bool = False) -> None:
    """Stop `process` if it runs: SIGTERM, then SIGKILL after `timeout` seconds. `group`: signal
    its whole process group (it was started with `start_new_session`, and has workers of its own)."""
    if process is None or process.poll() is not None:
        return

    def send(signal_number: int) -> None:
        if group:
            os.killpg(process.pid, signal_number)
        else:
            process.send_signal(signal_number)

    send(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait()
