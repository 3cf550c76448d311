"""Write the portfolio: ``index.html``, ``portfolio.xlsx``, the documents by element, ``MANIFEST``; then the zip.

Everything inside the zip sits under one folder, ``portfolio-<year>-v<N>/``, with relative links only, so
the index reads offline from the unzipped folder (no script, no font or style from elsewhere). ``MANIFEST``
is in ``sha256sum`` format (``sha256sum -c MANIFEST`` checks it) and lists every other file. Each document
is read back from the store before it is copied: a copy whose SHA-256 no longer matches what was recorded
when it arrived, or that the safety check now refuses, is left out and the item says so.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reaccreditation.documents import safety
from reaccreditation.files import sha256_bytes
from reaccreditation.organisation.config import Organisation
from reaccreditation.portfolio.gather import ElementView

HEADERS = ("Ref", "Element", "Evidence", "Owner", "Notes")
WIDTHS = (10, 40, 60, 30, 60)
log = logging.getLogger(__name__)


@dataclass
class Built:
    name: str
    folder: Path
    zip_path: Path
    manifest_sha256: str
    zip_sha256: str
    size: int
    files: dict[str, str]  # relative path -> sha256
    gaps: list[dict[str, str]]
    dropped: list[str] = field(default_factory=list)  # documents left out (changed on disk or now refused)


def bundle_name(year: int, version: int) -> str:
    return f"portfolio-{year}-v{version}"


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._ ()-]+", "_", Path(name.replace("\\", "/")).name).strip(" .")[:100] or "document"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _readable(path: Path, doc: dict[str, Any]) -> bytes | None:
    """The stored bytes when they are still what was recorded and still pass the safety check."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if sha256_bytes(data) != doc["sha256"]:
        return None
    try:
        safety.check(doc["filename"], data)
    except safety.RefusedDocument:
        return None
    return data


def _write(path: Path, data: bytes) -> None:
    """A file of the unzipped folder: rebuilt whole with each version, so no fsync per file (the zip,
    written aside and renamed once complete, is the durable copy)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def arrange(elements: list[ElementView], root: Path) -> tuple[dict[str, str], list[str]]:
    """Copy each item's documents to ``documents/<criterion>/<element>/``; sets each document's ``href``.

    Returns the relative paths written (-> SHA-256) and what was left out."""
    placed: dict[str, str] = {}
    dropped: list[str] = []
    for e in elements:
        for item in e.items:
            keep = []
            for doc in item.documents:
                rel = f"documents/{e.criterion_id}/{e.id}/{item.department_id} - {_file_name(doc['filename'])}"
                if rel not in placed:
                    data = _readable(Path(doc["stored_path"]), doc)
                    if data is None:
                        dropped.append(f"{e.id} {item.department_id}: {doc['filename']}")
                        item.refused.append(doc["filename"])
                        continue
                    _write(root / rel, data)
                    placed[rel] = doc["sha256"]
                doc["href"] = quote(rel)
                doc["size_text"] = _size(doc["size"])
                keep.append(doc)
            item.documents = keep
    if dropped:
        log.warning("portfolio: %d stored document(s) left out (changed on disk or refused): %s", len(dropped), dropped)
    return placed, dropped


def gaps(elements: list[ElementView]) -> list[dict[str, str]]:
    """The front page's completeness list: each element without an accepted item that has a proof."""
    return [
        {"id": e.id, "title": e.title, "reason": e.gap_reason, "owners": ", ".join(e.owners), "contact": e.owner_contact}
        for e in elements
        if not e.covered
    ]


def owed(elements: list[ElementView]) -> list[dict[str, str]]:
    """Each owning department whose own items for an element prove nothing (another owner's may)."""
    return [{"id": e.id, "title": e.title} | o for e in elements for o in e.owed]


def index_html(
    org: Organisation, elements: list[ElementView], version: int, built: datetime, changed: list[str] | None = None
) -> str:
    from reaccreditation.render import long_date, render

    standard = org.standard
    partial = standard.label("partial")
    by_criterion: dict[str, list[ElementView]] = {}
    for e in elements:
        by_criterion.setdefault(e.criterion_id, []).append(e)
    page = {
        "organisation": org.organisation.name,
        "year": org.assessment.year,
        "version": version,
        "framework": standard.name,
        "assessment": f"{org.assessment.type} assessment from {long_date(org.assessment.first_day)}",
        "built": f"{long_date(built.date())} {built:%H:%M}",
        "covered": sum(e.covered for e in elements),
        "total": len(elements),
        "gaps": gaps(elements),
        "owed": owed(elements),
        "cplus": [e for e in elements if e.cplus_items],
        "last_partials": [e for e in elements if e.last_rating == partial],
        "changed": changed or [],
        "criteria": [{"id": c.id, "title": c.title, "elements": by_criterion.get(c.id, [])} for c in standard.criteria],
    }
    return render("portfolio_index.html", p=page)


def workbook(org: Organisation, elements: list[ElementView]) -> bytes:
    """One sheet per criterion, Ref / Element / Evidence / Owner / Notes, hyperlinks to the documents."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from reaccreditation.workbook.sheets import set_text, write_header

    link_font = Font(color="0B3D91", underline="single")
    wrap = Alignment(wrap_text=True, vertical="top")
    wb = Workbook()
    wb.remove(wb.active)
    for c in org.standard.criteria:
        ws = wb.create_sheet(f"Criterion {c.id}"[:31])
        write_header(ws, HEADERS, WIDTHS)
        r = 2
        for e in (e for e in elements if e.criterion_id == c.id):
            for item in e.items or [None]:
                set_text(ws.cell(row=r, column=1), e.id)
                set_text(ws.cell(row=r, column=2), e.title)
                owner = ", ".join(e.owners)
                notes: list[str] = []
                evidence_cell = ws.cell(row=r, column=3)
                if item is None:
                    set_text(evidence_cell, "No accepted evidence item")
                    notes.append(f"Gap: {e.gap_reason} ({e.owner_contact})")
                else:
                    set_text(evidence_cell, item.title)
                    working = [link["url"] for link in item.links if link["status"] == "working"]
                    if item.documents:
                        evidence_cell.hyperlink = item.documents[0]["href"]
                        evidence_cell.font = link_font
                    elif working:
                        evidence_cell.hyperlink = working[0]
                        evidence_cell.font = link_font
                    owner = f"{item.department}: {item.owner}" if item.owner else item.department
                    if item.self_rating:
                        notes.append(f"self-rated {item.self_rating}")
                    if item.statement:
                        notes.append(f"statement: {item.statement}")
                    notes += [f"document: {d['filename']}" for d in item.documents]
                    notes += [f"link {link['status'].replace('_', ' ')}: {link['url']}" for link in item.links]
                    notes += [f"not received: {m}" for m in item.missing]
                    notes += [f"refused by the safety check, not included: {m}" for m in item.refused]
                    if item.cplus_claim:
                        notes.append(f"Compliance Plus claimed: {item.cplus_justification or 'no justification given'}")
                    notes.append(item.review_text)
                    if not e.covered:
                        notes.append(f"Gap: {e.gap_reason}")
                if e.last_rating:
                    notes.append(f"last assessment: {e.last_rating}" + (f" (action: {e.last_action})" if e.last_action else ""))
                set_text(ws.cell(row=r, column=4), owner)
                set_text(ws.cell(row=r, column=5), "; ".join(notes))
                for col in (2, 3, 5):
                    ws.cell(row=r, column=col).alignment = wrap
                r += 1
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build(
    org: Organisation,
    elements: list[ElementView],
    folder: Path,
    version: int,
    built: datetime,
    changed: list[str] | None = None,
) -> Built:
    """Write ``folder/portfolio-<year>-v<N>/`` and its zip beside it; a folder of that name is replaced whole."""
    name = bundle_name(org.assessment.year, version)
    root = folder / name
    if root.exists():
        shutil.rmtree(root)
    digests, dropped = arrange(elements, root)
    for rel, data in (
        # ASCII with character references: the same bytes read right from the zip and as a mail attachment
        ("index.html", index_html(org, elements, version, built, changed).encode("ascii", "xmlcharrefreplace")),
        ("portfolio.xlsx", workbook(org, elements)),
    ):
        _write(root / rel, data)
        digests[rel] = sha256_bytes(data)
    manifest = "".join(f"{digests[rel]}  {rel}\n" for rel in sorted(digests)).encode()
    _write(root / "MANIFEST", manifest)
    zip_path = folder / f"{name}.zip"
    partial = zip_path.with_suffix(".zip.part")
    stamp = built.timetuple()[:6]
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in [*sorted(digests), "MANIFEST"]:
            info = zipfile.ZipInfo(f"{name}/{rel}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with (root / rel).open("rb") as src, z.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
    with partial.open("rb+") as f:
        os.fsync(f.fileno())
    partial.replace(zip_path)
    zip_bytes = zip_path.read_bytes()
    return Built(
        name,
        root,
        zip_path,
        sha256_bytes(manifest),
        sha256_bytes(zip_bytes),
        len(zip_bytes),
        digests,
        gaps(elements),
        dropped,
    )
