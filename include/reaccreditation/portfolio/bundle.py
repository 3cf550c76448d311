"""Write the portfolio: ``index.html``, ``portfolio.xlsx``, the documents by element, ``MANIFEST``; then the zip.

Everything inside the zip sits under one folder, ``portfolio-<year>-v<N>/``, with relative links only, so
the index reads offline from the unzipped folder. ``MANIFEST`` is in ``sha256sum`` format (``sha256sum -c
MANIFEST`` checks it). The version goes up only when the content changes (MANIFEST's digest); the record of
each version (``portfolio.json``, see :mod:`reaccreditation.portfolio.record`) says what changed.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reaccreditation.files import sha256_bytes, write_atomic
from reaccreditation.organisation.config import Organisation
from reaccreditation.portfolio.gather import ElementView

HEADERS = ("Ref", "Element", "Evidence", "Owner", "Notes")


@dataclass
class Built:
    folder: Path
    zip_path: Path
    digest: str
    files: dict[str, str]  # relative path -> sha256
    gaps: list[dict[str, str]]


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._ ()-]+", "_", Path(name.replace("\\", "/")).name).strip(" .")[:100] or "document"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def arrange(elements: list[ElementView]) -> dict[str, Path]:
    """Relative path in the bundle -> the stored document, setting each document's ``href``."""
    placed: dict[str, Path] = {}
    for e in elements:
        for item in e.items:
            for doc in item.documents:
                rel = f"documents/{e.criterion_id}/{e.id}/{item.department_id} - {_file_name(doc['filename'])}"
                placed[rel] = Path(doc["stored_path"])
                doc["href"] = quote(rel)
                doc["size_text"] = _size(doc["size"])
    return placed


def gaps(elements: list[ElementView]) -> list[dict[str, str]]:
    return [
        {"id": e.id, "title": e.title, "reason": e.gap_reason, "owners": ", ".join(e.owners), "contact": e.owner_contact}
        for e in elements
        if not e.covered
    ]


def index_html(org: Organisation, elements: list[ElementView], version: int, built: datetime) -> str:
    from reaccreditation.render import long_date, render

    standard = org.standard
    by_criterion: dict[str, list[dict[str, Any]]] = {}
    for e in elements:
        by_criterion.setdefault(e.criterion_id, []).append(
            {
                "id": e.id,
                "title": e.title,
                "owners": ", ".join(e.owners),
                "covered": e.covered,
                "reason": e.gap_reason,
                "items": e.items,
                "last_rating": e.last_rating,
                "last_action": e.last_action,
            }
        )
    found = gaps(elements)
    page = {
        "organisation": org.organisation.name,
        "year": org.assessment.year,
        "version": version,
        "framework": standard.name,
        "assessment": f"{org.assessment.type} assessment from {long_date(org.assessment.first_day)}",
        "built": f"{long_date(built.date())} {built:%H:%M}",
        "covered": sum(e.covered for e in elements),
        "total": len(elements),
        "gaps": found,
        "criteria": [{"id": c.id, "title": c.title, "elements": by_criterion.get(c.id, [])} for c in standard.criteria],
    }
    return render("portfolio_index.html", p=page)


def workbook(org: Organisation, elements: list[ElementView]) -> bytes:
    """One sheet per criterion, Ref / Element / Evidence / Owner / Notes, hyperlinks to the documents."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from reaccreditation.workbook.sheets import set_text, write_header

    wb = Workbook()
    wb.remove(wb.active)
    for c in org.standard.criteria:
        ws = wb.create_sheet(f"Criterion {c.id}"[:31])
        write_header(ws, HEADERS, (10, 40, 60, 30, 50))
        r = 2
        for e in (e for e in elements if e.criterion_id == c.id):
            items = e.items or [None]
            for item in items:
                set_text(ws.cell(row=r, column=1), e.id)
                set_text(ws.cell(row=r, column=2), e.title)
                owner = ", ".join(e.owners)
                if item is None:
                    set_text(ws.cell(row=r, column=3), "No accepted evidence item")
                    set_text(ws.cell(row=r, column=5), f"Gap: {e.gap_reason} ({e.owner_contact})")
                else:
                    evidence_cell = ws.cell(row=r, column=3)
                    set_text(evidence_cell, item.title)
                    if item.documents:
                        evidence_cell.hyperlink = item.documents[0]["href"]
                        evidence_cell.font = Font(color="0B3D91", underline="single")
                    elif any(link["status"] == "working" for link in item.links):
                        evidence_cell.hyperlink = next(link["url"] for link in item.links if link["status"] == "working")
                        evidence_cell.font = Font(color="0B3D91", underline="single")
                    owner = f"{item.department}: {item.owner}" if item.owner else item.department
                    notes = [f"document: {d['filename']}" for d in item.documents]
                    notes += [f"link {link['status'].replace('_', ' ')}: {link['url']}" for link in item.links]
                    notes += [f"not received: {m}" for m in item.missing]
                    if item.self_rating:
                        notes.append(f"self-rated {item.self_rating}")
                    if item.cplus_claim:
                        notes.append(f"Compliance Plus claimed: {item.cplus_justification or 'no justification'}")
                    set_text(ws.cell(row=r, column=5), "; ".join(notes))
                set_text(ws.cell(row=r, column=4), owner)
                r += 1
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build(org: Organisation, elements: list[ElementView], folder: Path, version: int, built: datetime) -> Built:
    """Write the bundle folder and its zip; ``folder`` is replaced whole."""
    name = f"portfolio-{org.assessment.year}-v{version}"
    root = folder / name
    if root.exists():
        shutil.rmtree(root)
    placed = arrange(elements)
    files: dict[str, bytes] = {rel: src.read_bytes() for rel, src in placed.items()}
    recorded = {d["href"]: d["sha256"] for e in elements for i in e.items for d in i.documents}
    for rel, data in files.items():
        if recorded.get(quote(rel)) != sha256_bytes(data):  # a stored document changed on disk: never ship it
            raise ValueError(f"{rel}: the stored copy no longer matches the SHA-256 recorded when it was received")
    files["index.html"] = index_html(org, elements, version, built).encode()
    files["portfolio.xlsx"] = workbook(org, elements)
    digests = {rel: sha256_bytes(data) for rel, data in files.items()}
    manifest = "".join(f"{digests[rel]}  {rel}\n" for rel in sorted(files)).encode()
    files["MANIFEST"] = manifest
    for rel, data in files.items():
        write_atomic(root / rel, data)
    zip_path = folder / f"{name}.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in sorted(files):
            info = zipfile.ZipInfo(f"{name}/{rel}", date_time=built.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[rel])
    write_atomic(zip_path, buf.getvalue())
    return Built(root, zip_path, sha256_bytes(manifest), digests, gaps(elements))
