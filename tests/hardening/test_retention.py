"""Retention: a real data_retention run deletes what is older than retention.years, one log line each."""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime, timedelta

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence_document

from ..conftest import run_dag, task_log

TODAY = date(2027, 1, 20)
OLD = datetime(2020, 6, 1, tzinfo=UTC)  # more than the default 6 years before TODAY
RECENT = datetime(2026, 11, 1, tzinfo=UTC)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _file(path, when: datetime, text: str = "x"):  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _document(conn, paths_root, name: str, version: int, sha: str, received: datetime):  # type: ignore[no-untyped-def]
    stored = _file(paths_root / "documents" / sha[:2] / f"{sha}.pdf", received)
    conn.execute(
        evidence_document.insert().values(
            assessment_year=2020,
            department_id="housing",
            filename=name,
            match_name=name,
            sha256=sha,
            size=1,
            status="kept",
            stored_path=str(stored),
            source="imap",
            version=version,
            received_at=received,
        )
    )
    return stored


def test_old_mail_quarantine_and_superseded_documents_go_and_the_rest_stays(airflow_db, project_db, demo, caplog):  # type: ignore[no-untyped-def]
    data = demo["data"]
    old_mail = _file(data / "archive" / "mail" / "aa" / "aa11.eml", OLD)
    new_mail = _file(data / "archive" / "mail" / "bb" / "bb22.eml", RECENT)
    workbook = _file(data / "archive" / "cc" / "cc33.xlsx", OLD)  # archived workbooks are not this step's
    old_case = data / "quarantine" / "0123456789ab"
    _file(old_case / "REASON.txt", OLD)
    _file(old_case / "bad.xlsx", OLD)
    touched = data / "quarantine" / "mail-ba9876543210"
    _file(touched / "REASON.txt", OLD)
    _file(touched / "message.eml", RECENT)
    with make_engine(project_db).begin() as conn:
        superseded = _document(conn, data, "policy.pdf", 1, "d1" * 32, OLD)
        current = _document(conn, data, "policy.pdf", 2, "d2" * 32, RECENT)
        only_version = _document(conn, data, "plan.pdf", 1, "d3" * 32, OLD)  # old but still the one in use
        recently_replaced = _document(conn, data, "charter.pdf", 1, "d4" * 32, RECENT - timedelta(days=1))
        _document(conn, data, "charter.pdf", 2, "d5" * 32, RECENT)

    seen = _Lines()
    with task_log(caplog, "reaccreditation.retention.pipeline"):
        logging.getLogger("reaccreditation.retention.pipeline").addHandler(seen)
        try:
            assert run_dag("data_retention", TODAY).state == "success"
        finally:
            logging.getLogger("reaccreditation.retention.pipeline").removeHandler(seen)

    assert not old_mail.exists() and not old_case.exists() and not superseded.exists()
    assert new_mail.exists() and touched.exists() and workbook.exists()
    assert current.exists() and only_version.exists() and recently_replaced.exists()
    lines = [line for line in seen.lines if line.startswith("retention: deleted")]  # each record once
    assert sorted(lines) == [
        "retention: deleted archived mail archive/mail/aa/aa11.eml (from 2020-06-01, older than 2021-01-20)",
        "retention: deleted quarantine case quarantine/0123456789ab (from 2020-06-01, older than 2021-01-20)",
        f"retention: deleted superseded document documents/d1/{'d1' * 32}.pdf (from 2020-06-01, older than 2021-01-20)",
    ]
