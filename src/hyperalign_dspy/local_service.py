"""What the project's own servers (llama-server, MLflow's tracking server) share: a process on a
loopback port, ready once its health URL answers 200, its output in a log file."""

from __future__ import annotations

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
