"""All rows of one sweep as one pandas DataFrame, normalised for validation and for the register.

GX validates one frame per sweep (not one per file: a checkpoint run costs ~0.3 s), with ``file_key``
and ``row_number`` as the index columns that map every failure back to its file and sheet row.
Choices are matched case-insensitively to their canonical spelling; dates are parsed (UK order) into
``evidence_date`` while ``evidence_date_text`` keeps what was typed, for the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reaccreditation.intake.reading import ReturnedFile, parse_date, text_value
from reaccreditation.workbook import layout

TEXT_KEYS = (
    "element_id",
    "confirm",
    "prefill_note",
    "evidence_title",
    "evidence_type",
    "link",
    "owner",
    "self_rating",
    "statement",
    "cplus_claim",
    "cplus_justification",
    "notes",
)
FRAME_COLUMNS = ("file_key", "row_number", *TEXT_KEYS, "evidence_date", "evidence_date_text")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _rating_spellings() -> dict[str, str]:
    """Any standard's rating label (lower case, spaces collapsed) -> its spelling; GX then checks it is this
    standard's own (a CSE label in a Charter Mark workbook is named as not one of Charter Mark's)."""
    from reaccreditation.standards import available, load_standard

    return {r.label.lower(): r.label for standard_id in available() for r in load_standard(standard_id).ratings}


_RATINGS: dict[str, str] = {}


def _canonical(key: str, text: str) -> str:
    if key == "cplus_claim":
        low = text.lower()
        return "Yes" if low in _YES else "No" if low in _NO else text
    if key == "self_rating":
        if not _RATINGS:
            _RATINGS.update(_rating_spellings())
        return _RATINGS.get(" ".join(text.split()).lower(), text)
    choices = _CHOICES.get(key)
    if choices is None:
        column = layout.COLUMN_BY_KEY.get(key)
        choices = _CHOICES[key] = {}
        for choice in column.choices if column else ():
            choices.setdefault(choice.lower(), choice)  # the first spelling wins, as the list reads
    return choices.get(text.lower(), text) if choices else text


_CHOICES: dict[str, dict[str, str]] = {}  # key -> its choices by lower case


def _free_text(key: str) -> bool:
    """A column whose text is kept as typed (no choices to match it to)."""
    column = layout.COLUMN_BY_KEY.get(key)
    return key not in ("cplus_claim", "self_rating") and not (column and column.choices)


_FREE = frozenset(key for key in TEXT_KEYS if _free_text(key))


def records(files: Sequence[tuple[int, ReturnedFile]]) -> list[dict[str, Any]]:
    """One record per evidence row; a column with a fixed set of answers gets its answer's own spelling
    (looked up once per distinct text in the sweep: the same few answers recur on every row)."""
    out = []
    seen: dict[tuple[str, str], str] = {}
    keys = [(key, key in _FREE) for key in TEXT_KEYS]
    for file_key, returned in files:
        for row in returned.rows:
            rec: dict[str, Any] = {"file_key": file_key, "row_number": row.number}
            values = row.values
            for key, free in keys:
                value = values.get(key)
                # read cells are already text without outer spaces, or None (text_value for the rest)
                text = (value.strip() or None) if value.__class__ is str else text_value(value)
                if text is None or free:
                    rec[key] = text
                elif (found := seen.get((key, text))) is not None:
                    rec[key] = found
                else:
                    rec[key] = seen[key, text] = _canonical(key, text)
            raw_date = values.get("evidence_date")
            rec["evidence_date"] = parse_date(raw_date)
            rec["evidence_date_text"] = text_value(raw_date)
            out.append(rec)
    return out


def evidence_frame(files: Sequence[tuple[int, ReturnedFile]], rows: list[dict[str, Any]] | None = None):  # type: ignore[no-untyped-def]
    """The frame GX validates; ``rows``: ``records(files)`` when the caller already has them."""
    import pandas as pd

    df = pd.DataFrame.from_records(records(files) if rows is None else rows, columns=list(FRAME_COLUMNS))
    df["evidence_date"] = pd.to_datetime(df["evidence_date"], errors="coerce")
    for key in (*TEXT_KEYS, "evidence_date_text"):
        df[key] = df[key].astype(object).where(df[key].notna(), None)
    return df
