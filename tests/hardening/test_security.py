"""Header and HTML injection through names and spreadsheet text; secrets never reach the task logs."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import yaml

from .conftest import FlakySink, load_dag, load_make_hostile, run_loaded

EVIL = "\r\nBcc: attacker@evil.example\r\n"


def _edit_config(path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_config_refuses_line_breaks_in_names(demo):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import ConfigError, load_organisation

    def change(d):  # type: ignore[no-untyped-def]
        housing = next(x for x in d["departments"] if x["id"] == "housing")
        housing["name"] = "Housing" + EVIL
        housing["evidence_contacts"][0]["name"] = "Ben" + EVIL

    _edit_config(demo["config"], change)
    with pytest.raises(ConfigError) as caught:
        load_organisation(demo["config"], today=date(2027, 1, 20))
    assert "departments[5].name: must be a single non-empty line of text" in str(caught.value)
    assert "evidence_contacts[0].name: must be a single non-empty line of text" in str(caught.value)


def test_injection_from_spreadsheet_and_config_stays_text_and_secrets_stay_out_of_logs(
    airflow_db, project_db, demo, gx_dir, monkeypatch, capfd, caplog, ledger
):  # type: ignore[no-untyped-def]
    from reaccreditation.orchestration import connections
    from reaccreditation.organisation.config import load_organisation
    from tests.conftest import _free_port

    make = load_make_hostile()
    smtp_password, db_password = "Sm7p-S3cret-4f9c1e", "Db-S3cret-77d2a0"
    _edit_config(
        demo["config"],
        lambda d: next(x for x in d["departments"] if x["id"] == "housing").update(
            name="Housing <script>alert('x')</script> & Co"
        ),
    )
    org = load_organisation(demo["config"], today=make.RUN_DAY)
    sink = FlakySink(_free_port(), login="intake-bot", password=smtp_password)
    sink.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", sink.connection())
    inbox = demo["data"] / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "housing-evidence.xlsx").write_bytes(
        make.good(
            org,
            "housing",
            lambda r: [
                r[0]
                | {
                    "evidence_title": "Survey <script>alert(1)</script>" + EVIL + "end",
                    "self_rating": "Great" + EVIL + "<img src=x>",
                },
                *r[1:],
            ],
        )
    )
    try:
        dag = load_dag("evidence_intake")
        assert run_loaded(dag, make.RUN_DAY).state == "success"
        # the database password: a PostgreSQL connection that cannot be reached, retried once, then failed
        for task in dag.tasks:
            task.retries, task.retry_delay = 1, timedelta(seconds=1)
        (inbox / "housing-again.xlsx").write_bytes(make.good(org, "housing"))
        monkeypatch.setenv(
            "AIRFLOW_CONN_REACCREDITATION_DB",
            json.dumps(
                {
                    "conn_type": "postgres",
                    "host": "127.0.0.1",
                    "port": _free_port(),
                    "login": "reaccreditation",
                    "password": db_password,
                    "schema": "reaccreditation",
                }
            ),
        )
        connections.engine.cache_clear()
        assert run_loaded(dag, make.RUN_DAY + timedelta(days=1)).state == "failed"
    finally:
        sink.stop()
        connections.engine.cache_clear()

    [msg] = sink.messages()
    assert sink.received[0][0] == ["ben.ashworth@kestrelvale.example.org"]  # the envelope: our recipient only
    assert msg["Bcc"] is None and "attacker" not in str(msg["To"]) + str(msg["Subject"])
    assert (
        msg["Subject"] == "Kestrel Vale evidence return 2027, Housing <script>alert('x')</script> & Co: some rows need correcting"
    )
    html = msg.get_body(("html",)).get_content()
    assert "<script" not in html and "<img" not in html
    assert "Housing &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in html and "&lt;img src=x&gt;" in html
    logs = capfd.readouterr()
    text = logs.out + logs.err + caplog.text
    assert "Connection refused" in text or "connection" in text.lower()  # the failure was logged...
    assert smtp_password not in text and db_password not in text  # ...without either secret
    ledger.add("security", "CR/LF and <script> in names, titles and values; SMTP and DB passwords not logged", survived=True)
