"""The answer's list of kept changes: every cell of an accepted row whose registered value is not what was typed.

Reading records what it removed (:class:`~.cells.Change`); here we add what the frame normalised (a choice
matched in another case, ``y`` kept as ``Yes``) and dates typed as text that read two ways (03/04/2026),
and render them grouped per column, naming the sheet, the rows and what to do if the change is wrong.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from reaccreditation.intake.cells import Change
from reaccreditation.intake.reading import ReturnedFile, text_value
from reaccreditation.render import long_date

ROWS_LISTED = 12
_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\s*")


def ambiguous(typed: str, read: date | None) -> date | None:
    """The other date ``typed`` could mean (month first), when day and month could be swapped."""
    m = _NUMERIC_DATE.fullmatch(typed)
    if not m or read is None:
        return None
    day, month = int(m.group(1)), int(m.group(2))
    if day == month or day > 12 or month > 12:
        return None
    try:
        return read.replace(day=month, month=day)
    except ValueError:
        return None


def frame_changes(returned: ReturnedFile, recs: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Changes made after reading: choices in their list's spelling, and dates that could be read two ways."""
    by_row = {r.number: r.values for r in returned.rows}
    out = []
    for rec in recs:
        values = by_row.get(rec["row_number"], {})
        for key, raw in values.items():
            if key == "evidence_date":
                typed = raw if isinstance(raw, str) else None
                other = ambiguous(typed, rec["evidence_date"]) if typed else None
                if typed and other:
                    out.append(Change(rec["row_number"], key, "ambiguous_date", typed, rec["evidence_date"].isoformat()))
                continue
            kept = rec.get(key)
            if kept is None or (raw.__class__ is str and raw == kept):  # kept as typed: the usual cell
                continue
            typed_text = text_value(raw)
            if key in rec and typed_text is not None and kept is not None and kept != typed_text:
                out.append(Change(rec["row_number"], key, "choice", typed_text, kept))
    return out


def _rows(rows: list[int]) -> str:
    rows = sorted(set(rows))
    shown = ", ".join(str(r) for r in rows[:ROWS_LISTED])
    more = f" and {len(rows) - ROWS_LISTED} more" if len(rows) > ROWS_LISTED else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _what(kind: str, examples: list[Change]) -> str:
    e = examples[0]
    if kind == "spaces":
        return "spaces before or after the text were removed"
    if kind == "control":
        return f"invisible control characters were removed ({e.typed})"
    if kind == "control_copy":
        return (
            f"these rows were not accepted, and the workbook we send back for correcting leaves out the invisible control "
            f"characters in them ({e.typed}), which a workbook cannot hold"
        )
    if kind == "invisible":
        return f"invisible characters were removed ({e.typed}); check the text reads as you meant"
    if kind == "choice":
        return f"the value was matched to the list of choices ('{e.typed[:60]}' was kept as '{e.kept}')"
    if kind == "formula":
        return (
            f"the cell holds a formula ({e.typed[:80]}); its last saved result '{e.kept[:60]}' was used, not the formula: "
            "if that is not right, type the value itself"
        )
    if kind == "formula_empty":
        return f"the cell holds a formula ({e.typed[:80]}) with no saved result, so it was read as empty: type the value itself"
    return kind


def notes(returned: ReturnedFile, changes: Iterable[Change], accepted_rows: set[int]) -> list[str]:
    """One line per (kind, column) of the changes in accepted rows; one per cell for a date that reads two ways."""
    grouped: dict[tuple[str, str], list[Change]] = defaultdict(list)
    out = []
    for change in changes:
        if change.row not in accepted_rows:
            if change.kind == "control" and returned.kind in ("csv", "ods"):  # our .xlsx copy of it cannot hold them
                grouped[("control_copy", change.key)].append(change)
            continue
        where = f"Sheet {returned.sheet}, row {change.row}, column '{returned.header_text(change.key)}'"
        if change.kind == "ambiguous_date":
            kept = date.fromisoformat(change.kept)
            other = ambiguous(change.typed, kept)
            assert other is not None
            out.append(
                f"{where}: '{change.typed.strip()}' was read as {long_date(kept)} (day first, the UK order); if you meant "
                f"{long_date(other)}, type it as {other.isoformat()} and send the workbook again"
            )
            continue
        grouped[(change.kind, change.key)].append(change)
    for (kind, key), items in grouped.items():
        out.append(
            f"Sheet {returned.sheet}, column '{returned.header_text(key)}', {_rows([c.row for c in items])}: {_what(kind, items)}"
        )
    return out
