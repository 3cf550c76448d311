"""The generated files an approver opens from the sign-off page: what will be sent, exactly as it will go.

Served by the Reaccreditation plugin behind Airflow's login at ``/reaccreditation/files/<path under output/>``
(``approvals.pages.file_link`` writes the links). Only files under the output folder, of the kinds the
stages write, are served; anything else (another folder, a symlink out, a config or database file) is None.
"""

from __future__ import annotations

from pathlib import Path

URL_PREFIX = "/reaccreditation/files/"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ics": "text/calendar; charset=utf-8",
}
DOWNLOADS = {".xlsx", ".ics"}  # opened in Excel or a calendar, never shown in the browser
# A preview shows our own HTML and its charts, nothing else: no script, no request to anywhere.
PREVIEW_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def output_file(output: Path, relative: str) -> Path | None:
    """The file at ``relative`` under ``output`` when it may be served, else None."""
    root = output.resolve()
    try:
        target = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not target.is_relative_to(root) or target.suffix.lower() not in MEDIA_TYPES or not target.is_file():
        return None
    return target


def headers(path: Path) -> dict[str, str]:
    """Response headers: the type, no sniffing, a download for workbooks, a locked-down policy for HTML."""
    out = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if path.suffix.lower() in DOWNLOADS:
        out["Content-Disposition"] = f'attachment; filename="{path.name}"'
    if path.suffix.lower() == ".html":
        out["Content-Security-Policy"] = PREVIEW_POLICY
    return out
