"""Which documents an evidence row names in its "Link or file name" cell, forgiving case and spacing.

A cell may hold a link (``https://...``), a file name (``Customer insight 2026.pdf``), several of either
separated by ``;``, ``,`` or new lines, or words. Only parts that end in a document extension count as file
names; a name matches a document when both fold to the same text (case, spaces, ``_`` and ``-`` ignored,
folders dropped).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from reaccreditation.documents.safety import MACRO_SUFFIXES, MAGIC, OLD_OFFICE

DOCUMENT_SUFFIXES = tuple(sorted({*MAGIC, *MACRO_SUFFIXES, *OLD_OFFICE}))
SEPARATORS = re.compile(r"[;\n\r]+|,\s+")
URL = re.compile(r"^(https?|ftp)://", re.IGNORECASE)


def fold(name: str) -> str:
    """``Customer_Insight 2026.PDF`` and ``customer-insight-2026.pdf`` fold alike."""
    base = PurePosixPath(name.replace("\\", "/").strip()).name
    return re.sub(r"[\s_\-]+", "", base.casefold())


def named_files(cell: object) -> list[str]:
    """The file names a cell names (as written), links and plain words left out."""
    if not isinstance(cell, str):
        return []
    found = []
    for part in SEPARATORS.split(cell):
        part = part.strip().strip("\"'")
        if not part or URL.match(part):
            continue
        if part.lower().endswith(DOCUMENT_SUFFIXES):
            found.append(part)
    return found


_LINK_SEPARATORS = re.compile(r"[\s;,]+")  # whitespace is a separator: no part has any to strip
_WEB = re.compile(r"https?://", re.IGNORECASE)


def links(cell: object) -> list[str]:
    """The web links a cell names."""
    if not isinstance(cell, str):
        return []
    return [p for p in _LINK_SEPARATORS.split(cell) if _WEB.match(p)]
