"""Where things live: the project root, the organisation config and the data folders.

Every location can be moved with an environment variable so the same code runs from a checkout,
in tests (temporary folders) and in the Docker image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Paths:
    """The data folders of one deployment, all under one root."""

    root: Path

    @property
    def inbox(self) -> Path:
        """Returned evidence workbooks are dropped here."""
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        """Originals, content-addressed by SHA-256; archived mail (``mail/``) is deleted after ``retention.years``."""
        return self.root / "archive"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def output(self) -> Path:
        """Everything we generate: request workbooks, summaries, registers, packs."""
        return self.root / "output"


def config_path() -> Path:
    """The organisation config the quality team edits."""
    return Path(os.environ.get("REACCREDITATION_CONFIG", PROJECT_ROOT / "config" / "organisation.yaml"))


def data_paths() -> Paths:
    return Paths(Path(os.environ.get("REACCREDITATION_DATA", PROJECT_ROOT / "var" / "data")))


def timezone_name() -> str:
    """The organisation's time zone (REACCREDITATION_TIMEZONE, default Europe/London)."""
    return os.environ.get("REACCREDITATION_TIMEZONE", "Europe/London")


def local_now() -> datetime:
    """Now in the organisation's time zone, with its offset (email Date headers, receipts)."""
    return datetime.now(ZoneInfo(timezone_name()))
