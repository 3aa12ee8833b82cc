"""Files written whole or not at all: content goes to a temporary file beside the target, which is
renamed into place only when complete."""

from __future__ import annotations

import os
from pathlib import Path


def publish(temporary: str | Path, target: str | Path) -> None:
    """Rename a finished temporary file onto `target`, readable as any file the user creates
    (temporary files are made readable by their owner only)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(temporary, 0o666 & ~mask)
    os.replace(temporary, target)
