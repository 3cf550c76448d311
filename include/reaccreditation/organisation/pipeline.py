"""The organisation_summary DAG's steps as plain functions: summarise the config, publish, email once."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation

DAG_ID = "organisation_summary"


def summarise(org: Organisation, today: date) -> dict[str, Any]:
    """The season summary, JSON-safe for XCom (dates as ISO strings)."""
    from reaccreditation.organisation.summary import summarise as build

    return json.loads(json.dumps(build(org, today), default=str))


def folder(output: Path, year: int) -> Path:
    return output / str(year) / "summary"


def publish(engine: Engine, summary: dict[str, Any], output: Path, run_id: str) -> str:
    """Write summary.json and summary.html to the output folder and record the run; the page's path."""
    from reaccreditation.dates import with_dates
    from reaccreditation.db.records import save_run_record
    from reaccreditation.files import write_atomic, write_json
    from reaccreditation.render import render

    year = summary["assessment_year"]
    target = folder(output, year)
    write_json(target / "summary.json", summary)
    write_atomic(target / "summary.html", render("summary.html", s=with_dates(summary)).encode())
    save_run_record(engine, kind="organisation_summary", dag_id=DAG_ID, run_id=run_id, assessment_year=year, payload=summary)
    return str(target / "summary.html")


def email_quality_team(engine: Engine, transport: Transport, org: Organisation, summary: dict[str, Any], run_id: str) -> bool:
    """One email per run to the quality team; a retry or rerun of the same run sends nothing."""
    from reaccreditation.dates import with_dates
    from reaccreditation.mail.compose import Draft, address, build_message, sender
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.render import render

    s = with_dates(summary)
    year = summary["assessment_year"]
    draft = Draft(
        to=[address(m.name, m.email) for m in org.quality_team.members],
        subject=f"{org.organisation.short_name}: {summary['framework']} {year} season summary",
        text=render("summary.txt", s=s),
        html=render("summary.html", s=s),
        sender=sender(org),
    )
    return send_once(
        engine,
        transport,
        build_message(draft),
        dedupe_key=f"summary:{year}:{run_id}",
        assessment_year=year,
        kind="summary",
        run_id=run_id,
    )
