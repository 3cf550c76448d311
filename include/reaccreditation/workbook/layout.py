"""The evidence workbook layout: the one definition the request writer and the intake reader share.

A request workbook has a cover sheet ("How to fill in"), the "Evidence" sheet (header in row 1, one row
per owned element, plus last year's accepted evidence pre-filled for confirmation, plus spare rows) and a
very hidden "_meta" sheet identifying the department, year and request. Intake finds columns by header
text (or an alias), so a department that reorders or slightly renames columns is still understood.

Layout versions (``_meta`` ``layout_version``): 1, the first; 2 adds the "How the element is met" column (the
short statement the assessor's portfolio shows per element). Intake reads both: a version 1 workbook has no
statement column, so its rows are registered without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reaccreditation.standards import Standard

LAYOUT_VERSION = 2

COVER_SHEET = "How to fill in"
EVIDENCE_SHEET = "Evidence"
META_SHEET = "_meta"
SPARE_ROWS = 100  # unlocked, validated rows below the element rows for extra evidence items

EVIDENCE_TYPES = ("Document", "Web page", "Data/report", "Photo", "Minutes", "Survey", "Case study", "Other")
# Self-ratings are the standard's own labels (ratings(standard)); headers naming the top rating are
# written with the standard's label ("{exceeds}" below) and read back whatever the standard.
YES_NO = ("Yes", "No")
CONFIRM_CHOICES = ("Still current", "Replaced")
PREFILL_NOTE = "Last year's evidence: confirm still current or replace"

# The review round's workbook (reaccreditation.review.workbook) adds this locked column; intake ignores it
# without a note, so the department's return reads as any other.
REVIEW_COMMENT = "Reviewer's comment"
IGNORED_HEADINGS = frozenset({"reviewer's comment", "reviewer’s comment"})

MAX_TEXT = 1000  # free-text cells
MAX_TITLE = 250
MAX_STATEMENT = 1500  # a short statement: a paragraph or two, not a report


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    input: bool  # False: reference column, locked
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    help: str = ""

    def heading(self, standard: Standard | None = None) -> str:
        """The header as written for ``standard`` (its top rating's label in the C+ columns)."""
        return self.header.format(exceeds=standard.label("exceeds") if standard else "Top rating")

    def help_for(self, standard: Standard | None = None) -> str:
        return self.help.format(exceeds=standard.label("exceeds") if standard else "the top rating")


COLUMNS: tuple[Column, ...] = (
    Column("element_id", "Element", 9, False, True, aliases=("element id", "element ref", "ref")),
    Column("element_title", "Element title", 30, False),
    Column("assessor_looks_for", "What the assessor looks for", 45, False),
    Column("typical_evidence", "Typical evidence", 40, False),
    Column("last_assessment", "Last assessment", 26, False, aliases=("last rating", "last year")),  # rating and action
    Column("prefill_note", "Pre-filled", 22, False),
    Column(
        "confirm",
        "Confirm (pre-filled rows)",
        16,
        True,
        choices=CONFIRM_CHOICES,
        help="For last year's evidence: 'Still current' keeps it; 'Replaced' means you changed the row",
    ),
    Column(
        "evidence_title",
        "Evidence title",
        35,
        True,
        True,
        aliases=("title", "evidence name"),
        help="A short name the assessor will recognise",
    ),
    Column("evidence_type", "Evidence type", 14, True, True, choices=EVIDENCE_TYPES, aliases=("type",)),
    Column(
        "link",
        "Link or file name",
        35,
        True,
        True,
        aliases=("link", "url", "file name", "location"),
        help="A web address (https://...) or the name of a file you attach with the workbook",
    ),
    Column(
        "evidence_date",
        "Date of evidence",
        14,
        True,
        True,
        aliases=("date", "evidence date"),
        help="When the evidence was produced; it must fall inside the evidence window (see above)",
    ),
    Column("owner", "Evidence owner", 20, True, aliases=("owner",)),
    Column("self_rating", "Self-rating", 18, True, True, aliases=("rating", "self rating")),  # choices: ratings(standard)
    Column(  # layout version 2
        "statement",
        "How the element is met",
        45,
        True,
        aliases=("statement", "how met", "how it is met", "how this element is met", "statement of how the element is met"),
        help="A short statement, in your own words, of how your service meets this element: the assessor reads it beside "
        "the evidence. Once per element is enough (on its first row); last year's is filled in where there was one: "
        "update it if things have changed",
    ),
    Column("cplus_claim", "{exceeds} claim", 12, True, choices=YES_NO, aliases=("top rating claim",)),
    Column(
        "cplus_justification",
        "{exceeds} justification",
        40,
        True,
        aliases=("justification", "top rating justification"),
        help="Required when you claim {exceeds}",
    ),
    Column("notes", "Notes", 30, True),
)

COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
INPUT_COLUMNS = tuple(c for c in COLUMNS if c.input)

# Keys of the hidden _meta sheet (column A key, column B value).
META_KEYS = (
    "layout_version",
    "organisation",
    "department_id",
    "department_name",
    "assessment_year",
    "request_reference",
    "generated_at",
    "signature",  # workbook.signature: HMAC over organisation, department, year and reference
)


@dataclass(frozen=True)
class EvidenceWindow:
    """The one date rule for evidence, shared by the workbook's cell validation, its cover text and intake.

    Evidence counts when it is dated from ``start`` (the window the config sets before the assessment) to
    ``end`` (the assessment's first day), and never after the day it is checked: a date in the future is
    a typing mistake. Dates read in the organisation's style ("5 March 2027").
    """

    start: date
    end: date

    @classmethod
    def of(cls, assessment) -> EvidenceWindow:  # type: ignore[no-untyped-def]
        return cls(assessment.evidence_window_start, assessment.first_day)

    def last_allowed(self, today: date) -> date:
        return min(self.end, max(today, self.start))

    def excel_formulas(self) -> tuple[str, str]:
        """Formula1 and formula2 of a 'date between' validation (Excel and LibreOffice evaluate TODAY())."""
        s, e = self.start, self.end
        return f"DATE({s.year},{s.month},{s.day})", f"MIN(TODAY(),DATE({e.year},{e.month},{e.day}))"

    def describe(self) -> str:
        from reaccreditation.render import long_date

        return (
            f"Evidence dated from {long_date(self.start)} to {long_date(self.end)} (the first assessment day), and not in the "
            "future"
        )

    def problem(self, day: date, today: date) -> str | None:
        """What is wrong with ``day`` (None when it is inside the window), for the department."""
        from reaccreditation.render import long_date

        if day < self.start:
            return (
                f"{long_date(day)} is before the evidence window, which starts on {long_date(self.start)}: use evidence from "
                "then on"
            )
        if day > self.end:
            return (
                f"{long_date(day)} is after the evidence window, which ends on {long_date(self.end)} (the first assessment day)"
            )
        if day > self.last_allowed(today):
            return (
                f"{long_date(day)} is in the future (this workbook was checked on {long_date(today)}): enter the date the "
                "evidence was produced"
            )
        return None


def normalise_header(text: object) -> str:
    return " ".join(str(text or "").replace("\n", " ").split()).strip().lower()


def ratings(standard: Standard) -> tuple[str, ...]:
    """The self-rating choices: the standard's own labels, best first."""
    return standard.labels


def _headings() -> dict[str, Column]:
    """Every way a header may be written: each standard's heading and short form, and the aliases."""
    from reaccreditation.standards import available, load_standard

    out: dict[str, Column] = {}
    for c in COLUMNS:
        out[normalise_header(c.heading())] = c
        for standard_id in available():
            standard = load_standard(standard_id)
            out[normalise_header(c.heading(standard))] = c
            if "{exceeds}" in c.header:  # "C+ claim", "BP justification"
                short = standard.level("exceeds").short
                out[normalise_header(c.header.format(exceeds=short))] = c
        for alias in c.aliases:
            out[alias] = c
    return out


_HEADINGS: dict[str, Column] = {}


def column_for_header(text: object) -> Column | None:
    """The column a header cell means, by header (any standard's wording) or alias (case and spacing ignored)."""
    if not _HEADINGS:
        _HEADINGS.update(_headings())
    return _HEADINGS.get(normalise_header(text))


def request_reference(assessment_year: int, department_id: str) -> str:
    """A stable reference printed on the workbook and kept in replies, e.g. ``REQ-2027-housing``."""
    return f"REQ-{assessment_year}-{department_id}"
