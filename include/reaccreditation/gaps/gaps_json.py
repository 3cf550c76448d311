"""``gaps.json``: the whole gap snapshot (``Snapshot.to_dict()``) for the dashboard and the readiness packs.

Schema ``reaccreditation.gaps/1`` (shape in docs/gap-analysis.md). The gap analysis writes it;
everything else reads it through :func:`read`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reaccreditation.files import Unavailable, read_json, write_json

SCHEMA = "reaccreditation.gaps/1"
NAME = "gaps.json"


def folder(output: Path, year: int) -> Path:
    """The gap stage's folder: gaps.json, gap_register.xlsx and gaps.html."""
    return output / str(year) / "gaps"


def path(output: Path, year: int) -> Path:
    return folder(output, year) / NAME


def write(output: Path, payload: dict[str, Any]) -> Path:
    return write_json(path(output, payload["assessment_year"]), payload)


def read(output: Path, year: int) -> tuple[dict[str, Any] | None, Unavailable | None]:
    """The year's latest snapshot, or why there is none (not written yet, unreadable, another schema or year)."""
    return read_json(path(output, year), SCHEMA, year)
