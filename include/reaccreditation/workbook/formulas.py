"""The one rule for text a spreadsheet would run as a formula: it starts with ``=``, ``+``, ``-`` or ``@``.

Anything a person typed (a department's workbook, the config) must reach the sheets and CSV files we
send on as text, so ``=HYPERLINK(...)`` or ``=cmd|...`` never runs. No openpyxl here: CSV writers use it too.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@")


def spreadsheet_text(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values are unchanged.

    For what cannot carry a cell type (a CSV file, values appended row by row); cells written one by
    one use ``workbook.sheets.set_text``, which marks them as text instead.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
