"""Readiness packs: leadership and department heads see, on their phone, whether the council is ready.

Runs every morning (after the gap analysis) and whenever a new gap snapshot is published. The first
task decides from the config (``schedule.packs_days_before``, default T-30, T-23, T-16, T-9, T-3) and
the run's logical date whether a pack is due: at or after a pack date, until it has been sent. After
the assessment a closing pack (outcome against forecast) goes once that year's outcomes are imported.

``render`` writes everything to ``output/<year>/packs/<pack date>/`` (HTML and text per message,
charts, workbooks, ``manifest.json``) and returns the paths; ``send`` mails exactly those files, each
message at most once (dedupe key ``pack:<year>:<pack date>:[<department>:]<email>``), and records the
pack's headline figures so the next pack can say what changed. A missing gap analysis or timetable
does not stop the pack: it says what is missing. Details in docs/packs.md.

Nothing is sent unseen: between ``render`` and ``send`` a quality team member approves the pack in the
Airflow UI (docs/approvals.md). The page summarises it (readiness, RAG per criterion, top gaps,
recipients) and links the rendered HTML and workbook; "Reject" with a comment, or no answer within
``approvals.timeout``, sends nothing, records the reason and emails the quality team.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from reaccreditation.approvals.decisions import APPROVE, REJECT, operator
from reaccreditation.orchestration.assets import GAP_SNAPSHOT
from reaccreditation.orchestration.connections import default_args

DAG_ID = "readiness_pack"


@dag(
    dag_id=DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * *", timezone="Europe/London"),
        assets=Asset(GAP_SNAPSHOT),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["reaccreditation", "packs", "approval"],
    doc_md=__doc__,
)
def readiness_pack():
    @task.short_circuit
    def decide() -> dict | None:
        """Is a pack due today? Skips the rest of the run when not (the reason is logged)."""
        import logging

        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.packs import schedule, sources
        from reaccreditation.packs.render import planned_keys

        today = airflow_adapter.run_today()
        org = airflow_adapter.organisation(today)
        engine = airflow_adapter.engine()
        year = org.assessment.year
        current = schedule.current_pack(org, today)
        sent = False
        if current is not None:
            date = current.pack_date.isoformat()
            sent = planned_keys(org, date) <= sources.sent_keys(engine, f"pack:{year}:{date}:")
        imported = any(o["assessment_year"] == year for o in sources.outcomes(engine, org.framework))
        decision = schedule.decide(org, today, sent=sent, outcomes_imported=imported)
        logging.getLogger(__name__).info("readiness pack on %s: %s", today, decision.reason)
        return decision.to_dict() | {"today": today.isoformat()} if decision.due else None

    @task
    def render(decision: dict) -> dict:
        """Gather the figures and write the pack folder; returns the paths (for an approver, then send)."""
        from datetime import date

        from reaccreditation.approvals.decisions import pack_body
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.packs import sources
        from reaccreditation.packs.gather import top_gaps
        from reaccreditation.packs.render import render_pack
        from reaccreditation.packs.schedule import CLOSING, PackDate
        from reaccreditation.settings import data_paths

        today = date.fromisoformat(decision["today"])
        org = airflow_adapter.organisation(today)
        p = decision["pack"]
        pack_date = PackDate(date.fromisoformat(p["pack_date"]), p["kind"], p["days_before"])
        output = data_paths().output
        src = sources.load(org, airflow_adapter.engine(), output, pack_date.pack_date, closing=pack_date.kind == CLOSING)
        manifest = render_pack(org, src, pack_date, today, output)
        folder = manifest["folder"]
        headline = manifest["headline"]
        return {
            "approval_subject": f"Readiness pack {headline.get('label') or p['pack_date']}: {headline['rag']}, "
            f"{len(manifest['messages'])} messages",
            "approval_body": pack_body(manifest, top_gaps(org, src, today=today)),
            "folder": folder,
            "manifest": f"{folder}/manifest.json",
            "pack_date": p["pack_date"],
            "kind": p["kind"],
            "rag": manifest["headline"]["rag"],
            "missing": manifest["headline"]["missing"],
            "messages": [
                {
                    "to": m["to"]["email"],
                    "html": f"{folder}/{m['html']}",
                    "text": f"{folder}/{m['text']}",
                    "attachment": f"{folder}/{m['attachment']}",
                }
                for m in manifest["messages"]
            ],
        }

    @task
    def send(rendered: dict) -> dict:
        """Mail the rendered pack (each message once) and record its headline figures for the next pack."""
        import json
        from pathlib import Path

        from reaccreditation.db.records import save_run_record
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.packs.send import send_pack
        from reaccreditation.packs.sources import RECORD_KIND

        folder = Path(rendered["folder"])
        engine = airflow_adapter.engine()
        counts = send_pack(engine, airflow_adapter.smtp_transport(), folder, airflow_adapter.run_id())
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        save_run_record(
            engine,
            kind=RECORD_KIND,
            dag_id=DAG_ID,
            run_id=airflow_adapter.run_id(),
            assessment_year=manifest["assessment_year"],
            payload=manifest["headline"] | counts | {"folder": str(folder)},
        )
        return counts

    approve = operator(
        task_id="approve_pack",
        subject="Approve the readiness pack",
        body="(the pack summary is written by the render task)",
        body_task="render",
        item="readiness pack",
        options=[APPROVE, REJECT],
        defaults=[REJECT],
        params={
            "comment": Param(
                None,
                type=["null", "string"],
                title="Comment",
                description="why, especially when rejecting (kept in the approval record and told to the quality team)",
            )
        },
    )

    @task.branch
    def decide_pack(result: dict, rendered: dict) -> list[str]:
        """Record the answer beside the pack; Approve sends it, Reject or no answer holds it and tells the quality team."""
        from airflow.sdk import conf, get_current_context

        from reaccreditation.approvals.decisions import decision_from, held, record, required_actions_link
        from reaccreditation.orchestration import connections as airflow_adapter

        ctx = get_current_context()
        org = airflow_adapter.organisation()
        engine = airflow_adapter.engine()
        d = decision_from(result)
        run = (ctx["dag"].dag_id, ctx["run_id"])
        record(
            engine,
            d,
            assessment_year=org.assessment.year,
            item_kind="readiness_pack",
            item_ref=rendered["folder"],
            subject=rendered["approval_subject"],
            dag_id=run[0],
            run_id=run[1],
            task_id="approve_pack",
        )
        if d.go:
            return ["send"]
        link = required_actions_link(conf.get("api", "base_url", fallback=None), run[0], run[1], "approve_pack")
        held(engine, airflow_adapter.smtp_transport(), org, d, item="readiness pack", run=run, task_id="approve_pack", link=link)
        return []

    rendered = render(decide())
    rendered >> approve
    decide_pack(approve.output, rendered) >> send(rendered)


readiness_pack()
