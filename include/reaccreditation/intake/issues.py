"""The one row-level result format shared by the GX checks and the Python rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem with one cell (or one row when ``key`` is None) of one returned file."""

    file_key: int  # index of the file in the sweep
    row: int  # sheet row number
    key: str | None  # layout column key
    message: str  # what is wrong and what is expected, without the location
    rule: str  # the GX expectation type or the Python rule name

    def located(self, sheet: str, header: str | None) -> str:
        """E.g. "Sheet Evidence, row 14, column 'Date of evidence': 2019-03-01 is older than ..."."""
        where = f"Sheet {sheet}, row {self.row}"
        if header:
            where += f", column '{header}'"
        return f"{where}: {self.message}"
