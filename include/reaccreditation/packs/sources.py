"""The pack's inputs, each optional: a missing stage becomes a sentence in the pack, never a crash.

Files come from the other stages' outputs through their readers (``gaps.gaps_json``,
``timetable.timetable_json``); the rest from the project database (outcomes, submissions, gap
snapshots, earlier packs, the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from reaccreditation.db.schema import (
    assessment_outcome,
    evidence,
    gap_element,
    gap_snapshot,
    outbound_message,
    run_record,
    submission,
)
from reaccreditation.files import Unavailable
from reaccreditation.gaps import gaps_json
from reaccreditation.gaps.model import RETURNED_STATUSES
from reaccreditation.organisation.config import Organisation
from reaccreditation.review.store import department_progress
from reaccreditation.timetable import timetable_json

RECORD_KIND = "readiness_pack"
MESSAGE_KIND = "readiness_pack"


@dataclass
class Sources:
    """Everything a pack is built from; ``missing`` says, in plain words, what could not be read."""

    gaps: dict[str, Any] | None = None
    timetable: dict[str, Any] | None = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # every imported outcome of the framework
    returned: set[str] = field(default_factory=set)  # departments with an accepted/partial workbook this year
    previous: dict[str, Any] | None = None  # headline figures of the last pack sent
    forecast_before: dict[str, Any] | None = None  # the last snapshot before the first day (closing pack)
    evidence: list[dict[str, Any]] = field(default_factory=list)  # the year's current register rows
    review: dict[str, dict[str, int]] = field(default_factory=dict)  # department -> current items per review state
    missing: list[str] = field(default_factory=list)


def _problem(missing: Unavailable, year: int, what: str, dag: str) -> str:
    """Why a stage's file cannot be used, as the pack says it (naming the DAG to run)."""
    path = missing.path
    if missing.reason == "missing":
        return f"No {what} yet: {path.name} has not been written for {year} (DAG {dag} has not run)."
    if missing.reason == "unreadable":
        return f"The {what} could not be read ({path}: {missing.detail}); run DAG {dag} again."
    if missing.reason == "other_year":
        return f"The {what} in {path} is for {missing.detail}, not {year}; run DAG {dag} again."
    return f"The {what} in {path} is not a {missing.detail} file; run DAG {dag} again."


def load_gaps(output: Path, year: int) -> tuple[dict[str, Any] | None, str | None]:
    data, missing = gaps_json.read(output, year)
    return data, missing and _problem(missing, year, "gap analysis", "gap_analysis")


def load_timetable(output: Path, year: int) -> tuple[dict[str, Any] | None, str | None]:
    data, missing = timetable_json.read(output, year)
    return data, missing and _problem(missing, year, "assessment timetable", "assessment_timetable")


def outcomes(engine: Engine, framework: str) -> list[dict[str, Any]]:
    query = (
        select(assessment_outcome)
        .where(assessment_outcome.c.framework == framework)
        .order_by(assessment_outcome.c.assessment_year, assessment_outcome.c.element_id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def returned_departments(engine: Engine, year: int) -> set[str]:
    query = select(submission.c.department_id).where(
        submission.c.assessment_year == year, submission.c.status.in_(sorted(RETURNED_STATUSES))
    )
    with engine.connect() as conn:
        return {d for d in conn.execute(query).scalars() if d}


def current_evidence(engine: Engine, year: int) -> list[dict[str, Any]]:
    cols = (
        evidence.c.department_id,
        evidence.c.element_id,
        evidence.c.title,
        evidence.c.evidence_type,
        evidence.c.link,
        evidence.c.evidence_date,
        evidence.c.self_rating,
        evidence.c.cplus_claim,
    )
    query = (
        select(*cols)
        .where(evidence.c.assessment_year == year, evidence.c.is_current.is_(True))
        .order_by(evidence.c.element_id, evidence.c.department_id, evidence.c.id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def previous_pack(engine: Engine, year: int, before: date) -> dict[str, Any] | None:
    """Headline figures of the latest pack sent for a pack date before ``before``."""
    query = (
        select(run_record.c.payload)
        .where(run_record.c.kind == RECORD_KIND, run_record.c.assessment_year == year)
        .order_by(run_record.c.id.desc())
    )
    with engine.connect() as conn:
        for payload in conn.execute(query).scalars():
            if isinstance(payload, dict) and str(payload.get("pack_date", "")) < before.isoformat():
                return payload
    return None


def snapshot_before(engine: Engine, year: int, first_day: date) -> dict[str, Any] | None:
    """The last gap snapshot taken before the assessor arrived: its as-of date and forecast per element."""
    query = (
        select(gap_snapshot.c.id, gap_snapshot.c.as_of)
        .where(gap_snapshot.c.assessment_year == year, gap_snapshot.c.as_of < first_day)
        .order_by(gap_snapshot.c.as_of.desc(), gap_snapshot.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        snap = conn.execute(query).first()
        if snap is None:
            return None
        rows = conn.execute(select(gap_element.c.element_id, gap_element.c.forecast).where(gap_element.c.snapshot_id == snap.id))
        return {"snapshot_id": snap.id, "as_of": snap.as_of.isoformat(), "forecast": {r.element_id: r.forecast for r in rows}}


def sent_keys(engine: Engine, prefix: str) -> set[str]:
    query = select(outbound_message.c.dedupe_key).where(outbound_message.c.dedupe_key.startswith(prefix, autoescape=True))
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def load(org: Organisation, engine: Engine, output: Path, pack_date: date, closing: bool = False) -> Sources:
    year = org.assessment.year
    src = Sources()
    src.gaps, problem = load_gaps(output, year)
    if problem:
        src.missing.append(problem + " Readiness per criterion, the top gaps and the forecast are not in this pack.")
    elif src.gaps and src.gaps.get("as_of") and (pack_date - date.fromisoformat(src.gaps["as_of"])).days > 7:
        src.missing.append(
            f"The gap analysis is out of date: last run for {src.gaps['as_of']}. Figures below are as of that day."
        )
    if not closing:
        src.timetable, problem = load_timetable(output, year)
        if problem:
            src.missing.append(problem + " Who the assessor needs, and when, is not in this pack.")
    src.outcomes = outcomes(engine, org.framework)
    if not any(o["assessment_year"] < year for o in src.outcomes):
        src.missing.append("No past assessment outcomes are imported (DAG assessment_history): no trend or last-year comparison.")
    src.returned = returned_departments(engine, year)
    src.evidence = current_evidence(engine, year)
    src.review = department_progress(engine, year)
    src.previous = previous_pack(engine, year, pack_date)
    if closing:
        src.forecast_before = snapshot_before(engine, year, org.assessment.first_day)
        if src.forecast_before is None:
            src.missing.append("No gap snapshot was taken before the assessment: outcomes cannot be compared with a forecast.")
    return src
