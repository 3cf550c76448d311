"""The review round's workbook: only the rows to improve, pre-filled with what the department sent.

It is the request workbook (:class:`reaccreditation.requests.workbook.RequestWorkbook`: same Evidence
sheet, validation, locked reference columns and signed ``_meta``), so intake accepts it back as an ordinary
return. Each row carries the reviewer's comment twice: in a locked "Reviewer's comment" column at the end
(intake ignores that heading, ``layout.REVIEW_COMMENT``) and as a cell comment on the evidence title.

Intake replaces a department's items element by element, so where an element to improve also has items
that do not need work, those come too, as yellow pre-filled rows marked "Still current": sending the
workbook back keeps them instead of dropping them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from reaccreditation.requests.workbook import FONT, HEADER_FONT, RequestWorkbook, request_file_name, write_facts
from reaccreditation.review.item import Item
from reaccreditation.workbook import layout
from reaccreditation.workbook.sheets import HEADER_FILL, WRAP_TOP, print_landscape, set_text

IMPROVE_FILL = PatternFill("solid", fgColor="F6D7D2")
KEEP_NOTE = "Not sent back: kept as it is (sending this workbook back replaces the element's items)"
COMMENT_WIDTH = 45


@dataclass
class ImproveWorkbook(RequestWorkbook):
    improve: Sequence[Item] = ()
    keep: Sequence[Item] = ()
    reviewer_comments: list[str | None] = field(default_factory=list, init=False)

    @property
    def file_name(self) -> str:
        return request_file_name(self.organisation.assessment.year, self.department.name).replace(
            "Evidence request", "Evidence to improve"
        )

    def rows(self) -> list[dict[str, Any]]:
        standard = self.organisation.standard
        rows, comments = [], []
        keep_by_element: dict[str, list[Item]] = {}
        for item in self.keep:
            keep_by_element.setdefault(item.element_id, []).append(item)
        for item in self.improve:
            for one in [item, *keep_by_element.pop(item.element_id, [])]:
                element = standard.element(one.element_id)
                row = one.row
                values = {
                    "element_id": element.id,
                    "element_title": element.title,
                    "assessor_looks_for": element.asks,
                    "typical_evidence": "; ".join(element.evidence),
                    "last_assessment": self._last_assessment(element.id),
                    "evidence_title": row["title"],
                    "evidence_type": row["evidence_type"],
                    "link": row["link"],
                    "evidence_date": row["evidence_date"],
                    "owner": row["owner"],
                    "self_rating": row["self_rating"],
                    "statement": row["statement"],
                    "cplus_claim": "Yes" if row["cplus_claim"] else "No",
                    "cplus_justification": row["cplus_justification"],
                    "notes": row["notes"],
                }
                if one is not item:
                    values |= {"prefill_note": KEEP_NOTE, "confirm": layout.CONFIRM_CHOICES[0]}
                rows.append(values)
                comments.append(f"{item.reviewer or 'The quality team'}: {item.comment}" if one is item else None)
        self.reviewer_comments = comments
        return rows

    def _write_evidence(self, ws, rows: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
        super()._write_evidence(ws, rows)
        col = len(layout.COLUMNS) + 1
        title_col = [c.key for c in layout.COLUMNS].index("evidence_title") + 1
        head = set_text(ws.cell(row=1, column=col), layout.REVIEW_COMMENT)
        head.fill, head.font = HEADER_FILL, HEADER_FONT
        ws.column_dimensions[get_column_letter(col)].width = COMMENT_WIDTH
        for r, text in enumerate(self.reviewer_comments, 2):
            if text is None:
                continue
            cell = set_text(ws.cell(row=r, column=col), text)
            cell.alignment, cell.fill = WRAP_TOP, IMPROVE_FILL
            note = Comment(text, "Quality team")
            note.width, note.height = 300, 150
            ws.cell(row=r, column=title_col).comment = note
        ws.auto_filter.ref = f"A1:{get_column_letter(col)}{ws.max_row}"

    def _write_cover(self, ws, n_rows: int) -> None:  # type: ignore[no-untyped-def]
        org, dept = self.organisation, self.department
        quality = org.quality_team.members[0]
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 90
        set_text(ws["A1"], f"Evidence to improve: {dept.name}").font = Font(name=FONT, bold=True, size=16, color="1F4E79")
        set_text(ws["A2"], f"{org.organisation.name} · {org.standard.name} assessment {org.assessment.year}").font = Font(
            name=FONT, italic=True
        )
        n = len(self.improve)
        facts = [
            ("Reference", self.reference),
            ("Items to improve", f"{n} ({', '.join(dict.fromkeys(i.element_id for i in self.improve))})"),
            ("Questions", f"{quality.name}, {quality.email}"),
            ("Return to", f"Reply to the review email with this workbook attached, or send it to {org.quality_team.mailbox}"),
        ]
        steps = [
            "Open the 'Evidence' sheet. Each pink 'Reviewer's comment' cell (also a note on the evidence title) says why the "
            "quality team sent that item back.",
            "Improve the row as the comment asks: a better document or link, the right date, a clearer statement. Keep it "
            "under its element.",
            "Yellow rows are your other items for the same element that were not sent back: leave them as they are, or "
            "change them if they have changed. Sending the workbook back replaces each element's items with its rows.",
            "Do not rename the sheets or remove the header row; save as .xlsx (Excel) or .ods (LibreOffice).",
        ]
        r = write_facts(ws, facts) + 1
        set_text(ws.cell(row=r, column=1), "What to do").font = Font(name=FONT, bold=True, size=13)
        for i, step in enumerate(steps, 1):
            r += 1
            set_text(ws.cell(row=r, column=1), f"Step {i}")
            set_text(ws.cell(row=r, column=2), step).alignment = WRAP_TOP
            ws.row_dimensions[r].height = 32
        ws.protection.sheet = True
        ws.sheet_view.showGridLines = False
        print_landscape(ws)
