"""Importing past assessor outcomes: good files (CSV, xlsx), bad rows with exact messages, idempotent re-import."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlalchemy import func, select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import assessment_outcome
from reaccreditation.outcomes.history import HistoryError, import_outcomes

TODAY = date(2026, 12, 1)
HEADER = ["assessment_year", "framework", "assessment_type", "element_id", "rating", "action"]


def write_csv(path, rows, header=HEADER):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(assessment_outcome)).scalar()


def test_demo_history_imports_once_and_reimport_changes_nothing(project_db, demo):
    engine = make_engine(project_db)
    first = import_outcomes(engine, demo["history"], TODAY)
    assert (first.rows, first.inserted, first.updated, first.unchanged) == (285, 285, 0, 0)
    assert first.years == [2022, 2023, 2024, 2025, 2026]
    again = import_outcomes(engine, demo["history"], TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 285)
    assert count(engine) == 285
    with engine.connect() as conn:
        row = conn.execute(
            select(assessment_outcome).where(
                assessment_outcome.c.assessment_year == 2026, assessment_outcome.c.rating == "Partial Compliance"
            )
        ).first()
    assert row.action.startswith("Show how the action plan for") and row.source.startswith("outcomes.csv row ")


def test_corrected_file_updates_only_the_rows_it_changes(project_db, tmp_path):
    engine = make_engine(project_db)
    path = write_csv(
        tmp_path / "o.csv",
        [[2026, "cse", "full", "1.1.1", "Partial Compliance", "Profile"], [2026, "cse", "full", "1.1.2", "C", ""]],
    )
    import_outcomes(engine, path, TODAY)
    # the short form and id are accepted and stored as the standard's label
    path = write_csv(
        tmp_path / "o.csv", [[2026, "cse", "full", "1.1.1", "compliance", ""], [2026, "CSE", "Full", "1.1.2", "C", ""]]
    )
    result = import_outcomes(engine, path, TODAY)
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    with engine.connect() as conn:
        rows = conn.execute(
            select(assessment_outcome.c.element_id, assessment_outcome.c.rating, assessment_outcome.c.action).order_by(
                assessment_outcome.c.element_id
            )
        ).all()
    assert [tuple(r) for r in rows] == [("1.1.1", "Compliance", None), ("1.1.2", "Compliance", None)]


def test_bad_rows_are_all_named_and_nothing_is_imported(project_db, tmp_path):
    engine = make_engine(project_db)
    path = write_csv(
        tmp_path / "outcomes.csv",
        [
            [2026, "cse", "full", "1.1.1", "Compliance", ""],
            [2026, "cse", "full", "9.9.9", "Compliance", ""],
            [2026, "cse", "full", "1.1.2", "Mostly fine", ""],
            ["26", "cse", "full", "1.1.3", "Compliance", ""],
            [2026, "cse", "annual", "1.2.1", "Compliance", ""],
            [2026, "iso9001", "full", "1.2.2", "Compliance", ""],
            [2026, "cse", "full", "1.1.1", "Partial Compliance", ""],
            [2031, "cse", "full", "1.2.3", "Compliance", ""],
        ],
    )
    with pytest.raises(HistoryError) as err:
        import_outcomes(engine, path, TODAY)
    assert str(err.value) == (
        "outcomes.csv: 7 problem(s), nothing imported:\n"
        "  - row 3, column element_id: unknown element id '9.9.9' for CSE (ids look like '1.1.1')\n"
        "  - row 4, column rating: 'Mostly fine' is not a CSE rating; expected one of Compliance Plus, Compliance, Partial "
        "Compliance, Non-Compliance\n"
        "  - row 5, column assessment_year: '26' is not an assessment year; expected a year 2008..2026\n"
        "  - row 6, column assessment_type: 'annual' is not an assessment type; expected full or surveillance\n"
        "  - row 7, column framework: 'iso9001' is not a framework; expected one of charter_mark, cse\n"
        "  - row 8, column element_id: element 1.1.1 for 2026 is already on row 2\n"
        "  - row 9, column assessment_year: '2031' is not an assessment year; expected a year 2008..2026"
    )
    assert count(engine) == 0


def test_missing_column_and_empty_file(project_db, tmp_path):
    engine = make_engine(project_db)
    path = write_csv(
        tmp_path / "outcomes.csv",
        [[2026, "cse", "1.1.1", "Compliance"]],
        header=["assessment_year", "framework", "element", "rating"],
    )
    with pytest.raises(
        HistoryError,
        match=r"^outcomes.csv: row 1: missing column\(s\) assessment_type, element_id; "
        r"the header has assessment_year, framework, element, rating$",
    ):
        import_outcomes(engine, path, TODAY)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(HistoryError, match="^empty.csv: the file is empty"):
        import_outcomes(engine, tmp_path / "empty.csv", TODAY)
    with pytest.raises(HistoryError, match="file not found"):
        import_outcomes(engine, tmp_path / "nope.csv", TODAY)


def test_xlsx_file_imports_and_names_the_sheet_in_errors(project_db, tmp_path):
    from openpyxl import Workbook

    engine = make_engine(project_db)
    wb = Workbook()
    ws = wb.active
    ws.title = "outcomes"
    ws.append([h.replace("_", " ").title() for h in HEADER])  # "Assessment Year" etc. are understood
    ws.append([2025, "cse", "surveillance", "2.1.1", "Compliance Plus", None])
    ws.append([2025.0, "cse", "surveillance", "2.1.2", "PC", "Train managers"])
    wb.save(tmp_path / "history.xlsx")
    result = import_outcomes(engine, tmp_path / "history.xlsx", TODAY)
    assert (result.inserted, result.years) == (2, [2025])
    with engine.connect() as conn:
        assert (
            conn.execute(select(assessment_outcome.c.rating).where(assessment_outcome.c.element_id == "2.1.2")).scalar()
            == "Partial Compliance"
        )

    ws.append([2025, "cse", "surveillance", "2.1.9", "Compliance", None])
    wb.save(tmp_path / "history.xlsx")
    with pytest.raises(HistoryError) as err:
        import_outcomes(engine, tmp_path / "history.xlsx", TODAY)
    assert str(err.value) == (
        "history.xlsx sheet 'outcomes': 1 problem(s), nothing imported:\n"
        "  - row 4, column element_id: unknown element id '2.1.9' for CSE (ids look like '1.1.1')"
    )


def test_sheet_declaring_a_million_rows_is_rejected_before_reading(project_db, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([2025, "cse", "full", "1.1.1", "Compliance", None])
    ws.cell(row=1_048_576, column=16_384, value="x")
    wb.save(tmp_path / "bomb.xlsx")
    with pytest.raises(HistoryError) as err:
        import_outcomes(make_engine(project_db), tmp_path / "bomb.xlsx", TODAY)
    assert str(err.value) == (
        "bomb.xlsx sheet 'Sheet': the sheet declares 1,048,576 rows; an outcomes file has at most 10,000 "
        "(delete the empty rows below the data, or save the sheet as CSV)"
    )


def test_charter_mark_history_with_its_own_labels_imports(project_db, tmp_path):
    engine = make_engine(project_db)
    rows = [
        [2007, "charter_mark", "full", "1.1.1", "Best Practice", ""],
        [2007, "charter_mark", "full", "1.1.2", "Full Compliance", ""],
        [2007, "charter_mark", "full", "1.1.3", "partial compliance", "Cover every main service"],
        [2007, "Charter Mark", "full", "1.2.1", "MNC", "Publish the standards"],
        [2007, "charter_mark", "full", "1.2.2", "fc", ""],
    ]
    result = import_outcomes(engine, write_csv(tmp_path / "cm.csv", rows), TODAY)
    assert result.inserted == 5
    with engine.connect() as conn:
        stored = dict(conn.execute(select(assessment_outcome.c.element_id, assessment_outcome.c.rating)).all())
    assert stored == {
        "1.1.1": "Best Practice",
        "1.1.2": "Full Compliance",
        "1.1.3": "Partial Compliance",
        "1.2.1": "Major non-compliance",
        "1.2.2": "Full Compliance",
    }
    cse_words = [[2007, "charter_mark", "full", "1.1.1", "Compliance Plus", ""]]
    with pytest.raises(HistoryError) as err:
        import_outcomes(engine, write_csv(tmp_path / "wrong.csv", cse_words), TODAY)
    assert (
        "row 2, column rating: 'Compliance Plus' is not a CM rating; expected one of Best Practice, Full Compliance, "
        "Partial Compliance, Major non-compliance" in str(err.value)
    )
