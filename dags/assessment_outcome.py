"""Assessment outcome: the assessor's verdict entered in the Airflow UI after the assessment.

Trigger it by hand once the report arrives. It opens a form for the quality team members named in
the config (``quality_team.members[].airflow_user``): the top-rated elements (Compliance Plus, Best Practice), the partially (and
non-) compliant elements with the assessor's action for each, and a tick that everything else is
Compliance; or the path of a report already in the history format (CSV/xlsx with assessment_year,
framework, assessment_type, element_id, rating, action). The rows are checked and stored in
``assessment_outcome`` by ``reaccreditation.outcomes.history`` (upsert by year and element, so entering it again
corrects it), and who entered it is kept in the ``approval`` table. A form nobody fills in within
``approvals.timeout`` stores nothing (docs/approvals.md).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.approvals.decisions import entry_operator
from reaccreditation.orchestration.connections import default_args

FORM = {
    "compliance_plus": Param(
        None,
        type=["null", "string"],
        title="Rated above the standard",
        description="element ids with the top rating (named on this page), comma-separated, e.g. 1.1.3, 2.2.1",
    ),
    "partial": Param(
        None,
        type=["null", "string"],
        title="Rated partial",
        description="one per line or ';': element: the assessor's action, e.g. 3.2.1: publish the service standards",
    ),
    "non_compliance": Param(None, type=["null", "string"], title="Rated not met", description="as for partial (element: action)"),
    "rest_are_compliance": Param(
        False, type="boolean", title="Every other element meets the standard", description="tick to confirm"
    ),
    "report_path": Param(
        None,
        type=["null", "string"],
        title="Or: report file",
        description="path of an outcomes CSV/xlsx in the history format (instead of the lists)",
    ),
    "comment": Param(
        None, type=["null", "string"], title="Comment", description="kept with the record (e.g. the report's reference)"
    ),
}


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=default_args(),
    tags=["reaccreditation", "history", "approval"],
    doc_md=__doc__,
)
def assessment_outcome():
    @task
    def prepare() -> dict:
        """The form's page: this year's assessment, the standard's labels, last year's top ratings and partials."""
        from reaccreditation.approvals.decisions import md
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.outcomes.history import load_outcomes

        org = airflow_adapter.organisation()
        a = org.assessment
        last = [r for r in load_outcomes(airflow_adapter.engine()) if r["assessment_year"] == a.year - 1]
        standard = org.standard
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

    enter = entry_operator(
        task_id="enter_outcome",
        subject="Enter the assessment outcome",
        body="(written by the prepare task)",
        body_task="prepare",
        item="assessment outcome form",
        params=FORM,
    )

    @task
    def store(result: dict) -> dict:
        """Check and store the outcome (history import); record who entered it."""
        from pathlib import Path

        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException

        from reaccreditation.approvals.decisions import decision_from, record
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.outcomes.form import OutcomeFormError, rows_from_form, write_csv
        from reaccreditation.outcomes.history import HistoryError, import_outcomes
        from reaccreditation.settings import data_paths

        ctx = get_current_context()
        org = airflow_adapter.organisation()
        a = org.assessment
        engine = airflow_adapter.engine()
        d = decision_from(result, entry=True)
        form = d.params
        report = str(form.get("report_path") or "").strip()
        try:
            if report:
                if any(str(form.get(k) or "").strip() for k in ("compliance_plus", "partial", "non_compliance")):
                    raise OutcomeFormError("report_path: give either a report file or the lists, not both")
                path = Path(report)
            else:
                rows = rows_from_form(form, org.standard, year=a.year, assessment_type=a.type, framework=org.framework)
                path = write_csv(data_paths().output / str(a.year) / "outcome" / f"outcome-{a.year}.csv", rows)
            imported = import_outcomes(engine, path, today=airflow_adapter.run_today())
        except (OutcomeFormError, HistoryError) as exc:
            raise AirflowFailException(f"The outcome was not stored: {exc}") from None
        if a.year not in imported.years:
            raise AirflowFailException(f"The outcome was not stored for {a.year}: {path} holds years {imported.years}")
        record(
            engine,
            d,
            assessment_year=a.year,
            item_kind="assessment_outcome",
            item_ref=str(path),
            subject=f"Assessment outcome {a.year}",
            dag_id=ctx["dag"].dag_id,
            run_id=ctx["run_id"],
            task_id="enter_outcome",
        )
        return {
            "file": str(path),
            "rows": imported.rows,
            "inserted": imported.inserted,
            "updated": imported.updated,
            "by": d.user_id,
        }

    prepare() >> enter
    store(enter.output)


assessment_outcome()
