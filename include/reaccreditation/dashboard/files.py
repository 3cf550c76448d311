"""The generated files an approver opens from the sign-off page: what will be sent, exactly as it will go.

Served by the Reaccreditation plugin behind Airflow's login at ``/reaccreditation/files/<path under output/>``
(``approvals.pages.file_link`` writes the links). Only files under the output folder, of the kinds the
stages write, are served; anything else (another folder, a symlink out, a config or database file) is None.
That includes the portfolio (``<year>/portfolio/``: ``index.html``, ``portfolio.xlsx``, ``MANIFEST`` and the
departments' documents under ``documents/``), so its index's links open in the approval preview. A document
is what a department sent: anything a browser or viewer could run (PDF, Office, zip) is a download, never
shown inline, and only text and images display.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

URL_PREFIX = "/reaccreditation/files/"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ics": "text/calendar; charset=utf-8",
    # The portfolio and its documents (the kinds documents.safety accepts).
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".zip": "application/zip",
}
NAMED = {"MANIFEST": "text/plain; charset=utf-8"}  # the portfolio's sha256sum list, no suffix
INLINE = {".html", ".txt", ".png", ".jpg", ".jpeg", ""}  # shown in the browser; every other kind downloads
# A preview shows our own HTML and its charts, nothing else: no script, no request to anywhere.
PREVIEW_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def output_file(output: Path, relative: str) -> Path | None:
    """The file at ``relative`` under ``output`` when it may be served, else None."""
    root = output.resolve()
    try:
        target = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not target.is_relative_to(root) or media_type(target) is None or not target.is_file():
        return None
    return target


def media_type(path: Path) -> str | None:
    """The Content-Type ``path`` is served with, or None for a kind that is never served."""
    return NAMED.get(path.name) if not path.suffix else MEDIA_TYPES.get(path.suffix.lower())


def headers(path: Path) -> dict[str, str]:
    """Response headers: no sniffing, a download for anything but text and images, a locked-down policy for HTML."""
    out = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if path.suffix.lower() not in INLINE:
        out["Content-Disposition"] = attachment(path.name)
    if path.suffix.lower() == ".html":
        out["Content-Security-Policy"] = PREVIEW_POLICY
    return out


def attachment(name: str, kind: str = "attachment") -> str:
    """``Content-Disposition: attachment`` (or ``inline``) for ``name``: a plain ASCII fallback, the real name (RFC 6266) too.

    A header is Latin-1 and a quote ends the name, so a department's "Café report".pdf cannot go in raw."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    if plain == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


# A department's document opened from the review queue: nothing in it may run or reach anywhere; a PDF opens
# in the browser's own viewer (it passed the safety checks: no script, no embedded files), the rest downloads.
DOCUMENT_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


def document_headers(filename: str) -> tuple[str, dict[str, str]]:
    """Content-Type and headers for a kept document the queue opens (``review.documents``)."""
    kind = media_type(Path(filename)) if Path(filename).suffix else None
    inline = Path(filename).suffix.lower() == ".pdf"
    out = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": DOCUMENT_POLICY,
        "Content-Disposition": attachment(filename, "inline" if inline else "attachment"),
    }
    return kind or "application/octet-stream", out
