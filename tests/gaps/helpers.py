"""Small builders for the gap tests: an organisation, evidence rows, and rows in the project database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, insert

from reaccreditation.db.schema import evidence, submission
from reaccreditation.demo import build_config
from reaccreditation.organisation.config import Organisation, parse_organisation

FIRST_DAY = date(2027, 3, 15)
TODAY = date(2026, 12, 1)  # before the return deadline (T-50 is Sunday 2027-01-24: Friday 2027-01-22)
FRESH = date(2026, 9, 1)  # inside the 12-month window (starts 2026-03-15), after the 2026 assessment
STALE = date(2025, 1, 10)


def make_org(framework: str = "cse", assessment_type: str | None = None, **assessment: Any) -> Organisation:
    config = build_config(FIRST_DAY, framework)
    if assessment_type:
        config["assessment"]["type"] = assessment_type
    config["assessment"].update(assessment)
    return parse_organisation(config, source="test")


def ev(
    department_id: str, element_id: str, when: date | None = FRESH, rating: str | None = "Compliance", **extra: Any
) -> dict[str, Any]:
    """One evidence register row, as intake would store it."""
    return {
        "department_id": department_id,
        "element_id": element_id,
        "title": extra.pop("title", f"Evidence for {element_id}"),
        "evidence_type": "Document",
        "link": "https://intranet.example.org/doc",
        "evidence_date": when,
        "self_rating": rating,
        "cplus_claim": False,
        "cplus_justification": None,
        "is_current": True,
    } | extra


def covered(org: Organisation, when: date = FRESH) -> list[dict[str, Any]]:
    """Fresh evidence self-rated at the standard's 'meets' rating from every owner of every element: all ready."""
    meets = org.standard.label("meets")
    return [ev(d.id, e, when, meets) for d in org.departments for e in d.elements]


def returned(org: Organisation, status: str = "accepted", year: int = FIRST_DAY.year) -> list[dict[str, Any]]:
    return [{"department_id": d.id, "assessment_year": year, "status": status} for d in org.departments]


def outcome(year: int, element_id: str, rating: str, action: str | None = None, framework: str = "cse") -> dict[str, Any]:
    return {
        "assessment_year": year,
        "framework": framework,
        "assessment_type": "full",
        "element_id": element_id,
        "rating": rating,
        "action": action,
    }


def insert_submission(engine: Engine, department_id: str, status: str = "accepted", year: int = FIRST_DAY.year) -> int:
    with engine.begin() as conn:
        return conn.execute(
            insert(submission).values(
                sha256=f"{department_id}-{status}-{year}".ljust(64, "0")[:64],
                original_name=f"{department_id}.xlsx",
                assessment_year=year,
                department_id=department_id,
                source="inbox",
                received_at=datetime.now(UTC),
                status=status,
                rows_total=0,
                rows_accepted=0,
                rows_rejected=0,
                version=1,
            )
        ).inserted_primary_key[0]


def insert_evidence(engine: Engine, submission_id: int, rows: list[dict[str, Any]], year: int = FIRST_DAY.year) -> None:
    """Register rows as intake would write them (provenance: submission, sheet, row number)."""
    with engine.begin() as conn:
        conn.execute(
            insert(evidence),
            [
                r
                | {
                    "assessment_year": year,
                    "submission_id": submission_id,
                    "sheet": "Evidence",
                    "row_number": i + 2,
                    "created_at": datetime.now(UTC),
                }
                for i, r in enumerate(rows)
            ],
        )
