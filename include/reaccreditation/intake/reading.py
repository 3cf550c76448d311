"""Read a file that passed :mod:`.safety` into layout-keyed rows (python-calamine for .xlsx and .ods; csv for .csv).

Columns are found by header text or alias (:func:`workbook.layout.column_for_header`), so reordered or
slightly renamed columns still work; values in merged ranges are copied to every cell of the range.
Text is kept as typed: a cell reading ``=HYPERLINK(...)`` stays that text and is never evaluated. What reading
cannot keep (control and invisible characters, outer spaces, a formula's saved result instead of the formula)
is recorded as a :class:`~.cells.Change` for the answer; what it cannot read safely (error cells, a repeated or
merged heading hiding a second value, an unclosed CSV quotation mark, surplus CSV values, an invisible
character in a link) is a problem that rejects its row, named by sheet, row and column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from reaccreditation.intake.cells import (
    ERROR_VALUES,
    HEADER_JUNK,
    Change,
    clean,
    column_letters,
    hidden_in_link,
    visible,
)
from reaccreditation.intake.issues import Issue
from reaccreditation.intake.safety import MAX_FILE_BYTES, SAVE_XLSX, SafetyReport, SheetInfo
from reaccreditation.workbook import layout

HEADER_SEARCH_ROWS = 10
INPUT_KEYS = tuple(c.key for c in layout.INPUT_COLUMNS)
REQUIRED_KEYS = tuple(c.key for c in layout.COLUMNS if c.required)


class Unreadable(ValueError):
    """The file is safe but not a usable evidence return; ``str(exc)`` is the message for the department."""


@dataclass
class Row:
    number: int  # the sheet's row number (1-based), or the CSV record number
    values: dict[str, Any]


@dataclass
class ReturnedFile:
    name: str
    kind: str
    sheet: str
    meta: dict[str, str]
    headers: dict[str, tuple[int, str]]  # layout key -> (1-based column, header text as written)
    header_row: int
    rows: list[Row]
    unknown_headers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[Issue] = field(default_factory=list)  # found while reading (file_key -1): each rejects its row
    changes: list[Change] = field(default_factory=list)  # cells kept differently from how they were typed
    error_cells: set[tuple[int, str]] = field(default_factory=set)  # (row, key): reported as errors, not as blanks

    def header_text(self, key: str) -> str:
        return self.headers[key][1] if key in self.headers else layout.COLUMN_BY_KEY[key].heading()


@dataclass
class CsvGrid:
    rows: list[list[str]]
    lines: list[tuple[int, int]]  # first and last line of the file each record came from
    delimiter: str
    notes: list[str]


_DELIMITER_NAMES = {",": "commas", ";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}


def csv_grid(text: str) -> CsvGrid:
    """A CSV's records, as Excel would open it: a ``sep=;`` first line sets the separator (and is no heading
    row), a file with semicolons and no commas is semicolon-separated; fields may be as long as the file."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))
    notes = []
    first, _, rest = text.partition("\n")
    hint = re.fullmatch(r"\s*sep=(.)\s*", first)
    skip = 0
    if hint:
        delimiter, text, skip = hint.group(1), rest, 1
        notes.append(
            f"the first line '{first.strip()}' is Excel's separator hint: values were read as separated by "
            f"{_DELIMITER_NAMES.get(delimiter, repr(delimiter))}, and that line was not taken as the headings"
        )
    else:
        header = next((line for line in text.splitlines() if line.strip()), "")
        outside = re.sub(r'"[^"]*"', "", header)
        counts = {d: outside.count(d) for d in (",", ";", "\t")}
        delimiter = "," if counts[","] else max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        if delimiter != ",":
            notes.append(
                f"the values in this file are separated by {_DELIMITER_NAMES[delimiter]}, not commas (some versions of Excel "
                "save CSV files like this); it was read that way"
            )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines, previous = [], [], 0
    for record in reader:
        rows.append(record)
        lines.append((previous + 1 + skip, reader.line_num + skip))
        previous = reader.line_num
    return CsvGrid(rows, lines, delimiter, notes)


def read_return(name: str, data: bytes, report: SafetyReport) -> ReturnedFile:
    if report.kind == "csv":
        parsed = csv_grid(data.decode(report.encoding or "utf-8-sig"))
        grid: list[list[Any]] = [list(r) for r in parsed.rows]
        returned = _from_grid(name, "csv", "CSV", grid, meta={}, notes=[*report.notes, *parsed.notes])
        _csv_shape(returned, parsed)
        return returned
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = _Sheets(CalamineWorkbook.from_filelike(io.BytesIO(data)))
        meta = _meta(wb)
        sheet_name, others = _evidence_sheet(wb, report)
        grid = wb.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as exc:
        if isinstance(exc, Unreadable):
            raise
        trouble = _reader_trouble(exc)
        raise Unreadable(f"the workbook could not be read: {trouble}; open it and save it again ({SAVE_XLSX})") from exc
    info = report.sheet(sheet_name)
    if info is not None:
        _fill_merged(grid, info.merged)
    notes = list(report.notes)
    if others:
        notes.append(
            f"the evidence was read from sheet '{sheet_name}'; sheet(s) {', '.join(repr(o) for o in others)} also have "
            "evidence headings and were not read: keep all the evidence on one sheet"
        )
    return _from_grid(name, report.kind, sheet_name, grid, meta=meta, notes=notes, info=info)


class _Sheets:
    """A calamine workbook whose sheets are each parsed once (``get_sheet_by_name`` parses the whole sheet
    every time it is called: the evidence sheet is looked at for its headings, then read)."""

    def __init__(self, wb: Any) -> None:
        self.wb, self.sheet_names, self._parsed = wb, wb.sheet_names, {}

    def get_sheet_by_name(self, name: str) -> Any:
        if name not in self._parsed:
            self._parsed[name] = self.wb.get_sheet_by_name(name)
        return self._parsed[name]


def _reader_trouble(exc: Exception) -> str:
    """What a reader's exception means for the person who saved the file (never its own text)."""
    text = str(exc).lower()
    if "detect file format" in text or "invalid zip" in text or "zip" in text:
        return "its contents are not a spreadsheet our reader recognises"
    if "shared string" in text:
        return "some of its text is missing (a cell refers to text the file does not contain)"
    if "xml" in text:
        return "a part of it is not well-formed"
    return "a part of it is damaged"


def _meta(wb: Any) -> dict[str, str]:
    if layout.META_SHEET not in wb.sheet_names:
        return {}
    out = {}
    for row in wb.get_sheet_by_name(layout.META_SHEET).to_python():
        if len(row) >= 2 and row[0]:
            out[str(row[0])] = text_value(row[1]) or ""
    return out


def _evidence_sheet(wb: Any, report: SafetyReport) -> tuple[str, list[str]]:
    """The sheet to read, and the other visible sheets that also carry evidence headings (named in the answer)."""
    visible_sheets = [s.name for s in report.sheets if s.state == "visible" and s.name in wb.sheet_names]
    hits = {}
    for name in visible_sheets:
        if name in (layout.COVER_SHEET, layout.META_SHEET):
            continue
        grid = wb.get_sheet_by_name(name).to_python(nrows=HEADER_SEARCH_ROWS)
        hits[name] = max((_header_hits(r) for r in grid), default=0)
    chosen = next((n for n in visible_sheets if n == layout.EVIDENCE_SHEET), None)
    chosen = chosen or next((n for n in visible_sheets if n.strip().lower() == layout.EVIDENCE_SHEET.lower()), None)
    if chosen is None:
        best = max(hits, key=lambda n: hits[n], default=None)
        if best is None or hits[best] < 3:
            raise Unreadable(
                f"no '{layout.EVIDENCE_SHEET}' sheet with the evidence columns was found (sheets: "
                f"{', '.join(visible_sheets) or 'none'})"
            )
        chosen = best
    return chosen, [n for n, h in hits.items() if n != chosen and h >= 3]


def _header_hits(row: list[Any]) -> int:
    return len({c.key for v in row if (c := _column(v)[0]) is not None})


# _column's answers by cell value (and its type: 1, 1.0 and True are equal keys but different text), so the
# rows searched for the heading row are normalised once, not once per search; emptied when it grows large,
# and long text (never a heading) is not kept.
_COLUMNS: dict[tuple[type, Any], tuple[layout.Column | None, str | None]] = {}
_COLUMNS_KEPT = 4096
_COLUMN_TEXT_KEPT = 200


def _column(value: Any) -> tuple[layout.Column | None, str | None]:
    """The layout column a header cell names, ignoring invisible characters; and its text, if any."""
    if value.__class__ is str and len(value) > _COLUMN_TEXT_KEPT:
        return _column_of(value)
    key = (value.__class__, value)
    try:
        return _COLUMNS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (no reader gives one): worked out each time
        return _column_of(value)
    if len(_COLUMNS) >= _COLUMNS_KEPT:
        _COLUMNS.clear()
    found = _COLUMNS[key] = _column_of(value)
    return found


def _column_of(value: Any) -> tuple[layout.Column | None, str | None]:
    text = text_value(value)
    if text is None:
        return None, None
    return layout.column_for_header(HEADER_JUNK.sub("", text.replace("\u00a0", " "))), text


def _fill_merged(grid: list[list[Any]], merged: list[tuple[int, int, int, int]]) -> None:
    """Copy a merged range's top-left value into every cell of it (readers return it only once)."""
    for min_row, min_col, max_row, max_col in merged:
        top, left = min_row - 1, min_col - 1
        if top >= len(grid) or left >= len(grid[top]):
            continue
        value = grid[top][left]
        for r in range(top, min(max_row, len(grid))):
            row = grid[r]
            for c in range(left, min(max_col, len(row))):
                if row[c] in ("", None):
                    row[c] = value


def _merged_span(info: SheetInfo | None, row: int, col: int) -> tuple[int, int] | None:
    for min_row, min_col, max_row, max_col in info.merged if info else ():
        if min_row <= row <= max_row and min_col <= col <= max_col and max_col > min_col:
            return min_col, max_col
    return None


def _from_grid(
    name: str,
    kind: str,
    sheet: str,
    grid: list[list[Any]],
    meta: dict[str, str],
    notes: list[str],
    info: SheetInfo | None = None,
) -> ReturnedFile:
    if not any(any(v not in ("", None) for v in row) for row in grid):
        raise Unreadable(f"sheet '{sheet}' is empty: no header row and no evidence rows were found")
    header_index = max(range(min(HEADER_SEARCH_ROWS, len(grid))), key=lambda i: _header_hits(grid[i]))
    header_row = header_index + 1
    headers: dict[str, tuple[int, str]] = {}
    repeated: dict[str, list[int]] = {}
    unknown: list[str] = []
    for i, value in enumerate(grid[header_index]):
        column, text = _column(value)
        if not text:
            continue
        if column is None:
            if layout.normalise_header(text) not in layout.IGNORED_HEADINGS:  # the review round's comment column
                unknown.append(visible(text))
            continue
        kept = " ".join(HEADER_JUNK.sub("", text).split())
        if kept != " ".join(text.split()):
            notes.append(
                f"Sheet {sheet}, row {header_row}, column {column_letters(i + 1)}: the heading '{visible(text)}' has "
                f"invisible characters in it; they were ignored and the column was read as '{column.heading()}'"
            )
        if column.key in headers:
            repeated.setdefault(column.key, []).append(i + 1)
        else:
            headers[column.key] = (i + 1, kept)
    missing = [layout.COLUMN_BY_KEY[k].heading() for k in REQUIRED_KEYS if k not in headers]
    if missing:
        raise Unreadable(
            f"sheet '{sheet}' is missing the required column(s): {', '.join(repr(m) for m in missing)} "
            f"(header row {header_row} has: "
            f"{', '.join(repr(visible(t)) for v in grid[header_index] if (t := text_value(v))) or 'nothing'})"
        )
    returned = ReturnedFile(name, kind, sheet, meta, headers, header_row, [], unknown, notes)
    for key, columns in repeated.items():
        first, heading = headers[key]
        span = _merged_span(info, header_row, first)
        where = (
            f"the heading '{heading}' is merged across columns {column_letters(span[0])} to {column_letters(span[1])}"
            if span and all(span[0] <= c <= span[1] for c in columns)
            else f"the heading '{heading}' appears in columns {', '.join(column_letters(c) for c in [first, *columns])}"
        )
        notes.append(f"Sheet {sheet}, row {header_row}: {where}; only column {column_letters(first)} is read")
    errors = info.errors if info else {}
    formulas = info.formulas if info else {}
    plain = not errors and not formulas  # most sheets: a cell is then only its value (see below)
    positions = [(key, col - 1, key in _INPUT_KEY_SET) for key, (col, _) in headers.items()]
    changes = returned.changes
    for i in range(header_index + 1, len(grid)):
        raw, number = grid[i], i + 1
        width = len(raw)
        values = {}
        filled = False  # an input column holds something (the input columns not in the sheet are empty)
        for key, index, is_input in positions:
            value = raw[index] if index < width else None
            # On a sheet without error or formula cells, a value that is not text, or printable ASCII text that is
            # not an error value, is kept as it is but for outer spaces (the common cell, without _cell's searches).
            if not plain:
                value = _cell(returned, number, key, index + 1, raw, errors, formulas)
            elif value.__class__ is str:
                if value.isascii() and value.isprintable() and (kept := value.strip()) not in ERROR_VALUES:
                    if kept != value and kept:
                        changes.append(Change(number, key, "spaces", "", kept))
                    value = kept or None
                else:
                    value = _cell(returned, number, key, index + 1, raw, errors, formulas)
            values[key] = value
            if is_input and not filled and value not in _BLANK:
                filled = True
        if not filled and not any((number, k) in returned.error_cells for k in headers):
            continue  # an element row nobody filled in, or a spare row
        for key, columns in repeated.items():
            first = headers[key][0]
            for col in columns:
                extra = text_value(raw[col - 1]) if col - 1 < len(raw) else None
                if extra and extra != text_value(values.get(key)):
                    returned.problems.append(
                        Issue(
                            -1,
                            number,
                            key,
                            f"column {column_letters(col)} also holds '{extra[:80]}' under the same heading, and only column "
                            f"{column_letters(first)} is read: put the whole value in column {column_letters(first)} (unmerge "
                            f"the heading if it is merged) and leave column {column_letters(col)} empty",
                            "repeated_heading",
                        )
                    )
        returned.rows.append(Row(number, values))
    if not returned.rows:
        raise Unreadable(f"sheet '{sheet}' has no evidence rows filled in: add at least one evidence item")
    return returned


_BLANK = (None, "")
_INPUT_KEY_SET = frozenset(INPUT_KEYS)


def _cell(
    returned: ReturnedFile,
    number: int,
    key: str,
    col: int,
    raw: list[Any],
    errors: dict[tuple[int, int], str],
    formulas: dict[tuple[int, int], tuple[str, bool]],
) -> Any:
    """One cell as kept; every difference from what was typed goes into ``returned.changes`` or its problems."""
    value = raw[col - 1] if 0 <= col - 1 < len(raw) else None
    error = errors.get((number, col)) or (value.strip() if isinstance(value, str) and value.strip() in ERROR_VALUES else None)
    if error:
        what = ERROR_VALUES.get(error, "an error")
        returned.error_cells.add((number, key))
        returned.problems.append(
            Issue(
                -1,
                number,
                key,
                f"the cell shows the spreadsheet error {error} ({what}), not a value: type the value itself"
                f"{'' if layout.COLUMN_BY_KEY[key].required else ', or leave the cell empty'}",
                "error_cell",
            )
        )
        return None
    formula = formulas.get((number, col))
    if formula is not None:
        text, has_result = formula
        kept = text_value(value) or ""
        returned.changes.append(Change(number, key, "formula" if has_result and kept else "formula_empty", text, kept))
    if not isinstance(value, str):
        return value
    kept, removed = clean(value)
    for kind, detail in removed:
        returned.changes.append(Change(number, key, kind, detail, kept))
    if key == "link" and (hidden := hidden_in_link(value.strip())):
        returned.problems.append(
            Issue(
                -1,
                number,
                key,
                f"the link has an invisible character in it ({hidden}), so it may not go where it seems to: type the link "
                "again (or paste it as plain text)",
                "link_invisible_character",
            )
        )
    return kept or None


def _csv_shape(returned: ReturnedFile, parsed: CsvGrid) -> None:
    """Records that do not line up with the heading row: an unclosed quotation mark, values too many or too few."""
    header = parsed.rows[returned.header_row - 1]
    width = max((i + 1 for i, v in enumerate(header) if v.strip()), default=len(header))
    sep = _DELIMITER_NAMES.get(parsed.delimiter, parsed.delimiter)
    for index in range(returned.header_row, len(parsed.rows)):
        record, number = parsed.rows[index], index + 1
        if not any(v.strip() for v in record):
            continue
        first, last = parsed.lines[index]
        # a value running over lines that hold most of a row's separators swallowed the rows after it; a quoted
        # value with a line break and a comma or two in it is only a value on several lines
        most = max(2, (width - 1) // 2)
        spill = any("\n" in v and any(line.count(parsed.delimiter) >= most for line in v.splitlines()[1:]) for v in record)
        if last > first and (len(record) != len(header) or spill):
            returned.problems.append(
                Issue(
                    -1,
                    number,
                    None,
                    f'a quotation mark (") in this row is not closed, so lines {first} to {last} of the file were read as '
                    "this one row: remove the stray quotation mark (or add the closing one), save and send the file again",
                    "unbalanced_quote",
                )
            )
        elif len(record) > width and any(v.strip() for v in record[width:]):
            extra = ", ".join(repr(v.strip()[:40]) for v in record[width:] if v.strip())
            returned.problems.append(
                Issue(
                    -1,
                    number,
                    None,
                    f"this row has {len(record)} values but the heading row has {width}, so {extra} would be lost: a value "
                    f"that contains one of the {sep} must be in quotation marks (Excel adds them when it saves a CSV file)",
                    "csv_extra_values",
                )
            )
        elif len(record) < width:
            missing = [k for k, (col, _) in returned.headers.items() if col > len(record)]
            columns = ", ".join(f"'{returned.header_text(k)}'" for k in sorted(missing, key=lambda k: returned.headers[k][0]))
            what = (
                f"this row has only {len(record)} of the {width} values of the heading row, so {columns or 'the last columns'} "
                f"{'was' if len(missing) == 1 else 'were'} read as empty"
            )
            if any(k in REQUIRED_KEYS for k in missing):  # told on the row, not as "required but empty"
                returned.error_cells.update((number, k) for k in missing)
                returned.problems.append(
                    Issue(
                        -1,
                        number,
                        None,
                        f"{what}: a value or a separator is missing, so the values after it may be in the wrong columns; "
                        "give the row a value (or an empty place) for every column, then send the file again",
                        "csv_short_row",
                    )
                )
            else:
                returned.notes.append(
                    f"Sheet CSV, row {number}: {what} (the row was accepted): if a value is missing or in the wrong column, "
                    "correct the row and send the file again"
                )


def text_value(value: Any) -> str | None:
    """A cell as text: integral floats without '.0', dates as ISO, blanks as None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %Y", "%Y-%m-%d %H:%M:%S")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(value: Any) -> date | None:
    """A date from a date cell, an Excel serial number or UK-style text; None when it is not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        return None
    if isinstance(value, str):
        text = re.sub(r"\s+", " ", value.strip())
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    return None
