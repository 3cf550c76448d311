"""Write a department's evidence request workbook (layout in :mod:`reaccreditation.workbook.layout`).

One row per element the department owns (from the standard data: title, what the assessor looks for,
typical evidence, and last year's rating with any action the assessor set), last year's accepted evidence
pre-filled for confirmation, spare rows for more items, reference columns locked, every input cell
validated, a cover sheet saying how and by when to return it.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from reaccreditation.organisation.config import Department, Organisation
from reaccreditation.workbook import layout, signature
from reaccreditation.workbook.sheets import HEADER_FILL, REFERENCE_FILL, WRAP_TOP, print_landscape, set_text

FONT = "Calibri"  # named on every styled font: without a name LibreOffice falls back to a serif face
HEADER_FONT = Font(name=FONT, bold=True, color="FFFFFF")


def write_facts(ws: Worksheet, facts: Sequence[tuple[str, str]], row: int = 4) -> int:
    """A cover sheet's label/value table (bold labels in A, wrapped values in B); returns the next free row."""
    for label, value in facts:
        set_text(ws.cell(row=row, column=1), label).font = Font(name=FONT, bold=True)
        set_text(ws.cell(row=row, column=2), value).alignment = WRAP_TOP
        row += 1
    return row


PREFILL_FILL = PatternFill("solid", fgColor="FFF2CC")
UNLOCKED = Protection(locked=False)


@dataclass(frozen=True)
class PrefilledEvidence:
    """Last year's accepted evidence item, offered for confirmation."""

    element_id: str
    evidence_title: str
    evidence_type: str
    link: str | None = None
    evidence_date: date | None = None
    owner: str | None = None
    self_rating: str | None = None
    cplus_claim: bool = False
    cplus_justification: str | None = None
    notes: str | None = None
    statement: str | None = None  # how the element is met, as accepted last year (layout version 2)


@dataclass
class RequestWorkbook:
    organisation: Organisation
    department: Department
    prefilled: Sequence[PrefilledEvidence] = ()
    last_ratings: dict[str, str] = field(default_factory=dict)  # element id -> last assessor rating
    generated_at: datetime | None = None
    last_actions: dict[str, str] = field(default_factory=dict)  # element id -> the assessor's action, if any
    last_year: int | None = None  # the assessment year of last_ratings
    cycle_asks: str = ""  # what this cycle year asks for (reaccreditation.organisation.cycle), on the cover sheet
    signing_key: bytes = signature.DEMO_KEY  # the DAG passes the organisation's (orchestration.connections)

    @property
    def reference(self) -> str:
        return layout.request_reference(self.organisation.assessment.year, self.department.id)

    @property
    def file_name(self) -> str:
        """What the attachment is called, e.g. ``Evidence request 2027 - Housing Services.xlsx``."""
        return request_file_name(self.organisation.assessment.year, self.department.name)

    @property
    def element_ids(self) -> list[str]:
        standard = self.organisation.standard
        order = {e.id: i for i, e in enumerate(standard.elements)}
        return sorted(set(self.department.elements), key=order.__getitem__)

    def rows(self) -> list[dict[str, Any]]:
        """The Evidence sheet's rows as layout-keyed dicts: pre-filled items, else one empty row per element."""
        standard = self.organisation.standard
        by_element: dict[str, list[PrefilledEvidence]] = {}
        for item in self.prefilled:
            by_element.setdefault(item.element_id, []).append(item)
        rows = []
        for element_id in self.element_ids:
            element = standard.element(element_id)
            reference = {
                "element_id": element.id,
                "element_title": element.title,
                "assessor_looks_for": element.asks,
                "typical_evidence": "; ".join(element.evidence),
                "last_assessment": self._last_assessment(element.id),
            }
            items = by_element.get(element_id) or [None]
            for item in items:
                row = dict(reference)
                if item is not None:
                    row |= {
                        "prefill_note": layout.PREFILL_NOTE,
                        "evidence_title": item.evidence_title,
                        "evidence_type": item.evidence_type,
                        "link": item.link,
                        "owner": item.owner,
                        "self_rating": item.self_rating,
                        "statement": item.statement,
                        "cplus_claim": "Yes" if item.cplus_claim else "No",
                        "cplus_justification": item.cplus_justification,
                    } | self._prefill_date(item)
                rows.append(row)
        return rows

    def _prefill_date(self, item: PrefilledEvidence) -> dict[str, Any]:
        """Last year's date when it is still inside this year's window; otherwise a blank date and a hint.

        Intake rejects dates before the window, so pre-filling an old date would set up a rejection for
        a department that simply confirms the row: it is asked for the date of the current version instead.
        """
        from reaccreditation.render import long_date

        window = self.organisation.assessment.evidence_window_start
        if item.evidence_date is None or item.evidence_date >= window:
            return {"evidence_date": item.evidence_date, "notes": item.notes}
        hint = (
            f"{layout.PREFILL_NOTE}. Last year's copy is dated {long_date(item.evidence_date)}, before this year's "
            "evidence window: enter the date of the current version."
        )
        # the hint goes in the locked reference column, never in Notes (the department's own words)
        return {"evidence_date": None, "notes": item.notes, "prefill_note": hint}

    def _last_assessment(self, element_id: str) -> str | None:
        rating = self.last_ratings.get(element_id)
        if not rating:
            return None
        text = f"{rating} ({self.last_year})" if self.last_year else rating
        action = self.last_actions.get(element_id)
        return f"{text}. Action: {action}" if action else text

    def to_bytes(self) -> bytes:
        wb = Workbook()
        cover = wb.active
        cover.title = layout.COVER_SHEET
        evidence = wb.create_sheet(layout.EVIDENCE_SHEET)
        rows = self.rows()
        self._write_evidence(evidence, rows)
        self._write_cover(cover, len(rows))
        self._write_meta(wb.create_sheet(layout.META_SHEET))
        wb.active = 0
        props = wb.properties
        props.title = f"Evidence request {self.reference}"
        props.creator = f"{self.organisation.organisation.name} quality team"
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    # -- sheets -------------------------------------------------------------------------------------

    def _write_evidence(self, ws, rows: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
        columns = layout.COLUMNS
        for c, col in enumerate(columns, 1):
            cell = set_text(ws.cell(row=1, column=c), col.heading(self.organisation.standard))
            cell.fill, cell.font = HEADER_FILL, HEADER_FONT
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[get_column_letter(c)].width = col.width
        ws.row_dimensions[1].height = 32
        last = len(rows) + 1 + layout.SPARE_ROWS
        for r in range(2, last + 1):
            data = rows[r - 2] if r - 2 < len(rows) else {}
            spare = not data
            for c, col in enumerate(columns, 1):
                cell = ws.cell(row=r, column=c)
                value = data.get(col.key)
                if value is not None:
                    set_text(cell, value)
                cell.alignment = WRAP_TOP
                if col.input or (spare and col.key == "element_id"):
                    cell.protection = UNLOCKED
                    if data.get("prefill_note"):
                        cell.fill = PREFILL_FILL
                else:
                    cell.fill = REFERENCE_FILL
                if col.key == "evidence_date":
                    cell.number_format = "dd/mm/yyyy"
            if data:
                ws.row_dimensions[r].height = row_height(data.get(col.key) for col in columns)
        self._validate(ws, last, first_spare=len(rows) + 2)
        ws.freeze_panes = "C2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
        ws.protection.sheet = True
        ws.protection.autoFilter = False  # False = allowed while protected
        ws.protection.sort = False
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.print_title_rows = "1:1"
        ws.print_title_cols = "A:B"
        print_landscape(ws, pages_wide=2)

    def _validate(self, ws, last: int, first_spare: int) -> None:  # type: ignore[no-untyped-def]
        def col(key: str) -> str:
            return get_column_letter([c.key for c in layout.COLUMNS].index(key) + 1)

        def add(dv: DataValidation, key: str, first: int = 2) -> None:
            dv.error_title, dv.showErrorMessage = "Not accepted", True
            dv.add(f"{col(key)}{first}:{col(key)}{last}")
            ws.add_data_validation(dv)

        def choice(key: str, values: Sequence[str], error: str) -> None:
            add(DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True, error=error), key)

        choice("evidence_type", layout.EVIDENCE_TYPES, "Choose an evidence type from the list.")
        choice(
            "self_rating",
            layout.ratings(self.organisation.standard),
            f"Choose one of the {self.organisation.standard.short_name} ratings.",
        )
        choice("cplus_claim", layout.YES_NO, "Answer Yes or No.")
        choice("confirm", layout.CONFIRM_CHOICES, "Choose 'Still current' or 'Replaced'.")
        window = layout.EvidenceWindow.of(self.organisation.assessment)
        earliest, latest = window.excel_formulas()
        add(
            DataValidation(
                type="date",
                operator="between",
                formula1=earliest,
                formula2=latest,
                allow_blank=True,
                error=f"Enter a date in the evidence window. {window.describe()}.",
            ),
            "evidence_date",
        )
        add(
            DataValidation(
                type="textLength",
                operator="lessThanOrEqual",
                formula1=str(layout.MAX_TITLE),
                allow_blank=True,
                error=f"Keep the title under {layout.MAX_TITLE} characters.",
            ),
            "evidence_title",
        )
        add(
            DataValidation(
                type="textLength",
                operator="lessThanOrEqual",
                formula1=str(layout.MAX_STATEMENT),
                allow_blank=True,
                error=f"Keep the statement under {layout.MAX_STATEMENT} characters: a short paragraph or two.",
            ),
            "statement",
        )
        for key in ("link", "owner", "cplus_justification", "notes"):
            add(
                DataValidation(
                    type="textLength",
                    operator="lessThanOrEqual",
                    formula1=str(layout.MAX_TEXT),
                    allow_blank=True,
                    error=f"Keep this under {layout.MAX_TEXT} characters.",
                ),
                key,
            )
        if first_spare <= last:
            ids = ",".join(self.element_ids)
            if len(ids) <= 250:  # Excel's limit for an inline list
                source = f'"{ids}"'
            else:  # a long list lives on the hidden meta sheet, column D (read_meta reads A:B only)
                source = f"'{layout.META_SHEET}'!$D$1:$D${len(self.element_ids)}"
            dv = DataValidation(type="list", formula1=source, allow_blank=True, error="Use one of your department's element ids.")
            dv.error_title, dv.showErrorMessage = "Not accepted", True
            dv.add(f"{col('element_id')}{first_spare}:{col('element_id')}{last}")
            ws.add_data_validation(dv)

    def _last_assessment_fact(self) -> list[tuple[str, str]]:
        ratings = {e: self.last_ratings[e] for e in self.element_ids if e in self.last_ratings}
        if not ratings:
            return []
        standard = self.organisation.standard
        partial = [e for e, r in ratings.items() if standard.level_of(r) in ("partial", "fails")]
        plus = [e for e, r in ratings.items() if standard.level_of(r) == "exceeds"]
        parts = []
        if partial:
            parts.append(f"{_count(len(partial), 'element')} not fully met ({', '.join(partial)}): show what has changed")
        if plus:
            parts.append(
                f"{len(plus)} rated {standard.label('exceeds')} ({', '.join(plus)}): show "
                f"{'it is' if len(plus) == 1 else 'they are'} still exceptional"
            )
        if not parts:
            parts.append(f"every element you own was rated {standard.label('meets')}")
        year = f" {self.last_year}" if self.last_year else ""
        return [(f"Last assessment{year}", "; ".join(parts) + ". See the 'Last assessment' column.")]

    def _write_cover(self, ws, n_rows: int) -> None:  # type: ignore[no-untyped-def]
        org, dept = self.organisation, self.department
        standard = org.standard
        quality = org.quality_team.members[0]
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 90
        title = set_text(ws["A1"], f"Evidence request: {dept.name}")
        title.font = Font(name=FONT, bold=True, size=16, color="1F4E79")
        set_text(
            ws["A2"], f"{org.organisation.name} · {standard.name} {org.assessment.type} assessment {org.assessment.year}"
        ).font = Font(name=FONT, italic=True)
        facts = [
            ("Reference", self.reference),
            ("Return by", f"{org.return_deadline:%A %d %B %Y}"),
            ("Assessment", f"{org.assessment.first_day:%d %B %Y} to {org.assessment.last_day:%d %B %Y}"),
            ("Evidence window", layout.EvidenceWindow.of(org.assessment).describe()),
            ("Elements you own", f"{len(self.element_ids)} ({', '.join(self.element_ids)})"),
            *([("This year", self.cycle_asks)] if self.cycle_asks else []),
            *self._last_assessment_fact(),
            ("Questions", f"{quality.name}, {quality.email}"),
            (
                "Return to",
                "Reply to the request email with this workbook attached (.xlsx or .ods), or send it to "
                f"{org.quality_team.mailbox}",
            ),
        ]
        r = write_facts(ws, facts) + 1
        set_text(ws.cell(row=r, column=1), "How to fill it in").font = Font(name=FONT, bold=True, size=13)
        steps = [
            "Open the 'Evidence' sheet. Grey columns describe each element and are locked; fill the white columns.",
            "Give at least one piece of evidence per element: a title, its type, a link or file name, its date and a "
            "self-rating; and say in a few sentences how the element is met (the 'How the element is met' column).",
            "Yellow rows hold last year's accepted evidence: choose 'Still current' in the Confirm column, or edit the row and "
            "choose 'Replaced'. An empty date means last year's copy is too old (the 'Pre-filled' column says so): enter the "
            "date of the current version.",
            "More than one item for an element? Use the spare rows at the bottom: pick the element id, then fill the row.",
            f"Claiming {standard.label('exceeds')}? Answer Yes and say why in the justification column.",
            "Keep dates inside the evidence window; links must start with https:// or be the name of a file you send with the "
            "workbook.",
            "Do not rename the sheets or remove the header row. Excel: File > Save As > Excel Workbook (.xlsx), not .xls or "
            ".xlsm. LibreOffice: File > Save (ODF Spreadsheet, .ods) or File > Save As > Excel 2007-365 (.xlsx); both are "
            "accepted.",
        ]
        for i, step in enumerate(steps, 1):
            r += 1
            set_text(ws.cell(row=r, column=1), f"Step {i}")
            set_text(ws.cell(row=r, column=2), step).alignment = WRAP_TOP
        r += 2
        set_text(ws.cell(row=r, column=1), "The columns").font = Font(name=FONT, bold=True, size=13)
        for col in layout.INPUT_COLUMNS:
            r += 1
            set_text(ws.cell(row=r, column=1), col.heading(standard))
            detail = col.help_for(standard)
            choices = layout.ratings(standard) if col.key == "self_rating" else col.choices
            if choices:
                detail = (detail + ". " if detail else "") + "Choose from: " + ", ".join(choices)
            set_text(ws.cell(row=r, column=2), detail + (" (required)" if col.required else "")).alignment = WRAP_TOP
        r += 2
        set_text(ws.cell(row=r, column=1), "The ratings").font = Font(name=FONT, bold=True, size=13)
        for rating in standard.ratings:
            r += 1
            set_text(ws.cell(row=r, column=1), rating.label)
            set_text(ws.cell(row=r, column=2), rating.meaning)
        for row in ws.iter_rows(min_row=4, max_col=2):
            row[0].alignment = Alignment(vertical="top")  # labels level with the first line of their text
            if isinstance(row[1].value, str):
                ws.row_dimensions[row[1].row].height = row_height([row[1].value], [ws.column_dimensions["B"].width])
        ws.protection.sheet = True
        ws.sheet_view.showGridLines = False
        print_landscape(ws)

    def _write_meta(self, ws) -> None:  # type: ignore[no-untyped-def]
        org = self.organisation
        values = {
            "layout_version": layout.LAYOUT_VERSION,
            "organisation": org.organisation.name,
            "department_id": self.department.id,
            "department_name": self.department.name,
            "assessment_year": org.assessment.year,
            "request_reference": self.reference,
            "generated_at": (self.generated_at or datetime.now()).isoformat(timespec="seconds"),
        }
        values["signature"] = signature.sign(self.signing_key, values)
        for r, key in enumerate(layout.META_KEYS, 1):
            set_text(ws.cell(row=r, column=1), key)
            set_text(ws.cell(row=r, column=2), values[key])
        for r, element_id in enumerate(self.element_ids, 1):  # the spare rows' element list (see _validate)
            set_text(ws.cell(row=r, column=4), element_id)
        ws.sheet_state = "veryHidden"
        ws.protection.sheet = True


LINE_HEIGHT = 15  # points per line of 11 pt text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def row_height(values, widths: Sequence[float] | None = None) -> float:  # type: ignore[no-untyped-def]
    """Height for a row of wrapped text: spreadsheet apps do not grow rows written by openpyxl, so text
    would overlap the next row. Estimated from text length per column width (about 1.2 characters per unit)."""
    widths = widths or [c.width for c in layout.COLUMNS]
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str) and value:
            per_line = max(1, int(width * 1.2))
            lines = max(lines, sum(len(textwrap.wrap(part, per_line)) or 1 for part in value.split("\n")))
    return min(LINE_HEIGHT * lines + 3, 409)  # 409 pt: Excel's maximum row height


_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()-]+")


def request_file_name(assessment_year: int, department_name: str) -> str:
    """A file name every mail client and file system accepts: letters, digits, spaces, ._()- only."""
    name = department_name.replace("&", " and ").replace("'", "").replace("\u2019", "")
    name = " ".join(_UNSAFE.sub(" ", name).split()).strip(" .") or "department"
    return f"Evidence request {assessment_year} - {name[:80]}.xlsx"


def read_meta(wb) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The hidden identification of a request workbook opened with openpyxl ({} when absent)."""
    if layout.META_SHEET not in wb.sheetnames:
        return {}
    ws = wb[layout.META_SHEET]
    return {str(k): "" if v is None else str(v) for k, v in ws.iter_rows(min_row=1, max_col=2, values_only=True) if k}
