"""``manifest.json``: what a rendered pack will send, message by message; the send step reads only this.

Schema ``reaccreditation.packs/1`` (docs/packs.md): headline figures, and per message the dedupe key,
recipient, subject, body files, inline images and attachment, all relative to the pack's folder
``output/<year>/packs/<pack date>/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reaccreditation.files import write_json

SCHEMA = "reaccreditation.packs/1"
NAME = "manifest.json"


def folder(output: Path, year: int, pack_date: str) -> Path:
    return output / str(year) / "packs" / pack_date


def write(folder: Path, manifest: dict[str, Any]) -> Path:
    return write_json(folder / NAME, manifest)


def read(folder: Path) -> dict[str, Any]:
    """The manifest of a rendered pack (raises when the folder holds none: a pack is never sent half-known)."""
    data = json.loads((Path(folder) / NAME).read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{Path(folder) / NAME} is not a {SCHEMA} file")
    return data


def sent_files(data: dict[str, Any]) -> list[str]:
    """Every file a pack's messages are built from (bodies, inline images, attachments), folder-relative."""
    names: list[str] = []
    for m in data["messages"]:
        names += [m["text"], m["html"], m["attachment"], *(i["path"] for i in m.get("images") or [])]
    return sorted(set(names))


def digest(folder: Path) -> str:
    """SHA-256 of exactly what the send step would mail: this manifest (recipients, subjects, keys) and the
    bytes of every file it names. An approval records it; the send step refuses on any difference."""
    from reaccreditation.approvals.binding import digest_of, file_digests

    folder = Path(folder)
    data = read(folder)
    return digest_of({"schema": "reaccreditation.packs.approval/1", "files": file_digests(folder, [NAME, *sent_files(data)])})
