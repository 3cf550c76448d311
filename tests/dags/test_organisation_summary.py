import json
from datetime import date

from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message, run_record

from ..conftest import run_dag


def test_summary_run_publishes_records_and_emails_once(airflow_db, project_db, outbox, demo):
    run = run_dag("organisation_summary", date(2026, 11, 25))
    assert run.state == "success"

    summary = json.loads((demo["data"] / "output" / "2027" / "summary" / "summary.json").read_text())
    assert summary["counts"] == {"criteria": 5, "sub_criteria": 15, "elements": 57, "departments": 12, "contacts": 13}
    assert summary["days_to_go"] == 110 and summary["unowned_elements"] == []
    html = (demo["data"] / "output" / "2027" / "summary" / "summary.html").read_text()
    assert "Kestrel Vale Borough Council" in html and "110 days to go" in html

    messages = outbox.messages()
    assert len(messages) == 1
    msg = messages[0]
    assert msg["To"] == "Priya Raman <priya.raman@kestrelvale.example.org>, Tom Hollis <tom.hollis@kestrelvale.example.org>"
    assert msg["Subject"] == "Kestrel Vale: Customer Service Excellence 2027 season summary"
    assert "Evidence requests sent" in msg.get_body(("plain",)).get_content()
    assert "Monday 15 March 2027" in msg.get_body(("html",)).get_content()

    engine = make_engine(project_db)
    with engine.connect() as conn:
        assert conn.execute(select(run_record.c.kind)).scalars().all() == ["organisation_summary"]
        assert conn.execute(select(outbound_message.c.status)).scalars().all() == ["sent"]


def test_bad_config_fails_the_run_without_retrying(airflow_db, project_db, outbox, demo):
    text = demo["config"].read_text().replace("- 1.1.1\n", "- 9.9.9\n", 1)
    demo["config"].write_text(text)
    run = run_dag("organisation_summary", date(2026, 11, 25))
    assert run.state == "failed"
    # no summary; the quality team gets one failure alert (reaccreditation.dashboard.alerts) with a link to the log
    assert [m["X-Reaccreditation-Alert"] for m in outbox.messages()] == ["failure"]
