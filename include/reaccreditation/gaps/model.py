"""The gap analysis' data: its inputs (evidence, submissions, outcomes) and its result (a snapshot).

Inputs are built from plain mappings (a dict, a SQLAlchemy row mapping) so the analysis can be fed by
the database, a test or a benchmark alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from reaccreditation.dates import as_date
from reaccreditation.gaps.gaps_json import SCHEMA

Readiness = Literal["ready", "at risk", "gap"]
Severity = Literal["gap", "risk", "info"]

READY: Readiness = "ready"
AT_RISK: Readiness = "at risk"
GAP: Readiness = "gap"

UNASSIGNED = "(no owner)"  # the department column of a gap row nobody owns

# Submission statuses that count as "the department returned its workbook".
RETURNED_STATUSES = frozenset({"accepted", "partial"})


@dataclass(slots=True)
class Evidence:
    """One row of the evidence register (the ``evidence`` table). Not frozen: tens of thousands are built per run."""

    department_id: str
    element_id: str
    title: str = ""
    evidence_type: str = ""
    link: str | None = None
    evidence_date: date | None = None
    self_rating: str | None = None
    cplus_claim: bool = False
    cplus_justification: str | None = None
    is_current: bool = True
    # The quality team's review (review.store): unreviewed | accepted | needs_work | not_relevant; None when
    # reviews are not tracked for these rows (a test, a benchmark, a past year's register).
    review_state: str | None = None

    @classmethod
    def of(cls, row: Evidence | Mapping[str, Any]) -> Evidence:
        if isinstance(row, Evidence):
            return row
        get = row.get
        when = get("evidence_date")
        justification = get("cplus_justification")
        return cls(
            str(row["department_id"]),
            str(row["element_id"]),
            str(get("title") or ""),
            str(get("evidence_type") or ""),
            get("link"),
            when if type(when) is date else as_date(when),
            get("self_rating") or None,
            bool(get("cplus_claim")),
            (str(justification).strip() or None) if justification else None,
            bool(get("is_current", True)),
            get("review_state"),
        )


@dataclass(frozen=True)
class Submission:
    """One received workbook (the ``submission`` table); only who, which year and how it went matter here."""

    department_id: str | None
    assessment_year: int | None
    status: str

    @classmethod
    def of(cls, row: Submission | Mapping[str, Any]) -> Submission:
        if isinstance(row, Submission):
            return row
        year = row.get("assessment_year")
        return cls(row.get("department_id"), None if year is None else int(year), str(row["status"]))


@dataclass(frozen=True)
class Outcome:
    """The assessor's rating of one element in one past year (the ``assessment_outcome`` table)."""

    assessment_year: int
    element_id: str
    rating: str
    framework: str = "cse"
    assessment_type: str = "full"
    action: str | None = None

    @classmethod
    def of(cls, row: Outcome | Mapping[str, Any]) -> Outcome:
        if isinstance(row, Outcome):
            return row
        return cls(
            assessment_year=int(row["assessment_year"]),
            element_id=str(row["element_id"]),
            rating=str(row["rating"]),
            framework=str(row.get("framework") or "cse"),
            assessment_type=str(row.get("assessment_type") or "full"),
            action=(str(row.get("action") or "").strip() or None),
        )


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    department_id: str | None

    def label(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Reason:
    """Why an element is not (or not certainly) ready; names who can fix it.

    ``caps_at`` is the best rating the assessor could give while this reason stands (None: no cap);
    ``severity`` says whether it is a gap, a risk or information (e.g. a candidate for the top rating).
    """

    code: str
    severity: Severity
    message: str
    departments: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    caps_at: str | None = None


@dataclass(frozen=True)
class ElementResult:
    element_id: str
    title: str
    criterion_id: str
    sub_criterion_id: str
    owners: tuple[str, ...]
    readiness: Readiness
    forecast: str  # a rating label of the standard
    forecast_short: str
    score: int  # the standard's score for the forecast rating
    forecast_because: tuple[str, ...]  # reason codes that set the forecast
    reasons: tuple[Reason, ...]
    in_focus: bool
    focus: tuple[str, ...]  # why the assessor will look at it (surveillance)
    evidence_count: int
    fresh_evidence_count: int
    last_rating: str | None = None
    last_year: int | None = None

    @property
    def problems(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.severity != "info")


@dataclass(frozen=True)
class Rollup:
    """Readiness of a group of elements (sub-criterion, criterion, department or the whole standard)."""

    key: str
    title: str
    elements: int
    ready: int
    at_risk: int
    gaps: int
    ratings: dict[str, int]  # forecast rating label -> count
    score: float  # mean forecast score on the standard's scale (see docs/gap-analysis.md)
    ready_pct: float
    compliant_pct: float  # elements forecast at the standard's "meets" rating or better
    reasons: int = 0  # gap and risk reasons naming this department (departments only)
    max_partials: int | None = None  # Charter Mark's limit for a criterion
    partial_limit_exceeded: bool = False
    fails: tuple[str, ...] = ()  # the standard's pass rules this criterion's forecast breaks (criteria only)


@dataclass(frozen=True)
class Snapshot:
    organisation: str
    framework: str
    assessment_year: int
    assessment_type: str
    as_of: date
    evidence_window_start: date
    due_date: date
    last_assessment_year: int | None
    elements: tuple[ElementResult, ...]
    overall: Rollup
    criteria: tuple[Rollup, ...]
    sub_criteria: tuple[Rollup, ...]
    departments: tuple[Rollup, ...]
    year_on_year: tuple[dict[str, Any], ...] = field(default=())
    cycle: str = ""  # full assessment | review year 1 | review year 2 (reaccreditation.organisation.cycle)

    def element(self, element_id: str) -> ElementResult:
        for e in self.elements:
            if e.element_id == element_id:
                return e
        raise KeyError(element_id)

    def codes(self, element_id: str) -> set[str]:
        return {r.code for r in self.element(element_id).reasons}

    def gap_rows(self) -> list[dict[str, Any]]:
        """Every gap and risk reason, one row per department it names (so a department filter shows all its work)."""
        names = {d.key: d.title for d in self.departments}
        rows: list[dict[str, Any]] = []
        for e in self.elements:
            for reason in e.problems:
                for department_id in reason.departments or (None,):
                    contacts = [c for c in reason.contacts if department_id is None or c.department_id == department_id]
                    rows.append(
                        {
                            "element_id": e.element_id,
                            "element_title": e.title,
                            "criterion_id": e.criterion_id,
                            "sub_criterion_id": e.sub_criterion_id,
                            "readiness": e.readiness,
                            "forecast": e.forecast,
                            "severity": reason.severity,
                            "reason_code": reason.code,
                            "reason": reason.message,
                            "department_id": department_id or "",
                            "department": names.get(department_id, UNASSIGNED) if department_id else UNASSIGNED,
                            "contact": "; ".join(c.label() for c in contacts),
                            "due_date": self.due_date.isoformat(),
                            "in_focus": e.in_focus,
                        }
                    )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings); the shape is documented in docs/gap-analysis.md."""
        data = asdict(self)
        for key in ("as_of", "evidence_window_start", "due_date"):
            data[key] = data[key].isoformat()
        from reaccreditation.standards import LEVELS, MEETS, load_standard

        standard = load_standard(self.framework)
        data["schema"] = SCHEMA
        data["labels"] = {level: standard.label(level) for level in LEVELS}  # the standard's own words per level
        data["scale"] = {"meets_score": standard.level(MEETS).score}
        data["gaps"] = self.gap_rows()
        return data
