"""Write the issues back into the department's own workbook: highlighted cells with comments.

openpyxl (not calamine) because it writes. Every comment says where, what is wrong and what is
expected; a "Problems to fix" sheet lists them all (printed on A4 landscape, fitted to the page width).
Any formula found in the workbook is written back as its text (never a live formula); a .csv or .ods
return is answered with an .xlsx made from it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from reaccreditation.intake.cells import visible
from reaccreditation.intake.issues import Issue
from reaccreditation.intake.reading import ReturnedFile, csv_grid
from reaccreditation.workbook.sheets import print_landscape, set_text, table_sheet

REJECTED_FILL = PatternFill("solid", fgColor="F8CBAD")
PROBLEMS_SHEET = "Problems to fix"
AUTHOR = "Quality team"


def annotate(data: bytes, returned: ReturnedFile, issues: Sequence[Issue], encoding: str | None = None) -> bytes:
    wb = _open(data, returned, encoding)
    ws = wb[returned.sheet]
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    set_text(cell, str(cell.value))
    first_column = min(col for col, _ in returned.headers.values())
    by_cell: dict[tuple[int, int], list[str]] = defaultdict(list)
    for issue in sorted(issues, key=lambda i: (i.row, i.key or "")):
        column = returned.headers[issue.key][0] if issue.key in returned.headers else first_column
        header = returned.header_text(issue.key) if issue.key in returned.headers else None
        by_cell[(issue.row, column)].append(visible(issue.located(ws.title, header)))  # typed control characters shown
    for (row, column), messages in by_cell.items():
        cell = ws.cell(row=row, column=column)
        if isinstance(cell, MergedCell):
            rng = next(r for r in ws.merged_cells.ranges if cell.coordinate in r)
            cell = ws.cell(row=rng.min_row, column=rng.min_col)
        text = "\n".join(messages)
        comment = Comment(text, AUTHOR)
        comment.width, comment.height = 320, 40 + 60 * len(messages)
        cell.comment = comment
        cell.fill = REJECTED_FILL
    if PROBLEMS_SHEET in wb.sheetnames:
        del wb[PROBLEMS_SHEET]
    problems = wb.create_sheet(PROBLEMS_SHEET, 0)
    table_sheet(
        problems,
        ["Row", "Column", "Problem"],
        [
            [row, ws.cell(row=returned.header_row, column=col).value or "", "\n".join(m)]
            for (row, col), m in sorted(by_cell.items())
        ],
        widths=[8, 28, 110],
    )
    set_text(
        problems.cell(row=len(by_cell) + 3, column=1),
        "Fix the highlighted cells on the evidence sheet (hover for the comment), then send the whole workbook again.",
    ).font = Font(italic=True)
    print_landscape(problems)
    problems.print_title_rows = "1:1"
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _open(data: bytes, returned: ReturnedFile, encoding: str | None) -> Workbook:
    if returned.kind == "xlsx":
        return load_workbook(io.BytesIO(data), rich_text=False)
    if returned.kind == "ods":
        return _from_ods(data)
    wb = Workbook()
    ws = wb.active
    ws.title = returned.sheet  # "CSV": the same name the messages use
    text = data.decode(encoding or "utf-8-sig")
    for r, values in enumerate(csv_grid(text).rows, 1):  # the records as they were read (separator, sep= line)
        for c, value in enumerate(values, 1):
            set_text(ws.cell(row=r, column=c), _writable(value))
    return wb


def _writable(text: str) -> str:
    """The text without the control characters an .xlsx cannot hold (intake removes them from what it keeps too)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _from_ods(data: bytes) -> Workbook:
    """An .xlsx copy of a LibreOffice (.ods) return, sheet by sheet as values (openpyxl cannot write .ods).

    The ``_meta`` sheet comes along (very hidden) so that the corrected copy is still known as the
    department's; LibreOffice opens and saves the .xlsx as it is.
    """
    from python_calamine import CalamineWorkbook

    from reaccreditation.workbook import layout

    source = CalamineWorkbook.from_filelike(io.BytesIO(data))
    wb = Workbook()
    wb.remove(wb.active)
    for name in source.sheet_names:
        ws = wb.create_sheet(name[:31])
        for r, values in enumerate(source.get_sheet_by_name(name).to_python(skip_empty_area=False), 1):
            for c, value in enumerate(values, 1):
                if value not in ("", None):
                    cell = ws.cell(row=r, column=c)
                    if isinstance(value, str):
                        set_text(cell, _writable(value))
                    else:
                        cell.value = value
        if name == layout.META_SHEET:
            ws.sheet_state = "veryHidden"
    return wb
