"""Alerts for the quality team: a failed task (one email with a log link), the overdue digest."""

from __future__ import annotations

import json
from datetime import date

import pendulum
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message
from reaccreditation.orchestration.callbacks import notify_failure

from ..conftest import run_dag
from .conftest import run_test_dag

QUALITY_TEAM = "Priya Raman <priya.raman@kestrelvale.example.org>, Tom Hollis <tom.hollis@kestrelvale.example.org>"


def test_a_failed_task_emails_the_quality_team_once_with_the_log_link(airflow_db, project_db, outbox, demo):
    run = run_test_dag("dashboard_check_fails", pendulum.datetime(2026, 12, 1, 12, tz="UTC"))
    assert run.state == "failed"

    messages = outbox.messages()
    assert len(messages) == 1
    msg = messages[0]
    assert msg["To"] == QUALITY_TEAM
    assert msg["Subject"].strip() == "Kestrel Vale: reaccreditation task failed: dashboard_check_fails.check_config"
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "&lt;b&gt;not&lt;/b&gt; allowed here" in html and "<b>not</b>" not in html
    assert f"/dags/dashboard_check_fails/runs/{run.run_id.replace(':', '%3A').replace('+', '%2B')}/tasks/check_config" in text
    with make_engine(project_db).connect() as conn:
        keys = conn.execute(select(outbound_message.c.dedupe_key, outbound_message.c.kind)).all()
    assert keys == [(f"failure:dashboard_check_fails:{run.run_id}:check_config:1", "failure")]


def test_the_failure_callback_never_sends_twice_for_the_same_try(project_db, outbox, demo):
    class TI:
        dag_id, run_id, task_id, try_number, map_index = "d", "manual__x", "t", 2, -1
        log_url = "http://airflow.example/dags/d/runs/manual__x/tasks/t?try_number=2"

    context = {"ti": TI(), "exception": ValueError("boom\r\nBcc: victim@example.org")}
    assert notify_failure(context) is True
    assert notify_failure(context) is False
    [msg] = outbox.messages()
    assert msg["Bcc"] is None and "try 2" in msg.get_body(("plain",)).get_content()


def test_a_broken_config_still_reaches_the_quality_team(project_db, outbox, demo):
    demo["config"].write_text(demo["config"].read_text().replace("first_day: 2027-03-15", "first_day: someday"))

    class TI:
        dag_id, run_id, task_id, try_number, map_index, log_url = "d", "r", "t", 1, -1, ""

    assert notify_failure({"ti": TI(), "exception": RuntimeError("config")}) is True
    [msg] = outbox.messages()
    assert msg["To"] == QUALITY_TEAM


def test_overdue_digest_runs_daily_after_the_deadline_and_emails_once_a_day(airflow_db, season, outbox):
    assert run_dag("overdue_digest", date(2027, 1, 20)).state == "success"  # before the return deadline
    assert outbox.messages() == []

    assert run_dag("overdue_digest", date(2027, 1, 26)).state == "success"
    [msg] = outbox.messages()
    assert msg["To"] == QUALITY_TEAM
    assert msg["Subject"].strip() == "Kestrel Vale: 11 department(s) have not returned evidence (26 Jan 2027)"
    html = msg.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "Customer Services</strong>" not in html  # returned its workbook
    text = msg.get_body(("plain",)).get_content()
    assert "rejected" in text and "Friday 22 January 2027 (4 day(s) ago)" in text

    outbox.clear()
    assert run_dag("overdue_digest", date(2027, 1, 26)).state == "success"  # a second run the same day
    assert outbox.messages() == []
    with season["engine"].connect() as conn:
        keys = (
            conn.execute(select(outbound_message.c.dedupe_key).where(outbound_message.c.kind == "overdue_digest")).scalars().all()
        )
    assert keys == ["overdue:2027:2027-01-26"]
    json.dumps(keys)
