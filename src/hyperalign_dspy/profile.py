"""`UserProfile`: what stage 1 learned about one user, saved as JSON, edited, passed back in."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from hyperalign_dspy.atomic_files import publish
from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.signatures import UserAttributes


class UserProfile(BaseModel):
    hypotheses: list[str] = Field(min_length=1)
    attributes: UserAttributes
    source_ids: list[str] = Field(description="ids of the texts the hypotheses were inferred from")

    def save(self, path: str | Path) -> None:
        """Write the profile as JSON, atomically: an interrupted save leaves no half file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False, encoding="utf-8") as out:
            try:
                out.write(self.model_dump_json(indent=2))
            except BaseException:
                os.unlink(out.name)
                raise
        publish(out.name, path)

    @classmethod
    def load(cls, path: str | Path) -> "UserProfile":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HyperAlignError(f"cannot read profile {path}: {exc.__class__.__name__}: {exc}") from exc
        try:
            return cls.model_validate(json.loads(text))
        except json.JSONDecodeError as exc:
            raise HyperAlignError(f"profile {path} is not JSON: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise HyperAlignError(f"profile {path} does not match the profile schema: {where}: {first['msg']}") from exc
