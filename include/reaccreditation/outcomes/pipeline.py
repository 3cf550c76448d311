"""The assessment_history and assessment_outcome DAGs' steps as plain functions.

History: check a whole outcomes file, then upsert it. Outcome: the form's page (last year's ratings
for reference), then check and store what the approver entered and keep who entered it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.organisation.config import Organisation

HISTORY_DAG_ID = "assessment_history"
OUTCOME_DAG_ID = "assessment_outcome"
DEFAULT_HISTORY = "history/outcomes.csv"


def import_history(engine: Engine, org: Organisation, path: str | None, today: date, run_id: str) -> dict[str, Any]:
    """Check the whole file, then upsert its outcomes; what changed. Only files in the config's history folder."""
    from reaccreditation.db.records import save_run_record
    from reaccreditation.outcomes.history import history_file, import_outcomes
    from reaccreditation.settings import config_path

    target = history_file(path or DEFAULT_HISTORY, config_path().parent)
    result = asdict(import_outcomes(engine, target, today))
    save_run_record(
        engine, kind=HISTORY_DAG_ID, dag_id=HISTORY_DAG_ID, run_id=run_id, assessment_year=org.assessment.year, payload=result
    )
    return result


def check_entry_day(org: Organisation, today: date) -> None:
    """An outcome exists only once the assessment is over: refuse a form opened before its last day."""
    from reaccreditation.outcomes.form import OutcomeFormError

    a = org.assessment
    if today < a.last_day:
        raise OutcomeFormError(
            f"Not yet: the {a.year} assessment runs {a.first_day:%a} {a.first_day.day} {a.first_day:%b} to "
            f"{a.last_day:%a} {a.last_day.day} {a.last_day:%b %Y}, and this run is for {today:%a} {today.day} "
            f"{today:%b %Y}. Trigger assessment_outcome on or after {a.last_day:%a} {a.last_day.day} {a.last_day:%b} "
            "(with the logical date left empty) once the assessor's report has arrived. Nothing was asked or stored."
        )


def outcome_page(org: Organisation, engine: Engine) -> dict[str, Any]:
    """The form's page: this year's assessment, the standard's labels, last year's top ratings and partials."""
    from reaccreditation.approvals.pages import md
    from reaccreditation.outcomes.history import load_outcomes

    a, standard = org.assessment, org.standard
    last = [r for r in load_outcomes(engine) if r["assessment_year"] == a.year - 1]
    top, meets, part, fails = (standard.label(x) for x in ("exceeds", "meets", "partial", "fails"))
    plus = [r["element_id"] for r in last if standard.level_of(r["rating"]) == "exceeds"]
    partial = [
        f"{r['element_id']} ({md(r['action'] or 'no action recorded')})"
        for r in last
        if standard.level_of(r["rating"]) in ("partial", "fails")
    ]
    lines = [
        f"Enter the assessor's outcome for **{md(org.organisation.name)}**, {standard.short_name} {a.type} assessment "
        f"{a.first_day} to {a.last_day} ({len(standard.elements)} elements).",
        "",
        f"In {standard.name}'s words: *above the standard* is **{top}**, *partial* is **{part}**, *not met* is "
        f"**{fails}**, *meets the standard* is **{meets}**.",
        "",
        f"List the {top} elements and the {part} / {fails} elements with their actions; tick that every other "
        f"element is {meets}. Or give the path of a report file in the history format.",
        "",
        f"Last year ({a.year - 1}): {top} {', '.join(plus) or 'none'}; partial {', '.join(partial) or 'none'}.",
    ]
    return {
        "approval_subject": f"Assessment outcome {a.year}: enter the assessor's ratings",
        "approval_body": "\n".join(lines),
        "assessment_year": a.year,
    }


def store_outcome(
    engine: Engine, org: Organisation, result: Mapping[str, Any], output: Path, today: date, run_id: str
) -> dict[str, Any]:
    """Check and store what the form says (history import: all or nothing); record who entered it.

    A form that cannot be stored raises :class:`OutcomeFormError` saying why (the task fails, no retry).
    """
    from reaccreditation.approvals.decisions import decision_from, record
    from reaccreditation.outcomes.form import OutcomeFormError, file_to_import
    from reaccreditation.outcomes.history import HistoryError, import_outcomes

    year = org.assessment.year
    d = decision_from(result, entry=True)
    try:
        path = file_to_import(d.params, org, output)
        imported = import_outcomes(engine, path, today=today)
    except (OutcomeFormError, HistoryError) as exc:
        raise OutcomeFormError(f"The outcome was not stored: {exc}") from None
    if year not in imported.years:
        raise OutcomeFormError(f"The outcome was not stored for {year}: {path} holds years {imported.years}")
    record(
        engine,
        d,
        assessment_year=year,
        item_kind="assessment_outcome",
        item_ref=str(path),
        subject=f"Assessment outcome {year}",
        dag_id=OUTCOME_DAG_ID,
        run_id=run_id,
        task_id="enter_outcome",
    )
    return {"file": str(path), "rows": imported.rows, "inserted": imported.inserted, "updated": imported.updated, "by": d.user_id}
