"""Data Docs that read with no internet: the CDN stylesheets and scripts GX names, served from the site.

GX 1.24's page templates load Bootstrap, jQuery and bootstrap-table from public CDNs, and the index's
tables are drawn by those scripts, so offline (the council's network, a laptop on a train) every page is
blank. Whenever intake hands out the site, :func:`make_offline` copies the same versions, vendored from the npm registry
into ``vendor/data-docs`` by ``scripts/install-node-tools``, into the site's ``static/vendor`` folder and
points every page at them. A CDN reference with no local copy (Vega, used only by charts our suite does
not draw) is dropped rather than left to hang. ``integrity``/``crossorigin`` go too: a ``file://`` page
cannot make a CORS request, so a script marked ``crossorigin`` would never load.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from reaccreditation.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

NODE_MODULES = PROJECT_ROOT / "vendor" / "data-docs" / "node_modules"
VENDOR = Path("static") / "vendor"

# CDN address (as GX 1.24's templates write it) -> file under node_modules (versions pinned in package.json).
ASSETS = {
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
}
# Font Awesome's stylesheet loads its fonts from ../webfonts/, so that folder travels with it.
FOLDERS = ("@fortawesome/fontawesome-free/webfonts",)

TAG = re.compile(r"<(script|link)\b[^>]*?\b(?:src|href)=\"(https?://[^\"]+)\"[^>]*>(?:\s*</script>)?", re.IGNORECASE)
CORS = re.compile(r"\s+(?:integrity|crossorigin)=\"[^\"]*\"")


def make_offline(site: Path, node_modules: Path = NODE_MODULES) -> int:
    """Point every page under ``site`` at local copies of its CDN assets; the number of pages changed.

    Without the vendored copies (``scripts/install-node-tools`` not run) the pages are left as GX wrote
    them, which still read online, and the log says what to run.
    """
    missing = [p for p in (*ASSETS.values(), *FOLDERS) if not (node_modules / p).exists()]
    if missing:
        log.warning("Data Docs still load from CDNs (blank offline): run scripts/install-node-tools (missing %s)", missing[0])
        return 0
    target = site / VENDOR
    files = [(rel, rel) for rel in sorted(set(ASSETS.values()))]
    files += [
        (str(f.relative_to(node_modules)),) * 2 for rel in FOLDERS for f in sorted((node_modules / rel).rglob("*")) if f.is_file()
    ]
    for src, dst in files:  # copied once per site (and again if the pinned version changes its size)
        source, copy = node_modules / src, target / dst
        if not copy.exists() or copy.stat().st_size != source.stat().st_size:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
    changed = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = localised(text, os.path.relpath(target, page.parent))
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def localised(page: str, vendor: str) -> str:
    """``page`` with each CDN ``<script>``/``<link>`` pointed at ``vendor`` (relative), or dropped if unknown."""

    def swap(m: re.Match[str]) -> str:
        rel = ASSETS.get(m.group(2))
        if rel is None:
            return ""
        return CORS.sub("", m.group(0).replace(m.group(2), f"{Path(vendor, rel).as_posix()}"))

    return TAG.sub(swap, page)
