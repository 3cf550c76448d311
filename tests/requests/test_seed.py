"""Importing last year's evidence and past outcomes: once, replaceable, with clear errors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reaccreditation.db.schema import assessment_outcome, evidence, submission
from reaccreditation.requests.queries import last_outcomes, prefilled_evidence
from reaccreditation.requests.seed import HistoryError, history_count, import_evidence, import_history


def test_import_is_idempotent_and_feeds_the_prefill(org, engine, demo):
    folder = demo["config"].parent / "history"
    first = import_history(engine, folder, 2027)
    # outcomes, last year's evidence (the prefill), then the earlier years' (forecast accuracy)
    assert [(r.file, r.status) for r in first] == [
        ("outcomes.csv", "imported"),
        ("evidence_2026.csv", "imported"),
        ("evidence_2024.csv", "imported"),
        ("evidence_2025.csv", "imported"),
    ]
    n = history_count(engine, 2026)
    assert n == first[1].rows > 100
    again = import_history(engine, folder, 2027)
    assert [r.status for r in again] == ["already imported"] * 4
    assert history_count(engine, 2026) == n
    with engine.connect() as conn:
        assert sorted(conn.execute(select(submission.c.source, submission.c.status, submission.c.assessment_year)).all()) == [
            ("history", "accepted", 2024),
            ("history", "accepted", 2025),
            ("history", "accepted", 2026),
        ]
        assert conn.execute(select(func.count()).select_from(assessment_outcome)).scalar() == 5 * 57
    housing = org.department("housing")
    items = prefilled_evidence(engine, 2027, housing)
    assert items and {i.element_id for i in items} <= set(housing.elements)
    last = last_outcomes(engine, 2027, housing.elements)
    assert last.year == 2026 and set(last.ratings) == set(housing.elements)


def test_a_corrected_file_replaces_the_earlier_import(engine, demo):
    path = demo["evidence_history"]
    import_evidence(engine, path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:11]) + "\n")  # the corrected file keeps 10 rows
    assert import_evidence(engine, path).rows == 10
    assert history_count(engine, 2026) == 10
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(evidence)).scalar() == len(lines) - 1 + 10
        assert conn.execute(select(submission.c.version).order_by(submission.c.id)).scalars().all() == [1, 2]


def test_absent_files_are_a_no_op(engine, tmp_path):
    assert [r.status for r in import_history(engine, tmp_path / "none", 2027)] == ["absent", "absent"]


def test_bad_rows_are_named(engine, tmp_path):
    path = tmp_path / "evidence_2026.csv"
    path.write_text("department_id,element_id,title,evidence_type,evidence_date\nhousing,4.1.1,Tenant survey,Survey,31/03/2026\n")
    with pytest.raises(
        HistoryError, match=r"evidence_2026.csv: row 2, column evidence_date: '31/03/2026' is not a date like 2026-03-31"
    ):
        import_evidence(engine, path)
    path.write_text("department_id,element_id,title\nhousing,4.1.1,Tenant survey\n")
    with pytest.raises(HistoryError, match="missing column\\(s\\) evidence_type"):
        import_evidence(engine, path)
    path.write_text("department_id,element_id,title,evidence_type\nhousing,9.9.9,Tenant survey,Survey\n")
    with pytest.raises(HistoryError, match="row 2, column element_id: unknown element '9.9.9'"):
        import_evidence(engine, path, valid_elements={"4.1.1"})
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(submission)).scalar() == 0
