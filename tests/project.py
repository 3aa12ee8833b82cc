"""Where the project's own files are, for tests that read its suites, recipes and data."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
